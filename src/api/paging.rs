//! Query parameters, opaque signed cursors, and the list envelope.

use std::collections::HashMap;
use std::future::Future;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sha2::Sha256;

use super::contract::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, PAGE_WINDOW};
use super::error::ApiError;
use crate::store::{Slice, StoreError};

/// The longest cursor this service issues is far shorter; a longer one is not read.
const MAX_CURSOR_LEN: usize = 2048;
/// The longest position a cursor may carry (a sort key: a timestamp and an id).
const MAX_POSITION_LEN: usize = 512;

/// A query string, decoded.
pub struct Params(HashMap<String, String>);

impl Params {
    /// Decodes a raw query string (a repeated parameter keeps its last value). A name or
    /// value that is not valid UTF-8 once percent-decoded is a 400 naming it.
    pub fn parse(raw: Option<&str>) -> Result<Self, ApiError> {
        let decode = |part: &str, name: &str| {
            let spaced = part.replace('+', " ");
            percent_encoding::percent_decode_str(&spaced)
                .decode_utf8()
                .map(|s| s.into_owned())
                .map_err(|_| ApiError::bad(name, "is not valid UTF-8"))
        };
        let mut params = HashMap::new();
        for pair in raw.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            let name = decode(name, "query")?;
            let value = decode(value, &name)?;
            params.insert(name, value);
        }
        Ok(Self(params))
    }

    /// The parameters' names.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.0.keys().map(String::as_str)
    }

    /// A parameter's value.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    /// A whole number within `range`, or `default` when absent.
    pub fn number(
        &self,
        name: &str,
        default: usize,
        range: std::ops::RangeInclusive<usize>,
    ) -> Result<usize, ApiError> {
        match self.get(name) {
            None => Ok(default),
            Some(v) => v
                .parse::<usize>()
                .ok()
                .filter(|n| range.contains(n))
                .ok_or_else(|| {
                    ApiError::bad(
                        name,
                        format!(
                            "must be a whole number from {} to {}",
                            range.start(),
                            range.end()
                        ),
                    )
                }),
        }
    }

    /// `true` or `false`, default `false`.
    pub fn flag(&self, name: &str) -> Result<bool, ApiError> {
        match self.get(name) {
            None | Some("false") => Ok(false),
            Some("true") => Ok(true),
            Some(_) => Err(ApiError::bad(name, "must be true or false")),
        }
    }
}

/// Where a page starts, sealed so a client can neither read nor forge it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Cursor {
    /// Which list it belongs to.
    l: String,
    /// The list's filter (the feed's `updatedFrom`).
    f: Option<String>,
    /// The position of the last item returned.
    a: String,
    /// The page number it leads to.
    p: usize,
}

/// Signs and checks cursors with HMAC-SHA-256.
#[derive(Clone)]
pub struct CursorKey(Vec<u8>);

impl CursorKey {
    /// A key from the configured secret.
    pub fn new(secret: &[u8]) -> Self {
        Self(secret.to_vec())
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

    fn seal(&self, c: &Cursor) -> String {
        let payload = serde_json::to_vec(c).expect("a cursor serializes");
        let tag = self.mac(&payload).finalize().into_bytes();
        format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(&payload),
            URL_SAFE_NO_PAD.encode(tag)
        )
    }

    fn open(&self, sealed: &str) -> Result<Cursor, ApiError> {
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

/// A list the API pages through.
pub struct ListSpec<'a> {
    /// Its name, bound into cursors.
    pub name: &'static str,
    /// Its path, for `nextPageUrl`.
    pub path: &'static str,
    /// Its filter parameter, if any: (name, canonical value).
    pub filter: Option<(&'static str, &'a str)>,
}

/// One page of a list, ready for the envelope.
pub struct PageOut<T> {
    /// The items.
    pub items: Vec<T>,
    /// The page number.
    pub page: usize,
    /// The page size.
    pub size: usize,
    /// Where the next page is.
    pub next_url: Option<String>,
    /// The bubbleIds of stored items in the page that could not be read back.
    pub unreadable: Vec<String>,
}

/// `page`: a whole number from 1 (default 1); one too large for any number type is past
/// every window, so it saturates rather than reads as malformed.
fn page_number(params: &Params) -> Result<usize, ApiError> {
    match params.get("page") {
        None => Ok(1),
        Some(v) if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) => {
            let page = v.parse::<usize>().unwrap_or(usize::MAX);
            (page >= 1)
                .then_some(page)
                .ok_or_else(|| ApiError::bad("page", "must be a whole number from 1"))
        }
        Some(_) => Err(ApiError::bad("page", "must be a whole number from 1")),
    }
}

