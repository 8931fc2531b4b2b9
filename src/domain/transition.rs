//! A planned write: the user before and after, and what follows from the two (guards to
//! claim and release, the active counts, a move, a replacement).

use super::identity::Guard;
use super::relation::Relation;
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

    /// How each organization's number of active users changes: `-1` for the one an active
    /// user leaves (or leaves active), `+1` for the one it joins active; nothing where both
    /// are the same.
    pub fn memberships(&self) -> Vec<(Relation, String, i64)> {
        let held = |u: Option<&User>, r: Relation| {
            u.filter(|u| u.is_active())
                .and_then(|u| u.text(r.field()))
                .map(str::to_owned)
        };
        let mut deltas = Vec::new();
        for r in Relation::ALL {
            let (was, is) = (held(self.old.as_ref(), r), held(Some(&self.new), r));
            if was == is {
                continue;
            }
            deltas.extend(was.map(|org| (r, org, -1)));
            deltas.extend(is.map(|org| (r, org, 1)));
        }
        deltas
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
            && self.memberships().is_empty()
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{BubbleId, Intent, Patch, Plan};
    use serde_json::json;

    const A: &str = "6f1c1a52-8a0e-4c57-9a59-6d2b9e3f0a01";
    const B: &str = "6f1c1a52-8a0e-4c57-9a59-6d2b9e3f0a02";

    fn write(user: Option<&User>, intent: Intent<'_>) -> Transition {
        match intent.plan(user, None).unwrap() {
            Plan::Write(t) => *t,
            Plan::Unchanged(_) => panic!("the intent writes"),
        }
    }

    fn upsert(user: Option<&User>, body: serde_json::Value) -> Transition {
        let b = BubbleId::parse("b1").unwrap();
        let p = Patch::from_json(&body).unwrap();
        write(user, Intent::Upsert(&b, &p))
    }

    #[test]
    fn an_organization_counts_its_active_users_in_and_out() {
        let made = upsert(None, json!({"producerId": A, "sellerId": B}));
        assert_eq!(
            made.memberships(),
            vec![
                (Relation::Producer, A.to_owned(), 1),
                (Relation::Seller, B.to_owned(), 1)
            ]
        );
        let user = made.new;
        let moved = upsert(Some(&user), json!({"producerId": B, "lastName": "L"}));
        assert_eq!(
            moved.memberships(),
            vec![
                (Relation::Producer, A.to_owned(), -1),
                (Relation::Producer, B.to_owned(), 1)
            ],
            "a move leaves one and joins the other; the kept seller is no change"
        );
        let deleted = write(Some(&user), Intent::Delete("t"));
        assert_eq!(deleted.memberships().len(), 2, "both counts drop");
        assert!(deleted.memberships().iter().all(|(_, _, d)| *d == -1));
        let restored = write(Some(&deleted.new), Intent::Restore);
        assert!(restored.memberships().iter().all(|(_, _, d)| *d == 1));
        let other = upsert(Some(&user), json!({"lastName": "L"}));
        assert!(other.memberships().is_empty() && other.is_simple());
    }
}
