//! One-off: brings a table written before canonical identity keys and id guards to the
//! current rules. Idempotent; prints what it did.
//!
//! `TABLE_NAME=… META_TABLE_NAME=… cargo run --release --example migrate_keys`
//! (`DELETED_RETENTION_DAYS` as the function has it, default 30)
//! (AWS credentials and region from environment variables, as the function reads them;
//! `AWS_ENDPOINT_URL_DYNAMODB` for a local server).

use users_api::domain::Retention;
use users_api::store::dynamo::{client_from_env, DynamoStore};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let users = std::env::var("TABLE_NAME")?;
    let meta = std::env::var("META_TABLE_NAME")?;
    let client = client_from_env(|name| std::env::var(name).ok())?;
    // Deleted items get expiresAt by the retention the function runs with.
    let days = match std::env::var("DELETED_RETENTION_DAYS") {
        Ok(d) => d.parse()?,
        Err(_) => users_api::domain::retention::DEFAULT_DAYS,
    };
    let store = DynamoStore::new(client, users, meta, 1).with_retention(Retention::days(days));
    let report = store.migrate_keys().await?;
    println!(
        "{} users read, {} id guards written, {} keys moved to their canonical form, {} shown names held as usernames, {} relation index keys added, {} segment index keys added, {} deleted items given their expiry",
        report.users, report.ids_held, report.rekeyed, report.names_held, report.linked, report.segmented, report.expiring
    );
    for b in &report.conflicts {
        println!("conflict: user {b} has a key another active user holds; left as it was");
    }
    Ok(())
}
