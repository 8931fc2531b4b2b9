//! Where managed keys live: [`KeyStore`], kept by the same store as the users (the
//! DynamoDB meta table, or memory).

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;

use super::KeyRecord;
use crate::domain::{DomainError, Timestamp};
use crate::store::StoreError;

/// Managed key records, found by id or by a secret's hash.
#[async_trait]
pub trait KeyStore: Send + Sync {
    /// Stores a new record.
    async fn create(&self, record: &KeyRecord) -> Result<(), StoreError>;

    /// The record with this id.
    async fn get(&self, id: &str) -> Result<Option<KeyRecord>, StoreError>;

    /// Every record, oldest first.
    async fn list(&self) -> Result<Vec<KeyRecord>, StoreError>;

    /// The record a secret with this hash opens (or opened), strongly consistent.
    async fn by_hash(&self, hash: &str) -> Result<Option<KeyRecord>, StoreError>;

    /// Replaces `old` by `new` (a rotation or a revocation) if `old` is still current:
    /// else `PreconditionFailed`.
    async fn replace(&self, old: &KeyRecord, new: &KeyRecord) -> Result<(), StoreError>;

    /// Records that the key was used at `at`.
    async fn touch(&self, id: &str, at: Timestamp) -> Result<(), StoreError>;
}

/// Managed keys in memory, for the embedded store.
#[derive(Default)]
pub struct MemoryKeys(Mutex<HashMap<String, KeyRecord>>);

impl MemoryKeys {
    fn records(&self) -> std::sync::MutexGuard<'_, HashMap<String, KeyRecord>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[async_trait]
impl KeyStore for MemoryKeys {
    async fn create(&self, record: &KeyRecord) -> Result<(), StoreError> {
        self.records().insert(record.id.clone(), record.clone());
        Ok(())
    }

    async fn get(&self, id: &str) -> Result<Option<KeyRecord>, StoreError> {
        Ok(self.records().get(id).cloned())
    }

    async fn list(&self) -> Result<Vec<KeyRecord>, StoreError> {
        let mut all: Vec<_> = self.records().values().cloned().collect();
        all.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        Ok(all)
    }

    async fn by_hash(&self, hash: &str) -> Result<Option<KeyRecord>, StoreError> {
        Ok(self
            .records()
            .values()
            .find(|r| r.secrets.iter().any(|s| s.hash == hash))
            .cloned())
    }

    async fn replace(&self, old: &KeyRecord, new: &KeyRecord) -> Result<(), StoreError> {
        let mut records = self.records();
        match records.get_mut(&old.id) {
            Some(r) if r.version == old.version => {
                let last_used_at = r.last_used_at;
                *r = new.clone();
                r.last_used_at = last_used_at;
                Ok(())
            }
            _ => Err(DomainError::PreconditionFailed.into()),
        }
    }

    async fn touch(&self, id: &str, at: Timestamp) -> Result<(), StoreError> {
        if let Some(r) = self.records().get_mut(id) {
            r.last_used_at = Some(at);
        }
        Ok(())
    }
}
