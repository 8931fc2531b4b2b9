//! An organization a managed key is bound to: one relation of the user and its value.

use uuid::Uuid;

use crate::domain::{Relation, User};

/// A key's organization: the users whose `relation` is `id` are its directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Binding {
    /// `producerId`, `sellerId` or `originId`.
    pub relation: Relation,
    /// The organization's id.
    pub id: Uuid,
}

impl Binding {
    /// The binding a user field and its value name, if the field is a relation and the value
    /// a UUID.
    pub fn parse(field: &str, value: &str) -> Option<Self> {
        Some(Self {
            relation: Relation::of_field(field)?,
            id: Uuid::parse_str(value).ok()?,
        })
    }

    /// The relation's field name.
    pub fn field(self) -> &'static str {
        self.relation.field()
    }

    /// The id as stored and shown.
    pub fn value(self) -> String {
        self.id.to_string()
    }

    /// Whether `user` is in this organization.
    pub fn holds(self, user: &User) -> bool {
        user.text(self.field())
            .and_then(|v| Uuid::parse_str(v).ok())
            .is_some_and(|id| id == self.id)
    }

    /// `{"producerId": "…"}`, as the key's record shows it.
    pub fn to_json(self) -> serde_json::Value {
        serde_json::json!({ self.field(): self.value() })
    }
}
