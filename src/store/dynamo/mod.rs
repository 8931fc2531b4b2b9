//! The DynamoDB [`UserStore`].
//!
//! - Every write is conditional on the version it read, so a lost race is detected, never
//!   silently overwritten; a failed condition returns the current item (`ALL_OLD`), which
//!   is planned again without another read.
//! - Uniqueness of e-mail and username is held by guard items written in the same
//!   transaction as the user, never by reading an index first.
//! - An update that does not touch e-mail or username is tried blind, as one conditional
//!   `UpdateItem` that also fails when it would change nothing.

mod errors;
pub mod item;
mod lists;
pub mod schema;

use std::time::{Duration, Instant};

use async_trait::async_trait;
use aws_sdk_dynamodb::config::retry::RetryConfig;
use aws_sdk_dynamodb::config::timeout::TimeoutConfig;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{
    Delete, KeysAndAttributes, Put, ReturnValue, ReturnValuesOnConditionCheckFailure,
    TransactWriteItem, Update,
};
use aws_sdk_dynamodb::Client;

use self::errors::{other, service_error, store_error};
use self::item::*;
use super::meter;
use super::{Slice, StoreError, UserStore};
use crate::domain::fields::{EMAIL, USERNAME};
use crate::domain::{
    feed_key_of, shard_of, BubbleId, DeletionRecord, Intent, Patch, Plan, Timestamp, Transition,
    User, UserRef, Value, FIELDS,
};

/// How often a write is planned again after losing a race before giving up with a 503.
const MAX_ATTEMPTS: usize = 8;

/// A [`UserStore`] on two DynamoDB tables (see [`schema`]).
#[derive(Clone)]
pub struct DynamoStore {
    client: Client,
    users: String,
    meta: String,
    shards: u32,
}

/// Settings for the SDK client: bounded attempts and timeouts, so a slow or throttled table
/// turns into a quick 503 rather than a Lambda timeout.
pub fn client_settings() -> (RetryConfig, TimeoutConfig) {
    let retry = RetryConfig::standard()
        .with_max_attempts(3)
        .with_initial_backoff(Duration::from_millis(50))
        .with_max_backoff(Duration::from_secs(1));
    let timeouts = TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(1))
        .operation_attempt_timeout(Duration::from_secs(2))
        .operation_timeout(Duration::from_secs(6))
        .build();
    (retry, timeouts)
}

/// A client for a local DynamoDB-compatible server (moto) at `endpoint`: fixed region and
/// dummy credentials, the same retry and timeout settings as in production.
pub fn local_client(endpoint: &str) -> Client {
    let (retry, timeouts) = client_settings();
    local_client_with(endpoint, retry, timeouts)
}

/// [`local_client`] with other retry and timeout settings (fault tests).
pub fn local_client_with(endpoint: &str, retry: RetryConfig, timeouts: TimeoutConfig) -> Client {
    let conf = aws_sdk_dynamodb::Config::builder()
        .behavior_version(aws_sdk_dynamodb::config::BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(aws_sdk_dynamodb::config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
            "local", "local", None, None, "local",
        ))
        .retry_config(retry)
        .timeout_config(timeouts)
        .build();
    Client::from_conf(conf)
}

/// What went wrong with one write attempt.
enum WriteFailure {
    /// The user changed since it was read: here it is now (`None`: it does not exist).
    Stale(Option<User>),
    /// A transaction conflict: read again and retry.
    Conflict,
    /// A final answer.
    Failed(StoreError),
}

impl From<StoreError> for WriteFailure {
    fn from(e: StoreError) -> Self {
        WriteFailure::Failed(e)
    }
}

async fn metered<T, E>(
    fut: impl std::future::Future<Output = Result<T, E>>,
    items: impl FnOnce(&T) -> u64,
) -> Result<T, E> {
    let started = Instant::now();
    let out = fut.await;
    meter::record(started, out.as_ref().map_or(0, items));
    out
}

fn decode(item: &Item) -> Result<User, StoreError> {
    user_from_item(item).map_err(|e| StoreError::Backend(format!("bad user item: {e}")))
}

