//! A planned write: the user before and after, and what follows from the two (guards to
//! claim and release, the active count, a move, a replacement).

use super::identity::Guard;
use super::user::{DeletionRecord, User};

/// A write to perform: the user before (none for a creation) and after.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transition {
    /// The user as read; the write is conditional on it being still current.
    pub old: Option<User>,
    /// The user to store.
    pub new: User,
    /// The history record a deletion appends.
    pub deletion: Option<DeletionRecord>,
}

impl Transition {
    /// Unique values the new user takes that the old one did not hold.
    pub fn claims(&self) -> Vec<Guard> {
        let held = self.old.as_ref().map(User::guards).unwrap_or_default();
        self.new
            .guards()
            .into_iter()
            .filter(|g| !held.contains(g))
            .collect()
    }

    /// Unique values the old user held that the new one gives up.
    pub fn releases(&self) -> Vec<Guard> {
        let kept = self.new.guards();
        let held = self.old.as_ref().map(User::guards).unwrap_or_default();
        held.into_iter().filter(|g| !kept.contains(g)).collect()
    }

    /// How the number of active users changes: -1, 0 or +1.
    pub fn active_delta(&self) -> i64 {
        let was = self.old.as_ref().is_some_and(User::is_active);
        i64::from(self.new.is_active()) - i64::from(was)
    }

    /// Unique values the user holds before and after (a move hands them to its new key).
    pub fn kept(&self) -> Vec<Guard> {
        let held = self.old.as_ref().map(User::guards).unwrap_or_default();
        self.new
            .guards()
            .into_iter()
            .filter(|g| held.contains(g))
            .collect()
    }

    /// Whether the user moves to another bubbleId (a SCIM `externalId` change): its item,
    /// and the owner of every guard it holds, change key in the same write.
    pub fn is_move(&self) -> bool {
        self.old
            .as_ref()
            .is_some_and(|old| old.bubble_id != self.new.bubble_id)
    }

    /// Whether a new user takes the place of an old one under the same bubbleId (an
    /// erased tombstone, or a user past retention): a new `id`, held like a creation's.
    pub fn is_replacement(&self) -> bool {
        self.old.as_ref().is_some_and(|old| old.id != self.new.id)
    }

    /// Whether a new `id` comes into being: a creation or a replacement.
    pub fn makes_id(&self) -> bool {
        self.old.is_none() || self.is_replacement()
    }

    /// Whether the write touches nothing but the user's own item.
    pub fn is_simple(&self) -> bool {
        self.claims().is_empty()
            && self.releases().is_empty()
            && self.active_delta() == 0
            && self.deletion.is_none()
            && !self.is_move()
            && !self.is_replacement()
            && !self.is_erasure()
            && self.departures().is_empty()
    }

    /// Whether the write erases the person: its history records are scrubbed with it.
    pub fn is_erasure(&self) -> bool {
        self.new.erased_at.is_some() && self.old.as_ref().is_some_and(|o| o.erased_at.is_none())
    }
}
