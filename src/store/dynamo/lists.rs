//! Lists over write-sharded partitions: the queries behind [`super::shard_merge`].
//!
//! Each shard is a partition sorted by a unique key. A page asks every shard for a chunk in
//! parallel and refills only a shard that runs dry (see the merge module); this module turns
//! each of the merge's asks into one DynamoDB `Query`.

use aws_sdk_dynamodb::types::ReturnConsumedCapacity;
use aws_sdk_dynamodb::Client;

use super::departures::departures_partition;
use super::errors::store_error;
use super::item::decode_each;
use super::item::user_from_item;
use super::item::{
    history_partition, s, Item, ACTIVE_KEY, ACTIVE_SEGMENT, ACTIVE_SHARD, BUBBLE_ID, FEED_KEY,
    FEED_SEGMENT, FEED_SHARD, PK, SK,
};
use super::metering::metered;
use super::schema::{self, RelationDef};
use super::shard_merge::{self, Ask, Batch, Merged, Spread, Start, Want};
use super::store::DynamoStore;
use crate::domain::User;
use crate::store::StoreError;
use crate::store::{Segment, Slice, Window};

/// The most items one `Query` of a bounded page asks for: a user item is about 1.1 KB with
/// every index attribute, so a request stays near half of DynamoDB's 1 MB page instead of
/// being cut by it. A page of 1,000 from one partition (a segment that is one shard) takes
/// two requests in a row, as a cut would, within the page's two rounds. A page by number
/// (`page=N`) reads ahead in chunks as large as DynamoDB gives.
const ITEMS_PER_REQUEST: usize = 500;

/// One partition a list reads: where it is, how its items are keyed, and its key value.
struct Partition<'a> {
    table: &'a str,
    index: Option<&'static str>,
    partition_attr: &'static str,
    sort_attr: &'static str,
    /// The table's own key attributes, which an `ExclusiveStartKey` also names.
    table_key: &'static [&'static str],
    value: String,
}

/// A list spread over partitions sorted by one kind of key, merged into one order: the
/// shards of a write-sharded index, or an organization's feed and its departures.
pub struct Sharded<'a> {
    partitions: Vec<Partition<'a>>,
    spread: Spread,
    forward: bool,
}

impl<'a> Sharded<'a> {
    /// An ascending list over partitions of a sharded global secondary index of the users
    /// table: all its shards, or those of a segment (see [`crate::store::Segment`]).
    pub fn of_partitions(
        table: &'a str,
        index: &'static str,
        partition_attr: &'static str,
        sort_attr: &'static str,
        values: impl IntoIterator<Item = u32>,
    ) -> Self {
        let partitions = values
            .into_iter()
            .map(|i| Partition {
                table,
                index: Some(index),
                partition_attr,
                sort_attr,
                table_key: &[BUBBLE_ID],
                value: i.to_string(),
            })
            .collect();
        Self {
            partitions,
            spread: Spread::Even,
            forward: true,
        }
    }

    /// The deleted history: newest first, over the meta table's history partitions.
    pub fn history(table: &'a str, shards: u32) -> Self {
        let partitions = (0..shards)
            .map(|i| Partition {
                table,
                index: None,
                partition_attr: PK,
                sort_attr: SK,
                table_key: &[PK, SK],
                value: history_partition(i),
            })
            .collect();
        Self {
            partitions,
            spread: Spread::Even,
            forward: false,
        }
    }

    /// An organization's change feed: the users its relation index holds for `value`, and
    /// the departures recorded for it, both by feed position.
    pub fn organization_feed(
        users: &'a str,
        meta: &'a str,
        relation: RelationDef,
        value: &str,
    ) -> Self {
        let feed = Partition {
            table: users,
            index: Some(relation.feed_index),
            partition_attr: relation.relation.field(),
            sort_attr: FEED_KEY,
            table_key: &[BUBBLE_ID],
            value: value.to_owned(),
        };
        let left = Partition {
            table: meta,
            index: None,
            partition_attr: PK,
            sort_attr: SK,
            table_key: &[PK, SK],
            value: departures_partition(relation.relation, value),
        };
        // Departures are few beside the members: each is asked for the whole page, so a
        // page is one round of two queries.
        Self {
            partitions: vec![feed, left],
            spread: Spread::Uneven,
            forward: true,
        }
    }

    fn key_of(&self, part: &Partition<'_>, item: &Item) -> Result<String, StoreError> {
        item.get(part.sort_attr)
            .and_then(|v| v.as_s().ok())
            .cloned()
            .ok_or_else(|| StoreError::Backend(format!("item without {}", part.sort_attr)))
    }

