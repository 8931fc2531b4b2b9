//! The user directory's rules, free of HTTP and storage.

pub mod fields;
pub mod identity;
pub mod ids;
pub mod time;
pub mod user;

pub use fields::{Field, Kind, Value, FIELDS};
pub use ids::{BubbleId, UserRef};
pub use time::Timestamp;
pub use user::{
    feed_key_of, shard_of, DeletionRecord, DomainError, FieldIssue, Guard, Intent, Patch, Plan,
    Profile, Transition, User,
};
