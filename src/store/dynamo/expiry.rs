//! The migration's share for retention: items written before deleted users expired get their
//! `expiresAt`, so DynamoDB's time to live removes them like newer ones. A deleted user's
//! item is updated conditional on its version; a deletion record only while it has none.

use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::RequestId;

use super::errors::store_error;
use super::item::*;
use super::migrate::Report;
use super::store::DynamoStore;
use crate::domain::User;
use crate::store::StoreError;

impl DynamoStore {
    /// Gives a deleted user's item the `expiresAt` it lacks.
    pub(super) async fn expire_user(
        &self,
        item: &Item,
        user: &User,
        report: &mut Report,
    ) -> Result<(), StoreError> {
        let Some(deleted_at) = user.deleted_at.filter(|_| !item.contains_key(EXPIRES_AT)) else {
            return Ok(());
        };
        let expiry = expiry_attr(self.retention.expiry(deleted_at));
        if self.set_at_version(user, EXPIRES_AT, expiry).await? {
            report.expiring += 1;
        }
        Ok(())
    }

    /// Gives every deletion record the `expiresAt` it lacks (a scan of the meta table).
    pub(super) async fn expire_records(&self, report: &mut Report) -> Result<(), StoreError> {
        let mut start = None;
        loop {
            let page = self
                .client
                .scan()
                .table_name(&self.meta)
                .filter_expression("begins_with(#pk, :history) AND attribute_not_exists(#exp)")
                .expression_attribute_names("#pk", PK)
                .expression_attribute_names("#exp", EXPIRES_AT)
                .expression_attribute_values(":history", s("deleted#"))
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(store_error)?;
            for item in page.items() {
                let record = deletion_from_item(item).map_err(StoreError::Backend)?;
                let key =
                    Item::from([(PK.into(), item[PK].clone()), (SK.into(), item[SK].clone())]);
                let set = self
                    .client
                    .update_item()
                    .table_name(&self.meta)
                    .set_key(Some(key))
                    .update_expression("SET #exp = :exp")
                    .condition_expression("attribute_exists(#pk) AND attribute_not_exists(#exp)")
                    .expression_attribute_names("#pk", PK)
                    .expression_attribute_names("#exp", EXPIRES_AT)
                    .expression_attribute_values(
                        ":exp",
                        expiry_attr(self.retention.expiry(record.deleted_at)),
                    )
                    .send()
                    .await;
                count(set, &mut report.expiring)?;
            }
            start = page.last_evaluated_key;
            if start.is_none() {
                return Ok(());
            }
        }
    }
}

/// Counts a conditional update that applied; one that lost to a writer (who set the
/// attribute itself, or changed the user) is no error.
fn count<T, E, R>(result: Result<T, SdkError<E, R>>, counter: &mut u64) -> Result<(), StoreError>
where
    E: ProvideErrorMetadata + RequestId + std::fmt::Debug,
    R: std::fmt::Debug,
{
    match result {
        Ok(_) => {
            *counter += 1;
            Ok(())
        }
        Err(e) if e.code() == Some("ConditionalCheckFailedException") => Ok(()),
        Err(e) => Err(store_error(e)),
    }
}
