//! A [`Transition`] as one `TransactWriteItems`: building its actions, and reading its
//! cancellation reasons back into what went wrong. Whether to try again is the caller's
//! rule ([`crate::store::retry`]).

use aws_sdk_dynamodb::types::{
    AttributeValue, CancellationReason, ConditionCheck, Delete, Put,
    ReturnValuesOnConditionCheckFailure, TransactWriteItem, Update,
};

use super::expr::UpdateExpr;
use super::failure::{build, stale, WriteFailure};
use super::item::*;
use super::lease::{self, Lease};
use super::store::DynamoStore;
use crate::domain::{DomainError, Guard, Relation, Transition, UniqueField, User, FIELDS};
use crate::store::positions::feed_key;
use crate::store::StoreError;

/// What an action of the transaction stands for, to read its cancellation reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Role {
    /// The user's own item, conditional on the version read (or on not existing).
    User,
    /// A claimed unique value: its failure is a duplicate of this field.
    Claim(UniqueField),
    /// A guard, counter or history write that only a concurrent writer can fail.
    Bookkeeping,
    /// The check that a new user's bubbleId is no other user's `id`.
    BubbleIdFree,
    /// A moved user's item under its new key, which must be free.
    Arrival,
}

/// The transaction's actions, the user's item first, and the role of each. `scoped`: the
/// user's action depends on what the transition changes, not on the whole version (see
/// [`scoped_update`]) and takes this lease, where the transition allows it.
pub(super) fn actions(
    store: &DynamoStore,
    t: &Transition,
    item: Item,
    scoped: Option<&Lease>,
    history: &[Item],
) -> Result<(Vec<TransactWriteItem>, Vec<Role>), WriteFailure> {
    let me = s(t.new.bubble_id.as_str());
    let mut actions = Vec::new();
    let mut roles = Vec::new();
    let mut push = |action: TransactWriteItem, role| {
        actions.push(action);
        roles.push(role);
    };
    match t.old.as_ref().zip(scoped.filter(|_| can_scope(t))) {
        Some((old, lease)) => {
            let mut e = scoped_update(old, &t.new);
            lease.take(&mut e, t.new.updated_at);
            if let Some(at) = t.new.deleted_at {
                e.set(EXPIRES_AT, expiry_attr(store.retention.expiry(at)));
            }
            let update = Update::builder()
                .table_name(&store.users)
                .key(BUBBLE_ID, s(old.bubble_id.as_str()))
                .update_expression(e.update())
                .set_condition_expression(e.condition())
                .set_expression_attribute_names(Some(e.names()))
                .set_expression_attribute_values(e.values())
                .return_values_on_condition_check_failure(
                    ReturnValuesOnConditionCheckFailure::AllOld,
                );
            let action = TransactWriteItem::builder()
                .update(build(update.build())?)
                .build();
            push(action, Role::User);
        }
        None => {
            let user = Put::builder()
                .table_name(&store.users)
                .set_item(Some(item))
                .return_values_on_condition_check_failure(
                    ReturnValuesOnConditionCheckFailure::AllOld,
                );
            let user = match &t.old {
                Some(old) => user
                    .condition_expression(format!("#ver = :old AND {}", lease::FREE))
                    .expression_attribute_names("#ver", VERSION)
                    .expression_attribute_values(":old", n(old.version))
                    .expression_attribute_names(lease::FREE_NAME, LEASE_UNTIL)
                    .expression_attribute_values(lease::FREE_CLOCK, lease::clock(t.new.updated_at)),
                None => user
                    .condition_expression("attribute_not_exists(#b)")
                    .expression_attribute_names("#b", BUBBLE_ID),
            };
            push(put(user.build())?, Role::User);
        }
    }
    for g in t.claims() {
        push(claim(&store.meta, &g, &me)?, Role::Claim(g.field));
    }
    for g in t.releases() {
        push(release(&store.meta, &g, &me)?, Role::Bookkeeping);
    }
    if t.active_delta() != 0 {
        let count = Update::builder()
            .table_name(&store.meta)
            .set_key(Some(counter_key(shard_of(&t.new.id, store.shards))))
            .update_expression(format!("ADD #n :d SET {}", super::epoch::BORN_ONCE))
            .expression_attribute_names("#n", COUNT)
            .expression_attribute_names("#born", BORN)
            .expression_attribute_values(":d", n(t.active_delta()))
            .expression_attribute_values(":now", s(t.new.updated_at.to_rfc3339()));
        let action = TransactWriteItem::builder()
            .update(build(count.build())?)
            .build();
        push(action, Role::Bookkeeping);
    }
    for (relation, organization, delta) in t.memberships() {
        let key =
            organization_counter_key(relation, &organization, shard_of(&t.new.id, store.shards));
        let count = Update::builder()
            .table_name(&store.meta)
            .set_key(Some(key))
            .update_expression("ADD #n :d")
            .expression_attribute_names("#n", COUNT)
            .expression_attribute_values(":d", n(delta));
        let action = TransactWriteItem::builder()
            .update(build(count.build())?)
            .build();
        push(action, Role::Bookkeeping);
    }
    if let Some(d) = &t.deletion {
        let mut record = deletion_item(d, store.shards);
        record.insert(
            EXPIRES_AT.into(),
            expiry_attr(store.retention.expiry(d.deleted_at)),
        );
        let record = Put::builder()
            .table_name(&store.meta)
            .set_item(Some(record))
            .condition_expression("attribute_not_exists(#pk)")
            .expression_attribute_names("#pk", PK);
        push(put(record.build())?, Role::Bookkeeping);
    }
    for key in history {
        push(super::erase::scrub(&store.meta, key)?, Role::Bookkeeping);
    }
    for departure in super::departures::puts(store, t)? {
        push(departure, Role::Bookkeeping);
    }
    if t.makes_id() {
        // A new user holds its id for good; a new bubbleId must be no user's id.
        let mut held = id_guard_key(&t.new.id.to_string());
        held.insert(OWNER.into(), me.clone());
        let hold = Put::builder()
            .table_name(&store.meta)
            .set_item(Some(held))
            .condition_expression("attribute_not_exists(#pk)")
            .expression_attribute_names("#pk", PK);
        push(put(hold.build())?, Role::Bookkeeping);
        if let Some(action) = bubble_id_free(store, t)? {
            push(action, Role::BubbleIdFree);
        }
    }
    Ok((actions, roles))
}

