//! Batch upsert: one read of every user a batch names, then only the writes that change
//! something, each planned by [`Intent::plan`] exactly as a single upsert is.

use std::collections::{HashMap, HashSet};

use futures::{stream, StreamExt};

use super::{StoreError, UserStore};
use crate::domain::{BubbleId, Intent, Patch, User, UserRef};

/// What an upsert did to its user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The bubbleId was new.
    Created,
    /// The user changed.
    Updated,
    /// The body changed nothing: no write.
    Unchanged,
    /// A soft-deleted user was brought back (same `id`).
    Reactivated,
}

impl Outcome {
    /// The name clients read in a batch item's `result`.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Created => "created",
            Outcome::Updated => "updated",
            Outcome::Unchanged => "unchanged",
            Outcome::Reactivated => "reactivated",
        }
    }

    /// What happened between `before` (read first) and `after` (answered by the write).
    fn of(before: Option<&User>, after: &User) -> Self {
        match before {
            // Another writer may have created it meanwhile: then ours was an update.
            None if after.version == 1 => Outcome::Created,
            None => Outcome::Updated,
            // A new user in the place of an erased one, or of one past retention.
            Some(b) if b.id != after.id => Outcome::Created,
            Some(b) if !b.is_active() && after.is_active() => Outcome::Reactivated,
            Some(b) if b.version == after.version => Outcome::Unchanged,
            Some(_) => Outcome::Updated,
        }
    }
}

/// Upserts every item (bubbleIds distinct), `parallel` writes at a time: reads them all with
/// one [`UserStore::get_many`], then carries out each from what was read. Items are
/// independent: one item's failure is its own result.
pub async fn upsert_all(
    store: &dyn UserStore,
    items: &[(BubbleId, Patch)],
    parallel: usize,
) -> Result<Vec<Result<(User, Outcome), StoreError>>, StoreError> {
    let ids: Vec<BubbleId> = items.iter().map(|(b, _)| b.clone()).collect();
    let read = store.get_many(&ids).await?;
    let unreadable: HashSet<String> = read.unreadable.into_iter().collect();
    let current: HashMap<BubbleId, User> = read
        .items
        .into_iter()
        .map(|u| (u.bubble_id.clone(), u))
        .collect();
    let writes: Vec<_> = items
        .iter()
        .enumerate()
        .map(|(index, (bubble_id, patch))| {
            let before = current.get(bubble_id).cloned();
            let unreadable = unreadable.contains(bubble_id.as_str());
            async move {
                if unreadable {
                    let why = "the stored user cannot be read back".to_owned();
                    return (index, Err(StoreError::Backend(why)));
                }
                let key = UserRef::Bubble(bubble_id.clone());
                let intent = Intent::Upsert(bubble_id, patch);
                let result = store.apply_from(&key, &intent, None, before.clone()).await;
                let result = result.map(|user| {
                    let outcome = Outcome::of(before.as_ref(), &user);
                    (user, outcome)
                });
                (index, result)
            }
        })
        .collect();
    // Unordered, so that items that need no write do not hold back the ones that do.
    let mut done: Vec<_> = stream::iter(writes)
        .buffer_unordered(parallel.max(1))
        .collect()
        .await;
    done.sort_by_key(|(index, _)| *index);
    let results = done.into_iter().map(|(_, r)| r).collect();
    Ok(results)
}
