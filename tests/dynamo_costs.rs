//! What each operation costs in DynamoDB requests, read from `Server-Timing` as a client
//! sees it, against the local server.

mod common;

use std::sync::Arc;

use common::Client;
use serde_json::json;
use users_api::store::meter::{self, Meter};
use users_api::store::UserStore;

async fn client() -> Client {
    Client::new(common::dynamo_store().await)
}

#[tokio::test]
async fn each_single_user_operation_stays_within_its_request_budget() {
    let c = client().await;
    let create = c
        .call(
            "POST",
            "/users/b1",
            Some(json!({"email": "a@x.io", "firstName": "A"})),
        )
        .await;
    assert_eq!(create.status, 200, "{}", create.text);
    assert!(
        create.db_requests() <= 2,
        "create: {}",
        create.db_requests()
    );
    let id = create.json()["id"].as_str().unwrap().to_owned();

    let update = c
        .call("POST", "/users/b1", Some(json!({"firstName": "B"})))
        .await;
    assert_eq!(
        (update.status.as_u16(), update.db_requests()),
        (200, 1),
        "update without email change"
    );
    assert_eq!(update.json()["version"], 2);

    let noop = c
        .call(
            "POST",
            "/users/b1",
            Some(json!({"firstName": "B", "email": "a@x.io"})),
        )
        .await;
    assert_eq!(
        (noop.status.as_u16(), noop.db_requests()),
        (200, 1),
        "a write that changes nothing"
    );
    assert_eq!(noop.json()["version"], 2);

    let by_bubble = c.call("GET", "/users/b1", None).await;
    assert_eq!(
        (by_bubble.status.as_u16(), by_bubble.db_requests()),
        (200, 1),
        "get by bubbleId"
    );
    let by_id = c.call("GET", &format!("/users/{id}"), None).await;
    assert_eq!(
        (by_id.status.as_u16(), by_id.db_requests()),
        (200, 1),
        "get by id"
    );

    let email = c
        .call("POST", "/users/b1", Some(json!({"email": "b@x.io"})))
        .await;
    assert_eq!(email.status, 200);
    assert!(
        email.db_requests() <= 2,
        "email change: {}",
        email.db_requests()
    );

    let put = c
        .call("PUT", "/users/b1", Some(json!({"lastName": "L"})))
        .await;
    assert_eq!(
        (put.status.as_u16(), put.db_requests()),
        (200, 1),
        "update by bubbleId"
    );

    let delete = c.call("DELETE", "/users/b1", None).await;
    assert_eq!(delete.status, 200);
    assert!(
        delete.db_requests() <= 2,
        "delete: {}",
        delete.db_requests()
    );

    let restore = c.call("POST", &format!("/users/{id}/restore"), None).await;
    assert_eq!(restore.status, 200, "{}", restore.text);
    assert!(
        restore.db_requests() <= 2,
        "restore by id: {}",
        restore.db_requests()
    );
    c.call("DELETE", "/users/b1", None).await;
    let restore = c.call("POST", "/users/b1/restore", None).await;
    assert!(
        restore.db_requests() <= 2,
        "restore by bubbleId: {}",
        restore.db_requests()
    );
}

#[tokio::test]
async fn list_pages_read_about_one_page_however_many_users_are_deleted() {
    let store = Arc::new(common::dynamo().await);
    let shared: Arc<dyn UserStore> = store.clone();
    let c = Client::new(shared.clone());
    for i in 0..40 {
        let answer = c
            .call(
                "POST",
                &format!("/users/u{i:02}"),
                Some(json!({"firstName": "x"})),
            )
            .await;
        assert_eq!(answer.status, 200);
        if i % 2 == 1 {
            assert_eq!(
                c.call("DELETE", &format!("/users/u{i:02}"), None)
                    .await
                    .status,
                200
            );
        }
    }
    let page_size = 5;
    for (list, expected) in [("users", 20), ("feed", 40)] {
        let mut after = None;
        let mut seen = 0;
        loop {
            let m = Arc::new(Meter::default());
            let page = meter::scope(m.clone(), async {
                match list {
                    "users" => shared.list_active(after.as_deref(), page_size).await,
                    _ => {
                        shared
                            .changes("2000-01-01", after.as_deref(), page_size)
                            .await
                    }
                }
            })
            .await
            .unwrap();
            assert!(
                m.items_read() <= (page_size as u64) + u64::from(common::SHARDS),
                "{list}: a page of {page_size} read {} items",
                m.items_read()
            );
            seen += page.items.len();
            match page.next {
                Some(n) => after = Some(n),
                None => break,
            }
        }
        assert_eq!(seen, expected, "{list}");
    }
    let counted = c.call("GET", "/users?pageSize=5", None).await;
    assert_eq!(counted.json()["pagination"]["totalItems"], 20);
}

#[tokio::test]
async fn a_batch_costs_one_request_per_item_created_or_refused() {
    let c = client().await;
    c.call(
        "POST",
        "/users/existing",
        Some(json!({"email": "taken@x.io"})),
    )
    .await;
    let batch = json!([
        {"bubbleId": "n1", "email": "n1@x.io"},
        {"bubbleId": "n2"},
        {"bubbleId": "existing"},
        {"bubbleId": "n3", "email": "taken@x.io"},
    ]);
    let answer = c.call("POST", "/users", Some(batch)).await;
    let statuses: Vec<_> = answer.json()["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["status"].as_u64().unwrap())
        .collect();
    assert_eq!(statuses, [201, 201, 409, 409]);
    assert_eq!(
        answer.db_requests(),
        4,
        "one conditional write per item, no read first"
    );
}
