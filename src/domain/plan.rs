//! The planner: what a request asks of a user ([`Intent`]), planned against the user as it
//! is into nothing to write or one [`Transition`]. Both stores call it, so they agree on
//! every rule; they differ only in how they read the user and make the write conditional.

use uuid::Uuid;

use super::fields::{Value, ENABLED};
use super::ids::BubbleId;
use super::patch::Patch;
use super::time::Timestamp;
use super::user::{DeletionRecord, Profile, User};

pub use super::transition::Transition;

/// Why a planned write cannot happen.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    /// No such user, or it is soft-deleted.
    #[error("user not found")]
    NotFound,
    /// The bubbleId is already used (batch create).
    #[error("bubbleId already exists")]
    BubbleIdTaken,
    /// `If-Match` names another version than the current one.
    #[error("version mismatch")]
    PreconditionFailed,
    /// The body's bubbleId is not the user's.
    #[error("bubbleId cannot be changed")]
    BubbleIdMismatch,
    /// The user was erased: it cannot be restored.
    #[error("the user was erased")]
    Erased,
    /// The write would set the calling key's organization field to another organization
    /// (or none).
    #[error("{0} is the key's organization")]
    OutsideBinding(&'static str),
}

/// What a request asks of a user, before it is planned against the current one.
#[derive(Debug, Clone)]
pub enum Intent<'a> {
    /// Create or merge (reactivating a deleted user).
    Upsert(&'a BubbleId, &'a Patch),
    /// Create only: an existing bubbleId is refused.
    Create(&'a BubbleId, &'a Patch),
    /// Merge into an existing active user.
    Update(&'a Patch),
    /// Soft delete by the named key.
    Delete(&'a str),
    /// Reactivate a soft-deleted user.
    Restore,
    /// Merge into an existing active user and move it to another bubbleId, keeping its
    /// `id` (SCIM's `externalId` change).
    Move(&'a Patch, &'a BubbleId),
    /// Erase the person, by the named key: every personal field removed, a tombstone left.
    Erase(&'a str),
}

/// The outcome of planning: nothing to write, or a transition to make.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plan {
    /// The request changes nothing: no write, the user as it is.
    Unchanged(User),
    /// The write to make.
    Write(Box<Transition>),
}

impl Intent<'_> {
    /// Plans this intent against the current user (`None`: no user with that key).
    ///
    /// Both stores call this, so they agree on every rule; they differ only in how they
    /// read `current` and make the write conditional on it.
    pub fn plan(&self, current: Option<&User>, expect: Option<u64>) -> Result<Plan, DomainError> {
        if let Some((own, claimed)) = self.bubble_ids(current) {
            if claimed != own {
                return Err(DomainError::BubbleIdMismatch);
            }
        }
        if let Some(v) = expect {
            if current.map(|u| u.version) != Some(v) {
                return Err(match current {
                    Some(u) if u.is_active() || self.reaches_deleted() => {
                        DomainError::PreconditionFailed
                    }
                    None if matches!(self, Intent::Upsert(..) | Intent::Create(..)) => {
                        DomainError::PreconditionFailed
                    }
                    _ => DomainError::NotFound,
                });
            }
        }
        let now = Timestamp::now();
        match (self, current) {
            (Intent::Upsert(bubble_id, patch) | Intent::Create(bubble_id, patch), None) => {
                Ok(Plan::Write(Box::new(Transition {
                    old: None,
                    new: fresh(bubble_id, patch, now),
                    deletion: None,
                })))
            }
            // An erased user's bubbleId is free: a new user (a new `id`) takes its place.
            (Intent::Upsert(bubble_id, patch) | Intent::Create(bubble_id, patch), Some(user))
                if user.erased_at.is_some() =>
            {
                Ok(Plan::Write(Box::new(Transition {
                    old: Some(user.clone()),
                    new: fresh(bubble_id, patch, now.after(user.updated_at)),
                    deletion: None,
                })))
            }
            (Intent::Create(..), Some(_)) => Err(DomainError::BubbleIdTaken),
            (Intent::Upsert(_, patch), Some(user)) => merge_into(user, patch, now, true),
            (Intent::Update(patch), Some(user)) if user.is_active() => {
                merge_into(user, patch, now, false)
            }
            (Intent::Delete(by), Some(user)) if user.is_active() => {
                let mut new = next_version(user, now);
                new.deleted_at = Some(new.updated_at);
                let deletion = DeletionRecord {
                    id: user.id,
                    bubble_id: user.bubble_id.clone(),
                    email: user.email().map(str::to_owned),
                    username: user.username().map(str::to_owned),
                    deleted_at: new.updated_at,
                    deleted_by: (*by).to_owned(),
                };
                Ok(Plan::Write(Box::new(Transition {
                    old: Some(user.clone()),
                    new,
                    deletion: Some(deletion),
                })))
            }
            (Intent::Restore, Some(user)) if user.erased_at.is_some() => Err(DomainError::Erased),
            (Intent::Erase(by), Some(user)) if user.erased_at.is_none() => Ok(erase(user, by, now)),
            (Intent::Restore, Some(user)) if !user.is_active() => {
                let mut new = next_version(user, now);
                new.deleted_at = None;
                Ok(Plan::Write(Box::new(Transition {
                    old: Some(user.clone()),
                    new,
                    deletion: None,
                })))
            }
            (Intent::Restore, Some(user)) => Ok(Plan::Unchanged(user.clone())),
            (Intent::Move(patch, to), Some(user)) if user.is_active() => {
                if *to == &user.bubble_id {
                    return merge_into(user, patch, now, false);
                }
                let mut new = next_version(user, now);
                new.profile = patch.apply(&user.profile);
                new.bubble_id = (*to).clone();
                Ok(Plan::Write(Box::new(Transition {
                    old: Some(user.clone()),
                    new,
                    deletion: None,
                })))
            }
            _ => Err(DomainError::NotFound),
        }
    }

    /// The bubbleId being written and the one the body names, when the body names one:
    /// they must be equal (the body cannot move a user to another key).
    fn bubble_ids<'u>(&'u self, current: Option<&'u User>) -> Option<(&'u BubbleId, &'u BubbleId)> {
        let (own, patch) = match self {
            Intent::Upsert(b, p) | Intent::Create(b, p) => (Some(*b), *p),
            Intent::Update(p) => (current.map(|u| &u.bubble_id), *p),
            Intent::Move(p, to) => (Some(*to), *p),
            Intent::Delete(_) | Intent::Restore | Intent::Erase(_) => return None,
        };
        Some((own?, patch.bubble_id.as_ref()?))
    }

    fn reaches_deleted(&self) -> bool {
        matches!(
            self,
            Intent::Upsert(..) | Intent::Restore | Intent::Erase(_)
        )
    }
}

