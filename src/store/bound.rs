//! [`Bound`]: one organization's directory, as a store. A key bound to an organization works
//! through this view on every route of both faces (see `edge::view`): it reads only users in
//! the organization (anything else is absent, so 404), a user it creates gets the binding,
//! a write that would take a user out of it is refused naming the field, and a write to a
//! user is pinned to the version whose organization was checked, so a move by another key
//! in between makes it check again.

use std::sync::Arc;

use async_trait::async_trait;

use super::retry::Backoff;
use super::{Lookup, Slice, StoreError, UserStore, Window};
use crate::domain::fields::field_index;
use crate::domain::{
    BubbleId, DeletionRecord, DomainError, Intent, Patch, Relation, Timestamp, User, UserRef, Value,
};
use crate::keys::{Binding, KeyStore};

/// A store seen through an organization's binding.
pub struct Bound {
    inner: Arc<dyn UserStore>,
    binding: Binding,
}

impl Bound {
    /// `inner` as the organization `binding` names sees it.
    pub fn new(inner: Arc<dyn UserStore>, binding: Binding) -> Self {
        Self { inner, binding }
    }

    fn sees(&self, user: &User) -> bool {
        self.binding.holds(user)
    }

    fn visible(&self, slice: Slice<User>) -> Slice<User> {
        slice.retain(|u| self.sees(u))
    }

    /// Refuses a patch that sets the binding's relation to anything but the binding.
    fn check(&self, patch: &Patch) -> Result<(), StoreError> {
        let i = field_index(self.binding.field()).expect("a relation is a user field");
        let value = self.binding.value();
        match patch.change(i) {
            None => Ok(()),
            Some(Some(Value::Text(v))) if *v == value => Ok(()),
            Some(_) => Err(DomainError::OutsideBinding(self.binding.field()).into()),
        }
    }

    /// The patch of a creation, with the binding's relation set.
    fn bind(&self, patch: &Patch) -> Result<Patch, StoreError> {
        self.check(patch)?;
        let i = field_index(self.binding.field()).expect("a relation is a user field");
        let mut bound = patch.clone();
        bound.set(i, Some(Value::Text(self.binding.value())));
        Ok(bound)
    }

    /// Carries out `intent` inside the organization: plans on the user as read (or
    /// `known`), refuses one outside it, and writes pinned to the version read.
    async fn write(
        &self,
        key: &UserRef,
        intent: &Intent<'_>,
        expect: Option<u64>,
        mut known: Option<Option<User>>,
    ) -> Result<User, StoreError> {
        let bound = match intent {
            Intent::Upsert(_, p) | Intent::Create(_, p) => Some(self.bind(p)?),
            Intent::Update(p) | Intent::Move(p, _) => {
                self.check(p)?;
                None
            }
            _ => None,
        };
        let mut backoff = Backoff::for_writes();
        loop {
            let current = match known.take() {
                Some(current) => current,
                None => self.inner.get(key).await?,
            };
            // An erased user is no one's: its bubbleId is free for a new user. To anything
            // else (restore, erase again) another organization's tombstone is absent.
            let creates = matches!(intent, Intent::Upsert(..) | Intent::Create(..));
            let free = |u: &User| creates && u.erased_at.is_some();
            if current.as_ref().is_some_and(|u| !free(u) && !self.sees(u)) {
                return Err(match intent {
                    Intent::Upsert(..) | Intent::Create(..) => DomainError::BubbleIdTaken,
                    _ => DomainError::NotFound,
                }
                .into());
            }
            let pinned = expect.or(current.as_ref().map(|u| u.version));
            let planned = match (intent, &bound) {
                (Intent::Upsert(b, _), Some(p)) if current.is_none() => Intent::Create(b, p),
                (Intent::Upsert(b, _), Some(p)) => Intent::Upsert(b, p),
                (Intent::Create(b, _), Some(p)) => Intent::Create(b, p),
                (other, _) => other.clone(),
            };
            match self.inner.apply_from(key, &planned, pinned, current).await {
                // Another key changed the user (maybe moved it out) since it was read.
                Err(StoreError::Domain(DomainError::PreconditionFailed)) if expect.is_none() => {}
                // Someone created it since: read it, and check its organization.
                Err(StoreError::Domain(DomainError::BubbleIdTaken))
                    if matches!(intent, Intent::Upsert(..)) => {}
                result => return result,
            }
            if !backoff.lost().await {
                return Err(StoreError::Unavailable);
            }
        }
    }
}

#[async_trait]
impl UserStore for Bound {
    async fn get(&self, user: &UserRef) -> Result<Option<User>, StoreError> {
        Ok(self.inner.get(user).await?.filter(|u| self.sees(u)))
    }

    async fn apply(
        &self,
        key: &UserRef,
        intent: &Intent<'_>,
        expect: Option<u64>,
    ) -> Result<User, StoreError> {
        self.write(key, intent, expect, None).await
    }

