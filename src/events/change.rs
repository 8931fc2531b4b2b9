//! One stream record → at most one change event: ids and field names, never a value.

use aws_sdk_dynamodb::types::AttributeValue;
use serde::Serialize;
use serde_json::{json, Value};

use super::record::{image_item, StreamRecord};
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
pub fn event_for(record: &StreamRecord) -> Result<Option<ChangeEvent>, String> {
    let image = |which: &Option<serde_json::Map<String, Value>>| -> Result<Item, String> {
        image_item(which.as_ref().ok_or("the record has no image")?)
    };
    let user = |item: &Item| user_from_item(item).map_err(|e| format!("unreadable image: {e}"));
    match record.event_name.as_str() {
        "INSERT" => {
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
        "MODIFY" => {
            let old = user(&image(&record.dynamodb.old_image)?)?;
            let new = user(&image(&record.dynamodb.new_image)?)?;
            Ok(classify(Some(&old), &new).map(|(kind, changed)| {
                ChangeEvent::new(kind, &new, new.version, new.updated_at, changed)
            }))
        }
        // The service removes an item only when a move puts it under its new key, and that
        // insert is the move's event.
        "REMOVE" if !record.is_expiry() => Ok(None),
        "REMOVE" => {
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
        other => Err(format!("unknown stream event {other}")),
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