/// A new user under `bubble_id`, with the patch's fields.
fn fresh(bubble_id: &BubbleId, patch: &Patch, now: Timestamp) -> User {
    User {
        id: Uuid::new_v4(),
        bubble_id: bubble_id.clone(),
        profile: created_profile(patch),
        created_at: now,
        updated_at: now,
        deleted_at: None,
        erased_at: None,
        version: 1,
    }
}

/// The tombstone of `user`: every personal field removed, deleted (if it was not) and
/// erased now. An active user's deletion is recorded, without its e-mail or username.
fn erase(user: &User, by: &str, now: Timestamp) -> Plan {
    let mut new = next_version(user, now);
    new.profile = Profile::default();
    new.erased_at = Some(new.updated_at);
    new.deleted_at = user.deleted_at.or(Some(new.updated_at));
    let deletion = user.is_active().then(|| DeletionRecord {
        id: user.id,
        bubble_id: user.bubble_id.clone(),
        email: None,
        username: None,
        deleted_at: new.updated_at,
        deleted_by: by.to_owned(),
    });
    Plan::Write(Box::new(Transition {
        old: Some(user.clone()),
        new,
        deletion,
    }))
}

/// A new user's fields: the patch's, with `enabled` set `true` unless the patch sets it.
fn created_profile(patch: &Patch) -> Profile {
    let mut profile = patch.apply(&Profile::default());
    if profile.get(ENABLED).is_none() {
        profile.set(ENABLED, Some(Value::Bool(true)));
    }
    profile
}

fn next_version(user: &User, now: Timestamp) -> User {
    User {
        updated_at: now.after(user.updated_at),
        version: user.version + 1,
        ..user.clone()
    }
}

