//! The write path: the blind one-request update, and conditional writes of a planned
//! [`Transition`] (one `PutItem`, or a transaction with guard items, counters and history).

use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{ReturnConsumedCapacity, ReturnValuesOnConditionCheckFailure};

use super::blind::blind_target;
use super::erase;
use super::errors::{other, service_error};
use super::failure::{stale, WriteFailure};
use super::item::*;
use super::lease::{self, Lease};
use super::metering::metered;
use super::moves;
use super::store::DynamoStore;
use super::transaction;
use crate::domain::{Intent, Plan, Transition, User, UserRef};
use crate::store::retry::Backoff;
use crate::store::StoreError;

impl DynamoStore {
    /// Writes a transition conditionally on `old` being current; `scoped`: a transaction
    /// depends only on what it changes (see [`transaction::scoped_update`]).
    pub(super) async fn write(&self, t: &Transition, scoped: bool) -> Result<User, WriteFailure> {
        let mut item = user_item(&t.new, self.shards);
        if let Some(at) = t.new.deleted_at {
            item.insert(EXPIRES_AT.into(), expiry_attr(self.retention.expiry(at)));
        }
        if t.is_simple() {
            let old = t.old.as_ref().map_or(0, |u| u.version);
            let result = metered(
                self.client
                    .put_item()
                    .table_name(&self.users)
                    .set_item(Some(item))
                    .condition_expression(format!("#ver = :old AND {}", lease::FREE))
                    .expression_attribute_names("#ver", VERSION)
                    .expression_attribute_values(":old", n(old))
                    .expression_attribute_names(lease::FREE_NAME, LEASE_UNTIL)
                    .expression_attribute_values(lease::FREE_CLOCK, lease::clock(t.new.updated_at))
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
        let lease = (scoped && transaction::can_scope(t)).then(Lease::new);
        // An erasure scrubs the person's deletion records in the same transaction.
        let history = match &t.old {
            Some(old) if t.is_erasure() => self.history_keys(&old.id).await?,
            _ => Vec::new(),
        };
        let (now, later) = history.split_at(history.len().min(erase::IN_TRANSACTION));
        let (actions, roles) = if t.is_move() {
            moves::actions(self, t, item)?
        } else {
            transaction::actions(self, t, item, lease.as_ref(), now)?
        };
        let result = metered(
            self.client
                .transact_write_items()
                .set_transact_items(Some(actions))
                .return_consumed_capacity(ReturnConsumedCapacity::Total)
                .send(),
        )
        .await;
        match (result, &lease) {
            // Plain updates of other fields may have landed before a scoped write: what it
            // left is read back as its lease is released (one request, on this path only).
            (Ok(_), Some(lease)) => Ok(lease.release(self, &t.new.bubble_id).await?),
            (Ok(_), None) => {
                self.scrub_each(later).await?;
                Ok(t.new.clone())
            }
            (Err(err), _) => match service_error(err)? {
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
        known: Option<Option<User>>,
    ) -> Result<User, StoreError> {
        let blind = blind_target(key, intent);
        let mut known = match known {
            Some(current) => Known::Read(current),
            None => Known::Unread,
        };
        if let (Some((bubble_id, patch)), Known::Unread) = (blind, &known) {
            match self.try_blind_update(bubble_id, patch, expect).await {
                Ok(user) => return Ok(user),
                Err(WriteFailure::Stale(current)) => known = Known::Read(current),
                Err(WriteFailure::Conflict) => {}
                Err(WriteFailure::Failed(e)) => return Err(e),
            }
        }
        let mut backoff = Backoff::for_writes();
        let mut tactics = Tactics::default();
        loop {
            let current = match std::mem::replace(&mut known, Known::Unread) {
                Known::Read(current) => current,
                Known::Unread => match intent {
                    Intent::Upsert(b, _) | Intent::Create(b, _) => self.get_by_bubble_id(b).await?,
                    _ => self.get_stored(key).await?,
                },
            };
            // A user past retention is planned as absent, and its item replaced.
            let (current, gone) = match current {
                Some(u) if self.retention.is_gone(&u) => (None, Some(u)),
                current => (current, None),
            };
            let mut t = match intent.plan(current.as_ref(), expect)? {
                Plan::Unchanged(user) => return Ok(user),
                Plan::Write(t) => t,
            };
            if t.old.is_none() {
                t.old = gone;
            }
            let planned_on = t.old.as_ref().map(|u| u.version);
            let go_blind = blind.filter(|_| tactics.goes_blind(&t));
            let attempt = match go_blind {
                Some((bubble_id, patch)) => self.try_blind_update(bubble_id, patch, expect).await,
                None => self.write(&t, tactics.scoped).await,
            };
            match attempt {
                Ok(user) => return Ok(user),
                Err(WriteFailure::Stale(current)) => {
                    let found_on = current.as_ref().map(|u| u.version);
                    tactics.lost(go_blind.is_some(), planned_on, found_on, expect);
                    known = Known::Read(current);
                }
                Err(WriteFailure::Conflict) => tactics.lost(false, planned_on, None, expect),
                Err(WriteFailure::Failed(e)) => return Err(e),
            }
            if !backoff.lost().await {
                return Err(StoreError::Unavailable);
            }
        }
    }
}

/// What the retry loop knows of the user before its next attempt.
enum Known {
    /// Nothing: read it first.
    Unread,
    /// The user as it is (`None`: there is none), from a read or a failed condition.
    Read(Option<User>),
}

/// How the next attempt writes, learned from the attempts that lost.
#[derive(Debug, Default)]
struct Tactics {
    /// A blind update failed on the very version it was planned on: it lost no race (this
    /// instance's clock is behind the stored `updatedAt`, or the item's key attributes
    /// predate the canonical keys), so the versioned write settles it.
    blind_stuck: bool,
    /// A write to an existing user lost, and the client asked for no version: its
    /// transaction depends only on what it changes, so plain updates of other fields commute
    /// with it (see [`transaction::scoped_update`]).
    scoped: bool,
}

impl Tactics {
    /// Whether `t` goes blind: a plain change of an existing user does, since DynamoDB
    /// applies the merge to whatever version is current, so concurrent plain updates of one
    /// user serialise there instead of failing each other's version condition.
    fn goes_blind(&self, t: &Transition) -> bool {
        t.old.is_some() && t.is_simple() && !self.blind_stuck
    }

    /// Learns from an attempt planned on version `planned_on` that found `found_on`.
    fn lost(
        &mut self,
        went_blind: bool,
        planned_on: Option<u64>,
        found_on: Option<u64>,
        expect: Option<u64>,
    ) {
        self.blind_stuck |= went_blind && found_on.is_some() && found_on == planned_on;
        self.scoped = expect.is_none() && planned_on.is_some();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{BubbleId, Patch};
    use crate::store::dynamo::transaction::scoped_update;
    use serde_json::json;

    fn patch(body: serde_json::Value) -> Patch {
        Patch::from_json(&body).unwrap()
    }

    #[test]
    fn a_scoped_delete_depends_on_the_identity_not_on_the_version() {
        let b = BubbleId::parse("b1").unwrap();
        let p = patch(json!({"email": "a@x.io", "lastName": "L"}));
        let Plan::Write(created) = Intent::Upsert(&b, &p).plan(None, None).unwrap() else {
            panic!("a creation writes")
        };
        let Plan::Write(t) = Intent::Delete("k").plan(Some(&created.new), None).unwrap() else {
            panic!("a delete writes")
        };
        let e = scoped_update(t.old.as_ref().unwrap(), &t.new);
        let named: Vec<String> = e.names().into_values().collect();
        let condition = e.condition().unwrap();
        assert!(
            !named.contains(&"lastName".to_owned()),
            "other fields are not touched"
        );
        assert!(
            named.contains(&"email".to_owned()),
            "the e-mail as read is a condition"
        );
        let version = e
            .names()
            .into_iter()
            .find(|(_, a)| a == VERSION)
            .map(|(p, _)| p)
            .unwrap();
        assert!(e.update().contains(&format!("{version} = {version} + :")));
        assert!(
            !condition.contains(&format!("{version} =")),
            "no version condition"
        );
    }
}
