//! Identifiers that arrive from outside: the external `bubbleId` and a `{ref}` path segment.

use std::fmt;

use uuid::Uuid;

/// The JSON Schema pattern of an external id (what [`BubbleId::parse`] accepts, but for
/// `.` and `..`, which a pattern cannot refuse as neatly).
pub const BUBBLE_ID_PATTERN: &str = "^[A-Za-z0-9._:-]{1,128}$";

/// An external id: 1–128 characters of `A-Z a-z 0-9 . _ : -`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BubbleId(String);

impl BubbleId {
    /// Parses an external id, or says why it is not one.
    pub fn parse(s: &str) -> Result<Self, String> {
        let ok_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | ':' | '-');
        if s.is_empty() || s.len() > 128 || !s.chars().all(ok_char) {
            return Err("must be 1-128 characters of A-Z a-z 0-9 . _ : -".into());
        }
        if s == "." || s == ".." {
            return Err("must not be . or .. (paths would be rewritten)".into());
        }
        Ok(Self(s.to_owned()))
    }

    /// The local id this text also reads as, when it is UUID-shaped: such a `{ref}` is
    /// looked up as an `id` first, so no user's bubbleId may equal another user's id.
    pub fn as_id(&self) -> Option<Uuid> {
        Uuid::parse_str(&self.0).ok().filter(|_| self.0.len() == 36)
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for BubbleId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// How a route names a user: by local `id` or by `bubbleId`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserRef {
    /// A UUID-shaped ref: looked up as `id` first, then as a `bubbleId`.
    Id(Uuid, BubbleId),
    /// Any other ref is a `bubbleId`.
    Bubble(BubbleId),
}

impl UserRef {
    /// Parses a `{ref}` path segment.
    pub fn parse(s: &str) -> Result<Self, String> {
        let bubble = BubbleId::parse(s)?;
        Ok(match bubble.as_id() {
            Some(id) => UserRef::Id(id, bubble),
            None => UserRef::Bubble(bubble),
        })
    }

    /// The ref read as a `bubbleId` (every ref can be one).
    pub fn bubble_id(&self) -> &BubbleId {
        match self {
            UserRef::Id(_, b) | UserRef::Bubble(b) => b,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bubble_ids_take_the_seed_charset() {
        assert!(BubbleId::parse("1708861331497x933611102973227500").is_ok());
        assert!(BubbleId::parse("a.b_c:d-E").is_ok());
        for bad in ["", "a b", "a/b", "é", "#x", ".", "..", &"x".repeat(129)] {
            assert!(BubbleId::parse(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn a_uuid_shaped_ref_is_an_id_first() {
        let r = UserRef::parse("50658c1e-356e-4407-b120-d110552292d8").unwrap();
        assert!(matches!(r, UserRef::Id(..)));
        assert!(matches!(
            UserRef::parse("1708861331497x9").unwrap(),
            UserRef::Bubble(_)
        ));
    }

    #[test]
    fn the_published_pattern_and_the_parser_accept_the_same_characters() {
        let class = BUBBLE_ID_PATTERN
            .split_once('[')
            .and_then(|(_, rest)| rest.split_once(']'))
            .map(|(class, _)| class)
            .unwrap();
        let chars: Vec<char> = class.chars().collect();
        let mut allowed = Vec::new();
        let mut i = 0;
        while i < chars.len() {
            if i + 2 < chars.len() && chars[i + 1] == '-' {
                allowed.extend(chars[i]..=chars[i + 2]);
                i += 3;
            } else {
                allowed.push(chars[i]);
                i += 1;
            }
        }
        for c in (0u8..128).map(char::from) {
            let id = format!("a{c}");
            assert_eq!(BubbleId::parse(&id).is_ok(), allowed.contains(&c), "{c:?}");
        }
        assert!(BUBBLE_ID_PATTERN.ends_with("{1,128}$"));
        assert!(BubbleId::parse(&"a".repeat(129)).is_err());
    }
}
