//! A user leaving an organization: when a write changes one of its relations away from a
//! value (or erases the person), the organization that value names keeps a record of it, so
//! that organization's change feed shows the user once more, as a tombstone, and its mirror
//! drops it. The record holds ids and times only, nothing personal.

use uuid::Uuid;

use super::ids::BubbleId;
use super::relation::Relation;
use super::time::Timestamp;
use super::transition::Transition;
use super::user::{Profile, User};

/// One user's departure from one organization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Departure {
    /// Which relation the organization is named by.
    pub relation: Relation,
    /// The organization: the relation's value the user held.
    pub organization: String,
    /// The user's id.
    pub id: Uuid,
    /// The bubbleId the organization knew the user by.
    pub bubble_id: BubbleId,
    /// When the user was created.
    pub created_at: Timestamp,
    /// When it left: the `updatedAt` of the write that took it out.
    pub left_at: Timestamp,
    /// The version that write made.
    pub version: u64,
}

impl Departure {
    /// The tombstone the organization's feed shows: ids, times and version, deleted at
    /// the time the user left.
    pub fn tombstone(&self) -> User {
        User {
            id: self.id,
            bubble_id: self.bubble_id.clone(),
            profile: Profile::default(),
            created_at: self.created_at,
            updated_at: self.left_at,
            deleted_at: Some(self.left_at),
            erased_at: None,
            version: self.version,
        }
    }
}

impl Transition {
    /// The organizations the user leaves with this write: every relation whose value it
    /// held and no longer holds (an erasure leaves them all).
    pub fn departures(&self) -> Vec<Departure> {
        let Some(old) = self.old.as_ref().filter(|o| o.erased_at.is_none()) else {
            return Vec::new();
        };
        // A replacement is another person: the old one's tombstone left with its erasure.
        if self.is_replacement() {
            return Vec::new();
        }
        Relation::ALL
            .into_iter()
            .filter_map(|r| {
                let held = old.text(r.field())?;
                (self.new.text(r.field()) != Some(held)).then(|| Departure {
                    relation: r,
                    organization: held.to_owned(),
                    id: old.id,
                    bubble_id: old.bubble_id.clone(),
                    created_at: old.created_at,
                    left_at: self.new.updated_at,
                    version: self.new.version,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Intent, Patch, Plan};
    use serde_json::json;

    const A: &str = "6f1c1a52-8a0e-4c57-9a59-6d2b9e3f0a01";
    const B: &str = "6f1c1a52-8a0e-4c57-9a59-6d2b9e3f0a02";

    fn created(body: serde_json::Value) -> User {
        let b = BubbleId::parse("b1").unwrap();
        let p = Patch::from_json(&body).unwrap();
        match Intent::Upsert(&b, &p).plan(None, None).unwrap() {
            Plan::Write(t) => t.new,
            Plan::Unchanged(_) => panic!("a creation writes"),
        }
    }

    fn after(user: &User, intent: Intent<'_>) -> Transition {
        match intent.plan(Some(user), None).unwrap() {
            Plan::Write(t) => *t,
            Plan::Unchanged(_) => panic!("the intent writes"),
        }
    }

    #[test]
    fn changing_a_relation_leaves_the_organization_it_named() {
        let user = created(json!({"producerId": A, "sellerId": A}));
        let p = Patch::from_json(&json!({"producerId": B})).unwrap();
        let t = after(&user, Intent::Update(&p));
        let left = t.departures();
        assert_eq!(left.len(), 1, "only the producer changed: {left:?}");
        assert_eq!(left[0].relation, Relation::Producer);
        assert_eq!(left[0].organization, A);
        let tomb = left[0].tombstone();
        assert_eq!(tomb.deleted_at, Some(t.new.updated_at));
        assert_eq!(tomb.version, t.new.version);
        assert_eq!(tomb.profile, Profile::default(), "nothing personal");
    }

    #[test]
    fn unsetting_a_relation_leaves_and_setting_one_does_not() {
        let user = created(json!({"producerId": A}));
        let p = Patch::from_json(&json!({"producerId": null})).unwrap();
        assert_eq!(after(&user, Intent::Update(&p)).departures().len(), 1);
        let p = Patch::from_json(&json!({"sellerId": B, "lastName": "L"})).unwrap();
        assert!(after(&user, Intent::Update(&p)).departures().is_empty());
    }
}
