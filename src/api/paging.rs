//! Paging a list: offsets within the window, cursors beyond it, and the list envelope.

use std::future::Future;

use serde_json::{json, Value};

use crate::domain::User;
use crate::edge::contract::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, PAGE_WINDOW};
use crate::edge::cursor::{Cursor, CursorKey};
use crate::edge::error::ApiError;
use crate::edge::query::Params;
use crate::store::{Segment, SegmentError, Slice, StoreError};

/// A list the API pages through.
pub struct ListSpec<'a> {
    /// Its name, bound into cursors.
    pub name: &'static str,
    /// Its path, for `nextPageUrl`.
    pub path: &'static str,
    /// Its filter parameter, if any: (name, canonical value).
    pub filter: Option<(&'static str, &'a str)>,
    /// The part of the list walked: bound into its cursors and kept in `nextPageUrl`.
    pub segment: Segment,
    /// The largest `pageSize` by cursor; a page by number (`page=N`) stays within
    /// [`MAX_PAGE_SIZE`].
    pub max_size: usize,
}

impl<'a> ListSpec<'a> {
    /// A list of at most [`MAX_PAGE_SIZE`] items a page, read whole.
    pub fn new(
        name: &'static str,
        path: &'static str,
        filter: Option<(&'static str, &'a str)>,
    ) -> Self {
        Self {
            name,
            path,
            filter,
            segment: Segment::WHOLE,
            max_size: MAX_PAGE_SIZE,
        }
    }

    /// The name its cursors carry: a segment's cursor is refused by every other segment.
    fn cursor_name(&self) -> String {
        match self.segment.is_whole() {
            true => self.name.to_owned(),
            false => format!(
                "{}#{}/{}",
                self.name,
                self.segment.index(),
                self.segment.count()
            ),
        }
    }
}

/// The most a page of users may take rendered, by [`User::rendered_size_bound`]: a page of
/// 1,000 users of the usual size (about 1.2 KB each as JSON) is far below it; a page of users
/// near every field's limit stops early, so an answer stays under Lambda's 6 MB.
pub const PAGE_BYTES: usize = 5 * 1024 * 1024;

/// `slice` cut where its users would pass [`PAGE_BYTES`] rendered, its next page starting
/// after the last user kept (`position` is that user's place in the list).
pub fn within_page_bytes(mut slice: Slice<User>, position: fn(&User) -> String) -> Slice<User> {
    let mut total = 0;
    let cut = slice.items.iter().position(|u| {
        total += u.rendered_size_bound();
        total > PAGE_BYTES
    });
    if let Some(cut) = cut.filter(|c| *c > 0) {
        slice.items.truncate(cut);
        slice.next = slice.items.last().map(position);
    }
    slice
}

/// `segment` and `segments`, which go together: the part of a list a walk reads
/// ([`Segment::WHOLE`] when neither is sent).
pub fn segment(params: &Params) -> Result<Segment, ApiError> {
    const COUNT: &str = "must be a power of two from 1 to 64, sent with segment";
    const INDEX: &str = "must be a whole number from 0 to segments - 1, sent with segments";
    match (params.get("segment"), params.get("segments")) {
        (None, None) => Ok(Segment::WHOLE),
        (Some(_), None) => Err(ApiError::bad("segments", COUNT)),
        (None, Some(_)) => Err(ApiError::bad("segment", INDEX)),
        (Some(i), Some(n)) => {
            let n = n
                .parse::<u32>()
                .map_err(|_| ApiError::bad("segments", COUNT))?;
            let i = i
                .parse::<u32>()
                .map_err(|_| ApiError::bad("segment", INDEX))?;
            Segment::new(i, n).map_err(|e| match e {
                SegmentError::Count => ApiError::bad("segments", COUNT),
                SegmentError::Index => ApiError::bad("segment", INDEX),
            })
        }
    }
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
    // A page past the first is an offset, which stays within the smaller size; `page=1`
    // (which generated clients send by default) is the first page, as no `page` is.
    let most = match page_number(params)? {
        1 => spec.max_size,
        _ => MAX_PAGE_SIZE.min(spec.max_size),
    };
    let size = params.number("pageSize", DEFAULT_PAGE_SIZE, 1..=most)?;
    let filter = spec.filter.map(|(_, v)| v.to_owned());
    let list = spec.cursor_name();
    let (after, page, skip) = match params.get("cursor") {
        Some(sealed) => {
            let c = key.open(sealed)?;
            if c.l != list || c.f != filter {
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
            l: list.clone(),
            f: filter.clone(),
            a,
            p: next_page,
        });
        let mut query = form_urlencoded::Serializer::new(String::new());
        if let Some((name, value)) = spec.filter {
            query.append_pair(name, value);
        }
        if !spec.segment.is_whole() {
            query
                .append_pair("segment", &spec.segment.index().to_string())
                .append_pair("segments", &spec.segment.count().to_string());
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

    #[tokio::test]
    async fn the_last_possible_page_number_is_a_400_not_an_overflow() {
        let key = CursorKey::new(b"k1");
        let sealed = key.seal(&Cursor {
            l: "users".into(),
            f: None,
            a: "2024#x".into(),
            p: usize::MAX,
        });
        let spec = ListSpec::new("users", "/users", None);
        let params = Params::parse(Some(&format!("cursor={sealed}"))).unwrap();
        let out = paginate(&key, &spec, &params, |_, _, _| async {
            Ok::<_, StoreError>(Slice::<u8>::new(vec![], None))
        })
        .await;
        assert!(matches!(out, Err(ApiError::BadRequest(_))));
    }
}
