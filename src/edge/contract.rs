//! The numbers the contract promises, defined once: the code enforces them and the OpenAPI
//! document states them from here.

/// Items in a batch create or upsert.
pub const MAX_BATCH: usize = 100;
/// Items per page when `pageSize` is absent.
pub const DEFAULT_PAGE_SIZE: usize = 10;
/// The largest `pageSize`.
pub const MAX_PAGE_SIZE: usize = 100;
/// `(page − 1) × pageSize` must stay below this; cursors reach beyond (Elasticsearch's
/// `max_result_window`).
pub const PAGE_WINDOW: usize = 10_000;
/// The largest request body.
pub const MAX_BODY_BYTES: usize = 256 * 1024;
/// The JSON Schema pattern of a bubbleId, and of a `{ref}` (an id reads as one too).
pub use crate::domain::ids::BUBBLE_ID_PATTERN;