fn merge_into(
    user: &User,
    patch: &Patch,
    now: Timestamp,
    reactivate: bool,
) -> Result<Plan, DomainError> {
    let profile = patch.apply(&user.profile);
    let revive = reactivate && !user.is_active();
    if profile.reads_like(&user.profile) && !revive {
        return Ok(Plan::Unchanged(user.clone()));
    }
    let mut new = next_version(user, now);
    new.profile = profile;
    if revive {
        new.deleted_at = None;
    }
    Ok(Plan::Write(Box::new(Transition {
        old: Some(user.clone()),
        new,
        deletion: None,
    })))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::fields::field_index;
    use serde_json::{json, Value as Json};

    fn patch(body: Json) -> Patch {
        Patch::from_json(&body).expect("valid patch")
    }

    fn created(body: Json) -> User {
        let b = BubbleId::parse("b1").unwrap();
        let p = patch(body);
        match Intent::Upsert(&b, &p).plan(None, None).unwrap() {
            Plan::Write(t) => t.new,
            Plan::Unchanged(_) => panic!("a creation writes"),
        }
    }

    fn written(plan: Result<Plan, DomainError>) -> Transition {
        match plan.unwrap() {
            Plan::Write(t) => *t,
            Plan::Unchanged(_) => panic!("expected a write"),
        }
    }

    #[test]
    fn absent_fields_stay_and_null_erases() {
        let user = created(json!({"firstName": "Ada", "lastName": "Lovelace"}));
        let p = patch(json!({"firstName": null}));
        let t = written(Intent::Update(&p).plan(Some(&user), None));
        assert_eq!(t.new.profile.get(field_index("firstName").unwrap()), None);
        assert_eq!(
            t.new.profile.get(field_index("lastName").unwrap()),
            Some(&Value::Text("Lovelace".into()))
        );
        assert_eq!(t.new.version, 2);
        assert!(t.new.updated_at > user.updated_at);
    }

    #[test]
    fn a_patch_that_changes_nothing_plans_no_write() {
        let user = created(json!({"firstName": "Ada"}));
        let p = patch(json!({"firstName": "Ada", "updatedAt": "2024-01-19T12:45:04.147Z"}));
        assert_eq!(
            Intent::Update(&p).plan(Some(&user), None),
            Ok(Plan::Unchanged(user))
        );
    }

    #[test]
    fn every_bad_field_is_reported_by_name() {
        let issues = Patch::from_json(&json!({"id": "x", "nope": 1, "email": "bad"})).unwrap_err();
        let names: Vec<_> = issues.iter().map(|i| i.field.as_str()).collect();
        assert_eq!(names, ["id", "nope", "email"]);
    }

    #[test]
    fn a_stale_if_match_is_a_failed_precondition() {
        let user = created(json!({}));
        let p = patch(json!({"firstName": "x"}));
        assert_eq!(
            Intent::Update(&p).plan(Some(&user), Some(7)),
            Err(DomainError::PreconditionFailed)
        );
    }

    #[test]
    fn deleting_releases_the_guards_and_records_the_deletion() {
        let user = created(json!({"email": "A@x.io", "username": "ada"}));
        let t = written(Intent::Delete("ops").plan(Some(&user), None));
        assert_eq!(t.releases().len(), 2);
        assert!(t.claims().is_empty());
        assert_eq!(t.active_delta(), -1);
        assert_eq!(t.deletion.unwrap().email.as_deref(), Some("A@x.io"));
    }

    #[test]
    fn an_email_change_of_case_only_keeps_the_guard() {
        let user = created(json!({"email": "A@x.io"}));
        let p = patch(json!({"email": "a@X.io"}));
        let t = written(Intent::Update(&p).plan(Some(&user), None));
        assert!(t.is_simple());
    }

    #[test]
    fn upserting_a_deleted_user_reactivates_it_with_the_same_id() {
        let user = created(json!({"email": "a@x.io"}));
        let deleted = written(Intent::Delete("k").plan(Some(&user), None)).new;
        let b = user.bubble_id.clone();
        let p = patch(json!({}));
        let t = written(Intent::Upsert(&b, &p).plan(Some(&deleted), None));
        assert_eq!(t.new.id, user.id);
        assert!(t.new.is_active());
        // Its e-mail, and the e-mail again as the name it shows (it has no username).
        let claimed: Vec<_> = t.claims().into_iter().map(|g| g.field.name()).collect();
        assert_eq!(claimed, ["email", "username"]);
    }

    #[test]
    fn a_creation_refuses_a_body_naming_another_bubble_id() {
        let b = BubbleId::parse("path-id").unwrap();
        let p = patch(json!({"bubbleId": "other"}));
        assert_eq!(
            Intent::Upsert(&b, &p).plan(None, None),
            Err(DomainError::BubbleIdMismatch)
        );
        assert_eq!(
            Intent::Create(&b, &p).plan(None, None),
            Err(DomainError::BubbleIdMismatch)
        );
    }

    #[test]
    fn a_new_user_is_enabled_unless_the_patch_says_otherwise() {
        assert!(created(json!({})).is_enabled());
        assert_eq!(
            created(json!({})).profile.get(ENABLED),
            Some(&Value::Bool(true))
        );
        assert!(!created(json!({"enabled": false})).is_enabled());
    }

    #[test]
    fn a_move_keeps_the_id_and_hands_every_guard_to_the_new_key() {
        let user = created(json!({"email": "a@x.io", "username": "ann"}));
        let to = BubbleId::parse("b2").unwrap();
        let p = patch(json!({"firstName": "Ann"}));
        let t = written(Intent::Move(&p, &to).plan(Some(&user), None));
        assert_eq!((t.new.id, &t.new.bubble_id), (user.id, &to));
        assert!(t.is_move() && !t.is_simple());
        assert_eq!(t.kept().len(), 2);
        assert!(t.claims().is_empty() && t.releases().is_empty());
        let same = Intent::Move(&p, &user.bubble_id).plan(Some(&user), None);
        assert!(!written(same).is_move(), "to its own key is a plain merge");
    }

    #[test]
    fn a_body_bubble_id_must_be_the_users() {
        let user = created(json!({}));
        let p = patch(json!({"bubbleId": "other"}));
        assert_eq!(
            Intent::Update(&p).plan(Some(&user), None),
            Err(DomainError::BubbleIdMismatch)
        );
    }
}
