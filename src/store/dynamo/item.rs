//! DynamoDB items ⇄ domain values, in one place.
//!
//! Users live in the users table keyed by `bubbleId`. Guards, counter shards and the
//! deleted history live in the meta table keyed by (`pk`, `sk`).

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use uuid::Uuid;

use crate::store::positions::{active_key, feed_key, history_key};
use crate::store::Segment;

use crate::domain::{
    BubbleId, DeletionRecord, Guard, Kind, Profile, Relation, Timestamp, UniqueField, User, Value,
    FIELDS,
};

/// A DynamoDB item.
pub type Item = HashMap<String, AttributeValue>;

pub use super::schema::{
    ACTIVE_KEY, ACTIVE_SEGMENT, ACTIVE_SHARD, BORN, BUBBLE_ID, COUNT, CREATED_AT, DELETED_AT,
    EMAIL_KEY, ERASED_AT, EXPIRES_AT, FEED_KEY, FEED_SEGMENT, FEED_SHARD, ID, LEASE_TOKEN,
    LEASE_UNTIL, MOVE_CHANGES, OWNER, PK, SK, UPDATED_AT, USERNAME_KEY, VERSION,
};

/// A string attribute.
pub fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

/// A number attribute.
pub fn n(v: impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

/// How a profile value is stored.
pub fn value_attr(v: &Value) -> AttributeValue {
    match v {
        Value::Bool(b) => AttributeValue::Bool(*b),
        Value::Text(t) => s(t.clone()),
    }
}

/// An item's size as DynamoDB bills it: each attribute's name plus its value (a string's
/// UTF-8 bytes, a number's about one byte per two digits plus one, one byte otherwise).
pub fn item_size(item: &Item) -> usize {
    item.iter()
        .map(|(name, value)| {
            name.len()
                + match value {
                    AttributeValue::S(s) => s.len(),
                    AttributeValue::N(n) => n.len().div_ceil(2) + 1,
                    _ => 1,
                }
        })
        .sum()
}

/// The users-table item for `user`, with its index attributes.
pub fn user_item(user: &User, shards: u32) -> Item {
    let shard = shard_of(&user.id, shards).to_string();
    let segment = shard_of(&user.id, Segment::MOST).to_string();
    let mut item = Item::new();
    item.insert(BUBBLE_ID.into(), s(user.bubble_id.as_str()));
    item.insert(ID.into(), s(user.id.to_string()));
    for (i, v) in user.profile.iter() {
        item.insert(FIELDS[i].name.into(), value_attr(v));
    }
    for g in user.guards() {
        item.insert(guard_attr(g.field).into(), s(g.key));
    }
    item.insert(CREATED_AT.into(), s(user.created_at.to_rfc3339()));
    item.insert(UPDATED_AT.into(), s(user.updated_at.to_rfc3339()));
    item.insert(VERSION.into(), n(user.version));
    item.insert(FEED_SHARD.into(), s(shard.clone()));
    item.insert(FEED_SEGMENT.into(), s(segment.clone()));
    item.insert(FEED_KEY.into(), s(feed_key(user)));
    if let Some(t) = user.erased_at {
        item.insert(ERASED_AT.into(), s(t.to_rfc3339()));
    }
    match user.deleted_at {
        Some(t) => {
            item.insert(DELETED_AT.into(), s(t.to_rfc3339()));
        }
        None => {
            item.insert(ACTIVE_SHARD.into(), s(shard));
            item.insert(ACTIVE_SEGMENT.into(), s(segment));
            item.insert(ACTIVE_KEY.into(), s(active_key(user)));
            for r in super::schema::RELATIONS {
                if let Some(v) = user.text(r.relation.field()) {
                    item.insert(r.attribute.into(), s(v));
                }
            }
        }
    }
    item
}

/// The time-to-live attribute's value for an item that expires at `at`: whole seconds.
pub fn expiry_attr(at: crate::domain::Timestamp) -> AttributeValue {
    n(at.millis().div_euclid(1000))
}

/// The shard (of `shards`) an id's index entries and counter updates go to.
pub fn shard_of(id: &Uuid, shards: u32) -> u32 {
    (id.as_u128() % u128::from(shards.max(1))) as u32
}

/// The user-item attribute that mirrors a unique field's guard key.
pub fn guard_attr(field: UniqueField) -> &'static str {
    match field {
        UniqueField::Email => EMAIL_KEY,
        UniqueField::Username => USERNAME_KEY,
    }
}

