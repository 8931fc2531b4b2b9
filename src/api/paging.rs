//! Query parameters, opaque signed cursors, and the list envelope.

use std::collections::HashMap;
use std::future::Future;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sha2::Sha256;

use super::error::ApiError;
use crate::store::{Slice, StoreError};

/// The default and largest page sizes.
pub const DEFAULT_PAGE_SIZE: usize = 10;
/// See [`DEFAULT_PAGE_SIZE`].
pub const MAX_PAGE_SIZE: usize = 100;
/// `page=N` without a cursor walks the earlier pages; this bounds how far.
pub const MAX_PAGE_NUMBER: usize = 10_000;

/// A query string, decoded.
pub struct Params(HashMap<String, String>);

impl Params {
    /// Decodes a raw query string (a repeated parameter keeps its last value).
    pub fn parse(raw: Option<&str>) -> Self {
        Self(
            form_urlencoded::parse(raw.unwrap_or("").as_bytes())
                .into_owned()
                .collect(),
        )
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

    fn seal(&self, c: &Cursor) -> String {
        let payload = serde_json::to_vec(c).expect("a cursor serializes");
        let tag = self.mac(&payload).finalize().into_bytes();
        format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(&payload),
            URL_SAFE_NO_PAD.encode(&tag[..16])
        )
    }

    fn open(&self, sealed: &str) -> Result<Cursor, ApiError> {
        let bad = || {
            ApiError::bad(
                "cursor",
                "is not a cursor this service issued for this list",
            )
        };
        let (payload, tag) = sealed.split_once('.').ok_or_else(bad)?;
        let payload = URL_SAFE_NO_PAD.decode(payload).map_err(|_| bad())?;
        let tag = URL_SAFE_NO_PAD.decode(tag).map_err(|_| bad())?;
        self.mac(&payload)
            .verify_truncated_left(&tag)
            .map_err(|_| bad())?;
        serde_json::from_slice(&payload).map_err(|_| bad())
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
}

/// Reads the page `params` ask for from `fetch(after, limit)`: from the cursor when there
/// is one; else page `page`, reached by walking the earlier pages (which costs their reads).
pub async fn paginate<T, F, Fut>(
    key: &CursorKey,
    spec: &ListSpec<'_>,
    params: &Params,
    fetch: F,
) -> Result<PageOut<T>, ApiError>
where
    F: Fn(Option<String>, usize) -> Fut,
    Fut: Future<Output = Result<Slice<T>, StoreError>>,
{
    let size = params.number("pageSize", DEFAULT_PAGE_SIZE, 1..=MAX_PAGE_SIZE)?;
    let filter = spec.filter.map(|(_, v)| v.to_owned());
    let (after, page) = match params.get("cursor") {
        Some(sealed) => {
            let c = key.open(sealed)?;
            if c.l != spec.name || c.f != filter {
                return Err(ApiError::bad(
                    "cursor",
                    "is not a cursor this service issued for this list",
                ));
            }
            (Some(c.a), c.p)
        }
        None => {
            let page = params.number("page", 1, 1..=MAX_PAGE_NUMBER)?;
            let mut after = None;
            let mut skip = (page - 1) * size;
            while skip > 0 {
                let walked = fetch(after.clone(), skip.min(MAX_PAGE_SIZE)).await?;
                skip -= walked.items.len().min(skip);
                match walked.next {
                    Some(next) => after = Some(next),
                    None => {
                        return Ok(PageOut {
                            items: vec![],
                            page,
                            size,
                            next_url: None,
                        })
                    }
                }
            }
            (after, page)
        }
    };
    let slice = fetch(after, size).await?;
    let next_url = slice.next.map(|a| {
        let cursor = key.seal(&Cursor {
            l: spec.name.into(),
            f: filter.clone(),
            a,
            p: page + 1,
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
    })
}

impl<T> PageOut<T> {
    /// The contract's envelope; `total` is `None` where the list has no exact count.
    pub fn envelope(&self, render: impl Fn(&T) -> Value, total: Option<u64>) -> Value {
        let pages = total.map(|t| t.div_ceil(self.size as u64));
        json!({
            "data": self.items.iter().map(render).collect::<Vec<_>>(),
            "pagination": {
                "totalItems": total,
                "itemsPerPage": self.size,
                "currentPage": self.page,
                "totalPages": pages,
                "nextPageUrl": self.next_url,
            }
        })
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
}
