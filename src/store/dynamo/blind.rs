//! The blind update: a plain change of an existing user (no e-mail or username key change,
//! no deletion) as one conditional `UpdateItem` applied to whatever version is current, so
//! concurrent plain updates of one user serialise in DynamoDB instead of failing each other.

use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{
    ReturnConsumedCapacity, ReturnValue, ReturnValuesOnConditionCheckFailure,
};

use super::errors::{other, service_error};
use super::expr::{Change, UpdateExpr};
use super::failure::{stale, WriteFailure};
use super::item::*;
use super::metering::metered;
use super::schema;
use super::{decode, DynamoStore};
use crate::domain::{
    BubbleId, Intent, Patch, Profile, Timestamp, UniqueField, User, UserRef, Value, FIELDS,
};
use crate::store::positions::feed_key_of;
use crate::store::StoreError;

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
        let e = blind_update(bubble_id, patch, expect, Timestamp::now());
        let req = self
            .client
            .update_item()
            .table_name(&self.users)
            .key(BUBBLE_ID, s(bubble_id.as_str()))
            .return_values(ReturnValue::AllNew)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .set_expression_attribute_names(Some(e.names()))
            .set_expression_attribute_values(e.values())
            .set_condition_expression(e.condition());
        let result = metered(
            req.update_expression(e.update())
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
}

/// The blind update of `patch` into the user `bubble_id` at `now`, as expressions: it
/// applies only if the user exists, is active, matches `expect`, still holds the e-mail and
/// username keys the patch's values have (so only their case may change here, never the
/// guard), was last written before `now`, joins and leaves no organization (a relation in
/// the patch is one it holds), and would really change. A relation's index key follows its
/// field (the user is active).
pub(super) fn blind_update(
    bubble_id: &BubbleId,
    patch: &Patch,
    expect: Option<u64>,
    now: Timestamp,
) -> UpdateExpr {
    let mut e = UpdateExpr::default();
    e.require_exists(BUBBLE_ID);
    e.require_equal(DELETED_AT, None);
    let at = s(now.to_rfc3339());
    e.require_below(UPDATED_AT, at.clone());
    super::lease::require_free(&mut e, now);
    if let Some(v) = expect {
        e.require_equal(VERSION, Some(n(v)));
    }
    e.set(UPDATED_AT, at);
    e.set(FEED_KEY, s(feed_key_of(now, bubble_id)));
    e.add(VERSION, n(1));
    let mut changes = Vec::new();
    for (i, value) in patch.changes() {
        let field = FIELDS[i].name;
        let value = value.map(value_attr);
        e.set_or_remove(field, value.clone());
        if let Some(r) = schema::relation(field) {
            e.set_or_remove(r.attribute, value.clone());
            // Only a relation it keeps: joining or leaving an organization moves its
            // count (and leaving records a departure), which takes the planned write.
            e.require_equal(field, value.clone());
        }
        let unset_reads_as = Profile::default().reads_as(i).map(|v| value_attr(&v));
        changes.push(Change {
            attr: field,
            value,
            unset_reads_as,
        });
    }
    for f in UniqueField::ALL {
        if let Some(change) = patch.change(f.index()) {
            let key = change.and_then(Value::as_text).map(|v| s(f.key(v)));
            e.require_equal(guard_attr(f), key);
        }
    }
    // A user without a username holds its e-mail as the name it shows (`User::guards`):
    // blind, the e-mail may only take a spelling that keeps that guard where it is.
    if let (Some(Some(email)), None) = (
        patch.change(UniqueField::Email.index()),
        patch.change(UniqueField::Username.index()),
    ) {
        let shown = email.as_text().map(|v| s(UniqueField::Username.key(v)));
        if let Some(shown) = shown {
            e.require_exists_or_equal(
                UniqueField::Username.name(),
                guard_attr(UniqueField::Username),
                shown,
            );
        }
    }
    e.require_any_change(changes);
    e
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn patch(body: serde_json::Value) -> Patch {
        Patch::from_json(&body).unwrap()
    }

    #[test]
    fn a_blind_update_sets_what_the_patch_sets_and_depends_on_the_guard_keys_it_keeps() {
        let b = BubbleId::parse("b1").unwrap();
        let p = patch(json!({"email": "Ann@X.io", "producerId": null, "lastName": "L"}));
        let now = Timestamp::parse("2024-01-01T00:00:00Z").unwrap();
        let e = blind_update(&b, &p, Some(3), now);
        let update = e.update();
        let names = e.names();
        let placeholder = |attr: &str| {
            names
                .iter()
                .find(|(_, a)| a.as_str() == attr)
                .map(|(p, _)| p.clone())
                .unwrap_or_else(|| panic!("{attr} not named"))
        };
        for attr in ["email", "lastName", UPDATED_AT, FEED_KEY] {
            assert!(
                update.contains(&format!("{} = :", placeholder(attr))),
                "{update}"
            );
        }
        let removes = update.split("REMOVE").nth(1).unwrap();
        assert!(removes.contains(&placeholder("producerId")));
        assert!(
            removes.contains(&placeholder("activeProducerId")),
            "the index key follows"
        );
        let condition = e.condition().unwrap();
        let values = e.values().unwrap();
        assert!(condition.contains(&format!("{} = :", placeholder(EMAIL_KEY))));
        assert!(values
            .values()
            .any(|v| v.as_s().ok().map(String::as_str) == Some("ann@x.io")));
        assert!(
            condition.contains(&format!("{} = :", placeholder(VERSION))),
            "If-Match"
        );
        assert!(condition.contains(&format!(
            "attribute_not_exists({})",
            placeholder(DELETED_AT)
        )));
    }
}
