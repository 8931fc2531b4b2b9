//! One stream record → at most one change event: ids and field names, never a value.

use aws_sdk_dynamodb::types::AttributeValue;
use serde::Serialize;
use serde_json::{json, Value};

use super::error::EventError;
use super::record::{image_item, RecordKind, StreamRecord};
use crate::domain::{changed_fields, classify, ChangeKind, Timestamp, User, FIELDS};
use crate::store::dynamo::item::{user_from_item, Item, MOVE_CHANGES};

/// The events' `source`.
pub const SOURCE: &str = "users-api";

/// A change event: its `detail-type` and its `detail`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeEvent {
    /// The kind of change (`detail-type`).
    pub kind: ChangeKind,
    /// What changed, by name.
    pub detail: Detail,
}

/// The event's `detail`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Detail {
    /// The user's `id`.
    pub id: String,
    /// The user's `bubbleId` (the new one after a move).
    pub bubble_id: String,
    /// The user's version after the change.
    pub version: u64,
    /// When the change was made.
    pub updated_at: String,
    /// The public fields whose values changed.
    pub changed: Vec<&'static str>,
    /// `<id>:<version>`: the same for a redelivered event.
    pub event_id: String,
    /// The user's organizations, ids only, so a rule can route an organization's events.
    pub producer_id: Option<String>,
    /// See [`Detail::producer_id`].
    pub seller_id: Option<String>,
    /// See [`Detail::producer_id`].
    pub origin_id: Option<String>,
}

impl ChangeEvent {
    fn new(
        kind: ChangeKind,
        user: &User,
        version: u64,
        at: Timestamp,
        changed: Vec<&'static str>,
    ) -> Self {
        Self {
            kind,
            detail: Detail {
                id: user.id.to_string(),
                bubble_id: user.bubble_id.to_string(),
                version,
                updated_at: at.to_rfc3339(),
                changed,
                event_id: format!("{}:{version}", user.id),
                producer_id: user.text("producerId").map(str::to_owned),
                seller_id: user.text("sellerId").map(str::to_owned),
                origin_id: user.text("originId").map(str::to_owned),
            },
        }
    }

    /// The event as posted locally: `{"source", "detail-type", "detail"}`.
    pub fn to_json(&self) -> Value {
        json!({"source": SOURCE, "detail-type": self.kind.name(), "detail": self.detail})
    }

    /// The `detail` as JSON text, as EventBridge takes it.
    pub fn detail_json(&self) -> String {
        serde_json::to_string(&self.detail).expect("a detail serialises")
    }
}

/// The event a record makes, if any. An image this code cannot read is an error (a poison
/// record); a write that changed no public field, and the removal half of a move, make none.
pub fn event_for(record: &StreamRecord) -> Result<Option<ChangeEvent>, EventError> {
    let image = |which: &Option<serde_json::Map<String, Value>>| -> Result<Item, EventError> {
        let image = which
            .as_ref()
            .ok_or_else(|| EventError::Unreadable("the record has no image".into()))?;
        image_item(image)
    };
    let user = |item: &Item| {
        user_from_item(item).map_err(|e| EventError::Unreadable(format!("not a user: {e}")))
    };
    match record.kind {
        RecordKind::Insert => {
            let item = image(&record.dynamodb.new_image)?;
            let new = user(&item)?;
            let (kind, changed) = match moved_fields(&item) {
                Some(changed) => (ChangeKind::Updated, changed),
                None => classify(None, &new).expect("a creation is a change"),
            };
            Ok(Some(ChangeEvent::new(
                kind,
                &new,
                new.version,
                new.updated_at,
                changed,
            )))
        }
        RecordKind::Modify => {
            let old = user(&image(&record.dynamodb.old_image)?)?;
            let new = user(&image(&record.dynamodb.new_image)?)?;
            Ok(classify(Some(&old), &new).map(|(kind, changed)| {
                ChangeEvent::new(kind, &new, new.version, new.updated_at, changed)
            }))
        }
        // The service removes an item only when a move puts it under its new key, and that
        // insert is the move's event.
        RecordKind::Unknown => Err(EventError::Unreadable("an unknown eventName".into())),
        RecordKind::Remove if !record.is_expiry() => Ok(None),
        RecordKind::Remove => {
            let old = user(&image(&record.dynamodb.old_image)?)?;
            if old.erased_at.is_some() {
                // An erased tombstone leaving the table: its erasure was already published.
                return Ok(None);
            }
            let at = record
                .dynamodb
                .approximate_creation_date_time
                .map_or_else(Timestamp::now, |s| {
                    Timestamp::from_millis((s * 1000.0) as i64)
                });
            let mut changed = changed_fields(None, &old);
            changed.retain(|f| *f != "bubbleId" && *f != "deletedAt");
            changed.push("erasedAt");
            Ok(Some(ChangeEvent::new(
                ChangeKind::Erased,
                &old,
                old.version + 1,
                at,
                changed,
            )))
        }
    }
}

