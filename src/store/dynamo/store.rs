//! The DynamoDB store's handle: its client, its two tables and its settings. Each of the
//! sibling modules adds the operations of one concern to it.

use std::sync::atomic::AtomicBool;
use std::sync::{Arc, OnceLock};

use aws_sdk_dynamodb::Client;

use super::schema;
use crate::domain::{Retention, Timestamp};

/// A [`UserStore`] on two DynamoDB tables (see [`schema`]).
#[derive(Clone)]
pub struct DynamoStore {
    pub(super) client: Client,
    pub(super) users: String,
    pub(super) meta: String,
    pub(super) shards: u32,
    pub(super) retention: Retention,
    /// What this instance knows of the directory's epoch.
    pub(super) epoch: Arc<EpochCache>,
}

/// What an instance knows of the directory's epoch (see `epoch.rs`).
#[derive(Debug, Default)]
pub struct EpochCache {
    /// The epoch, once read.
    pub(super) known: OnceLock<Timestamp>,
    /// Whether this instance has made sure the epoch is recorded where it can be.
    pub(super) checked: AtomicBool,
}

impl DynamoStore {
    /// A store on the tables `users` and `meta`, with `shards` index and counter shards.
    pub fn new(
        client: Client,
        users: impl Into<String>,
        meta: impl Into<String>,
        shards: u32,
    ) -> Self {
        Self {
            client,
            users: users.into(),
            meta: meta.into(),
            shards: shards.max(1),
            retention: Retention::default(),
            epoch: Arc::default(),
        }
    }

    /// The same store with another retention of deleted users (and its clock).
    pub fn with_retention(mut self, retention: Retention) -> Self {
        self.retention = retention;
        self
    }

    /// The users and meta table names.
    pub fn table_names(&self) -> (&str, &str) {
        (&self.users, &self.meta)
    }

    /// Creates both tables if they are missing (local runs and tests only).
    pub async fn create_tables(&self) -> Result<(), String> {
        schema::users_table()
            .create_if_missing(&self.client, &self.users)
            .await?;
        schema::meta_table()
            .create_if_missing(&self.client, &self.meta)
            .await?;
        self.mark_epoch().await.map_err(|e| e.to_string())
    }
}
