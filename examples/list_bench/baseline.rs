//! The design the chunked merge replaced, kept here only to be measured beside it: one
//! look-ahead item per shard, and one single-item `Query` for every item taken.

use std::time::Instant;

use aws_sdk_dynamodb::types::ReturnConsumedCapacity;
use aws_sdk_dynamodb::Client;
use futures::future::try_join_all;
use users_api::domain::User;
use users_api::store::dynamo::item::{s, user_from_item, Item};
use users_api::store::meter::{self, Capacity};

type Error = Box<dyn std::error::Error + Send + Sync>;

/// A sharded index of the users table, read the old way.
pub struct OneByOne<'a> {
    pub client: &'a Client,
    pub table: &'a str,
    pub index: &'static str,
    pub partition_attr: &'static str,
    pub sort_attr: &'static str,
    pub shards: u32,
    pub floor: Option<&'a str>,
}

impl OneByOne<'_> {
    async fn head(&self, shard: u32, after: Option<&str>) -> Result<Option<(String, Item)>, Error> {
        let mut q = self
            .client
            .query()
            .table_name(self.table)
            .index_name(self.index)
            .limit(1)
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .expression_attribute_names("#p", self.partition_attr)
            .expression_attribute_values(":p", s(shard.to_string()));
        let sort = |q: aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder, op, k| {
            q.key_condition_expression(format!("#p = :p AND #k {op} :k"))
                .expression_attribute_names("#k", self.sort_attr)
                .expression_attribute_values(":k", s(k))
        };
        q = match (after, self.floor) {
            (Some(a), _) => sort(q, ">", a),
            (None, Some(f)) => sort(q, ">=", f),
            (None, None) => q.key_condition_expression("#p = :p"),
        };
        let started = Instant::now();
        let out = q.send().await?;
        let rcu = out
            .consumed_capacity
            .as_ref()
            .and_then(|c| c.capacity_units)
            .unwrap_or(0.0);
        let capacity = Capacity {
            read: rcu,
            write: 0.0,
        };
        meter::record(started, out.scanned_count.max(0) as u64, capacity);
        Ok(out.items.unwrap_or_default().pop().map(|item| {
            let key = item[self.sort_attr].as_s().cloned().unwrap_or_default();
            (key, item)
        }))
    }

    /// One page of `limit` after `after`: the old merge, item by item. Answers the users of
    /// the page and the position after it.
    pub async fn page(
        &self,
        after: Option<&str>,
        limit: usize,
    ) -> Result<(Vec<User>, Option<String>), Error> {
        let mut heads = try_join_all((0..self.shards).map(|shard| self.head(shard, after))).await?;
        let (mut taken, mut last) = (Vec::new(), None);
        while taken.len() < limit {
            let pick = heads
                .iter()
                .enumerate()
                .filter_map(|(i, h)| h.as_ref().map(|(k, _)| (i, k)))
                .min_by(|a, b| a.1.cmp(b.1))
                .map(|(i, _)| i);
            let Some(i) = pick else { break };
            let (key, item) = heads[i].take().expect("picked");
            heads[i] = self.head(i as u32, Some(&key)).await?;
            taken.push(user_from_item(&item)?);
            last = Some(key);
        }
        let more = heads.iter().any(Option::is_some);
        Ok((taken, if more { last } else { None }))
    }
}
