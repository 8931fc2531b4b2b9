//! A table written before organizations were counted: the key migration counts each
//! organization's active users, so a bound key's `totalItems` is right from then on.

use super::*;
use users_api::domain::Relation;
use users_api::store::dynamo::item::{organization_counter_key, shard_of};
use users_api::store::dynamo::local_client;

#[tokio::test]
async fn dynamodb_the_key_migration_counts_each_organizations_active_users() {
    let store = Arc::new(common::dynamo().await);
    let admin = Client::new(store.clone());
    let (a, _) = two_organizations(&admin).await;
    let mut ids = Vec::new();
    for i in 0..5 {
        let made = a
            .call("POST", &format!("/users/r{i}"), Some(json!({})))
            .await;
        ids.push(made.json()["id"].as_str().unwrap().parse().unwrap());
    }
    assert_eq!(a.call("DELETE", "/users/r4", None).await.status, 200);
    // As before counters: none stored.
    let (_, meta) = store.table_names();
    let raw = local_client(&common::dynamo_endpoint());
    for id in &ids {
        let key = organization_counter_key(Relation::Producer, ORG_A, shard_of(id, 4));
        raw.delete_item()
            .table_name(meta)
            .set_key(Some(key))
            .send()
            .await
            .unwrap();
    }
    let total = |c: &Client| {
        let c = c.with_key(c.auth_key());
        async move {
            let page = c.call("GET", "/users", None).await.json();
            page["pagination"]["totalItems"].clone()
        }
    };
    assert_eq!(total(&a).await, 0, "no counters yet");
    let report = store.migrate_keys().await.unwrap();
    assert!(report.recounted >= 1, "{report:?}");
    assert_eq!(total(&a).await, 4, "four active users");
    let again = store.migrate_keys().await.unwrap();
    assert_eq!(again.recounted, 0, "a second run changes nothing");
    assert_eq!(a.call("DELETE", "/users/r3", None).await.status, 200);
    assert_eq!(total(&a).await, 3, "writes count on from there");
}