/// Reads the page `params` ask for from `fetch(after, skip, limit)`: from the cursor when
/// there is one; else page `page`, at offset `(page − 1) × pageSize` within [`PAGE_WINDOW`].
pub async fn paginate<T, F, Fut>(
    key: &CursorKey,
    spec: &ListSpec<'_>,
    params: &Params,
    fetch: F,
) -> Result<PageOut<T>, ApiError>
where
    F: FnOnce(Option<String>, usize, usize) -> Fut,
    Fut: Future<Output = Result<Slice<T>, StoreError>>,
{
    let size = params.number("pageSize", DEFAULT_PAGE_SIZE, 1..=MAX_PAGE_SIZE)?;
    let filter = spec.filter.map(|(_, v)| v.to_owned());
    let (after, page, skip) = match params.get("cursor") {
        Some(sealed) => {
            let c = key.open(sealed)?;
            if c.l != spec.name || c.f != filter {
                return Err(ApiError::bad(
                    "cursor",
                    "is not a cursor this service issued for this list",
                ));
            }
            (Some(c.a), c.p, 0)
        }
        None => {
            let page = page_number(params)?;
            let skip = (page - 1)
                .checked_mul(size)
                .filter(|skip| *skip < PAGE_WINDOW)
                .ok_or_else(|| {
                    ApiError::bad(
                        "page",
                        format!(
                            "(page - 1) x pageSize must be below {PAGE_WINDOW}; \
                             follow nextPageUrl to read further"
                        ),
                    )
                })?;
            (None, page, skip)
        }
    };
    let next_page = page
        .checked_add(1)
        .ok_or_else(|| ApiError::bad("cursor", "is past the last page"))?;
    let slice = fetch(after, skip, size).await?;
    let next_url = slice.next.map(|a| {
        let cursor = key.seal(&Cursor {
            l: spec.name.into(),
            f: filter.clone(),
            a,
            p: next_page,
        });
        let mut query = form_urlencoded::Serializer::new(String::new());
        if let Some((name, value)) = spec.filter {
            query.append_pair(name, value);
        }
        query
            .append_pair("pageSize", &size.to_string())
            .append_pair("cursor", &cursor);
        format!("{}?{}", spec.path, query.finish())
    });
    Ok(PageOut {
        items: slice.items,
        page,
        size,
        next_url,
        unreadable: slice.unreadable,
    })
}

impl<T> PageOut<T> {
    /// The contract's envelope; `total` is `None` where the list has no exact count. A page
    /// that met stored items it could not read names them in `pagination.unreadableItems`.
    pub fn envelope(&self, render: impl Fn(&T) -> Value, total: Option<u64>) -> Value {
        let pages = total.map(|t| t.div_ceil(self.size as u64));
        let mut envelope = json!({
            "data": self.items.iter().map(render).collect::<Vec<_>>(),
            "pagination": {
                "totalItems": total,
                "itemsPerPage": self.size,
                "currentPage": self.page,
                "totalPages": pages,
                "nextPageUrl": self.next_url,
            }
        });
        if !self.unreadable.is_empty() {
            envelope["pagination"]["unreadableItems"] = json!(self.unreadable);
        }
        envelope
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_query_decodes_strictly() {
        let p = Params::parse(Some("a=x+y%2Bz&b=%C3%A9&a=last&flag")).unwrap();
        assert_eq!(
            (p.get("a"), p.get("b"), p.get("flag")),
            (Some("last"), Some("é"), Some(""))
        );
        for bad in ["a=%FF", "%FF=1", "a=%C3"] {
            assert!(Params::parse(Some(bad)).is_err(), "{bad}");
        }
    }

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

    #[tokio::test]
    async fn the_last_possible_page_number_is_a_400_not_an_overflow() {
        let key = CursorKey::new(b"k1");
        let sealed = key.seal(&Cursor {
            l: "users".into(),
            f: None,
            a: "2024#x".into(),
            p: usize::MAX,
        });
        let spec = ListSpec {
            name: "users",
            path: "/users",
            filter: None,
        };
        let params = Params::parse(Some(&format!("cursor={sealed}"))).unwrap();
        let out = paginate(&key, &spec, &params, |_, _, _| async {
            Ok::<_, StoreError>(Slice::<u8>::new(vec![], None))
        })
        .await;
        assert!(matches!(out, Err(ApiError::BadRequest(_))));
    }
}
