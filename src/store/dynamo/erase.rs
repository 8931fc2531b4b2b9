//! Erasure's share of the meta table: the person's deletion records, found and scrubbed of
//! their e-mail and username (the record of the deletion itself stays, until retention).
//!
//! The records are partitioned by the shard of the user's `id` and sorted by deletion time,
//! so finding one person's records reads that shard's history partition with a filter on
//! the `id`: erasure is rare, and retention keeps the partition to its last days of
//! deletions. Scrubbing is an `Update` of each record in the erasure's transaction.

use aws_sdk_dynamodb::types::{ReturnConsumedCapacity, TransactWriteItem, Update};
use uuid::Uuid;

use super::errors::store_error;
use super::failure::{build, WriteFailure};
use super::item::*;
use super::metering::metered;
use super::store::DynamoStore;
use crate::store::StoreError;

/// Deletion records scrubbed inside the erasure's transaction (DynamoDB takes 100 actions;
/// the user, its guards, the counter, a new record and three departures take at most nine).
/// Any more are scrubbed right after it, one request each.
pub(super) const IN_TRANSACTION: usize = 90;

/// The update that removes a deletion record's e-mail and username.
pub(super) fn scrub(meta: &str, key: &Item) -> Result<TransactWriteItem, WriteFailure> {
    let update = Update::builder()
        .table_name(meta)
        .set_key(Some(key.clone()))
        .update_expression("REMOVE #email, #username")
        .condition_expression("attribute_exists(#pk)")
        .expression_attribute_names("#email", "email")
        .expression_attribute_names("#username", "username")
        .expression_attribute_names("#pk", PK);
    Ok(TransactWriteItem::builder()
        .update(build(update.build())?)
        .build())
}

impl DynamoStore {
    /// The keys of every deletion record of the user `id`.
    pub(super) async fn history_keys(&self, id: &Uuid) -> Result<Vec<Item>, StoreError> {
        let mut keys = Vec::new();
        let mut start = None;
        loop {
            let page = metered(
                self.client
                    .query()
                    .table_name(&self.meta)
                    .key_condition_expression("#pk = :pk")
                    .filter_expression("#id = :id")
                    .projection_expression("#pk, #sk")
                    .expression_attribute_names("#pk", PK)
                    .expression_attribute_names("#sk", SK)
                    .expression_attribute_names("#id", ID)
                    .expression_attribute_values(
                        ":pk",
                        s(history_partition(shard_of(id, self.shards))),
                    )
                    .expression_attribute_values(":id", s(id.to_string()))
                    .consistent_read(true)
                    .set_exclusive_start_key(start)
                    .return_consumed_capacity(ReturnConsumedCapacity::Total)
                    .send(),
            )
            .await
            .map_err(store_error)?;
            keys.extend(page.items().iter().cloned());
            start = page.last_evaluated_key;
            if start.is_none() {
                return Ok(keys);
            }
        }
    }

    /// Scrubs the records at `keys` one request each (those past [`IN_TRANSACTION`]).
    pub(super) async fn scrub_each(&self, keys: &[Item]) -> Result<(), StoreError> {
        for key in keys {
            metered(
                self.client
                    .update_item()
                    .table_name(&self.meta)
                    .set_key(Some(key.clone()))
                    .update_expression("REMOVE #email, #username")
                    .expression_attribute_names("#email", "email")
                    .expression_attribute_names("#username", "username")
                    .return_consumed_capacity(ReturnConsumedCapacity::Total)
                    .send(),
            )
            .await
            .map_err(store_error)?;
        }
        Ok(())
    }
}
