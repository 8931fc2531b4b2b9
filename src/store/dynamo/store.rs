//! The DynamoDB store's handle: its client, its two tables and its settings. Each of the
//! sibling modules adds the operations of one concern to it.

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
    /// The directory's epoch once the counters settled it (`epoch.rs`).
    pub(super) epoch: Arc<OnceLock<Option<Timestamp>>>,
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
            .await
    }
}
