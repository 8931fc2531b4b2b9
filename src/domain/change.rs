//! What one write did to a user: the kind of change and the public fields it touched.
//!
//! The change events (`src/events/`) are built from this, from the two versions of a user a
//! stream record carries; a move (SCIM `externalId` change) records its own list with it.

use super::fields::FIELDS;
use super::user::User;

/// The kind of a change, as the events' `detail-type` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    /// A new user.
    Created,
    /// Fields changed (a bubbleId move included).
    Updated,
    /// Soft-deleted.
    Deleted,
    /// Reactivated after a soft delete.
    Restored,
    /// `enabled` turned `false`.
    Disabled,
    /// `enabled` turned `true`.
    Enabled,
    /// The person's data was erased (or the retention period removed the user).
    Erased,
}

impl ChangeKind {
    /// The event's `detail-type`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Created => "UserCreated",
            Self::Updated => "UserUpdated",
            Self::Deleted => "UserDeleted",
            Self::Restored => "UserRestored",
            Self::Disabled => "UserDisabled",
            Self::Enabled => "UserEnabled",
            Self::Erased => "UserErased",
        }
    }
}

/// The public field names whose values differ between `old` and `new` (every set field for
/// a new user), in the order of the user's fields. Service-owned timestamps and the version
/// change with every write and are not listed; `deletedAt` and `erasedAt` are.
pub fn changed_fields(old: Option<&User>, new: &User) -> Vec<&'static str> {
    let mut out = Vec::new();
    if old.is_none_or(|o| o.bubble_id != new.bubble_id) {
        out.push("bubbleId");
    }
    for (i, f) in FIELDS.iter().enumerate() {
        let differs = match old {
            // On creation a field is changed when it is set at all.
            None => new.profile.get(i).is_some(),
            Some(old) => old.profile.reads_as(i) != new.profile.reads_as(i),
        };
        if differs {
            out.push(f.name);
        }
    }
    if old.map_or(new.deleted_at.is_some(), |o| o.deleted_at != new.deleted_at) {
        out.push("deletedAt");
    }
    if old.map_or(new.erased_at.is_some(), |o| o.erased_at != new.erased_at) {
        out.push("erasedAt");
    }
    out
}

/// The kind of the change from `old` to `new`, and the fields it changed; `None` when no
/// public field changed (a maintenance write: index keys, guards, markers).
pub fn classify(old: Option<&User>, new: &User) -> Option<(ChangeKind, Vec<&'static str>)> {
    // A new user in an erased or expired one's place (same bubbleId, a new id) is new.
    let old = old.filter(|o| o.id == new.id);
    let changed = changed_fields(old, new);
    let Some(old) = old else {
        return Some((ChangeKind::Created, changed));
    };
    if changed.is_empty() {
        return None;
    }
    let kind = if old.erased_at.is_none() && new.erased_at.is_some() {
        ChangeKind::Erased
    } else if old.is_active() && !new.is_active() {
        ChangeKind::Deleted
    } else if !old.is_active() && new.is_active() {
        ChangeKind::Restored
    } else if old.is_enabled() && !new.is_enabled() {
        ChangeKind::Disabled
    } else if !old.is_enabled() && new.is_enabled() {
        ChangeKind::Enabled
    } else {
        ChangeKind::Updated
    };
    Some((kind, changed))
}