/// The check that the user's (new) bubbleId is no user's `id`, when it is UUID-shaped: such
/// a `{ref}` is looked up as an id first.
pub(super) fn bubble_id_free(
    store: &DynamoStore,
    t: &Transition,
) -> Result<Option<TransactWriteItem>, WriteFailure> {
    let Some(id) = t.new.bubble_id.as_id() else {
        return Ok(None);
    };
    let free = ConditionCheck::builder()
        .table_name(&store.meta)
        .set_key(Some(id_guard_key(&id.to_string())))
        .condition_expression("attribute_not_exists(#pk)")
        .expression_attribute_names("#pk", PK);
    Ok(Some(
        TransactWriteItem::builder()
            .condition_check(build(free.build())?)
            .build(),
    ))
}

/// Whether the transition can be written as a [`scoped_update`]: a change of an active user
/// that keeps its bubbleId. Only an active user takes plain (blind) updates, so only its
/// transactions race them; creations and reactivations keep the versioned `Put`.
pub(super) fn can_scope(t: &Transition) -> bool {
    !t.is_erasure()
        && t.old
            .as_ref()
            .is_some_and(|old| old.is_active() && old.bubble_id == t.new.bubble_id)
}

/// The user's action as an `Update` of just what the transition changes, conditional on what
/// it depends on: the user still active and the same user, its e-mail and username as read
/// (the guards it claims and releases, and the history record, follow from them), the
/// relations it changes as read (so do the departures it records), and its
/// `updatedAt` behind the new one. A plain update of other fields commutes with it, so an
/// e-mail change or a delete is not starved by a stream of them; the version still grows by
/// one per write. What the stored user then is must be read back.
pub(super) fn scoped_update(old: &User, new: &User) -> UpdateExpr {
    let mut e = UpdateExpr::default();
    e.require_exists(BUBBLE_ID);
    e.require_equal(DELETED_AT, None);
    e.require_equal(ID, Some(s(old.id.to_string())));
    for f in UniqueField::ALL {
        e.require_equal(f.name(), old.profile.get(f.index()).map(value_attr));
    }
    // A relation it changes is as read: the departure it records is from that organization.
    for r in Relation::ALL {
        if old.text(r.field()) != new.text(r.field()) {
            e.require_equal(r.field(), old.text(r.field()).map(s));
        }
    }
    let now = s(new.updated_at.to_rfc3339());
    e.require_below(UPDATED_AT, now.clone());
    super::lease::require_free(&mut e, new.updated_at);
    let changed = |i: usize| old.profile.get(i) != new.profile.get(i);
    for (i, f) in FIELDS.iter().enumerate().filter(|(i, _)| changed(*i)) {
        e.set_or_remove(f.name, new.profile.get(i).map(value_attr));
    }
    e.set(UPDATED_AT, now);
    e.set(FEED_KEY, s(feed_key(new)));
    e.add(VERSION, n(1));
    match new.deleted_at {
        Some(at) => {
            e.set(DELETED_AT, s(at.to_rfc3339()));
            for attr in [
                ACTIVE_SHARD,
                ACTIVE_SEGMENT,
                ACTIVE_KEY,
                EMAIL_KEY,
                USERNAME_KEY,
            ] {
                e.remove(attr);
            }
            for r in super::schema::RELATIONS {
                e.remove(r.attribute);
            }
        }
        None => {
            for f in UniqueField::ALL.into_iter().filter(|f| changed(f.index())) {
                let key = new.unique(f).map(|v| s(f.key(v)));
                e.set_or_remove(guard_attr(f), key);
            }
            for r in super::schema::RELATIONS {
                if old.text(r.relation.field()) != new.text(r.relation.field()) {
                    e.set_or_remove(r.attribute, new.text(r.relation.field()).map(s));
                }
            }
        }
    }
    e
}

