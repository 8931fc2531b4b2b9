//! Lists over write-sharded partitions: the queries behind [`super::shard_merge`].
//!
//! Each shard is a partition sorted by a unique key. A page asks every shard for a chunk in
//! parallel and refills only a shard that runs dry (see the merge module); this module turns
//! each of the merge's asks into one DynamoDB `Query`.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::ReturnConsumedCapacity;
use aws_sdk_dynamodb::Client;

use super::errors::store_error;
use super::item::{history_partition, s, Item, ACTIVE_KEY, BUBBLE_ID, PK, SK};
use super::metered;
use super::schema::RelationDef;
use super::shard_merge::{self, Ask, Batch, Merged, Start, Want};
use super::store::DynamoStore;
use crate::domain::{BubbleId, User};
use crate::store::StoreError;
use crate::store::{Slice, Window};

/// A list spread over shard partitions.
pub struct Sharded<'a> {
    table: &'a str,
    index: Option<&'static str>,
    partition_attr: &'static str,
    sort_attr: &'static str,
    /// The table's own key attributes, which an `ExclusiveStartKey` also names.
    table_key: &'static [&'static str],
    partitions: Vec<String>,
    forward: bool,
}

impl<'a> Sharded<'a> {
    /// An ascending list over a sharded global secondary index of the users table.
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
            table_key: &[BUBBLE_ID],
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
            table_key: &[PK, SK],
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

    /// The `ExclusiveStartKey` that continues after `item`.
    fn start_key(&self, item: &Item) -> Item {
        [self.partition_attr, self.sort_attr]
            .iter()
            .chain(self.table_key)
            .filter_map(|a| item.get(*a).map(|v| ((*a).to_owned(), v.clone())))
            .collect()
    }

    /// One `Query` for the merge: the ask's shard, from its start, up to its bound.
    async fn query(
        &self,
        client: &Client,
        floor: Option<&str>,
        ask: Ask<Item>,
    ) -> Result<Batch<Item>, StoreError> {
        let (after_op, until_op) = if self.forward {
            (">", "<=")
        } else {
            ("<", ">=")
        };
        let mut q = client
            .query()
            .table_name(self.table)
            .set_index_name(self.index.map(str::to_owned))
            .scan_index_forward(self.forward)
            .limit(i32::try_from(ask.limit).unwrap_or(i32::MAX))
            .return_consumed_capacity(aws_sdk_dynamodb::types::ReturnConsumedCapacity::Total)
            .expression_attribute_names("#p", self.partition_attr)
            .expression_attribute_values(":p", s(&self.partitions[ask.shard]));
        if let Start::Item(item) = &ask.start {
            q = q.set_exclusive_start_key(Some(self.start_key(item)));
        }
        // At most one condition on the sort key: a floor and a bound make a BETWEEN. The
        // merge never bounds an ask that starts after a cursor's position.
        let (cond, values) = match (&ask.start, floor, &ask.until) {
            (Start::After(a), _, _) => {
                (Some(format!("#k {after_op} :a")), vec![(":a", a.as_str())])
            }
            (_, Some(f), Some(u)) => (
                Some("#k BETWEEN :f AND :u".to_owned()),
                vec![(":f", f), (":u", u.as_str())],
            ),
            (_, Some(f), None) => (Some("#k >= :f".to_owned()), vec![(":f", f)]),
            (_, None, Some(u)) => (Some(format!("#k {until_op} :u")), vec![(":u", u.as_str())]),
            (_, None, None) => (None, vec![]),
        };
        for (name, value) in values {
            q = q.expression_attribute_values(name, s(value));
        }
        q = match cond {
            Some(cond) => q
                .key_condition_expression(format!("#p = :p AND {cond}"))
                .expression_attribute_names("#k", self.sort_attr),
            None => q.key_condition_expression("#p = :p"),
        };
        let out = metered(q.send()).await.map_err(store_error)?;
        let more = out.last_evaluated_key.is_some();
        let items = out
            .items
            .unwrap_or_default()
            .into_iter()
            .map(|item| Ok((self.key_of(&item)?, item)))
            .collect::<Result<_, StoreError>>()?;
        Ok(Batch { items, more })
    }

    /// The items `want` asks for after the position `after` (from `floor` on, for the
    /// feed), merged across shards, and the position to continue from when more follow.
    pub async fn page(
        &self,
        client: &Client,
        floor: Option<&str>,
        after: Option<&str>,
        want: Want,
    ) -> Result<Merged<Item>, StoreError> {
        shard_merge::page(self.partitions.len(), self.forward, after, want, |ask| {
            self.query(client, floor, ask)
        })
        .await
    }
}

/// Active users related to `value` through `relation`: the page's keys from the sparse
/// `KEYS_ONLY` index (reading ahead through `window.skip` in DynamoDB's 1 MB pages), then the
/// users themselves in one strongly consistent `BatchGetItem`: 2 sequential requests for a
/// page. A user deleted since the index was last updated is left out.
pub async fn related(
    store: &DynamoStore,
    relation: RelationDef,
    value: &str,
    window: Window<'_>,
) -> Result<Slice<User>, StoreError> {
    let wanted = window.skip + window.limit + 1;
    let mut keys: Vec<(String, BubbleId)> = Vec::new();
    let mut start = None;
    loop {
        let mut q = store
            .client
            .query()
            .table_name(&store.users)
            .index_name(relation.index)
            .limit(i32::try_from(wanted - keys.len()).unwrap_or(i32::MAX))
            .set_exclusive_start_key(start)
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .expression_attribute_names("#r", relation.attribute)
            .expression_attribute_values(":r", s(value));
        q = match window.after {
            Some(a) => q
                .key_condition_expression("#r = :r AND #k > :a")
                .expression_attribute_names("#k", ACTIVE_KEY)
                .expression_attribute_values(":a", s(a)),
            None => q.key_condition_expression("#r = :r"),
        };
        let out = metered(q.send()).await.map_err(store_error)?;
        for item in out.items() {
            let key = item.get(ACTIVE_KEY).and_then(|v| v.as_s().ok());
            let bubble = item.get(BUBBLE_ID).and_then(|v| v.as_s().ok());
            if let (Some(k), Some(b)) = (key, bubble) {
                keys.push((k.clone(), BubbleId::parse(b).map_err(StoreError::Backend)?));
            }
        }
        start = out.last_evaluated_key;
        if start.is_none() || keys.len() >= wanted {
            break;
        }
    }
    let more = keys.len() > window.skip + window.limit || start.is_some();
    let page: Vec<(String, BubbleId)> = keys
        .into_iter()
        .skip(window.skip)
        .take(window.limit)
        .collect();
    let ids: Vec<BubbleId> = page.iter().map(|(_, b)| b.clone()).collect();
    let read = store.get_by_bubble_ids(&ids).await?;
    let mut users: HashMap<BubbleId, User> = read
        .items
        .into_iter()
        .map(|u| (u.bubble_id.clone(), u))
        .collect();
    let next = page.last().filter(|_| more).map(|(k, _)| k.clone());
    let items = page
        .iter()
        .filter_map(|(_, b)| users.remove(b))
        .filter(|u| u.is_active() && u.text(relation.relation.field()) == Some(value))
        .collect();
    Ok(Slice {
        unreadable: read.unreadable,
        ..Slice::new(items, next)
    })
}
