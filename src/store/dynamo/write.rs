//! The write path: the blind one-request update, and conditional writes of a planned
//! [`Transition`] (one `PutItem`, or a transaction with guard items, counters and history).

use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{
    ReturnConsumedCapacity, ReturnValue, ReturnValuesOnConditionCheckFailure,
};

use super::errors::{other, service_error};
use super::item::*;
use super::metering::metered;
use super::schema;
use super::transaction;
use super::{decode, DynamoStore};
use crate::domain::fields::{EMAIL, USERNAME};
use crate::domain::identity;
use crate::domain::Plan;
use crate::domain::{
    feed_key_of, BubbleId, Intent, Patch, Timestamp, Transition, User, UserRef, Value, FIELDS,
};
use crate::store::retry::Backoff;
use crate::store::{StoreError, UserStore};

/// What went wrong with one write attempt.
pub(super) enum WriteFailure {
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

pub(super) fn stale(item: Option<&Item>) -> WriteFailure {
    match item.map(decode).transpose() {
        Ok(user) => WriteFailure::Stale(user),
        Err(e) => WriteFailure::Failed(e),
    }
}

impl DynamoStore {
    /// The blind update: one `UpdateItem` that succeeds only if the user exists, is
    /// active, keeps its e-mail and username guards, matches `expect`, and really changes.
    /// On failure DynamoDB returns the item as it is, which the caller plans against.
    pub(super) async fn try_blind_update(
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
            // A relation's index key follows its field (the user is active here).
            let link = schema::relation(FIELDS[i].name).map(|r| (format!("#r{i}"), r.attribute));
            if let Some((l, attribute)) = &link {
                req = req.expression_attribute_names(l, *attribute);
            }
            let link = link.map(|(l, _)| l);
            match value {
                Some(v) => {
                    sets.push(format!("{name} = {val}"));
                    sets.extend(link.map(|l| format!("{l} = {val}")));
                    differs.push(format!("NOT {name} = {val}"));
                    req = req.expression_attribute_values(&val, value_attr(v));
                }
                None => {
                    removes.push(name.clone());
                    removes.extend(link);
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
                Some(v) => {
                    let key = identity::key(FIELDS[i].name, v);
                    conditions.push(format!("{name} = :k{i}"));
                    req = req.expression_attribute_values(format!(":k{i}"), s(key));
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
                .return_consumed_capacity(ReturnConsumedCapacity::Total)
                .send(),
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
                // A transaction on this user was in flight: try again after it.
                UpdateItemError::TransactionConflictException(_) => Err(WriteFailure::Conflict),
                e => Err(other(e).into()),
            },
        }
    }

    /// Writes a transition conditionally on `old` being current; `scoped`: a transaction
    /// depends only on what it changes (see [`transaction::scoped_update`]).
    pub(super) async fn write(&self, t: &Transition, scoped: bool) -> Result<User, WriteFailure> {
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
                    .return_consumed_capacity(ReturnConsumedCapacity::Total)
                    .send(),
            )
            .await;
            return match result {
                Ok(_) => Ok(t.new.clone()),
                Err(err) => match service_error(err)? {
                    PutItemError::ConditionalCheckFailedException(e) => Err(stale(e.item.as_ref())),
                    PutItemError::TransactionConflictException(_) => Err(WriteFailure::Conflict),
                    e => Err(other(e).into()),
                },
            };
        }
        self.transact(t, item, scoped).await
    }

