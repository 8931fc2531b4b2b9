//! Storage behind one trait: what the handlers need, nothing DynamoDB-shaped.
//!
//! Every write goes through [`UserStore::apply`]: the store reads the current user, lets
//! [`Intent::plan`] decide the transition, and writes it conditionally on the user it read,
//! planning again when another writer got there first.

use async_trait::async_trait;

use crate::domain::{DeletionRecord, DomainError, Intent, User, UserRef};

pub mod dynamo;
pub mod memory;
pub mod meter;

/// What went wrong in storage, in the terms the API answers with.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The write breaks a rule of the domain (not found, stale `If-Match`, …).
    #[error(transparent)]
    Domain(#[from] DomainError),
    /// Another active user holds this `email` or `username`.
    #[error("{0} already used")]
    Duplicate(&'static str),
    /// Throttled or unreachable after retries: the client should come back later.
    #[error("storage unavailable")]
    Unavailable,
    /// Anything else: logged, never shown to a client.
    #[error("storage failure: {0}")]
    Backend(String),
}

/// One page of a list, and where the next one starts.
#[derive(Debug, Clone)]
pub struct Slice<T> {
    /// The items, in list order.
    pub items: Vec<T>,
    /// The position of the last item when more follow; `None` on the last page.
    pub next: Option<String>,
}

/// Everything the API needs from storage.
#[async_trait]
pub trait UserStore: Send + Sync {
    /// Reads a user by id or bubbleId, soft-deleted ones included.
    async fn get(&self, user: &UserRef) -> Result<Option<User>, StoreError>;

    /// Carries out `intent` on the user `key` names, atomically: the user, its unique
    /// e-mail and username, the active count and the deleted history change together or not
    /// at all. `expect` is the version an `If-Match` asks for. Answers the user after the
    /// request (as it was, when the request changes nothing).
    async fn apply(
        &self,
        key: &UserRef,
        intent: &Intent<'_>,
        expect: Option<u64>,
    ) -> Result<User, StoreError>;

    /// Active users in creation order, after the position `after`.
    async fn list_active(
        &self,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Slice<User>, StoreError>;

    /// Users (deleted ones included) by (`updatedAt`, `bubbleId`) from `floor` on, after `after`.
    async fn changes(
        &self,
        floor: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Slice<User>, StoreError>;

    /// The deleted history, newest first, before the position `before`.
    async fn deletions(
        &self,
        before: Option<&str>,
        limit: usize,
    ) -> Result<Slice<DeletionRecord>, StoreError>;

    /// The number of active users.
    async fn count_active(&self) -> Result<u64, StoreError>;
}
