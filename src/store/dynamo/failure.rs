//! What one write attempt can end in, short of success: a lost race, a conflict to retry,
//! or a final answer.

use super::decode;
use super::item::Item;
use crate::domain::User;
use crate::store::StoreError;

/// What went wrong with one write attempt.
pub(super) enum WriteFailure {
    /// The user changed since it was read: here it is now (`None`: it does not exist).
    Stale(Option<User>),
    /// A transaction conflict: read again and retry.
    Conflict,
    /// A final answer.
    Failed(StoreError),
}

impl From<StoreError> for WriteFailure {
    fn from(e: StoreError) -> Self {
        WriteFailure::Failed(e)
    }
}

pub(super) fn stale(item: Option<&Item>) -> WriteFailure {
    match item.map(decode).transpose() {
        Ok(user) => WriteFailure::Stale(user),
        Err(e) => WriteFailure::Failed(e),
    }
}

pub(super) fn build<T, E: std::fmt::Debug>(r: Result<T, E>) -> Result<T, WriteFailure> {
    r.map_err(|e| StoreError::Backend(format!("request build: {e:?}")).into())
}