fn stale(item: Option<&Item>) -> WriteFailure {
    match item.map(decode).transpose() {
        Ok(user) => WriteFailure::Stale(user),
        Err(e) => WriteFailure::Failed(e),
    }
}

impl DynamoStore {
    /// A store on the tables `users` and `meta`, with `shards` index and counter shards.
    pub fn new(
        client: Client,
        users: impl Into<String>,
        meta: impl Into<String>,
        shards: u32,
    ) -> Self {
        Self {
            client,
            users: users.into(),
            meta: meta.into(),
            shards: shards.max(1),
        }
    }

    /// Creates both tables if they are missing (local runs and tests only).
    pub async fn create_tables(&self) -> Result<(), String> {
        schema::users_table()
            .create_if_missing(&self.client, &self.users)
            .await?;
        schema::meta_table()
            .create_if_missing(&self.client, &self.meta)
            .await
    }

    async fn get_by_bubble_id(&self, b: &BubbleId) -> Result<Option<User>, StoreError> {
        let out = metered(
            self.client
                .get_item()
                .table_name(&self.users)
                .key(BUBBLE_ID, s(b.as_str()))
                .consistent_read(true)
                .send(),
            |o| u64::from(o.item.is_some()),
        )
        .await
        .map_err(store_error)?;
        out.item.as_ref().map(decode).transpose()
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
                .send(),
            |o| o.scanned_count as u64,
        )
        .await
        .map_err(store_error)?;
        out.items().first().map(decode).transpose()
    }

    /// The blind update: one `UpdateItem` that succeeds only if the user exists, is
    /// active, keeps its e-mail and username guards, matches `expect`, and really changes.
    /// On failure DynamoDB returns the item as it is, which the caller plans against.
    async fn try_blind_update(
        &self,
        bubble_id: &BubbleId,
        patch: &Patch,
        expect: Option<u64>,
    ) -> Result<User, WriteFailure> {
        let now = Timestamp::now();
        let mut req = self
            .client
            .update_item()
            .table_name(&self.users)
            .key(BUBBLE_ID, s(bubble_id.as_str()))
            .return_values(ReturnValue::AllNew)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .expression_attribute_names("#b", BUBBLE_ID)
            .expression_attribute_names("#del", DELETED_AT)
            .expression_attribute_names("#upd", UPDATED_AT)
            .expression_attribute_names("#ver", VERSION)
            .expression_attribute_names("#fk", FEED_KEY)
            .expression_attribute_values(":now", s(now.to_rfc3339()))
            .expression_attribute_values(":fk", s(feed_key_of(now, bubble_id)))
            .expression_attribute_values(":one", n(1));
        let mut sets = vec![
            "#upd = :now".to_owned(),
            "#fk = :fk".into(),
            "#ver = #ver + :one".into(),
        ];
        let mut removes = Vec::new();
        let mut differs = Vec::new();
        let mut conditions = vec![
            "attribute_exists(#b)".to_owned(),
            "attribute_not_exists(#del)".into(),
            "#upd < :now".into(),
        ];
        if let Some(v) = expect {
            conditions.push("#ver = :expect".into());
            req = req.expression_attribute_values(":expect", n(v));
        }
        for (i, value) in patch.changes() {
            let (name, val) = (format!("#f{i}"), format!(":v{i}"));
            req = req.expression_attribute_names(&name, FIELDS[i].name);
            match value {
                Some(v) => {
                    sets.push(format!("{name} = {val}"));
                    differs.push(format!("NOT {name} = {val}"));
                    req = req.expression_attribute_values(&val, value_attr(v));
                }
                None => {
                    removes.push(name.clone());
                    differs.push(format!("attribute_exists({name})"));
                }
            }
        }
        // E-mail and username may change case here, never their guard key.
        for (i, attr) in [(EMAIL, EMAIL_KEY), (USERNAME, USERNAME_KEY)] {
            let Some(change) = patch.change(i) else {
                continue;
            };
            let name = format!("#k{i}");
            req = req.expression_attribute_names(&name, attr);
            match change.and_then(Value::as_text) {
                Some(k) => {
                    conditions.push(format!("{name} = :k{i}"));
                    req = req.expression_attribute_values(format!(":k{i}"), s(k.to_lowercase()));
                }
                None => conditions.push(format!("attribute_not_exists({name})")),
            }
        }
        conditions.push(format!("({})", differs.join(" OR ")));
        let mut update = format!("SET {}", sets.join(", "));
        if !removes.is_empty() {
            update.push_str(&format!(" REMOVE {}", removes.join(", ")));
        }
        let result = metered(
            req.update_expression(update)
                .condition_expression(conditions.join(" AND "))
                .send(),
            |_| 1,
        )
        .await;
        match result {
            Ok(out) => {
                let item = out
                    .attributes
                    .ok_or(StoreError::Backend("no ALL_NEW item".into()))?;
                Ok(decode(&item)?)
            }
            Err(err) => match service_error(err)? {
                UpdateItemError::ConditionalCheckFailedException(e) => Err(stale(e.item.as_ref())),
                e => Err(other(e).into()),
            },
        }
    }

    /// Writes a transition conditionally on `old` being current.
    async fn write(&self, t: &Transition) -> Result<User, WriteFailure> {
        let item = user_item(&t.new, self.shards);
        if t.is_simple() {
            let old = t.old.as_ref().map_or(0, |u| u.version);
            let result = metered(
                self.client
                    .put_item()
                    .table_name(&self.users)
                    .set_item(Some(item))
                    .condition_expression("#ver = :old")
                    .expression_attribute_names("#ver", VERSION)
                    .expression_attribute_values(":old", n(old))
                    .return_values_on_condition_check_failure(
                        ReturnValuesOnConditionCheckFailure::AllOld,
                    )
                    .send(),
                |_| 0,
            )
            .await;
            return match result {
                Ok(_) => Ok(t.new.clone()),
                Err(err) => match service_error(err)? {
                    PutItemError::ConditionalCheckFailedException(e) => Err(stale(e.item.as_ref())),
                    e => Err(other(e).into()),
                },
            };
        }
        self.transact(t, item).await
    }

    async fn transact(&self, t: &Transition, item: Item) -> Result<User, WriteFailure> {
        let me = s(t.new.bubble_id.as_str());
        let mut user = Put::builder()
            .table_name(&self.users)
            .set_item(Some(item))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
        user = match &t.old {
            Some(old) => user
                .condition_expression("#ver = :old")
                .expression_attribute_names("#ver", VERSION)
                .expression_attribute_values(":old", n(old.version)),
            None => user
                .condition_expression("attribute_not_exists(#b)")
                .expression_attribute_names("#b", BUBBLE_ID),
        };
        let mut actions = vec![TransactWriteItem::builder()
            .put(build(user.build())?)
            .build()];
        // What each action after the user's stands for, to read cancellation reasons.
        let mut guards = vec![];
        for g in t.claims() {
            let mut guard = guard_key(&g);
            guard.insert(OWNER.into(), me.clone());
            let put = Put::builder()
                .table_name(&self.meta)
                .set_item(Some(guard))
                .condition_expression("attribute_not_exists(#pk) OR #owner = :me")
                .expression_attribute_names("#pk", PK)
                .expression_attribute_names("#owner", OWNER)
                .expression_attribute_values(":me", me.clone());
            actions.push(
                TransactWriteItem::builder()
                    .put(build(put.build())?)
                    .build(),
            );
            guards.push(Some(g.field));
        }
        for g in t.releases() {
            let del = Delete::builder()
                .table_name(&self.meta)
                .set_key(Some(guard_key(&g)))
                .condition_expression("attribute_not_exists(#pk) OR #owner = :me")
                .expression_attribute_names("#pk", PK)
                .expression_attribute_names("#owner", OWNER)
                .expression_attribute_values(":me", me.clone());
            actions.push(
                TransactWriteItem::builder()
                    .delete(build(del.build())?)
                    .build(),
            );
            guards.push(None);
        }
        if t.active_delta() != 0 {
            let up = Update::builder()
                .table_name(&self.meta)
                .set_key(Some(counter_key(shard_of(&t.new.id, self.shards))))
                .update_expression("ADD #n :d")
                .expression_attribute_names("#n", COUNT)
                .expression_attribute_values(":d", n(t.active_delta()));
            actions.push(
                TransactWriteItem::builder()
                    .update(build(up.build())?)
                    .build(),
            );
            guards.push(None);
        }
        if let Some(d) = &t.deletion {
            let put = Put::builder()
                .table_name(&self.meta)
                .set_item(Some(deletion_item(d, self.shards)))
                .condition_expression("attribute_not_exists(#pk)")
                .expression_attribute_names("#pk", PK);
            actions.push(
                TransactWriteItem::builder()
                    .put(build(put.build())?)
                    .build(),
            );
            guards.push(None);
        }
        let result = metered(
            self.client
                .transact_write_items()
                .set_transact_items(Some(actions))
                .send(),
            |_| 0,
        )
        .await;
        let err = match result {
            Ok(_) => return Ok(t.new.clone()),
            Err(err) => service_error(err)?,
        };
        match err {
            TransactWriteItemsError::TransactionCanceledException(e) => {
                let reasons = e.cancellation_reasons();
                let code = |r: &aws_sdk_dynamodb::types::CancellationReason| {
                    r.code().unwrap_or("None").to_owned()
                };
                if let Some(first) = reasons
                    .first()
                    .filter(|r| code(r) == "ConditionalCheckFailed")
                {
                    return Err(stale(first.item.as_ref()));
                }
                for (r, guard) in reasons.iter().skip(1).zip(&guards) {
                    if code(r) == "ConditionalCheckFailed" {
                        return Err(match guard {
                            Some(field) => WriteFailure::Failed(StoreError::Duplicate(field)),
                            None => WriteFailure::Conflict,
                        });
                    }
                }
                if reasons.iter().any(|r| code(r) == "TransactionConflict") {
                    return Err(WriteFailure::Conflict);
                }
                if reasons.iter().any(|r| {
                    matches!(
                        code(r).as_str(),
                        "ThrottlingError" | "ProvisionedThroughputExceeded"
                    )
                }) {
                    return Err(StoreError::Unavailable.into());
                }
                // Only the codes: a reason's item would put a user's e-mail in the logs.
                let codes: Vec<String> = reasons.iter().map(code).collect();
                Err(StoreError::Backend(format!("transaction cancelled: {codes:?}")).into())
            }
            e => Err(other(e).into()),
        }
    }
}

