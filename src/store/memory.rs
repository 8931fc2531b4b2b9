//! The embedded store: everything in one mutex, with the DynamoDB store's semantics.

use std::collections::{BTreeMap, HashMap};
use std::ops::Bound;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use uuid::Uuid;

use super::positions::{active_key, feed_key, feed_key_of, history_key};
use super::{Lookup, Slice, StoreError, UserStore, Window};
use crate::domain::{
    BubbleId, DeletionRecord, Departure, DomainError, Intent, Plan, Relation, Retention, Timestamp,
    Transition, UniqueField, User, UserRef,
};
use crate::keys::{KeyStore, MemoryKeys};

#[derive(Default)]
struct State {
    users: HashMap<BubbleId, User>,
    by_id: HashMap<Uuid, BubbleId>,
    /// `(field, key)` → owner's bubbleId, for active users only.
    guards: HashMap<(UniqueField, String), BubbleId>,
    active: BTreeMap<String, BubbleId>,
    feed: BTreeMap<String, BubbleId>,
    history: BTreeMap<String, DeletionRecord>,
    /// Deleted users by (`deletedAt`, `bubbleId`): the next to pass retention first.
    deleted: BTreeMap<String, BubbleId>,
    /// Users that left an organization, by the organization's feed position.
    departures: Vec<Departure>,
    /// Active users per organization, kept as the DynamoDB store keeps its counters.
    members: HashMap<(Relation, String), i64>,
}

/// An in-process [`UserStore`], for local runs and tests.
pub struct MemoryStore {
    state: Mutex<State>,
    retention: Retention,
    /// When the store was made: a new embedded store is a new, empty directory.
    born: Timestamp,
    /// Managed API keys.
    keys: Arc<MemoryKeys>,
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self {
            state: Mutex::default(),
            retention: Retention::default(),
            born: Timestamp::now(),
            keys: Arc::default(),
        }
    }
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// The same store with another retention of deleted users (and its clock).
    pub fn with_retention(mut self, retention: Retention) -> Self {
        self.retention = retention;
        self
    }

    /// The state, with the users and deletion records past retention erased first: the
    /// rule DynamoDB's time to live applies on AWS, applied here on access.
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave a half-applied write (writes are
        // checked before they start), so a poisoned lock is still consistent.
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        state.purge(&self.retention);
        state
    }
}

/// A deleted user's position among the deleted: (`deletedAt`, `bubbleId`).
fn deleted_key(user: &User) -> Option<String> {
    user.deleted_at.map(|at| feed_key_of(at, &user.bubble_id))
}

impl State {
    fn find(&self, key: &UserRef) -> Option<&User> {
        if let UserRef::Id(id, _) = key {
            let by_id = self.by_id.get(id).and_then(|b| self.users.get(b));
            // An id stays held after its user is replaced or gone; it finds only its own.
            if let Some(u) = by_id.filter(|u| u.id == *id) {
                return Some(u);
            }
        }
        self.users.get(key.bubble_id())
    }

    /// Removes what is past `retention`: deleted users and deletion records.
    fn purge(&mut self, retention: &Retention) {
        while let Some(entry) = self.deleted.first_entry() {
            let gone = self
                .users
                .get(entry.get())
                .is_none_or(|u| retention.is_gone(u));
            if !gone {
                break;
            }
            let bubble_id = entry.remove();
            if let Some(user) = self.users.remove(&bubble_id) {
                self.feed.remove(&feed_key(&user));
            }
        }
        let now = retention.now();
        self.departures
            .retain(|d| retention.expiry(d.left_at) > now);
        while let Some(entry) = self.history.first_entry() {
            if retention.expiry(entry.get().deleted_at) > now {
                break;
            }
            entry.remove();
        }
    }

    fn write(&mut self, t: Transition) -> Result<User, StoreError> {
        let me = &t.new.bubble_id;
        let taken_id = me.as_id().is_some_and(|id| self.by_id.contains_key(&id));
        let arrives = t.makes_id() || t.is_move();
        if arrives && (taken_id || (t.is_move() && self.users.contains_key(me))) {
            return Err(DomainError::BubbleIdTaken.into());
        }
        for g in t.claims() {
            if self
                .guards
                .get(&(g.field, g.key.clone()))
                .is_some_and(|owner| owner != me)
            {
                return Err(StoreError::Duplicate(g.field));
            }
        }
        for g in t.releases() {
            self.guards.remove(&(g.field, g.key));
        }
        for g in t.claims().into_iter().chain(t.kept()) {
            self.guards.insert((g.field, g.key), me.clone());
        }
        if let Some(old) = &t.old {
            self.feed.remove(&feed_key(old));
            self.active.remove(&active_key(old));
            if let Some(k) = deleted_key(old) {
                self.deleted.remove(&k);
            }
            if t.is_erasure() {
                for d in self.history.values_mut().filter(|d| d.id == old.id) {
                    d.email = None;
                    d.username = None;
                }
            }
            if t.is_move() {
                self.users.remove(&old.bubble_id);
            }
        }
        self.feed.insert(feed_key(&t.new), me.clone());
        if let Some(k) = deleted_key(&t.new) {
            self.deleted.insert(k, me.clone());
        }
        if t.new.is_active() {
            self.active.insert(active_key(&t.new), me.clone());
        }
        self.departures.extend(t.departures());
        for (relation, organization, delta) in t.memberships() {
            *self.members.entry((relation, organization)).or_default() += delta;
        }
        if let Some(d) = t.deletion {
            self.history.insert(history_key(&d), d);
        }
        self.by_id.insert(t.new.id, me.clone());
        self.users.insert(me.clone(), t.new.clone());
        Ok(t.new)
    }
}