    async fn apply_from(
        &self,
        key: &UserRef,
        intent: &Intent<'_>,
        expect: Option<u64>,
        current: Option<User>,
    ) -> Result<User, StoreError> {
        // What the caller read went through this view: a user it could not see reads
        // as absent, so read it again as it is.
        let known = current.filter(|u| self.sees(u)).map(Some);
        self.write(key, intent, expect, known).await
    }

    async fn get_many(&self, ids: &[BubbleId]) -> Result<Slice<User>, StoreError> {
        Ok(self.visible(self.inner.get_many(ids).await?))
    }

    async fn find_active(&self, lookup: &Lookup) -> Result<Option<User>, StoreError> {
        Ok(self
            .inner
            .find_active(lookup)
            .await?
            .filter(|u| self.sees(u)))
    }

    async fn list_related(
        &self,
        relation: Relation,
        value: &str,
        window: Window<'_>,
    ) -> Result<Slice<User>, StoreError> {
        if relation == self.binding.relation {
            if value != self.binding.value() {
                return Ok(Slice::new(Vec::new(), None));
            }
            return self.inner.list_related(relation, value, window).await;
        }
        // Another relation's list holds other organizations' users too.
        seen_page(window, |after, limit| async move {
            let window = Window::after(after.as_deref(), limit);
            Ok(self.visible(self.inner.list_related(relation, value, window).await?))
        })
        .await
    }

    async fn list_active(&self, window: Window<'_>) -> Result<Slice<User>, StoreError> {
        let b = self.binding;
        self.inner
            .list_related(b.relation, &b.value(), window)
            .await
    }

    /// The organization's own feed: its users, and those that left it as tombstones.
    async fn changes(&self, floor: &str, window: Window<'_>) -> Result<Slice<User>, StoreError> {
        let b = self.binding;
        self.inner
            .changes_related(b.relation, &b.value(), floor, window)
            .await
    }

    async fn changes_related(
        &self,
        relation: Relation,
        value: &str,
        floor: &str,
        window: Window<'_>,
    ) -> Result<Slice<User>, StoreError> {
        if relation == self.binding.relation {
            if value != self.binding.value() {
                return Ok(Slice::new(Vec::new(), None));
            }
            return self.changes(floor, window).await;
        }
        Ok(self.visible(
            self.inner
                .changes_related(relation, value, floor, window)
                .await?,
        ))
    }

    async fn deletions(&self, window: Window<'_>) -> Result<Slice<DeletionRecord>, StoreError> {
        seen_page(window, |after, limit| async move {
            let page = self
                .inner
                .deletions(Window::after(after.as_deref(), limit))
                .await?;
            let ids: Vec<BubbleId> = page.items.iter().map(|d| d.bubble_id.clone()).collect();
            let ours = self.inner.get_many(&ids).await?.items;
            Ok(page.retain(|d| ours.iter().any(|u| u.id == d.id && self.sees(u))))
        })
        .await
    }

    async fn count_active(&self) -> Result<u64, StoreError> {
        let b = self.binding;
        self.inner.count_related(b.relation, &b.value()).await
    }

    async fn count_related(&self, relation: Relation, value: &str) -> Result<u64, StoreError> {
        if relation == self.binding.relation {
            return match value == self.binding.value() {
                true => self.count_active().await,
                false => Ok(0),
            };
        }
        // Another relation's count would tell of users outside the organization.
        Err(StoreError::Backend(
            "a bound view counts only its own organization".into(),
        ))
    }

    async fn epoch(&self) -> Result<Option<Timestamp>, StoreError> {
        self.inner.epoch().await
    }

    /// An organization's lists are its relation indexes, keyed by the organization rather
    /// than sharded by id: they are walked by one cursor.
    fn reads_segments(&self) -> bool {
        false
    }

    fn keys(&self) -> Arc<dyn KeyStore> {
        self.inner.keys()
    }
}

/// A page of one of the inner store's lists as the organization sees it: `read(after,
/// limit)` reads up to `limit` items of the inner list after `after` and leaves out those
/// the organization does not see. An offset counts only what the organization sees, and a
/// page is full unless it is the last, so reads go on until the page is filled, each asking
/// for no more than the page still needs, so that its cursor stops exactly after what was
/// taken. (Where the organization holds few of the list's users this takes more rounds:
/// only a second relation's list and the deleted list are read this way.)
async fn seen_page<T, F, Fut>(window: Window<'_>, read: F) -> Result<Slice<T>, StoreError>
where
    F: Fn(Option<String>, usize) -> Fut,
    Fut: std::future::Future<Output = Result<Slice<T>, StoreError>>,
{
    let (mut skip, mut taken, mut unreadable) = (window.skip, Vec::new(), Vec::new());
    let mut after = window.after.map(str::to_owned);
    loop {
        let page = read(after.take(), skip + window.limit - taken.len()).await?;
        unreadable.extend(page.unreadable);
        for item in page.items {
            if skip > 0 {
                skip -= 1;
            } else {
                taken.push(item);
            }
        }
        if page.next.is_none() || taken.len() == window.limit {
            let mut slice = Slice::new(taken, page.next);
            slice.unreadable = unreadable;
            return Ok(slice);
        }
        after = page.next;
    }
}