fn build<T, E: std::fmt::Debug>(r: Result<T, E>) -> Result<T, WriteFailure> {
    r.map_err(|e| StoreError::Backend(format!("request build: {e:?}")).into())
}

/// The patch an intent merges blind, and the bubbleId it is keyed by, when the blind
/// update applies: an upsert or update by bubbleId that touches at least one field.
fn blind_target<'a>(key: &'a UserRef, intent: &'a Intent<'_>) -> Option<(&'a BubbleId, &'a Patch)> {
    let (bubble_id, patch) = match (intent, key) {
        (Intent::Upsert(b, p), _) => (*b, *p),
        (Intent::Update(p), UserRef::Bubble(b)) => (b, *p),
        _ => return None,
    };
    let own_bubble_id = patch.bubble_id.as_ref().is_none_or(|b| b == bubble_id);
    (patch.changes().next().is_some() && own_bubble_id).then_some((bubble_id, patch))
}

#[async_trait]
impl UserStore for DynamoStore {
    async fn get(&self, key: &UserRef) -> Result<Option<User>, StoreError> {
        if let UserRef::Id(id, _) = key {
            if let Some(user) = self.get_by_id(id).await? {
                return Ok(Some(user));
            }
        }
        self.get_by_bubble_id(key.bubble_id()).await
    }

