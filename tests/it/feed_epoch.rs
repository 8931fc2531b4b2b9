//! The seed's clients sync from `updateFrom=1999-01-01` by default. A date before the
//! directory first held a user cannot hide a purged deletion, so it is a full sync like
//! 1970-01-01; every date that could hide one stays 410. Both stores, an injected clock.

use crate::common;

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use aws_sdk_dynamodb::types::AttributeValue;
use users_api::domain::Timestamp;
use users_api::store::dynamo::DynamoStore;
use users_api::store::UserStore;

const DAY_MS: i64 = 86_400_000;

fn days_from_now(days: i64) -> String {
    Timestamp::from_millis(Timestamp::now().millis() + days * DAY_MS).to_rfc3339()
}

async fn a_date_before_the_first_user_is_a_full_sync(store: Arc<dyn UserStore>) {
    let offset = Arc::new(AtomicI64::new(0));
    let c = common::clocked_client(store, offset.clone());
    let made = c
        .call(
            "POST",
            "/users/e1",
            Some(serde_json::json!({"firstName": "Ada"})),
        )
        .await;
    assert_eq!(made.status, 200, "{}", made.text);
    let seed = c.call("GET", "/users?updatedFrom=1999-01-01", None).await;
    assert_eq!(seed.status, 200, "{}", seed.text);
    assert_eq!(
        seed.json()["data"].as_array().map(Vec::len),
        Some(1),
        "{}",
        seed.text
    );
    // Forty days on: a date after the first user and before the horizon could hide a purge.
    offset.store(40 * DAY_MS, Ordering::SeqCst);
    let hiding = c
        .call(
            "GET",
            &format!("/users?updatedFrom={}", days_from_now(1)),
            None,
        )
        .await;
    assert_eq!(hiding.status, 410, "{}", hiding.text);
    let seed = c.call("GET", "/users?updatedFrom=1999-01-01", None).await;
    assert_eq!(seed.status, 200, "still before any user: {}", seed.text);
    let recent = c
        .call(
            "GET",
            &format!("/users?updatedFrom={}", days_from_now(20)),
            None,
        )
        .await;
    assert_eq!(recent.status, 200, "{}", recent.text);
}

on_both_stores!(a_date_before_the_first_user_is_a_full_sync);

/// A table that held users before the epoch was kept has counters without `born`: its old
/// dates stay 410, and a later creation does not make it look newer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dynamodb_a_directory_without_an_epoch_keeps_refusing_old_dates() {
    let store = common::dynamo().await;
    let (users, meta) = store.table_names();
    let (users, meta) = (users.to_owned(), meta.to_owned());
    let client = users_api::store::dynamo::local_client(&common::dynamo_endpoint());
    let c = common::Client::new(Arc::new(store));
    for b in ["old-1", "old-2", "old-3", "old-4", "old-5", "old-6"] {
        let made = c
            .call(
                "POST",
                &format!("/users/{b}"),
                Some(serde_json::json!({"firstName": "A"})),
            )
            .await;
        assert_eq!(made.status, 200);
    }
    // Back to how counters were written before: a count, no `born`.
    for shard in 0..common::SHARDS {
        client
            .update_item()
            .table_name(&meta)
            .key("pk", AttributeValue::S(format!("count#{shard}")))
            .key("sk", AttributeValue::S("users".into()))
            .update_expression("REMOVE born")
            .condition_expression("attribute_exists(pk)")
            .send()
            .await
            .ok();
    }
    // A fresh instance (new handle, empty cache) on the same tables, as after a deploy.
    let again = DynamoStore::new(client.clone(), users, meta, common::SHARDS);
    let c2 = common::Client::new(Arc::new(again));
    let old = c2.call("GET", "/users?updatedFrom=1999-01-01", None).await;
    assert_eq!(old.status, 410, "{}", old.text);
    let made = c2
        .call(
            "POST",
            "/users/new",
            Some(serde_json::json!({"firstName": "B"})),
        )
        .await;
    assert_eq!(made.status, 200, "{}", made.text);
    let old = c2.call("GET", "/users?updatedFrom=1999-01-01", None).await;
    assert_eq!(
        old.status, 410,
        "a directory that held users gets no epoch later: {}",
        old.text
    );
}
