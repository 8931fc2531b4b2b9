//! Managed API keys in the meta table: one record item per key (`pk = "key"`, `sk` = its
//! id) and one item per secret hash (`pk = "keyhash#<sha256>"`) holding a copy of the
//! record, so authenticating a secret is one `GetItem`. Every change writes the record and
//! its hash items in one transaction, conditional on the record's version. A rotated-out
//! hash carries `expiresAt`, so the table's time to live removes it after its overlap.

use async_trait::async_trait;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{Put, ReturnConsumedCapacity, TransactWriteItem};

use super::errors::{other, service_error, store_error};
use super::item::*;
use super::metering::metered;
use super::store::DynamoStore;
use crate::domain::{DomainError, Timestamp};
use crate::keys::{KeyRecord, KeyStore};
use crate::store::StoreError;

/// The partition of key records.
const RECORDS: &str = "key";
/// The record, as JSON.
const DOC: &str = "doc";
/// When the key was last used (kept apart from the record: touched without a transaction).
const LAST_USED: &str = "lastUsedAt";
/// A hash item's key id.
const KEY_ID: &str = "keyId";

fn record_key(id: &str) -> Item {
    Item::from([(PK.into(), s(RECORDS)), (SK.into(), s(id))])
}

fn hash_key(hash: &str) -> Item {
    Item::from([
        (PK.into(), s(format!("keyhash#{hash}"))),
        (SK.into(), s("-")),
    ])
}

fn decode(item: &Item) -> Result<KeyRecord, StoreError> {
    let doc = item
        .get(DOC)
        .and_then(|v| v.as_s().ok())
        .and_then(|d| serde_json::from_str(d).ok());
    let last_used = item
        .get(LAST_USED)
        .and_then(|v| v.as_s().ok())
        .and_then(|t| Timestamp::parse_rfc3339(t));
    doc.and_then(|d| KeyRecord::from_stored(&d, last_used))
        .ok_or_else(|| StoreError::Backend("unreadable key record".into()))
}

impl DynamoStore {
    /// The key record at `key` (a record or a hash item), strongly consistent.
    async fn read_key(&self, key: Item) -> Result<Option<KeyRecord>, StoreError> {
        let out = metered(
            self.client
                .get_item()
                .table_name(&self.meta)
                .set_key(Some(key))
                .consistent_read(true)
                .return_consumed_capacity(ReturnConsumedCapacity::Total)
                .send(),
        )
        .await
        .map_err(store_error)?;
        out.item.as_ref().map(decode).transpose()
    }

    /// The transaction that makes `new` current, conditional on `old`'s version (`None`:
    /// on there being no record).
    async fn write_key(&self, old: Option<&KeyRecord>, new: &KeyRecord) -> Result<(), StoreError> {
        let doc = s(new.to_stored().to_string());
        let mut record = record_key(&new.id);
        record.insert(DOC.into(), doc.clone());
        record.insert(VERSION.into(), n(new.version));
        let record = Put::builder().table_name(&self.meta).set_item(Some(record));
        let record = match old {
            Some(old) => record
                .condition_expression("#v = :v")
                .expression_attribute_names("#v", VERSION)
                .expression_attribute_values(":v", n(old.version)),
            None => record
                .condition_expression("attribute_not_exists(#pk)")
                .expression_attribute_names("#pk", PK),
        };
        // The touch lives on the record item: a Put must not lose it.
        let mut actions = vec![put(record)?];
        for secret in &new.secrets {
            let mut item = hash_key(&secret.hash);
            item.insert(KEY_ID.into(), s(new.id.as_str()));
            item.insert(DOC.into(), doc.clone());
            if let Some(until) = secret.until {
                item.insert(EXPIRES_AT.into(), expiry_attr(until));
            }
            actions.push(put(Put::builder()
                .table_name(&self.meta)
                .set_item(Some(item)))?);
        }
        let result = metered(
            self.client
                .transact_write_items()
                .set_transact_items(Some(actions))
                .return_consumed_capacity(ReturnConsumedCapacity::Total)
                .send(),
        )
        .await;
        match result {
            Ok(_) => Ok(()),
            Err(err) => match service_error(err)? {
                TransactWriteItemsError::TransactionCanceledException(_) => {
                    Err(DomainError::PreconditionFailed.into())
                }
                e => Err(other(e)),
            },
        }
    }
}

fn put(p: aws_sdk_dynamodb::types::builders::PutBuilder) -> Result<TransactWriteItem, StoreError> {
    let p = p
        .build()
        .map_err(|e| StoreError::Backend(format!("request build: {e:?}")))?;
    Ok(TransactWriteItem::builder().put(p).build())
}

#[async_trait]
impl KeyStore for DynamoStore {
    async fn create(&self, record: &KeyRecord) -> Result<(), StoreError> {
        self.write_key(None, record).await
    }

    async fn get(&self, id: &str) -> Result<Option<KeyRecord>, StoreError> {
        self.read_key(record_key(id)).await
    }

    async fn list(&self) -> Result<Vec<KeyRecord>, StoreError> {
        let mut records = Vec::new();
        let mut start = None;
        loop {
            let out = metered(
                self.client
                    .query()
                    .table_name(&self.meta)
                    .key_condition_expression("#pk = :pk")
                    .expression_attribute_names("#pk", PK)
                    .expression_attribute_values(":pk", s(RECORDS))
                    .consistent_read(true)
                    .set_exclusive_start_key(start)
                    .return_consumed_capacity(ReturnConsumedCapacity::Total)
                    .send(),
            )
            .await
            .map_err(store_error)?;
            for item in out.items() {
                records.push(decode(item)?);
            }
            match out.last_evaluated_key {
                Some(k) => start = Some(k),
                None => break,
            }
        }
        records.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        Ok(records)
    }

    async fn by_hash(&self, hash: &str) -> Result<Option<KeyRecord>, StoreError> {
        self.read_key(hash_key(hash)).await
    }

    async fn replace(&self, old: &KeyRecord, new: &KeyRecord) -> Result<(), StoreError> {
        self.write_key(Some(old), new).await
    }

    async fn touch(&self, id: &str, at: Timestamp) -> Result<(), StoreError> {
        metered(
            self.client
                .update_item()
                .table_name(&self.meta)
                .set_key(Some(record_key(id)))
                .update_expression("SET #t = :t")
                .condition_expression("attribute_exists(#pk)")
                .expression_attribute_names("#t", LAST_USED)
                .expression_attribute_names("#pk", PK)
                .expression_attribute_values(":t", s(at.to_rfc3339()))
                .return_consumed_capacity(ReturnConsumedCapacity::Total)
                .send(),
        )
        .await
        .map_err(store_error)?;
        Ok(())
    }
}
