//! A move: the user changes bubbleId (SCIM's `externalId` change) and keeps its `id`, in one
//! transaction. The table is keyed by bubbleId, so the item is put under its new key (which
//! must be free and no user's `id`) and deleted under the old one (conditional on the version
//! read), and every guard the user holds, its `id` guard included, names the new key as owner.

use aws_sdk_dynamodb::types::{
    AttributeValue, Delete, Put, ReturnValuesOnConditionCheckFailure, TransactWriteItem, Update,
};

use super::failure::{build, WriteFailure};
use super::item::*;
use super::lease;
use super::store::DynamoStore;
use super::transaction::{bubble_id_free, claim, release, Role};
use crate::domain::{changed_fields, Transition};

/// The actions of the move `t` (whose new item is `item`), and the role of each.
pub(super) fn actions(
    store: &DynamoStore,
    t: &Transition,
    mut item: Item,
) -> Result<(Vec<TransactWriteItem>, Vec<Role>), WriteFailure> {
    let old = t.old.as_ref().expect("a move has a user to move");
    let changed = changed_fields(Some(old), &t.new);
    item.insert(
        MOVE_CHANGES.into(),
        AttributeValue::Ss(changed.into_iter().map(String::from).collect()),
    );
    let (from, to) = (s(old.bubble_id.as_str()), s(t.new.bubble_id.as_str()));
    let mut out = (Vec::new(), Vec::new());
    let mut push = |action: TransactWriteItem, role| {
        out.0.push(action);
        out.1.push(role);
    };
    let arrive = Put::builder()
        .table_name(&store.users)
        .set_item(Some(item))
        .condition_expression("attribute_not_exists(#b)")
        .expression_attribute_names("#b", BUBBLE_ID);
    push(put(build(arrive.build())?), Role::Arrival);
    let leave = Delete::builder()
        .table_name(&store.users)
        .key(BUBBLE_ID, from.clone())
        .condition_expression(format!("#ver = :old AND {}", lease::FREE))
        .expression_attribute_names("#ver", VERSION)
        .expression_attribute_values(":old", n(old.version))
        .expression_attribute_names(lease::FREE_NAME, LEASE_UNTIL)
        .expression_attribute_values(lease::FREE_CLOCK, lease::clock(t.new.updated_at))
        .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
    push(
        TransactWriteItem::builder()
            .delete(build(leave.build())?)
            .build(),
        Role::User,
    );
    for g in t.claims() {
        push(claim(&store.meta, &g, &to)?, Role::Claim(g.field));
    }
    for g in t.releases() {
        push(release(&store.meta, &g, &from)?, Role::Bookkeeping);
    }
    for g in t.kept() {
        push(
            rehome(&store.meta, guard_key(&g), &from, &to)?,
            Role::Bookkeeping,
        );
    }
    let id = id_guard_key(&t.new.id.to_string());
    push(rehome(&store.meta, id, &from, &to)?, Role::Bookkeeping);
    if let Some(action) = bubble_id_free(store, t)? {
        push(action, Role::BubbleIdFree);
    }
    for departure in super::departures::puts(store, t)? {
        push(departure, Role::Bookkeeping);
    }
    Ok(out)
}

/// Hands the guard at `key` from the owner `from` to `to`.
fn rehome(
    meta: &str,
    key: Item,
    from: &AttributeValue,
    to: &AttributeValue,
) -> Result<TransactWriteItem, WriteFailure> {
    let update = Update::builder()
        .table_name(meta)
        .set_key(Some(key))
        .update_expression("SET #owner = :to")
        .condition_expression("#owner = :from")
        .expression_attribute_names("#owner", OWNER)
        .expression_attribute_values(":from", from.clone())
        .expression_attribute_values(":to", to.clone());
    Ok(TransactWriteItem::builder()
        .update(build(update.build())?)
        .build())
}

fn put(p: Put) -> TransactWriteItem {
    TransactWriteItem::builder().put(p).build()
}
