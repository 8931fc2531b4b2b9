//! Pages over write-sharded partitions, merged into one order.
//!
//! Each shard is a partition sorted by a unique key. A page keeps one look-ahead item per
//! shard: it reads every shard's first item after the position (in parallel), then
//! repeatedly takes the smallest and reads that shard's next one. A page of `limit` items
//! therefore reads at most `limit + shards` items, however large the table, and the
//! position (the last key returned) is all a cursor needs.

use aws_sdk_dynamodb::Client;
use futures::future::try_join_all;

use super::errors::store_error;
use super::item::{history_partition, s, Item, PK, SK};
use super::metered;
use crate::store::StoreError;

/// A list spread over shard partitions.
pub struct Sharded<'a> {
    table: &'a str,
    index: Option<&'static str>,
    partition_attr: &'static str,
    sort_attr: &'static str,
    partitions: Vec<String>,
    forward: bool,
}

impl<'a> Sharded<'a> {
    /// An ascending list over a sharded global secondary index.
    pub fn index(
        table: &'a str,
        index: &'static str,
        partition_attr: &'static str,
        sort_attr: &'static str,
        shards: u32,
    ) -> Self {
        Self {
            table,
            index: Some(index),
            partition_attr,
            sort_attr,
            partitions: (0..shards).map(|i| i.to_string()).collect(),
            forward: true,
        }
    }

    /// The deleted history: newest first, over the meta table's history partitions.
    pub fn history(table: &'a str, shards: u32) -> Self {
        Self {
            table,
            index: None,
            partition_attr: PK,
            sort_attr: SK,
            partitions: (0..shards).map(history_partition).collect(),
            forward: false,
        }
    }

    fn key_of(&self, item: &Item) -> Result<String, StoreError> {
        item.get(self.sort_attr)
            .and_then(|v| v.as_s().ok())
            .cloned()
            .ok_or_else(|| StoreError::Backend(format!("item without {}", self.sort_attr)))
    }

    /// The first item of `partition` past `after` (or from `floor` on when there is none).
    async fn head(
        &self,
        client: &Client,
        partition: &str,
        floor: Option<&str>,
        after: Option<&str>,
    ) -> Result<Option<(String, Item)>, StoreError> {
        let mut q = client
            .query()
            .table_name(self.table)
            .set_index_name(self.index.map(str::to_owned))
            .scan_index_forward(self.forward)
            .limit(1)
            .expression_attribute_names("#p", self.partition_attr)
            .expression_attribute_values(":p", s(partition));
        let op = if self.forward { ">" } else { "<" };
        q = match (after, floor) {
            (Some(a), _) => q
                .key_condition_expression(format!("#p = :p AND #k {op} :k"))
                .expression_attribute_names("#k", self.sort_attr)
                .expression_attribute_values(":k", s(a)),
            (None, Some(f)) => q
                .key_condition_expression("#p = :p AND #k >= :k")
                .expression_attribute_names("#k", self.sort_attr)
                .expression_attribute_values(":k", s(f)),
            (None, None) => q.key_condition_expression("#p = :p"),
        };
        let out = metered(q.send(), |o| o.scanned_count as u64)
            .await
            .map_err(store_error)?;
        match out.items.and_then(|mut items| items.pop()) {
            Some(item) => Ok(Some((self.key_of(&item)?, item))),
            None => Ok(None),
        }
    }

    /// Up to `limit` items past `after`, merged across shards, and the position to continue
    /// from when more follow.
    pub async fn page(
        &self,
        client: &Client,
        floor: Option<&str>,
        after: Option<&str>,
        limit: usize,
    ) -> Result<(Vec<Item>, Option<String>), StoreError> {
        let mut heads = try_join_all(
            self.partitions
                .iter()
                .map(|p| self.head(client, p, floor, after)),
        )
        .await?;
        let mut out = Vec::with_capacity(limit);
        let mut last = None;
        while out.len() < limit {
            let pick = heads
                .iter()
                .enumerate()
                .filter_map(|(i, h)| h.as_ref().map(|(k, _)| (i, k)))
                .reduce(|a, b| if (b.1 < a.1) == self.forward { b } else { a })
                .map(|(i, _)| i);
            let Some(i) = pick else { break };
            let (key, item) = heads[i].take().expect("picked a present head");
            heads[i] = self
                .head(client, &self.partitions[i], floor, Some(&key))
                .await?;
            out.push(item);
            last = Some(key);
        }
        let more = heads.iter().any(Option::is_some);
        Ok((out, if more { last } else { None }))
    }
}