    /// The `ExclusiveStartKey` that continues after `item`.
    fn start_key(part: &Partition<'_>, item: &Item) -> Item {
        [part.partition_attr, part.sort_attr]
            .iter()
            .chain(part.table_key)
            .filter_map(|a| item.get(*a).map(|v| ((*a).to_owned(), v.clone())))
            .collect()
    }

    /// One `Query` for the merge: the ask's shard, from its start, up to its bound.
    async fn query(
        &self,
        client: &Client,
        floor: Option<&str>,
        ask: Ask<Item>,
        most: usize,
    ) -> Result<Batch<Item>, StoreError> {
        let (after_op, until_op) = if self.forward {
            (">", "<=")
        } else {
            ("<", ">=")
        };
        let part = &self.partitions[ask.shard];
        let mut q = client
            .query()
            .table_name(part.table)
            .set_index_name(part.index.map(str::to_owned))
            .scan_index_forward(self.forward)
            .limit(i32::try_from(ask.limit.min(most)).unwrap_or(i32::MAX))
            .return_consumed_capacity(aws_sdk_dynamodb::types::ReturnConsumedCapacity::Total)
            .expression_attribute_names("#p", part.partition_attr)
            .expression_attribute_values(":p", s(&part.value));
        if let Start::Item(item) = &ask.start {
            q = q.set_exclusive_start_key(Some(Self::start_key(part, item)));
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
                .expression_attribute_names("#k", part.sort_attr),
            None => q.key_condition_expression("#p = :p"),
        };
        let out = metered(q.send()).await.map_err(store_error)?;
        let more = out.last_evaluated_key.is_some();
        let items = out
            .items
            .unwrap_or_default()
            .into_iter()
            .map(|item| Ok((self.key_of(part, &item)?, item)))
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
        let shards = (self.partitions.len(), self.spread);
        let most = match want.bounded {
            true => ITEMS_PER_REQUEST,
            false => usize::MAX,
        };
        shard_merge::page(shards, self.forward, after, want, |ask| {
            self.query(client, floor, ask, most)
        })
        .await
    }
}

/// Active users related to `value` through `relation`: one query of the sparse relation
/// index, which projects every attribute (reading ahead through `window.skip` in DynamoDB's
/// 1 MB pages). Like every index read it is eventually consistent: a user changed a moment
/// ago may still show its former state.
pub async fn related(
    store: &DynamoStore,
    relation: RelationDef,
    value: &str,
    window: Window<'_>,
) -> Result<Slice<User>, StoreError> {
    let wanted = window.skip + window.limit + 1;
    let mut items: Vec<Item> = Vec::new();
    let mut start = None;
    loop {
        let mut q = store
            .client
            .query()
            .table_name(&store.users)
            .index_name(relation.index)
            .limit(i32::try_from(wanted - items.len()).unwrap_or(i32::MAX))
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
        start = out.last_evaluated_key;
        items.extend(out.items.unwrap_or_default());
        if start.is_none() || items.len() >= wanted {
            break;
        }
    }
    let more = items.len() > window.skip + window.limit || start.is_some();
    let page: Vec<Item> = items
        .into_iter()
        .skip(window.skip)
        .take(window.limit)
        .collect();
    let next = page
        .last()
        .filter(|_| more)
        .and_then(|i| i.get(ACTIVE_KEY))
        .and_then(|k| k.as_s().ok())
        .cloned();
    Ok(decode_each(&page, user_from_item, next)
        .retain(|u| u.is_active() && u.text(relation.relation.field()) == Some(value)))
}

/// The lists a mirror may walk in segments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SegmentedList {
    /// The active users, in creation order.
    Active,
    /// The change feed.
    Feed,
}

impl DynamoStore {
    /// The partitions that hold `segment` of `list`: the list's write shards when they split
    /// evenly into the segment's parts (the whole list is all of them, as it always was),
    /// else the partitions of the list's segment index, which any segment count divides.
    pub(super) fn segment_of(&self, list: SegmentedList, segment: Segment) -> Sharded<'_> {
        let (index, shard, sort, by_segment, segment_attr) = match list {
            SegmentedList::Active => (
                schema::ACTIVE,
                ACTIVE_SHARD,
                ACTIVE_KEY,
                schema::ACTIVE_SEGMENTS,
                ACTIVE_SEGMENT,
            ),
            SegmentedList::Feed => (
                schema::FEED,
                FEED_SHARD,
                FEED_KEY,
                schema::FEED_SEGMENTS,
                FEED_SEGMENT,
            ),
        };
        match segment.partitions_of(self.shards) {
            Some(shards) => Sharded::of_partitions(&self.users, index, shard, sort, shards),
            None => {
                let parts = segment
                    .partitions_of(Segment::MOST)
                    .expect("a segment count divides the most segments");
                Sharded::of_partitions(&self.users, by_segment, segment_attr, sort, parts)
            }
        }
    }
}
