//! Storage behind one trait: what the handlers need, nothing DynamoDB-shaped.
//!
//! Every write goes through [`UserStore::apply`]: the store reads the current user, lets
//! [`Intent::plan`] decide the transition, and writes it conditionally on the user it read,
//! planning again when another writer got there first.

use async_trait::async_trait;
use uuid::Uuid;

use crate::domain::{
    BubbleId, DeletionRecord, Intent, Relation, Timestamp, UniqueField, User, UserRef,
};

pub mod batch;
pub mod bound;
pub mod dynamo;
mod error;
pub mod memory;
pub mod meter;
pub mod positions;
pub mod retry;
mod segment;

pub use error::StoreError;
pub use segment::{Segment, SegmentError};

/// How to find one active user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    /// By the canonical key of a unique field (see [`crate::domain::identity`]).
    Unique(UniqueField, String),
    /// By local id.
    Id(Uuid),
}

impl Lookup {
    /// Whether `user`, the owner its guard names, is the user looked for and active. An
    /// `id` stays held after its user was replaced under the same bubbleId (an erased
    /// tombstone's, a user's past retention): the guard then names a user with another id.
    pub fn finds(&self, user: &crate::domain::User) -> bool {
        user.is_active()
            && match self {
                Lookup::Id(id) => user.id == *id,
                Lookup::Unique(..) => true,
            }
    }
}

/// One page of a list, and where the next one starts.
#[derive(Debug, Clone)]
pub struct Slice<T> {
    /// The items, in list order.
    pub items: Vec<T>,
    /// The position of the last item when more follow; `None` on the last page.
    pub next: Option<String>,
    /// The bubbleIds of stored items in the page that could not be read back (logged where
    /// they were met): one bad item is reported, and never takes the page down with it.
    pub unreadable: Vec<String>,
}

impl<T> Slice<T> {
    /// The page with only the items `keep` accepts; where the next page starts is unchanged.
    pub fn retain(mut self, keep: impl FnMut(&T) -> bool) -> Self {
        self.items.retain(keep);
        self
    }

    /// A page in which every item could be read.
    pub fn new(items: Vec<T>, next: Option<String>) -> Self {
        Self {
            items,
            next,
            unreadable: Vec::new(),
        }
    }
}

/// Which part of a list to read: `limit` items of `segment` after the position `after`,
/// passing over the first `skip` of them (`page=N` without a cursor).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window<'a> {
    /// The position of the last item already seen; `None`: from the start.
    pub after: Option<&'a str>,
    /// Items to pass over before the page.
    pub skip: usize,
    /// Items in the page.
    pub limit: usize,
    /// The part of the list read: [`Segment::WHOLE`] but for the feed and the active list
    /// walked in parallel (`segment=i&segments=n`).
    pub segment: Segment,
}

impl<'a> Window<'a> {
    /// The `limit` items after `after`.
    pub fn after(after: Option<&'a str>, limit: usize) -> Self {
        Self {
            after,
            skip: 0,
            limit,
            segment: Segment::WHOLE,
        }
    }

    /// The `limit` items after the first `skip` of the list.
    pub fn offset(skip: usize, limit: usize) -> Self {
        Self {
            after: None,
            skip,
            limit,
            segment: Segment::WHOLE,
        }
    }

    /// This window of one segment of the list.
    pub fn in_segment(self, segment: Segment) -> Self {
        Self { segment, ..self }
    }
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

    /// [`UserStore::apply`] for a caller that has just read the user: plans on `current`
    /// (`None`: there is none) before reading anything itself.
    async fn apply_from(
        &self,
        key: &UserRef,
        intent: &Intent<'_>,
        expect: Option<u64>,
        current: Option<User>,
    ) -> Result<User, StoreError> {
        let _ = current;
        self.apply(key, intent, expect).await
    }

    /// The users with these bubbleIds (those that exist, soft-deleted ones included),
    /// strongly consistent: on DynamoDB one request for up to 100. Stored items that cannot
    /// be read back are named in `unreadable`; `next` is always `None`.
    async fn get_many(&self, ids: &[BubbleId]) -> Result<Slice<User>, StoreError> {
        let mut users = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(user) = self.get(&UserRef::Bubble(id.clone())).await? {
                users.push(user);
            }
        }
        Ok(Slice::new(users, None))
    }

    /// The active user `lookup` finds; strongly consistent.
    async fn find_active(&self, lookup: &Lookup) -> Result<Option<User>, StoreError>;

    /// Active users whose `relation` is `value`, in creation order, in `window`.
    async fn list_related(
        &self,
        relation: Relation,
        value: &str,
        window: Window<'_>,
    ) -> Result<Slice<User>, StoreError>;

    /// Active users in creation order, in `window`.
    async fn list_active(&self, window: Window<'_>) -> Result<Slice<User>, StoreError>;

    /// Users (deleted ones included) by (`updatedAt`, `bubbleId`) from `floor` on, in
    /// `window`.
    async fn changes(&self, floor: &str, window: Window<'_>) -> Result<Slice<User>, StoreError>;

    /// One organization's change feed: users whose `relation` is `value` (deleted ones
    /// included) and, as tombstones, those that left it ([`crate::domain::Departure`]), by
    /// (`updatedAt`, `bubbleId`) from `floor` on, in `window`.
    async fn changes_related(
        &self,
        relation: Relation,
        value: &str,
        floor: &str,
        window: Window<'_>,
    ) -> Result<Slice<User>, StoreError>;

    /// The deleted history, newest first, in `window` (`after` is the position before which
    /// the page starts).
    async fn deletions(&self, window: Window<'_>) -> Result<Slice<DeletionRecord>, StoreError>;

    /// The number of active users.
    async fn count_active(&self) -> Result<u64, StoreError>;

    /// The number of active users whose `relation` is `value`: kept as counters, so it
    /// costs what [`UserStore::count_active`] does, however many users the organization has.
    async fn count_related(&self, relation: Relation, value: &str) -> Result<u64, StoreError>;

    /// When this directory first held a user, if the store knows: recorded once, when a
    /// store finds the directory has never held one, and so never after any user's
    /// `createdAt`. A directory that held users before the record existed has none.
    async fn epoch(&self) -> Result<Option<Timestamp>, StoreError>;

    /// Whether [`UserStore::changes`] and [`UserStore::list_active`] read a window's
    /// segment; a store that cannot (an organization's directory) is walked by one cursor.
    fn reads_segments(&self) -> bool {
        true
    }

    /// Where this store keeps managed API keys.
    fn keys(&self) -> std::sync::Arc<dyn crate::keys::KeyStore>;
}