pub(super) fn text<'a>(item: &'a Item, name: &str) -> Result<&'a str, String> {
    item.get(name)
        .and_then(|v| v.as_s().ok())
        .map(String::as_str)
        .ok_or_else(|| format!("attribute {name} missing or not a string"))
}

pub(super) fn timestamp(item: &Item, name: &str) -> Result<Timestamp, String> {
    Timestamp::parse(text(item, name)?)
        .ok_or_else(|| format!("attribute {name} is not a timestamp"))
}

/// Reads a users-table item back; an item this code did not write is an error.
pub fn user_from_item(item: &Item) -> Result<User, String> {
    let mut profile = Profile::default();
    for (i, f) in FIELDS.iter().enumerate() {
        let Some(attr) = item.get(f.name) else {
            continue;
        };
        let value = match (f.kind, attr) {
            (Kind::Bool | Kind::Flag, AttributeValue::Bool(b)) => Value::Bool(*b),
            (_, AttributeValue::S(t)) => Value::Text(
                f.parse_text(t)
                    .map_err(|e| format!("attribute {}: {e}", f.name))?,
            ),
            _ => return Err(format!("attribute {} has the wrong type", f.name)),
        };
        profile.set(i, Some(value));
    }
    let version = item
        .get(VERSION)
        .and_then(|v| v.as_n().ok())
        .and_then(|v| v.parse().ok())
        .ok_or("attribute version missing")?;
    Ok(User {
        id: Uuid::parse_str(text(item, ID)?).map_err(|e| e.to_string())?,
        bubble_id: BubbleId::parse(text(item, BUBBLE_ID)?)?,
        profile,
        created_at: timestamp(item, CREATED_AT)?,
        updated_at: timestamp(item, UPDATED_AT)?,
        deleted_at: item
            .contains_key(DELETED_AT)
            .then(|| timestamp(item, DELETED_AT))
            .transpose()?,
        erased_at: item
            .contains_key(ERASED_AT)
            .then(|| timestamp(item, ERASED_AT))
            .transpose()?,
        version,
    })
}

/// The meta-table key of a guard.
pub fn guard_key(g: &Guard) -> Item {
    Item::from([
        (PK.into(), s(format!("{}#{}", g.field.name(), g.key))),
        (SK.into(), s("guard")),
    ])
}

/// The meta-table key of the guard that holds a user's local `id` for good, so that no
/// other user can take it as a bubbleId.
pub fn id_guard_key(id: &str) -> Item {
    Item::from([(PK.into(), s(format!("id#{id}"))), (SK.into(), s("guard"))])
}

/// The meta-table key of an active-count shard.
pub fn counter_key(shard: u32) -> Item {
    Item::from([
        (PK.into(), s(format!("count#{shard}"))),
        (SK.into(), s("users")),
    ])
}

/// The meta-table key of one shard of an organization's active count: the directory's
/// counters, per organization, sharded the same way so a busy organization's writes spread.
pub fn organization_counter_key(relation: Relation, value: &str, shard: u32) -> Item {
    Item::from([
        (
            PK.into(),
            s(format!("count#{}#{value}#{shard}", relation.field())),
        ),
        (SK.into(), s("users")),
    ])
}

/// The partition of the deleted history a record goes to.
pub fn history_partition(shard: u32) -> String {
    format!("deleted#{shard}")
}

