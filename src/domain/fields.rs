//! The user's writable fields, described once as data.
//!
//! Parsing, merging, JSON rendering, DynamoDB mapping and the OpenAPI schema all walk
//! [`FIELDS`], so a field is added in exactly one place.

use uuid::Uuid;

use super::identity::UniqueField;
use super::ids::BubbleId;

/// What values a field accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `true` or `false`.
    Bool,
    /// A boolean that reads `true` while unset, and is set `true` on creation (`enabled`).
    Flag,
    /// Free text of at most `max_chars` characters, without control characters.
    Text { max_chars: usize },
    /// A plausible e-mail address; unique among active users, case-insensitively.
    Email,
    /// A login name; unique among active users, case-insensitively.
    Username,
    /// An RFC 3339 date-time.
    DateTime,
    /// An external id with the charset of `bubbleId`.
    ExternalId,
    /// A UUID, stored in its canonical lowercase form.
    Uuid,
}

/// One writable field of a user.
#[derive(Debug)]
pub struct Field {
    /// The JSON (and DynamoDB attribute) name.
    pub name: &'static str,
    /// The accepted values.
    pub kind: Kind,
}

const TEXT: Kind = Kind::Text { max_chars: 1024 };

/// Every writable field, in the order responses list them (the seed's order).
pub static FIELDS: [Field; 21] = [
    Field {
        name: "isMailConfirmed",
        kind: Kind::Bool,
    },
    Field {
        name: "language",
        kind: TEXT,
    },
    Field {
        name: "lastConnexion",
        kind: Kind::DateTime,
    },
    Field {
        name: "email",
        kind: Kind::Email,
    },
    Field {
        name: "mobilePhone",
        kind: TEXT,
    },
    Field {
        name: "producerBubbleId",
        kind: Kind::ExternalId,
    },
    Field {
        name: "producerId",
        kind: Kind::Uuid,
    },
    Field {
        name: "sellerBubbleId",
        kind: Kind::ExternalId,
    },
    Field {
        name: "sellerId",
        kind: Kind::Uuid,
    },
    Field {
        name: "originBubbleId",
        kind: Kind::ExternalId,
    },
    Field {
        name: "originId",
        kind: Kind::Uuid,
    },
    Field {
        name: "lastName",
        kind: TEXT,
    },
    Field {
        name: "firstName",
        kind: TEXT,
    },
    Field {
        name: "status",
        kind: TEXT,
    },
    Field {
        name: "role",
        kind: TEXT,
    },
    Field {
        name: "userSignedUp",
        kind: Kind::Bool,
    },
    Field {
        name: "avatar",
        kind: Kind::Text { max_chars: 2048 },
    },
    Field {
        name: "isAlgorep",
        kind: Kind::Bool,
    },
    Field {
        name: "username",
        kind: Kind::Username,
    },
    Field {
        name: "enabled",
        kind: Kind::Flag,
    },
    Field {
        name: "displayName",
        kind: TEXT,
    },
];

/// Index of `enabled` in [`FIELDS`].
pub const ENABLED: usize = 19;

/// Index of `email` in [`FIELDS`].
pub const EMAIL: usize = 3;
/// Index of `username` in [`FIELDS`].
pub const USERNAME: usize = 18;

impl UniqueField {
    /// The field's position in [`FIELDS`].
    pub fn index(self) -> usize {
        match self {
            UniqueField::Email => EMAIL,
            UniqueField::Username => USERNAME,
        }
    }
}

/// The position of a field by its JSON name.
pub fn field_index(name: &str) -> Option<usize> {
    FIELDS.iter().position(|f| f.name == name)
}

/// A validated field value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// A boolean field's value.
    Bool(bool),
    /// Every other field's value, already in canonical form.
    Text(String),
}

impl Value {
    /// The value as JSON.
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Value::Bool(b) => serde_json::Value::Bool(*b),
            Value::Text(s) => serde_json::Value::String(s.clone()),
        }
    }

    /// The text, if this is a text value.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Value::Text(s) => Some(s),
            Value::Bool(_) => None,
        }
    }
}

impl Field {
    /// Parses a JSON value (not `null`) into this field's value, or says why it cannot.
    /// Text must be something XML 1.0 can carry, so every user renders as XML.
    pub fn parse(&self, json: &serde_json::Value) -> Result<Value, String> {
        if matches!(self.kind, Kind::Bool | Kind::Flag) {
            return json
                .as_bool()
                .map(Value::Bool)
                .ok_or_else(|| "must be a boolean".into());
        }
        let s = json.as_str().ok_or("must be a string")?;
        if !s.chars().all(is_xml_char) {
            return Err(
                "must not contain characters XML cannot carry (controls, U+FFFE, U+FFFF)".into(),
            );
        }
        match self.kind {
            Kind::Email => UniqueField::Email.parse(s),
            Kind::Username => UniqueField::Username.parse(s),
            _ => self.parse_text(s),
        }
        .map(Value::Text)
    }