/// Takes `g` for `me` (the owner's bubbleId): the guard must be free or already `me`'s.
pub(super) fn claim(
    meta: &str,
    g: &Guard,
    me: &AttributeValue,
) -> Result<TransactWriteItem, StoreError> {
    let mut guard = guard_key(g);
    guard.insert(OWNER.into(), me.clone());
    let put = Put::builder()
        .table_name(meta)
        .set_item(Some(guard))
        .condition_expression(OWNED_OR_FREE)
        .expression_attribute_names("#pk", PK)
        .expression_attribute_names("#owner", OWNER)
        .expression_attribute_values(":me", me.clone())
        .build()
        .map_err(build_error)?;
    Ok(TransactWriteItem::builder().put(put).build())
}

/// Gives `g` up: it must be `me`'s, or already gone.
pub(super) fn release(
    meta: &str,
    g: &Guard,
    me: &AttributeValue,
) -> Result<TransactWriteItem, StoreError> {
    let delete = Delete::builder()
        .table_name(meta)
        .set_key(Some(guard_key(g)))
        .condition_expression(OWNED_OR_FREE)
        .expression_attribute_names("#pk", PK)
        .expression_attribute_names("#owner", OWNER)
        .expression_attribute_values(":me", me.clone())
        .build()
        .map_err(build_error)?;
    Ok(TransactWriteItem::builder().delete(delete).build())
}

const OWNED_OR_FREE: &str = "attribute_not_exists(#pk) OR #owner = :me";

fn build_error(e: aws_sdk_dynamodb::error::BuildError) -> StoreError {
    StoreError::Backend(format!("request build: {e:?}"))
}

fn put(
    p: Result<Put, aws_sdk_dynamodb::error::BuildError>,
) -> Result<TransactWriteItem, WriteFailure> {
    Ok(TransactWriteItem::builder().put(build(p)?).build())
}

/// What a cancelled transaction means, from its reasons (one per action, in order).
pub(super) fn cancelled(reasons: &[CancellationReason], roles: &[Role]) -> WriteFailure {
    let code = |r: &CancellationReason| r.code().unwrap_or("None").to_owned();
    for (r, role) in reasons.iter().zip(roles) {
        if code(r) != "ConditionalCheckFailed" {
            continue;
        }
        return match role {
            Role::User => stale(r.item.as_ref()),
            Role::Claim(field) => WriteFailure::Failed(StoreError::Duplicate(*field)),
            Role::BubbleIdFree | Role::Arrival => {
                WriteFailure::Failed(DomainError::BubbleIdTaken.into())
            }
            Role::Bookkeeping => WriteFailure::Conflict,
        };
    }
    if reasons.iter().any(|r| code(r) == "TransactionConflict") {
        return WriteFailure::Conflict;
    }
    let throttled = |r: &CancellationReason| {
        matches!(
            code(r).as_str(),
            "ThrottlingError" | "ProvisionedThroughputExceeded"
        )
    };
    if reasons.iter().any(throttled) {
        return StoreError::Unavailable.into();
    }
    // Only the codes: a reason's item would put a user's e-mail in the logs.
    let codes: Vec<String> = reasons.iter().map(code).collect();
    StoreError::Backend(format!("transaction cancelled: {codes:?}")).into()
}
