//! The user as stored, its writable fields, and the record a deletion leaves.

use serde_json::{Map, Value as Json};
use uuid::Uuid;

use super::fields::{Kind, Value, ENABLED, FIELDS};
use super::identity::{Guard, UniqueField};
use super::ids::BubbleId;
use super::time::Timestamp;

/// The writable fields of a user, one slot per entry of [`FIELDS`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile(Vec<Option<Value>>);

impl Default for Profile {
    fn default() -> Self {
        Self(vec![None; FIELDS.len()])
    }
}

impl Profile {
    /// The value of field `i` of [`FIELDS`], if set.
    pub fn get(&self, i: usize) -> Option<&Value> {
        self.0[i].as_ref()
    }

    /// Sets (or with `None` erases) field `i`.
    pub fn set(&mut self, i: usize, value: Option<Value>) {
        self.0[i] = value;
    }

    /// The set fields with their index.
    pub fn iter(&self) -> impl Iterator<Item = (usize, &Value)> {
        self.0
            .iter()
            .enumerate()
            .filter_map(|(i, v)| v.as_ref().map(|v| (i, v)))
    }

    /// The text value of field `i`, if set.
    pub fn text(&self, i: usize) -> Option<&str> {
        self.get(i).and_then(Value::as_text)
    }

    /// What field `i` reads as: its value, or, for a boolean with a default (`enabled`)
    /// that is unset, that default. The one rule of what a client sees, and so of whether
    /// a write changed anything.
    pub fn reads_as(&self, i: usize) -> Option<Value> {
        match (self.get(i), FIELDS[i].kind) {
            (None, Kind::Flag) => Some(Value::Bool(true)),
            (v, _) => v.cloned(),
        }
    }

    /// Whether the two profiles read the same in every field.
    pub fn reads_like(&self, other: &Profile) -> bool {
        (0..FIELDS.len()).all(|i| self.reads_as(i) == other.reads_as(i))
    }
}

/// A user as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// The local id, made on creation.
    pub id: Uuid,
    /// The external id; the table's key.
    pub bubble_id: BubbleId,
    /// The writable fields.
    pub profile: Profile,
    /// When the user was created.
    pub created_at: Timestamp,
    /// When the user last changed.
    pub updated_at: Timestamp,
    /// Set while the user is soft-deleted.
    pub deleted_at: Option<Timestamp>,
    /// Set once the person's data is erased: the user is then a tombstone.
    pub erased_at: Option<Timestamp>,
    /// 1 on creation, +1 on every write that changes the user.
    pub version: u64,
}

impl User {
    /// At least as many bytes as this user takes rendered in a list, as JSON or XML: its
    /// field names, ids and times within a fixed allowance, and each text at six bytes a
    /// byte (XML writes `&` as `&amp;`).
    pub fn rendered_size_bound(&self) -> usize {
        const FIXED: usize = 1024;
        let texts: usize = self
            .profile
            .iter()
            .map(|(_, v)| match v {
                Value::Text(t) => 6 * t.len(),
                Value::Bool(_) => 0,
            })
            .sum();
        FIXED + texts
    }

    /// Whether the user is not soft-deleted.
    pub fn is_active(&self) -> bool {
        self.deleted_at.is_none()
    }

    /// The unique values this user holds: only an active user holds any. Its e-mail, and the
    /// name it is known by ([`User::login_name`]) as a username: a user without a username
    /// holds its e-mail (else its bubbleId) in the username namespace too, so that no other
    /// user can take as a username the name this one shows (SCIM's `userName`).
    pub fn guards(&self) -> Vec<Guard> {
        if !self.is_active() {
            return Vec::new();
        }
        let email = self.email().map(|e| Guard {
            field: UniqueField::Email,
            key: UniqueField::Email.key(e),
        });
        let name = Guard {
            field: UniqueField::Username,
            key: UniqueField::Username.key(self.login_name()),
        };
        email.into_iter().chain([name]).collect()
    }

    /// The name the user is known by: its username, else its e-mail, else its bubbleId.
    /// SCIM shows it as `userName`, and a `userName` filter finds the user by it.
    pub fn login_name(&self) -> &str {
        self.username()
            .or_else(|| self.email())
            .unwrap_or_else(|| self.bubble_id.as_str())
    }

    /// The user's e-mail address, if any.
    pub fn email(&self) -> Option<&str> {
        self.unique(UniqueField::Email)
    }

    /// The value of a unique field, if set.
    pub fn unique(&self, field: UniqueField) -> Option<&str> {
        self.profile.text(field.index())
    }

    /// A text field's value by name, if set.
    pub fn text(&self, field: &str) -> Option<&str> {
        super::fields::field_index(field).and_then(|i| self.profile.text(i))
    }

    /// Whether the user is enabled: `true` unless `enabled` is set `false`. A disabled user
    /// is still a user (readable, listed, found, holding its identity).
    pub fn is_enabled(&self) -> bool {
        self.profile.get(ENABLED) != Some(&Value::Bool(false))
    }

    /// The user's username, if any.
    pub fn username(&self) -> Option<&str> {
        self.unique(UniqueField::Username)
    }

    /// The user as the API shows it: every field, `null` when unset.
    pub fn to_json(&self) -> Json {
        let mut m = Map::with_capacity(FIELDS.len() + 6);
        m.insert("id".into(), Json::String(self.id.to_string()));
        m.insert("bubbleId".into(), Json::String(self.bubble_id.to_string()));
        for (i, f) in FIELDS.iter().enumerate() {
            let value = self.profile.reads_as(i).map_or(Json::Null, |v| v.to_json());
            m.insert(f.name.into(), value);
        }
        m.insert(
            "createdAt".into(),
            Json::String(self.created_at.to_rfc3339()),
        );
        m.insert(
            "updatedAt".into(),
            Json::String(self.updated_at.to_rfc3339()),
        );
        let deleted = self
            .deleted_at
            .map_or(Json::Null, |t| Json::String(t.to_rfc3339()));
        m.insert("deletedAt".into(), deleted);
        let erased = self
            .erased_at
            .map_or(Json::Null, |t| Json::String(t.to_rfc3339()));
        m.insert("erasedAt".into(), erased);
        m.insert("version".into(), Json::from(self.version));
        Json::Object(m)
    }
}

/// One soft deletion, kept in the deleted history for good.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeletionRecord {
    /// The deleted user's id.
    pub id: Uuid,
    /// The deleted user's bubbleId.
    pub bubble_id: BubbleId,
    /// The e-mail address it held when deleted.
    pub email: Option<String>,
    /// The username it held when deleted.
    pub username: Option<String>,
    /// When it was deleted.
    pub deleted_at: Timestamp,
    /// The name of the API key that deleted it.
    pub deleted_by: String,
}

impl DeletionRecord {
    /// The record as the API shows it.
    pub fn to_json(&self) -> Json {
        let opt = |v: &Option<String>| v.clone().map_or(Json::Null, Json::String);
        serde_json::json!({
            "id": self.id.to_string(),
            "bubbleId": self.bubble_id.to_string(),
            "email": opt(&self.email),
            "username": opt(&self.username),
            "deletedAt": self.deleted_at.to_rfc3339(),
            "deletedBy": self.deleted_by,
        })
    }
}
