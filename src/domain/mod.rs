//! The user directory's rules, free of HTTP and storage.

pub mod change;
pub mod departure;
pub mod fields;
pub mod identity;
pub mod ids;
pub mod issue;
pub mod patch;
pub mod plan;
pub mod relation;
pub mod retention;
pub mod time;
pub mod transition;
pub mod user;

pub use change::{changed_fields, classify, ChangeKind};
pub use departure::Departure;
pub use fields::{Field, Kind, Value, FIELDS};
pub use identity::{Guard, UniqueField};
pub use ids::{BubbleId, UserRef};
pub use issue::FieldIssue;
pub use patch::Patch;
pub use plan::{DomainError, Intent, Plan, Transition};
pub use relation::Relation;
pub use retention::{Clock, Retention};
pub use time::Timestamp;
pub use user::{DeletionRecord, Profile, User};
