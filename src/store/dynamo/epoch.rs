//! The directory's epoch: when it first held a user, kept on the active counters.
//!
//! A change feed walked from before the epoch cannot have missed a purged deletion, so it
//! is a full sync whatever its date. Every write that changes the active count already
//! updates one counter shard in its transaction; that update also sets the shard's `born`
//! once, to the write's time if the shard is new, or to its count if the shard already held
//! one (a number: counters are never deleted, so that shard held users before the epoch was
//! kept). The epoch is the earliest `born`; a shard without one, or with a number, means the
//! directory held users before this record existed, and then there is none. Only a feed
//! start older than the horizon reads it: one `BatchGetItem` of the counters, cached once
//! known.

use aws_sdk_dynamodb::types::AttributeValue;

use super::item::*;
use super::store::DynamoStore;
use crate::domain::Timestamp;
use crate::store::StoreError;

/// What a counter shard's update sets: its `born`, once (see the module's documentation).
pub(super) const BORN_ONCE: &str = "#born = if_not_exists(#born, if_not_exists(#n, :now))";

impl DynamoStore {
    /// The epoch, if the counters tell it; a directory that never held a user reads as
    /// born now (no date before now can miss anything).
    pub(super) async fn read_epoch(&self) -> Result<Option<Timestamp>, StoreError> {
        if let Some(known) = self.epoch.get() {
            return Ok(*known);
        }
        let keys = (0..self.shards).map(counter_key).collect::<Vec<_>>();
        let counters = self.batch_get(&self.meta, keys).await?;
        if counters.is_empty() {
            return Ok(Some(Timestamp::now()));
        }
        let born = |item: &Item| match item.get(BORN) {
            Some(AttributeValue::S(at)) => Timestamp::parse(at),
            _ => None,
        };
        let epoch = counters
            .iter()
            .map(born)
            .collect::<Option<Vec<_>>>()
            .and_then(|all| all.into_iter().min());
        // Settled either way: a shard's `born` never changes once set.
        let _ = self.epoch.set(epoch);
        Ok(epoch)
    }
}