/// The entries of `index` in `window` (strictly after its position, or backwards before
/// it), from `floor` on.
fn page<T: Clone>(
    index: &BTreeMap<String, T>,
    floor: Option<&str>,
    window: Window<'_>,
    forward: bool,
    keep: impl Fn(&T) -> bool,
) -> (Vec<T>, Option<String>) {
    let range: Box<dyn Iterator<Item = (&String, &T)>> = match (forward, window.after) {
        (true, Some(a)) => Box::new(index.range::<str, _>((Bound::Excluded(a), Bound::Unbounded))),
        (true, None) => Box::new(
            index.range::<str, _>((Bound::Included(floor.unwrap_or("")), Bound::Unbounded)),
        ),
        (false, Some(a)) => Box::new(
            index
                .range::<str, _>((Bound::Unbounded, Bound::Excluded(a)))
                .rev(),
        ),
        (false, None) => Box::new(index.iter().rev()),
    };
    let limit = window.limit;
    let mut taken: Vec<(&String, &T)> = range
        .filter(|(_, v)| keep(v))
        .skip(window.skip)
        .take(limit + 1)
        .collect();
    let more = taken.len() > limit;
    taken.truncate(limit);
    let next = if more {
        taken.last().map(|(k, _)| (*k).clone())
    } else {
        None
    };
    (taken.into_iter().map(|(_, v)| v.clone()).collect(), next)
}

#[async_trait]
impl UserStore for MemoryStore {
    async fn get(&self, key: &UserRef) -> Result<Option<User>, StoreError> {
        Ok(self.lock().find(key).cloned())
    }

    async fn apply(
        &self,
        key: &UserRef,
        intent: &Intent<'_>,
        expect: Option<u64>,
    ) -> Result<User, StoreError> {
        let mut state = self.lock();
        let current = state.find(key).cloned();
        match intent.plan(current.as_ref(), expect)? {
            Plan::Unchanged(user) => Ok(user),
            Plan::Write(t) => state.write(*t),
        }
    }

    async fn list_active(&self, window: Window<'_>) -> Result<Slice<User>, StoreError> {
        let state = self.lock();
        let (keys, next) = page(&state.active, None, window, true, |b| {
            window.segment.holds(&state.users[b].id)
        });
        Ok(Slice::new(
            keys.iter().map(|b| state.users[b].clone()).collect(),
            next,
        ))
    }

    async fn changes(&self, floor: &str, window: Window<'_>) -> Result<Slice<User>, StoreError> {
        let state = self.lock();
        let (keys, next) = page(&state.feed, Some(floor), window, true, |b| {
            window.segment.holds(&state.users[b].id)
        });
        Ok(Slice::new(
            keys.iter().map(|b| state.users[b].clone()).collect(),
            next,
        ))
    }

    async fn changes_related(
        &self,
        relation: Relation,
        value: &str,
        floor: &str,
        window: Window<'_>,
    ) -> Result<Slice<User>, StoreError> {
        let state = self.lock();
        let members = state
            .feed
            .iter()
            .map(|(k, b)| (k.clone(), state.users[b].clone()))
            .filter(|(_, u)| u.text(relation.field()) == Some(value));
        let left = state
            .departures
            .iter()
            .filter(|d| d.relation == relation && d.organization == value)
            .map(|d| (feed_key_of(d.left_at, &d.bubble_id), d.tombstone()));
        let feed: BTreeMap<String, User> = members.chain(left).collect();
        let (items, next) = page(&feed, Some(floor), window, true, |_| true);
        Ok(Slice::new(items, next))
    }

    async fn deletions(&self, window: Window<'_>) -> Result<Slice<DeletionRecord>, StoreError> {
        let (items, next) = page(&self.lock().history, None, window, false, |_| true);
        Ok(Slice::new(items, next))
    }

    async fn find_active(&self, lookup: &Lookup) -> Result<Option<User>, StoreError> {
        let state = self.lock();
        let owner = match lookup {
            Lookup::Id(id) => state.by_id.get(id).cloned(),
            Lookup::Unique(field, key) => state.guards.get(&(*field, key.clone())).cloned(),
        };
        Ok(owner
            .and_then(|b| state.users.get(&b).cloned())
            .filter(|u| lookup.finds(u)))
    }

    async fn list_related(
        &self,
        relation: Relation,
        value: &str,
        window: Window<'_>,
    ) -> Result<Slice<User>, StoreError> {
        let state = self.lock();
        let related: BTreeMap<String, BubbleId> = state
            .active
            .iter()
            .filter(|(_, b)| state.users[*b].text(relation.field()) == Some(value))
            .map(|(k, b)| (k.clone(), b.clone()))
            .collect();
        let (keys, next) = page(&related, None, window, true, |_| true);
        Ok(Slice::new(
            keys.iter().map(|b| state.users[b].clone()).collect(),
            next,
        ))
    }

    async fn epoch(&self) -> Result<Option<Timestamp>, StoreError> {
        Ok(Some(self.born))
    }

    fn keys(&self) -> Arc<dyn KeyStore> {
        self.keys.clone()
    }

    async fn count_active(&self) -> Result<u64, StoreError> {
        Ok(self.lock().active.len() as u64)
    }

    async fn count_related(&self, relation: Relation, value: &str) -> Result<u64, StoreError> {
        let state = self.lock();
        let n = state.members.get(&(relation, value.to_owned()));
        Ok(n.copied().unwrap_or(0).max(0) as u64)
    }
}