    async fn apply(
        &self,
        key: &UserRef,
        intent: &Intent<'_>,
        expect: Option<u64>,
    ) -> Result<User, StoreError> {
        // `Some(current)` once we know the current user without reading it again. A creation
        // assumes there is none: its write is conditional on that, and a failed condition
        // returns the existing user (ALL_OLD), so a read first would be a wasted round trip.
        let mut known: Option<Option<User>> = matches!(intent, Intent::Create(..)).then_some(None);
        if let Some((bubble_id, patch)) = blind_target(key, intent) {
            match self.try_blind_update(bubble_id, patch, expect).await {
                Ok(user) => return Ok(user),
                Err(WriteFailure::Stale(current)) => known = Some(current),
                Err(WriteFailure::Conflict) => {}
                Err(WriteFailure::Failed(e)) => return Err(e),
            }
        }
        for _ in 0..MAX_ATTEMPTS {
            let current = match known.take() {
                Some(c) => c,
                None => match intent {
                    Intent::Upsert(b, _) | Intent::Create(b, _) => self.get_by_bubble_id(b).await?,
                    _ => self.get(key).await?,
                },
            };
            let t = match intent.plan(current.as_ref(), expect)? {
                Plan::Unchanged(user) => return Ok(user),
                Plan::Write(t) => t,
            };
            match self.write(&t).await {
                Ok(user) => return Ok(user),
                Err(WriteFailure::Stale(current)) => known = Some(current),
                Err(WriteFailure::Conflict) => {}
                Err(WriteFailure::Failed(e)) => return Err(e),
            }
        }
        Err(StoreError::Unavailable)
    }