/// The fields a move changed, recorded on the item it put (in the user's field order).
fn moved_fields(item: &Item) -> Option<Vec<&'static str>> {
    let AttributeValue::Ss(names) = item.get(MOVE_CHANGES)? else {
        return None;
    };
    let order = ["bubbleId"]
        .into_iter()
        .chain(FIELDS.iter().map(|f| f.name))
        .chain(["deletedAt", "erasedAt"]);
    Some(order.filter(|n| names.iter().any(|m| m == n)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{BubbleId, Intent, Patch, Plan};
    use crate::events::record::item_image;
    use crate::store::dynamo::item::user_item;

    fn created(body: Value) -> User {
        let b = BubbleId::parse("b-1").unwrap();
        match Intent::Upsert(&b, &Patch::from_json(&body).unwrap()).plan(None, None) {
            Ok(Plan::Write(t)) => t.new,
            _ => unreachable!(),
        }
    }

    fn apply(user: &User, intent: Intent) -> User {
        match intent.plan(Some(user), None) {
            Ok(Plan::Write(t)) => t.new,
            other => panic!("not a write: {other:?}"),
        }
    }

    fn update(user: &User, body: Value) -> User {
        apply(user, Intent::Update(&Patch::from_json(&body).unwrap()))
    }

    fn record(name: &str, old: Option<Item>, new: Option<Item>, identity: Value) -> StreamRecord {
        serde_json::from_value(json!({
            "eventName": name,
            "userIdentity": identity,
            "dynamodb": {
                "SequenceNumber": "100",
                "ApproximateCreationDateTime": 1764460800.0,
                "OldImage": old.as_ref().map(item_image),
                "NewImage": new.as_ref().map(item_image),
            }
        }))
        .unwrap()
    }

    fn modify(old: &User, new: &User) -> Option<ChangeEvent> {
        let item = |u: &User| Some(user_item(u, 4));
        event_for(&record("MODIFY", item(old), item(new), Value::Null)).unwrap()
    }

    #[test]
    fn an_insert_is_a_creation_naming_the_fields_set() {
        let u = created(json!({"email": "a@x.io", "lastName": "L"}));
        let e = event_for(&record("INSERT", None, Some(user_item(&u, 4)), Value::Null))
            .unwrap()
            .unwrap();
        assert_eq!(e.kind, ChangeKind::Created);
        assert_eq!(
            e.detail.changed,
            ["bubbleId", "email", "lastName", "enabled"]
        );
        assert_eq!(e.detail.version, 1);
        assert_eq!(e.detail.event_id, format!("{}:1", u.id));
        let wire = e.to_json().to_string();
        assert!(
            !wire.contains("a@x.io") && !wire.contains("\"L\""),
            "{wire}"
        );
        assert_eq!(e.to_json()["detail-type"], "UserCreated");
        assert_eq!(e.to_json()["source"], "users-api");
    }

    #[test]
    fn each_kind_of_modification_has_its_type() {
        let u = created(json!({"email": "a@x.io"}));
        let renamed = update(&u, json!({"firstName": "F", "email": "b@x.io"}));
        let e = modify(&u, &renamed).unwrap();
        assert_eq!(
            (e.kind, e.detail.changed.clone()),
            (ChangeKind::Updated, vec!["email", "firstName"])
        );
        assert_eq!(e.detail.version, 2);

        let disabled = update(&renamed, json!({"enabled": false}));
        assert_eq!(
            modify(&renamed, &disabled).unwrap().kind,
            ChangeKind::Disabled
        );
        let enabled = update(&disabled, json!({"enabled": true}));
        assert_eq!(
            modify(&disabled, &enabled).unwrap().kind,
            ChangeKind::Enabled
        );

        let deleted = apply(&enabled, Intent::Delete("ops"));
        let e = modify(&enabled, &deleted).unwrap();
        assert_eq!(
            (e.kind, e.detail.changed.clone()),
            (ChangeKind::Deleted, vec!["deletedAt"])
        );
        let restored = apply(&deleted, Intent::Restore);
        assert_eq!(
            modify(&deleted, &restored).unwrap().kind,
            ChangeKind::Restored
        );

        let mut erased = deleted.clone();
        erased.erased_at = Some(Timestamp::now());
        erased.version += 1;
        erased.profile = Default::default();
        let e = modify(&deleted, &erased).unwrap();
        assert_eq!(e.kind, ChangeKind::Erased);
        assert!(e.detail.changed.contains(&"erasedAt") && e.detail.changed.contains(&"email"));
    }

    #[test]
    fn a_new_user_in_an_erased_ones_place_is_a_creation() {
        let u = created(json!({"email": "a@x.io"}));
        let tombstone = apply(&u, Intent::Erase("ops"));
        let e = modify(&u, &tombstone).unwrap();
        assert_eq!((e.kind, e.detail.version), (ChangeKind::Erased, 2));
        assert!(e.detail.changed.contains(&"email") && e.detail.changed.contains(&"erasedAt"));
        let again = Intent::Upsert(
            &u.bubble_id,
            &Patch::from_json(&json!({"lastName": "N"})).unwrap(),
        );
        let replacement = apply(&tombstone, again);
        let e = modify(&tombstone, &replacement).unwrap();
        assert_eq!((e.kind, e.detail.version), (ChangeKind::Created, 1));
        assert_eq!(e.detail.id, replacement.id.to_string());
        assert_eq!(e.detail.changed, ["bubbleId", "lastName", "enabled"]);
    }

    #[test]
    fn enabled_unset_and_true_are_no_change() {
        let mut legacy = created(json!({"email": "a@x.io"}));
        legacy.profile.set(crate::domain::fields::ENABLED, None);
        let mut now_true = legacy.clone();
        now_true.profile.set(
            crate::domain::fields::ENABLED,
            Some(crate::domain::Value::Bool(true)),
        );
        assert_eq!(modify(&legacy, &now_true), None);
    }

    #[test]
    fn an_event_carries_the_users_organizations_by_id_only() {
        let org = "50658c1e-356e-4407-b120-d110552292d8";
        let u = created(json!({"email": "a@x.io", "producerId": org}));
        let e = event_for(&record("INSERT", None, Some(user_item(&u, 4)), Value::Null))
            .unwrap()
            .unwrap();
        let detail: Value = serde_json::from_str(&e.detail_json()).unwrap();
        assert_eq!(detail["producerId"], org);
        assert_eq!(
            (&detail["sellerId"], &detail["originId"]),
            (&Value::Null, &Value::Null)
        );
        assert!(!e.detail_json().contains("a@x.io"));
    }

    #[test]
    fn a_maintenance_write_makes_no_event() {
        let u = created(
            json!({"email": "a@x.io", "producerId": "50658c1e-356e-4407-b120-d110552292d8"}),
        );
        let old = user_item(&u, 4);
        let mut new = old.clone();
        // Index keys, guard keys and shards rewritten (a migration), nothing public touched.
        new.insert("emailKey".into(), AttributeValue::S("other-key".into()));
        new.remove("activeProducerId");
        new.insert("feedShard".into(), AttributeValue::S("3".into()));
        assert_eq!(
            event_for(&record("MODIFY", Some(old), Some(new), Value::Null)).unwrap(),
            None
        );
    }

    #[test]
    fn a_move_is_one_update_naming_the_bubble_id() {
        let u = created(json!({"email": "a@x.io"}));
        let mut moved = u.clone();
        moved.bubble_id = BubbleId::parse("b-2").unwrap();
        moved.version += 1;
        let mut arrival = user_item(&moved, 4);
        arrival.insert(
            MOVE_CHANGES.into(),
            AttributeValue::Ss(vec!["firstName".into(), "bubbleId".into()]),
        );
        let e = event_for(&record("INSERT", None, Some(arrival), Value::Null))
            .unwrap()
            .unwrap();
        assert_eq!(e.kind, ChangeKind::Updated);
        assert_eq!(e.detail.changed, ["bubbleId", "firstName"]);
        assert_eq!((e.detail.bubble_id.as_str(), e.detail.version), ("b-2", 2));
        // The old key's removal, made by the service, is no event.
        let leave = record("REMOVE", Some(user_item(&u, 4)), None, Value::Null);
        assert_eq!(event_for(&leave).unwrap(), None);
    }

    #[test]
    fn a_time_to_live_removal_is_an_erasure_unless_already_erased() {
        let ttl = json!({"type": "Service", "principalId": "dynamodb.amazonaws.com"});
        let deleted = apply(&created(json!({"email": "a@x.io"})), Intent::Delete("ops"));
        let gone = record("REMOVE", Some(user_item(&deleted, 4)), None, ttl.clone());
        let e = event_for(&gone).unwrap().unwrap();
        assert_eq!(e.kind, ChangeKind::Erased);
        assert_eq!(e.detail.version, deleted.version + 1);
        assert_eq!(e.detail.changed, ["email", "enabled", "erasedAt"]);
        assert_eq!(e.detail.updated_at, "2025-11-30T00:00:00.000Z");
        let mut tombstone = deleted.clone();
        tombstone.erased_at = Some(Timestamp::now());
        let gone = record("REMOVE", Some(user_item(&tombstone, 4)), None, ttl);
        assert_eq!(event_for(&gone).unwrap(), None);
    }

    #[test]
    fn an_unreadable_image_is_a_poison_record() {
        let mut item = user_item(&created(json!({})), 4);
        item.insert("isAlgorep".into(), AttributeValue::S("yes".into()));
        let err = event_for(&record("INSERT", None, Some(item), Value::Null)).unwrap_err();
        assert!(
            matches!(&err, EventError::Unreadable(why) if why.contains("isAlgorep")),
            "{err}"
        );
        assert!(event_for(&record("MODIFY", None, None, Value::Null)).is_err());
        assert!(event_for(&record("TRUNCATE", None, None, Value::Null)).is_err());
    }
}
