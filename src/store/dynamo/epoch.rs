//! The directory's epoch: when it first held a user, as one meta item written once.
//!
//! A change feed walked from before the epoch cannot have missed a purged deletion, so it
//! is a full sync whatever its date. The item is written only by a store that finds the
//! directory has never held a user: no active-counter item exists (counters are never
//! deleted, so a directory whose users were all purged still has them). A directory that
//! held users before this record existed keeps none, and its old dates stay 410. Each
//! instance checks once, on table creation or before its first creation of a user; a
//! feed request older than the horizon reads the item (cached once found).

use std::sync::atomic::Ordering;

use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::ReturnConsumedCapacity;

use super::errors::store_error;
use super::item::*;
use super::metering::metered;
use super::store::DynamoStore;
use crate::domain::Timestamp;
use crate::store::StoreError;

/// Clocks of two instances may differ a little: the epoch is set this much earlier than
/// the instance's own now, so no user's `createdAt` can precede it.
const SKEW_MS: i64 = 5 * 60 * 1000;
const AT: &str = "at";

fn epoch_key() -> Item {
    Item::from([(PK.into(), s("epoch")), (SK.into(), s("directory"))])
}

impl DynamoStore {
    /// The epoch, if recorded (one read per instance until it is found).
    pub(super) async fn read_epoch(&self) -> Result<Option<Timestamp>, StoreError> {
        if let Some(at) = self.epoch.known.get() {
            return Ok(Some(*at));
        }
        let out = metered(
            self.client
                .get_item()
                .table_name(&self.meta)
                .set_key(Some(epoch_key()))
                .consistent_read(true)
                .return_consumed_capacity(ReturnConsumedCapacity::Total)
                .send(),
        )
        .await
        .map_err(store_error)?;
        let at = out
            .item
            .as_ref()
            .and_then(|i| i.get(AT))
            .and_then(|v| v.as_s().ok())
            .and_then(|v| Timestamp::parse(v));
        if let Some(at) = at {
            let _ = self.epoch.known.set(at);
        }
        Ok(at)
    }

    /// Records the epoch if the directory has never held a user; once per instance, before
    /// the instance creates its first user.
    pub(super) async fn mark_epoch(&self) -> Result<(), StoreError> {
        if self.epoch.checked.load(Ordering::Acquire) {
            return Ok(());
        }
        if self.read_epoch().await?.is_none() {
            let counters = (0..self.shards).map(counter_key).collect::<Vec<_>>();
            if self.batch_get(&self.meta, counters).await?.is_empty() {
                self.put_epoch().await?;
            }
        }
        self.epoch.checked.store(true, Ordering::Release);
        Ok(())
    }

    async fn put_epoch(&self) -> Result<(), StoreError> {
        let at = Timestamp::from_millis(Timestamp::now().millis() - SKEW_MS);
        let mut item = epoch_key();
        item.insert(AT.into(), s(at.to_rfc3339()));
        let put = metered(
            self.client
                .put_item()
                .table_name(&self.meta)
                .set_item(Some(item))
                .condition_expression("attribute_not_exists(#pk)")
                .expression_attribute_names("#pk", PK)
                .return_consumed_capacity(ReturnConsumedCapacity::Total)
                .send(),
        )
        .await;
        match put {
            Ok(_) => Ok(()),
            // Another instance recorded it first, as early.
            Err(e)
                if matches!(
                    e.as_service_error(),
                    Some(PutItemError::ConditionalCheckFailedException(_))
                ) =>
            {
                Ok(())
            }
            Err(e) => Err(store_error(e)),
        }
    }
}