/// The meta-table item of a deletion record.
pub fn deletion_item(d: &DeletionRecord, shards: u32) -> Item {
    let mut item = Item::from([
        (PK.into(), s(history_partition(shard_of(&d.id, shards)))),
        (SK.into(), s(history_key(d))),
        (ID.into(), s(d.id.to_string())),
        (BUBBLE_ID.into(), s(d.bubble_id.as_str())),
        (DELETED_AT.into(), s(d.deleted_at.to_rfc3339())),
        ("deletedBy".into(), s(d.deleted_by.clone())),
    ]);
    if let Some(e) = &d.email {
        item.insert("email".into(), s(e.clone()));
    }
    if let Some(u) = &d.username {
        item.insert("username".into(), s(u.clone()));
    }
    item
}

/// Reads a deletion record back.
pub fn deletion_from_item(item: &Item) -> Result<DeletionRecord, String> {
    let opt = |name: &str| item.get(name).and_then(|v| v.as_s().ok()).cloned();
    Ok(DeletionRecord {
        id: Uuid::parse_str(text(item, ID)?).map_err(|e| e.to_string())?,
        bubble_id: BubbleId::parse(text(item, BUBBLE_ID)?)?,
        email: opt("email"),
        username: opt("username"),
        deleted_at: timestamp(item, DELETED_AT)?,
        deleted_by: text(item, "deletedBy")?.to_owned(),
    })
}

/// Decodes every item that reads back; one that does not is logged (its key and what is
/// wrong, never a value) and named in the slice's `unreadable`, so it never takes a page,
/// a feed or a batch down with it.
pub fn decode_each<T>(
    items: &[Item],
    decode: impl Fn(&Item) -> Result<T, String>,
    next: Option<String>,
) -> crate::store::Slice<T> {
    let mut slice = crate::store::Slice::new(Vec::with_capacity(items.len()), next);
    for item in items {
        match decode(item) {
            Ok(v) => slice.items.push(v),
            Err(why) => {
                let key = item
                    .get(BUBBLE_ID)
                    .and_then(|v| v.as_s().ok())
                    .map_or("?", String::as_str);
                tracing::error!(bubble_id = key, reason = %why, "stored item cannot be read");
                slice.unreadable.push(key.to_owned());
            }
        }
    }
    slice
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Intent, Patch, Plan};
    use serde_json::json;

    fn user(body: serde_json::Value) -> User {
        let b = BubbleId::parse("1708861331497x9").unwrap();
        let p = Patch::from_json(&body).unwrap();
        match Intent::Upsert(&b, &p).plan(None, None).unwrap() {
            Plan::Write(t) => t.new,
            Plan::Unchanged(_) => unreachable!(),
        }
    }

    #[test]
    fn a_user_survives_the_round_trip_through_an_item() {
        let u = user(
            json!({"email": "A@x.io", "isAlgorep": false, "producerId": "50658c1e-356e-4407-b120-d110552292d8"}),
        );
        let item = user_item(&u, 4);
        assert_eq!(user_from_item(&item).unwrap(), u);
        assert_eq!(item[EMAIL_KEY], s("a@x.io"));
        assert!(item.contains_key(ACTIVE_SHARD));
    }

    #[test]
    fn a_deleted_user_leaves_the_active_index_and_frees_its_guards() {
        let mut u = user(json!({"email": "a@x.io"}));
        u.deleted_at = Some(Timestamp::now());
        let item = user_item(&u, 4);
        assert!(!item.contains_key(ACTIVE_SHARD) && !item.contains_key(ACTIVE_KEY));
        assert!(!item.contains_key(EMAIL_KEY));
        assert!(item.contains_key(FEED_KEY));
        assert_eq!(user_from_item(&item).unwrap(), u);
    }

    #[test]
    fn an_item_of_the_wrong_shape_is_refused() {
        let mut item = user_item(&user(json!({})), 4);
        item.insert("isAlgorep".into(), s("yes"));
        assert!(user_from_item(&item).is_err());
    }

    #[test]
    fn a_deletion_record_survives_the_round_trip() {
        let d = DeletionRecord {
            id: Uuid::new_v4(),
            bubble_id: BubbleId::parse("b").unwrap(),
            email: Some("a@x.io".into()),
            username: None,
            deleted_at: Timestamp::now(),
            deleted_by: "ops".into(),
        };
        assert_eq!(deletion_from_item(&deletion_item(&d, 4)).unwrap(), d);
    }
}
