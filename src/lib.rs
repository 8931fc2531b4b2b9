//! users-api: a serverless user directory that other systems sync their users into.
//!
//! [`app`] builds the one router used by the Lambda binary, `cargo lambda watch` and the
//! tests; [`build_store`] picks the store the configuration names.

pub mod api;
mod app;
pub mod config;
pub mod domain;
pub mod edge;
pub mod events;
pub mod keys;
pub mod metrics;
pub mod oidc;
pub mod scim;
pub mod store;
pub mod telemetry;

use std::sync::Arc;

pub use app::app;
use config::{Config, StoreConfig};
use domain::Retention;
pub use edge::AppState;
use store::dynamo::{client_from_settings, DynamoStore};
use store::memory::MemoryStore;
use store::UserStore;

/// Builds the configured store, once per cold start.
pub async fn build_store(config: &Config) -> Result<Arc<dyn UserStore>, String> {
    let retention = Retention::days(config.deleted_retention_days);
    match &config.store {
        StoreConfig::Memory => Ok(Arc::new(MemoryStore::new().with_retention(retention))),
        StoreConfig::Dynamo {
            users_table,
            meta_table,
            create_tables,
            aws,
        } => {
            let client = client_from_settings(aws.clone());
            let store = DynamoStore::new(client, users_table, meta_table, config.shards)
                .with_retention(retention);
            if *create_tables {
                store.create_tables().await?;
            }
            Ok(Arc::new(store))
        }
    }
}