    async fn list_active(
        &self,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Slice<User>, StoreError> {
        let q = lists::Sharded::index(
            &self.users,
            schema::ACTIVE,
            ACTIVE_SHARD,
            ACTIVE_KEY,
            self.shards,
        );
        let (items, next) = q.page(&self.client, None, after, limit).await?;
        Ok(Slice {
            items: items.iter().map(decode).collect::<Result<_, _>>()?,
            next,
        })
    }

    async fn changes(
        &self,
        floor: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Slice<User>, StoreError> {
        let q = lists::Sharded::index(&self.users, schema::FEED, FEED_SHARD, FEED_KEY, self.shards);
        let (items, next) = q.page(&self.client, Some(floor), after, limit).await?;
        Ok(Slice {
            items: items.iter().map(decode).collect::<Result<_, _>>()?,
            next,
        })
    }

    async fn deletions(
        &self,
        before: Option<&str>,
        limit: usize,
    ) -> Result<Slice<DeletionRecord>, StoreError> {
        let q = lists::Sharded::history(&self.meta, self.shards);
        let (items, next) = q.page(&self.client, None, before, limit).await?;
        let records = items
            .iter()
            .map(|i| {
                deletion_from_item(i)
                    .map_err(|e| StoreError::Backend(format!("bad history item: {e}")))
            })
            .collect::<Result<_, _>>()?;
        Ok(Slice {
            items: records,
            next,
        })
    }

    async fn count_active(&self) -> Result<u64, StoreError> {
        let keys = (0..self.shards).map(counter_key).collect::<Vec<_>>();
        let mut pending = Some(
            KeysAndAttributes::builder()
                .set_keys(Some(keys))
                .consistent_read(true)
                .build()
                .map_err(|e| StoreError::Backend(e.to_string()))?,
        );
        let mut total: i64 = 0;
        for _ in 0..MAX_ATTEMPTS {
            let Some(request) = pending.take() else { break };
            let out = metered(
                self.client
                    .batch_get_item()
                    .request_items(&self.meta, request)
                    .send(),
                |o| {
                    o.responses
                        .as_ref()
                        .and_then(|r| r.get(&self.meta))
                        .map_or(0, |v| v.len() as u64)
                },
            )
            .await
            .map_err(store_error)?;
            for item in out
                .responses
                .and_then(|mut r| r.remove(&self.meta))
                .unwrap_or_default()
            {
                total += item
                    .get(COUNT)
                    .and_then(|v| v.as_n().ok())
                    .and_then(|v| v.parse::<i64>().ok())
                    .unwrap_or(0);
            }
            pending = out
                .unprocessed_keys
                .and_then(|mut u| u.remove(&self.meta))
                .filter(|k| !k.keys().is_empty());
        }
        if pending.is_some() {
            return Err(StoreError::Unavailable);
        }
        Ok(total.max(0) as u64)
    }
}
