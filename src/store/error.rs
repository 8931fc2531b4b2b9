//! What went wrong in storage.

use crate::domain::{DomainError, UniqueField};

/// What went wrong in storage, in the terms the API answers with.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The write breaks a rule of the domain (not found, stale `If-Match`, …).
    #[error(transparent)]
    Domain(#[from] DomainError),
    /// Another active user holds this `email` or `username`.
    #[error("{0:?} already used")]
    Duplicate(UniqueField),
    /// Throttled or unreachable after retries: the client should come back later.
    #[error("storage unavailable")]
    Unavailable,
    /// Anything else: logged, never shown to a client.
    #[error("storage failure: {0}")]
    Backend(String),
}