    /// Parses a stored text value; used when reading items back from storage, so it keeps
    /// the looser e-mail and username rules that stored values were accepted under.
    pub fn parse_text(&self, s: &str) -> Result<String, String> {
        match self.kind {
            Kind::Bool | Kind::Flag => Err("must be a boolean".into()),
            Kind::Text { max_chars } => plain_text(s, max_chars),
            Kind::Email => stored_email(s),
            Kind::Username => stored_username(s),
            // One instant, one spelling: UTC with milliseconds, so the same instant sent with
            // another offset changes nothing.
            Kind::DateTime => super::Timestamp::parse_rfc3339(s)
                .map(super::Timestamp::to_rfc3339)
                .ok_or_else(|| "must be an RFC 3339 date-time in the years 0000 to 9999".into()),
            Kind::ExternalId => BubbleId::parse(s).map(|b| b.as_str().to_owned()),
            Kind::Uuid => Uuid::parse_str(s)
                .map(|u| u.to_string())
                .map_err(|_| "must be a UUID".into()),
        }
    }
}

/// Whether XML 1.0 can carry `c`: tab, LF, CR, and U+0020 on but U+FFFE and U+FFFF
/// (surrogates cannot occur in a Rust string).
pub fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | ' '..='\u{FFFD}' | '\u{10000}'..)
}

fn has_control(s: &str) -> bool {
    s.chars()
        .any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
}

fn plain_text(s: &str, max_chars: usize) -> Result<String, String> {
    if s.chars().count() > max_chars {
        return Err(format!("must be at most {max_chars} characters"));
    }
    if has_control(s) {
        return Err("must not contain control characters".into());
    }
    Ok(s.to_owned())
}

/// An e-mail address stored before the identity rules: the looser check it was accepted
/// under, so it still reads back. New values go through [`UniqueField::parse`].
fn stored_email(s: &str) -> Result<String, String> {
    const WHY: &str = "must be an e-mail address like name@example.com";
    if s.len() > 254 || s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(WHY.into());
    }
    let (local, domain) = s.rsplit_once('@').ok_or(WHY)?;
    let domain_ok = domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains("..")
        && !domain.contains('@');
    if local.is_empty() || local.len() > 64 || local.contains('@') || !domain_ok {
        return Err(WHY.into());
    }
    Ok(s.to_owned())
}

/// A username stored before the identity rules; see [`stored_email`].
fn stored_username(s: &str) -> Result<String, String> {
    let n = s.chars().count();
    if n == 0 || n > 128 || s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("must be 1-128 characters without spaces".into());
    }
    Ok(s.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_unique_field_indices_point_at_their_fields() {
        assert_eq!(FIELDS[EMAIL].name, "email");
        assert_eq!(FIELDS[USERNAME].name, "username");
        assert_eq!(FIELDS[ENABLED].name, "enabled");
    }

    #[test]
    fn a_date_time_is_kept_as_utc_milliseconds() {
        let field = &FIELDS[field_index("lastConnexion").unwrap()];
        for spelling in [
            "2024-01-19T12:45:04.147Z",
            "2024-01-19T12:45:04.147+00:00",
            "2024-01-19T13:45:04.147+01:00",
            "2024-01-19T12:45:04.147999Z",
        ] {
            assert_eq!(
                field.parse_text(spelling).unwrap(),
                "2024-01-19T12:45:04.147Z",
                "{spelling}"
            );
        }
    }

    #[test]
    fn field_names_are_unique() {
        for (i, f) in FIELDS.iter().enumerate() {
            assert_eq!(field_index(f.name), Some(i), "{} appears twice", f.name);
        }
    }

    #[test]
    fn emails_must_be_plausible() {
        let email = &FIELDS[EMAIL];
        assert!(email.parse(&json!("algorep@algorep.ai")).is_ok());
        for bad in [
            "", "no-at", "@x.io", "a@", "a@b", "a b@c.io", "a@.io", "a@b..io",
        ] {
            assert!(email.parse(&json!(bad)).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn uuids_are_stored_in_canonical_form() {
        let f = &FIELDS[field_index("producerId").unwrap()];
        let v = f
            .parse(&json!("50658C1E-356E-4407-B120-D110552292D8"))
            .unwrap();
        assert_eq!(
            v,
            Value::Text("50658c1e-356e-4407-b120-d110552292d8".into())
        );
    }

    #[test]
    fn text_rejects_control_characters_and_overlong_strings() {
        let f = &FIELDS[field_index("lastName").unwrap()];
        assert!(f.parse(&json!("a\u{0}b")).is_err());
        assert!(f.parse(&json!("x".repeat(1025))).is_err());
        assert!(f.parse(&json!("Macron\tÉ")).is_ok());
    }

    #[test]
    fn wrong_types_are_refused() {
        let f = &FIELDS[field_index("isAlgorep").unwrap()];
        assert_eq!(f.parse(&json!("true")).unwrap_err(), "must be a boolean");
        let f = &FIELDS[field_index("lastName").unwrap()];
        assert_eq!(f.parse(&json!(3)).unwrap_err(), "must be a string");
    }
}
