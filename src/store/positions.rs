//! Where a user or a deletion sits in each list, as a sortable string: the key of the
//! embedded store's ordered maps and of DynamoDB's index sort keys alike.

use crate::domain::{BubbleId, DeletionRecord, Timestamp, User};

/// Position in the active list: creation order, never changed by updates.
pub fn active_key(user: &User) -> String {
    format!("{}#{}", user.created_at.to_rfc3339(), user.bubble_id)
}

/// Position in the change feed: (`updatedAt`, `bubbleId`).
pub fn feed_key(user: &User) -> String {
    feed_key_of(user.updated_at, &user.bubble_id)
}

/// The change-feed position of a user updated at `at`.
pub fn feed_key_of(at: Timestamp, bubble_id: &BubbleId) -> String {
    format!("{}#{}", at.to_rfc3339(), bubble_id)
}

/// Position in the deleted history: (`deletedAt`, `id`), listed newest first.
pub fn history_key(d: &DeletionRecord) -> String {
    format!("{}#{}", d.deleted_at.to_rfc3339(), d.id)
}
