//! The DynamoDB [`UserStore`].
//!
//! - Every write is conditional on the version it read, so a lost race is detected, never
//!   silently overwritten; a failed condition returns the current item (`ALL_OLD`), which
//!   is planned again without another read.
//! - Uniqueness of e-mail and username is held by guard items written in the same
//!   transaction as the user, never by reading an index first.
//! - An update that does not touch e-mail or username is tried blind, as one conditional
//!   `UpdateItem` that also fails when it would change nothing.

mod blind;
mod client;
mod departures;
mod epoch;
mod erase;
mod errors;
mod expiry;
mod expr;
mod failure;
pub mod item;
mod keys;
mod lease;
mod lists;
mod metering;
pub mod migrate;
mod moves;
mod recount;
pub mod schema;
pub mod shard_merge;
mod store;
mod transaction;
mod write;

use std::sync::Arc;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{KeysAndAttributes, ReturnConsumedCapacity};

pub use self::client::{
    amazon_roots_client, client_from_env, client_from_settings, client_settings, local_client,
    local_client_unhurried, local_client_with, EnvSettings,
};
use self::errors::store_error;
use self::item::*;
use self::metering::metered;

use self::lists::SegmentedList;
use self::shard_merge::Want;
pub use self::store::DynamoStore;
use super::retry::Backoff;
use super::{Lookup, Slice, StoreError, UserStore, Window};
use crate::domain::{BubbleId, DeletionRecord, Guard, Intent, Relation, Timestamp, User, UserRef};

/// What the merge is asked for: a page after a position is held to the read bounds; a page
/// at an offset must be exact.
fn want(window: Window<'_>) -> Want {
    if window.skip == 0 {
        Want::bounded(window.limit)
    } else {
        Want::window(window.skip, window.limit)
    }
}

fn users(page: shard_merge::Merged<Item>) -> Result<Slice<User>, StoreError> {
    Ok(decode_each(&page.items, user_from_item, page.next))
}

/// The meta-table key of the guard a lookup reads.
fn lookup_key(lookup: &Lookup) -> Item {
    match lookup {
        Lookup::Unique(field, key) => guard_key(&Guard {
            field: *field,
            key: key.clone(),
        }),
        Lookup::Id(id) => id_guard_key(&id.to_string()),
    }
}

fn decode(item: &Item) -> Result<User, StoreError> {
    user_from_item(item).map_err(|e| StoreError::Backend(format!("bad user item: {e}")))
}

impl DynamoStore {
    /// The user as stored, by id or bubbleId, past retention or not (the write path
    /// replaces a user past retention; every read hides it).
    async fn get_stored(&self, key: &UserRef) -> Result<Option<User>, StoreError> {
        if let UserRef::Id(id, _) = key {
            if let Some(user) = self.get_by_id(id).await? {
                return Ok(Some(user));
            }
        }
        self.get_by_bubble_id(key.bubble_id()).await
    }

    async fn get_by_bubble_id(&self, b: &BubbleId) -> Result<Option<User>, StoreError> {
        let out = metered(
            self.client
                .get_item()
                .table_name(&self.users)
                .key(BUBBLE_ID, s(b.as_str()))
                .consistent_read(true)
                .return_consumed_capacity(ReturnConsumedCapacity::Total)
                .send(),
        )
        .await
        .map_err(store_error)?;
        out.item.as_ref().map(decode).transpose()
    }

    /// The users with these bubbleIds: one strongly consistent `BatchGetItem` per 100.
    async fn get_by_bubble_ids(&self, ids: &[BubbleId]) -> Result<Slice<User>, StoreError> {
        let mut seen = std::collections::HashSet::new();
        let keys: Vec<Item> = ids
            .iter()
            .filter(|b| seen.insert(b.as_str()))
            .map(|b| Item::from([(BUBBLE_ID.to_owned(), s(b.as_str()))]))
            .collect();
        let mut items = Vec::with_capacity(keys.len());
        for chunk in keys.chunks(100) {
            items.extend(self.batch_get(&self.users, chunk.to_vec()).await?);
        }
        Ok(decode_each(&items, user_from_item, None))
    }

    /// The items of `table` with these keys (at most 100), strongly consistent, in one
    /// `BatchGetItem`; the keys DynamoDB leaves unprocessed are asked for again after a
    /// backoff, within the write budget.
    async fn batch_get(&self, table: &str, keys: Vec<Item>) -> Result<Vec<Item>, StoreError> {
        let mut items = Vec::with_capacity(keys.len());
        if keys.is_empty() {
            return Ok(items);
        }
        let mut pending = Some(
            KeysAndAttributes::builder()
                .set_keys(Some(keys))
                .consistent_read(true)
                .build()
                .map_err(|e| StoreError::Backend(e.to_string()))?,
        );
        let mut backoff = Backoff::for_writes();
        while let Some(request) = pending.take() {
            let out = metered(
                self.client
                    .batch_get_item()
                    .request_items(table, request)
                    .return_consumed_capacity(ReturnConsumedCapacity::Total)
                    .send(),
            )
            .await
            .map_err(store_error)?;
            items.extend(
                out.responses
                    .and_then(|mut r| r.remove(table))
                    .unwrap_or_default(),
            );
            pending = out
                .unprocessed_keys
                .and_then(|mut u| u.remove(table))
                .filter(|k| !k.keys().is_empty());
            if pending.is_some() && !backoff.lost().await {
                return Err(StoreError::Unavailable);
            }
        }
        Ok(items)
    }

