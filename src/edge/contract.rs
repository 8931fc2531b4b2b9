//! The numbers the contract promises, defined once: the code enforces them and the OpenAPI
//! document states them from here.

/// Items in a batch create or upsert.
pub const MAX_BATCH: usize = 100;
/// Items per page when `pageSize` is absent.
pub const DEFAULT_PAGE_SIZE: usize = 10;
/// The largest `pageSize` of a page by number (`page=N`), of SCIM and of the lists that
/// are not walked to mirror the directory.
pub const MAX_PAGE_SIZE: usize = 100;
/// The largest `pageSize` of the active list and the change feed read by cursor, the way a
/// mirror walks them.
pub const MAX_CURSOR_PAGE_SIZE: usize = 1000;
/// `(page − 1) × pageSize` must stay below this; cursors reach beyond (Elasticsearch's
/// `max_result_window`).
pub const PAGE_WINDOW: usize = 10_000;
/// The largest request body.
pub const MAX_BODY_BYTES: usize = 256 * 1024;
/// The JSON Schema pattern of a bubbleId, and of a `{ref}` (an id reads as one too).
pub use crate::domain::ids::BUBBLE_ID_PATTERN;