    async fn transact(
        &self,
        t: &Transition,
        item: Item,
        scoped: bool,
    ) -> Result<User, WriteFailure> {
        let scoped = scoped && transaction::can_scope(t);
        let (actions, roles) = transaction::actions(self, t, item, scoped)?;
        let result = metered(
            self.client
                .transact_write_items()
                .set_transact_items(Some(actions))
                .return_consumed_capacity(ReturnConsumedCapacity::Total)
                .send(),
        )
        .await;
        match result {
            // Plain updates of other fields may have landed around a scoped write: the
            // stored user is read back (one strongly consistent read, on this path only).
            Ok(_) if scoped => match self.get_by_bubble_id(&t.new.bubble_id).await? {
                Some(user) => Ok(user),
                None => Err(StoreError::Backend("user gone after its write".into()).into()),
            },
            Ok(_) => Ok(t.new.clone()),
            Err(err) => match service_error(err)? {
                TransactWriteItemsError::TransactionCanceledException(e) => {
                    Err(transaction::cancelled(e.cancellation_reasons(), &roles))
                }
                e => Err(other(e).into()),
            },
        }
    }

    /// Carries out `intent`: plans it on the current user, writes conditionally, and plans
    /// again when another writer got there first. `known` is the current user when the
    /// caller knows it (`Some(None)`: there is none); otherwise a plain change is first tried
    /// blind, and the user read only when that fails.
    pub(super) async fn carry_out(
        &self,
        key: &UserRef,
        intent: &Intent<'_>,
        expect: Option<u64>,
        mut known: Option<Option<User>>,
    ) -> Result<User, StoreError> {
        let blind = blind_target(key, intent);
        if let Some((bubble_id, patch)) = blind.filter(|_| known.is_none()) {
            match self.try_blind_update(bubble_id, patch, expect).await {
                Ok(user) => return Ok(user),
                Err(WriteFailure::Stale(current)) => known = Some(current),
                Err(WriteFailure::Conflict) => {}
                Err(WriteFailure::Failed(e)) => return Err(e),
            }
        }
        let mut backoff = Backoff::for_writes();
        let mut blind_stuck = false;
        // After a lost race, and unless the client asked for a version, a transaction stops
        // depending on the whole version: plain updates of other fields commute with it.
        let mut scoped = false;
        loop {
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
            // A plain change of an existing user goes blind again: DynamoDB applies the
            // merge to whatever version is current, so concurrent plain updates of one user
            // serialise there instead of failing each other's version condition. A blind
            // update that fails on the very version it was planned on lost no race (this
            // instance's clock is behind the stored updatedAt, or the item's key attributes
            // predate the canonical keys): the versioned write then settles it.
            let planned_on = t.old.as_ref().map(|u| u.version);
            let go_blind = blind.filter(|_| planned_on.is_some() && t.is_simple() && !blind_stuck);
            let attempt = match go_blind {
                Some((bubble_id, patch)) => self.try_blind_update(bubble_id, patch, expect).await,
                None => self.write(&t, scoped).await,
            };
            scoped = expect.is_none();
            match attempt {
                Ok(user) => return Ok(user),
                Err(WriteFailure::Stale(current)) => {
                    let same = current.as_ref().map(|u| u.version) == planned_on;
                    blind_stuck |= go_blind.is_some() && same;
                    known = Some(current);
                }
                Err(WriteFailure::Conflict) => {}
                Err(WriteFailure::Failed(e)) => return Err(e),
            }
            if !backoff.lost().await {
                return Err(StoreError::Unavailable);
            }
        }
    }
}

pub(super) fn build<T, E: std::fmt::Debug>(r: Result<T, E>) -> Result<T, WriteFailure> {
    r.map_err(|e| StoreError::Backend(format!("request build: {e:?}")).into())
}

/// The patch an intent merges blind, and the bubbleId it is keyed by, when the blind
/// update applies: an upsert or update by bubbleId that touches at least one field.
pub(super) fn blind_target<'a>(
    key: &'a UserRef,
    intent: &'a Intent<'_>,
) -> Option<(&'a BubbleId, &'a Patch)> {
    let (bubble_id, patch) = match (intent, key) {
        (Intent::Upsert(b, p), _) => (*b, *p),
        (Intent::Update(p), UserRef::Bubble(b)) => (b, *p),
        _ => return None,
    };
    let own_bubble_id = patch.bubble_id.as_ref().is_none_or(|b| b == bubble_id);
    (patch.changes().next().is_some() && own_bubble_id).then_some((bubble_id, patch))
}