    async fn get_by_id(&self, id: &uuid::Uuid) -> Result<Option<User>, StoreError> {
        let out = metered(
            self.client
                .query()
                .table_name(&self.users)
                .index_name(schema::BY_ID)
                .key_condition_expression("#id = :id")
                .expression_attribute_names("#id", ID)
                .expression_attribute_values(":id", s(id.to_string()))
                .limit(1)
                .return_consumed_capacity(ReturnConsumedCapacity::Total)
                .send(),
        )
        .await
        .map_err(store_error)?;
        out.items().first().map(decode).transpose()
    }
}

#[async_trait]
impl UserStore for DynamoStore {
    async fn get(&self, key: &UserRef) -> Result<Option<User>, StoreError> {
        // A user past retention is gone, whether or not TTL has removed its item yet.
        Ok(self
            .get_stored(key)
            .await?
            .filter(|u| !self.retention.is_gone(u)))
    }

    async fn apply(
        &self,
        key: &UserRef,
        intent: &Intent<'_>,
        expect: Option<u64>,
    ) -> Result<User, StoreError> {
        // A creation assumes there is no user: its write is conditional on that, and a
        // failed condition returns the existing user (ALL_OLD), so a read first would be a
        // wasted round trip.
        let known = matches!(intent, Intent::Create(..)).then_some(None);
        self.carry_out(key, intent, expect, known).await
    }

    async fn apply_from(
        &self,
        key: &UserRef,
        intent: &Intent<'_>,
        expect: Option<u64>,
        current: Option<User>,
    ) -> Result<User, StoreError> {
        self.carry_out(key, intent, expect, Some(current)).await
    }

    async fn get_many(&self, ids: &[BubbleId]) -> Result<Slice<User>, StoreError> {
        self.get_by_bubble_ids(ids).await
    }

    async fn list_active(&self, window: Window<'_>) -> Result<Slice<User>, StoreError> {
        let q = self.segment_of(SegmentedList::Active, window.segment);
        users(
            q.page(&self.client, None, window.after, want(window))
                .await?,
        )
    }

    async fn changes(&self, floor: &str, window: Window<'_>) -> Result<Slice<User>, StoreError> {
        let q = self.segment_of(SegmentedList::Feed, window.segment);
        let mut slice = users(
            q.page(&self.client, Some(floor), window.after, want(window))
                .await?,
        )?;
        slice.items.retain(|u| !self.retention.is_gone(u));
        Ok(slice)
    }

    async fn changes_related(
        &self,
        relation: Relation,
        value: &str,
        floor: &str,
        window: Window<'_>,
    ) -> Result<Slice<User>, StoreError> {
        let def = schema::relation_def(relation);
        let q = lists::Sharded::organization_feed(&self.users, &self.meta, def, value);
        let page = q
            .page(&self.client, Some(floor), window.after, want(window))
            .await?;
        let mut slice = decode_each(&page.items, departures::organization_feed_item, page.next);
        slice.items.retain(|u| !self.retention.is_gone(u));
        Ok(slice)
    }

    async fn deletions(&self, window: Window<'_>) -> Result<Slice<DeletionRecord>, StoreError> {
        let q = lists::Sharded::history(&self.meta, self.shards);
        let page = q
            .page(&self.client, None, window.after, want(window))
            .await?;
        let mut slice = decode_each(&page.items, deletion_from_item, page.next);
        let now = self.retention.now();
        slice
            .items
            .retain(|d| self.retention.expiry(d.deleted_at) > now);
        Ok(slice)
    }

    async fn find_active(&self, lookup: &Lookup) -> Result<Option<User>, StoreError> {
        let guard = lookup_key(lookup);
        let out = metered(
            self.client
                .get_item()
                .table_name(&self.meta)
                .set_key(Some(guard))
                .consistent_read(true)
                .return_consumed_capacity(ReturnConsumedCapacity::Total)
                .send(),
        )
        .await
        .map_err(store_error)?;
        let owner = out
            .item
            .as_ref()
            .and_then(|g| g.get(OWNER))
            .and_then(|o| o.as_s().ok());
        let Some(owner) = owner else { return Ok(None) };
        let owner = BubbleId::parse(owner).map_err(StoreError::Backend)?;
        Ok(self
            .get_by_bubble_id(&owner)
            .await?
            .filter(|u| lookup.finds(u)))
    }

    async fn list_related(
        &self,
        relation: Relation,
        value: &str,
        window: Window<'_>,
    ) -> Result<Slice<User>, StoreError> {
        lists::related(self, schema::relation_def(relation), value, window).await
    }

    async fn epoch(&self) -> Result<Option<Timestamp>, StoreError> {
        self.read_epoch().await
    }

    fn keys(&self) -> Arc<dyn crate::keys::KeyStore> {
        Arc::new(self.clone())
    }

    async fn count_active(&self) -> Result<u64, StoreError> {
        self.sum_counters((0..self.shards).map(counter_key).collect())
            .await
    }

    async fn count_related(&self, relation: Relation, value: &str) -> Result<u64, StoreError> {
        let shards = 0..self.shards;
        let keys = shards.map(|shard| organization_counter_key(relation, value, shard));
        self.sum_counters(keys.collect()).await
    }
}

impl DynamoStore {
    /// The sum of the counter items at `keys` (absent ones count 0): one `BatchGetItem`
    /// per 100.
    async fn sum_counters(&self, keys: Vec<Item>) -> Result<u64, StoreError> {
        let mut total: i64 = 0;
        for chunk in keys.chunks(100) {
            for item in self.batch_get(&self.meta, chunk.to_vec()).await? {
                total += item
                    .get(COUNT)
                    .and_then(|v| v.as_n().ok())
                    .and_then(|v| v.parse::<i64>().ok())
                    .unwrap_or(0);
            }
        }
        Ok(total.max(0) as u64)
    }
}
