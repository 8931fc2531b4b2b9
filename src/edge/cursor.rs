//! Opaque, signed positions in a list: what a client holds between pages, native or SCIM.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use super::error::ApiError;

/// The longest cursor this service issues is far shorter; a longer one is not read.
const MAX_CURSOR_LEN: usize = 2048;
/// The longest position a cursor may carry (a sort key: a timestamp and an id).
pub(crate) const MAX_POSITION_LEN: usize = 512;

/// Where a page starts, sealed so a client can neither read nor forge it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Cursor {
    /// Which list it belongs to.
    pub(crate) l: String,
    /// The list's filter (the feed's `updatedFrom`).
    pub(crate) f: Option<String>,
    /// The position of the last item returned.
    pub(crate) a: String,
    /// The page number it leads to.
    pub(crate) p: usize,
}

/// Signs and checks cursors with HMAC-SHA-256.
#[derive(Clone)]
pub struct CursorKey(Vec<u8>);

impl CursorKey {
    /// A key from the configured secret.
    pub fn new(secret: &[u8]) -> Self {
        Self(secret.to_vec())
    }

    /// The key for cursors of one organization's directory: a cursor made for another
    /// binding (or none) fails its tag, so a position never crosses organizations.
    pub fn bound_to(&self, binding: &str) -> Self {
        let mut mac = self.mac(b"binding\n");
        mac.update(binding.as_bytes());
        Self(mac.finalize().into_bytes().to_vec())
    }

    fn mac(&self, payload: &[u8]) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes any key length");
        mac.update(payload);
        mac
    }

    /// A sealed position in the list named `list` (SCIM's cursors, RFC 9865, which number
    /// no pages: the page field is always 2, the first a cursor can lead to).
    pub fn seal_position(&self, list: &str, after: &str) -> String {
        self.seal(&Cursor {
            l: list.to_owned(),
            f: None,
            a: after.to_owned(),
            p: 2,
        })
    }

    /// The position a cursor from [`CursorKey::seal_position`] holds, if it is one for `list`.
    pub fn open_position(&self, list: &str, sealed: &str) -> Option<String> {
        self.open(sealed).ok().filter(|c| c.l == list).map(|c| c.a)
    }

    pub(crate) fn seal(&self, c: &Cursor) -> String {
        let payload = serde_json::to_vec(c).expect("a cursor serializes");
        let tag = self.mac(&payload).finalize().into_bytes();
        format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(&payload),
            URL_SAFE_NO_PAD.encode(tag)
        )
    }

    pub(crate) fn open(&self, sealed: &str) -> Result<Cursor, ApiError> {
        let bad = || {
            ApiError::bad(
                "cursor",
                "is not a cursor this service issued for this list",
            )
        };
        if sealed.len() > MAX_CURSOR_LEN {
            return Err(bad());
        }
        let (payload, tag) = sealed.split_once('.').ok_or_else(bad)?;
        let payload = URL_SAFE_NO_PAD.decode(payload).map_err(|_| bad())?;
        let tag = URL_SAFE_NO_PAD.decode(tag).map_err(|_| bad())?;
        // The whole tag, compared in constant time: a shorter one is refused.
        self.mac(&payload).verify_slice(&tag).map_err(|_| bad())?;
        let c: Cursor = serde_json::from_slice(&payload).map_err(|_| bad())?;
        let sane = !c.a.is_empty() && c.a.len() <= MAX_POSITION_LEN && c.p >= 2;
        sane.then_some(c).ok_or_else(bad)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_opens_only_unaltered_and_with_its_key() {
        let key = CursorKey::new(b"k1");
        let c = Cursor {
            l: "users".into(),
            f: None,
            a: "2024#x".into(),
            p: 2,
        };
        let sealed = key.seal(&c);
        assert_eq!(key.open(&sealed).unwrap(), c);
        assert!(CursorKey::new(b"k2").open(&sealed).is_err());
        let (payload, tag) = sealed.split_once('.').unwrap();
        let forged = URL_SAFE_NO_PAD.encode(br#"{"l":"users","f":null,"a":"0","p":9}"#);
        assert!(key.open(&format!("{forged}.{tag}")).is_err());
        assert!(key.open(payload).is_err());
        assert!(key.open("garbage").is_err());
    }

    #[test]
    fn a_well_signed_cursor_with_an_insane_position_or_page_is_refused() {
        let key = CursorKey::new(b"k1");
        let cursor = |a: &str, p: usize| Cursor {
            l: "users".into(),
            f: None,
            a: a.into(),
            p,
        };
        for bad in [
            cursor("", 2),
            cursor(&"x".repeat(MAX_POSITION_LEN + 1), 2),
            cursor("2024#x", 0),
            cursor("2024#x", 1),
        ] {
            assert!(key.open(&key.seal(&bad)).is_err(), "{bad:?}");
        }
        assert!(key.open(&key.seal(&cursor("2024#x", usize::MAX))).is_ok());
    }
}
