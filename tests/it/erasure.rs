//! Erasure and retention, on both stores: a person erased on request (active or deleted),
//! their history scrubbed and identity freed, a tombstone left that cannot be restored and
//! whose bubbleId a new user may take; deleted users erased after the retention period (by
//! an injected clock); the feed's horizon.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use serde_json::{json, Value};
use users_api::domain::{Retention, Timestamp};
use users_api::store::dynamo::DynamoStore;
use users_api::store::memory::MemoryStore;
use users_api::store::UserStore;

use crate::common::{self, send, Client, READ_KEY};

const DAY_MS: i64 = 86_400_000;

/// A clock the test moves forward.
#[derive(Clone, Default)]
struct Clock(Arc<AtomicI64>);

impl Clock {
    fn retention(&self, days: u32) -> Retention {
        let offset = self.0.clone();
        Retention::with_clock(
            days,
            Arc::new(move || {
                Timestamp::from_millis(Timestamp::now().millis() + offset.load(Ordering::SeqCst))
            }),
        )
    }

    fn advance_days(&self, days: i64) {
        self.0.fetch_add(days * DAY_MS, Ordering::SeqCst);
    }
}

/// Runs each test on the embedded store and on DynamoDB Local, each with 30 days of
/// retention by the test's clock.
macro_rules! on_both_stores_with_clock {
    ($($name:ident),* $(,)?) => {
        mod memory {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let clock = super::Clock::default();
                let store = super::MemoryStore::new().with_retention(clock.retention(30));
                super::$name(std::sync::Arc::new(store), clock).await
            })*
        }
        mod dynamodb {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let clock = super::Clock::default();
                let store: super::DynamoStore = crate::common::dynamo().await;
                let store = store.with_retention(clock.retention(30));
                super::$name(std::sync::Arc::new(store), clock).await
            })*
        }
    };
}

on_both_stores_with_clock!(
    erasing_an_active_user_leaves_a_tombstone_and_frees_its_identity,
    erasing_a_deleted_user_scrubs_its_history,
    an_erased_user_cannot_be_restored_and_its_bubble_id_makes_a_new_user,
    unknown_or_already_erased_is_404_and_a_read_key_is_refused,
    a_deleted_user_is_erased_after_the_retention_period,
);

async fn create(c: &Client, bubble_id: &str, body: Value) -> Value {
    let made = c
        .call("POST", &format!("/users/{bubble_id}"), Some(body))
        .await;
    assert_eq!(made.status, 200, "{}", made.text);
    made.json()
}

async fn feed(c: &Client) -> Vec<Value> {
    let answer = c
        .call("GET", "/users?updatedFrom=1970-01-01&pageSize=100", None)
        .await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    answer.json()["data"].as_array().unwrap().clone()
}

async fn erasing_an_active_user_leaves_a_tombstone_and_frees_its_identity(
    store: Arc<dyn UserStore>,
    _: Clock,
) {
    let c = Client::new(store);
    let logs = common::logs();
    let body = json!({"email": "erase.me@x.io", "username": "erase-me", "firstName": "Grete",
                      "mobilePhone": "+33600000001", "producerId": "50658c1e-356e-4407-b120-d110552292d8"});
    let user = create(&c, "er-1", body).await;
    let id = user["id"].as_str().unwrap();

    let erased = c.call("POST", &format!("/users/{id}/erase"), None).await;
    assert_eq!(erased.status, 200, "{}", erased.text);
    let t = erased.json();
    for field in [
        "email",
        "username",
        "firstName",
        "mobilePhone",
        "producerId",
    ] {
        assert_eq!(t[field], Value::Null, "{field} is erased");
    }
    assert_eq!(
        (t["id"].as_str(), t["bubbleId"].as_str()),
        (Some(id), Some("er-1"))
    );
    assert!(t["erasedAt"].is_string() && t["deletedAt"].is_string());
    assert_eq!(t["version"], 2);
    assert_eq!(t["createdAt"], user["createdAt"]);

    assert_eq!(
        c.call("GET", &format!("/users/{id}"), None).await.status,
        404
    );
    let shown = c
        .call("GET", &format!("/users/{id}?includeDeleted=true"), None)
        .await;
    assert_eq!(shown.json()["erasedAt"], t["erasedAt"]);
    let listed = feed(&c).await;
    assert_eq!(listed.len(), 1);
    assert_eq!(
        listed[0]["erasedAt"], t["erasedAt"],
        "the feed carries the tombstone"
    );
    let related = c
        .call(
            "GET",
            "/users?producerId=50658c1e-356e-4407-b120-d110552292d8",
            None,
        )
        .await;
    assert_eq!(related.json()["data"], json!([]));
    // The e-mail and username are free for another user.
    create(
        &c,
        "er-2",
        json!({"email": "erase.me@x.io", "username": "erase-me"}),
    )
    .await;
    // The deletion an erasure makes is recorded, without the person's identity.
    let history = c.call("GET", "/deleted-users", None).await.json();
    assert_eq!(history["data"][0]["id"], id);
    assert_eq!(
        (
            history["data"][0]["email"].clone(),
            history["data"][0]["username"].clone()
        ),
        (Value::Null, Value::Null)
    );
    let lines = logs.text();
    assert!(
        !lines.contains("erase.me@x.io") && !lines.contains("Grete"),
        "no value logged"
    );
}

async fn erasing_a_deleted_user_scrubs_its_history(store: Arc<dyn UserStore>, _: Clock) {
    let c = Client::new(store);
    let user = create(
        &c,
        "er-3",
        json!({"email": "gone@x.io", "username": "gone"}),
    )
    .await;
    let id = user["id"].as_str().unwrap();
    assert_eq!(c.call("DELETE", "/users/er-3", None).await.status, 200);
    assert_eq!(
        c.call("POST", "/users/er-3/restore", None).await.status,
        200
    );
    assert_eq!(c.call("DELETE", "/users/er-3", None).await.status, 200);
    let before = c.call("GET", "/deleted-users", None).await.json();
    assert_eq!(before["data"][0]["email"], "gone@x.io");

    let erased = c.call("POST", "/users/er-3/erase", None).await;
    assert_eq!(erased.status, 200, "{}", erased.text);
    let t = erased.json();
    assert_eq!(t["version"], 5);
    assert_eq!(t["email"], Value::Null);
    let after = c.call("GET", "/deleted-users", None).await.json();
    let records = after["data"].as_array().unwrap();
    assert_eq!(records.len(), 2, "both deletions stay recorded");
    for r in records {
        assert_eq!(
            (r["id"].as_str(), r["email"].clone(), r["username"].clone()),
            (Some(id), Value::Null, Value::Null)
        );
    }
}

async fn an_erased_user_cannot_be_restored_and_its_bubble_id_makes_a_new_user(
    store: Arc<dyn UserStore>,
    _: Clock,
) {
    let c = Client::new(store);
    let old = create(&c, "er-4", json!({"email": "back@x.io"})).await;
    let old_id = old["id"].as_str().unwrap();
    c.call("POST", "/users/er-4/erase", None).await;
    let restore = c.call("POST", "/users/er-4/restore", None).await;
    assert_eq!(restore.status, 409, "{}", restore.text);
    assert_eq!(restore.json()["error"], "ALGOREP_030");
    assert!(restore.json()["message"]
        .as_str()
        .unwrap()
        .contains("erased"));

    let new = create(
        &c,
        "er-4",
        json!({"email": "back@x.io", "firstName": "New"}),
    )
    .await;
    assert_ne!(new["id"], old["id"], "a new user, with a new id");
    assert_eq!(
        (new["version"].clone(), new["erasedAt"].clone()),
        (json!(1), Value::Null)
    );
    let by_old = c
        .call("GET", &format!("/users/{old_id}?includeDeleted=true"), None)
        .await;
    assert_eq!(
        by_old.status, 404,
        "the old id finds nobody: {}",
        by_old.text
    );
    let found = c
        .call("GET", &format!("/users?id={old_id}"), None)
        .await
        .json();
    assert_eq!(found["data"], json!([]));
    let by_bubble = c.call("GET", "/users/er-4", None).await.json();
    assert_eq!(by_bubble["id"], new["id"]);
    assert_eq!(feed(&c).await.len(), 1);
    assert_eq!(
        c.call("GET", "/users", None).await.json()["pagination"]["totalItems"],
        1
    );
    // In a batch upsert, a new user in an erased one's place is created.
    c.call("POST", "/users/er-4/erase", None).await;
    let batch = c
        .call(
            "POST",
            "/users?upsert=true",
            Some(json!([{"bubbleId": "er-4"}])),
        )
        .await;
    let item = &batch.json()["data"][0];
    assert_eq!(
        (item["status"].clone(), item["result"].clone()),
        (json!(201), json!("created"))
    );
    assert_ne!(item["user"]["id"], new["id"]);
}

async fn unknown_or_already_erased_is_404_and_a_read_key_is_refused(
    store: Arc<dyn UserStore>,
    _: Clock,
) {
    let c = Client::new(store);
    assert_eq!(
        c.call("POST", "/users/nobody/erase", None).await.status,
        404
    );
    create(&c, "er-5", json!({"firstName": "Once"})).await;
    let read = send(
        &c.app,
        "POST",
        "/users/er-5/erase",
        &[("authorization", READ_KEY)],
        None,
    )
    .await;
    assert_eq!(
        (read.status.as_u16(), read.json()["error"].clone()),
        (403, json!("ALGOREP_032"))
    );
    let stale = c
        .call_with("POST", "/users/er-5/erase", &[("if-match", "\"7\"")], None)
        .await;
    assert_eq!(stale.status, 412);
    assert_eq!(c.call("POST", "/users/er-5/erase", None).await.status, 200);
    let again = c.call("POST", "/users/er-5/erase", None).await;
    assert_eq!(
        (again.status.as_u16(), again.json()["error"].clone()),
        (404, json!("ALGOREP_029"))
    );
    // erasedAt is the service's: a body naming it is refused.
    let body = c
        .call("POST", "/users/er-6", Some(json!({"erasedAt": null})))
        .await;
    assert_eq!(
        (
            body.status.as_u16(),
            body.json()["details"][0]["field"].clone()
        ),
        (400, json!("erasedAt"))
    );
}

async fn a_deleted_user_is_erased_after_the_retention_period(
    store: Arc<dyn UserStore>,
    clock: Clock,
) {
    let c = Client::new(store);
    let active = create(&c, "er-7", json!({"email": "kept@x.io"})).await;
    let gone = create(&c, "er-8", json!({"email": "old@x.io"})).await;
    let old_id = gone["id"].as_str().unwrap();
    c.call("DELETE", "/users/er-8", None).await;
    let by_id = format!("/users/{old_id}?includeDeleted=true");

    clock.advance_days(29);
    assert_eq!(
        c.call("GET", &by_id, None).await.status,
        200,
        "kept 29 days"
    );
    assert_eq!(feed(&c).await.len(), 2);

    clock.advance_days(2);
    let answer = c.call("GET", &by_id, None).await;
    assert_eq!(answer.status, 404, "past retention: {}", answer.text);
    let listed: Vec<Value> = feed(&c)
        .await
        .iter()
        .map(|u| u["bubbleId"].clone())
        .collect();
    assert_eq!(
        listed,
        [json!("er-7")],
        "the expired tombstone left the feed"
    );
    let history = c.call("GET", "/deleted-users", None).await.json();
    assert_eq!(
        history["data"],
        json!([]),
        "its deletion record expired with it"
    );
    assert_eq!(
        c.call("POST", "/users/er-8/restore", None).await.status,
        404
    );
    assert_eq!(c.call("POST", "/users/er-8/erase", None).await.status, 404);
    // An active user never expires.
    let still = c.call("GET", "/users/er-7", None).await;
    assert_eq!(still.json()["id"], active["id"]);
    // Its bubbleId is free: an upsert makes a new user, and its e-mail was freed long ago.
    let again = create(&c, "er-8", json!({"email": "old@x.io"})).await;
    assert_ne!(again["id"], gone["id"]);
    assert_eq!(again["version"], 1);
    assert_eq!(
        c.call("GET", "/users", None).await.json()["pagination"]["totalItems"],
        2
    );
}

#[tokio::test]
async fn the_feed_refuses_a_start_older_than_retention_but_not_a_full_sync() {
    // Forty days after the directory was made: a start 31 days back is after its first
    // user and before the horizon, where a purged deletion could hide.
    let offset = Arc::new(std::sync::atomic::AtomicI64::new(40 * DAY_MS));
    let c = common::clocked_client(common::memory_store(), offset);
    let at = |days_ago: i64| {
        Timestamp::from_millis(Timestamp::now().millis() + (40 - days_ago) * DAY_MS).to_rfc3339()
    };
    let old = c
        .call("GET", &format!("/users?updatedFrom={}", at(31)), None)
        .await;
    assert_eq!(old.status, 410, "{}", old.text);
    let body = old.json();
    assert_eq!(body["error"], "ALGOREP_039");
    assert!(
        body["message"].as_str().unwrap().contains("1970-01-01"),
        "it says how to resync"
    );
    assert_eq!(
        c.call("GET", &format!("/users?updatedFrom={}", at(29)), None)
            .await
            .status,
        200
    );
    for full in ["1970-01-01", "1970-01-01T00:00:00Z", "1999-01-01"] {
        assert_eq!(
            c.call("GET", &format!("/users?updatedFrom={full}"), None)
                .await
                .status,
            200,
            "{full}"
        );
    }
    let xml = c
        .call_with(
            "GET",
            &format!("/users?updatedFrom={}", at(31)),
            &[("accept", "application/xml")],
            None,
        )
        .await;
    assert_eq!(xml.status, 410);
    assert!(
        xml.text.contains("<error>ALGOREP_039</error>"),
        "{}",
        xml.text
    );
}

mod dynamodb_only {
    use super::*;
    use aws_sdk_dynamodb::types::AttributeValue;
    use aws_sdk_dynamodb::Client as Dynamo;
    use users_api::store::dynamo::local_client;

    async fn stored(
        client: &Dynamo,
        table: &str,
    ) -> std::collections::HashMap<String, AttributeValue> {
        let key = AttributeValue::S("ttl-1".into());
        let out = client
            .get_item()
            .table_name(table)
            .key("bubbleId", key)
            .send()
            .await;
        out.unwrap().item.unwrap()
    }

    /// The one deletion record in `meta`.
    async fn deletion_record(
        client: &Dynamo,
        meta: &str,
    ) -> std::collections::HashMap<String, AttributeValue> {
        let records = client.scan().table_name(meta).send().await.unwrap();
        let found = records.items().iter().find(|i| i.contains_key("deletedBy"));
        found.unwrap().clone()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_deleted_user_and_its_record_carry_their_time_to_live() {
        let store = common::dynamo().await;
        let (users, meta) = store.table_names();
        let (users, meta) = (users.to_owned(), meta.to_owned());
        let c = Client::new(Arc::new(store));
        create(&c, "ttl-1", json!({"email": "ttl@x.io"})).await;
        let deleted = c.call("DELETE", "/users/ttl-1", None).await.json();
        let deleted_at = Timestamp::parse(deleted["deletedAt"].as_str().unwrap()).unwrap();
        let expected = AttributeValue::N(((deleted_at.millis() + 30 * DAY_MS) / 1000).to_string());
        let client = local_client(&common::dynamo_endpoint());
        assert_eq!(
            stored(&client, &users).await.get("expiresAt"),
            Some(&expected)
        );
        let record = deletion_record(&client, &meta).await;
        assert_eq!(record.get("expiresAt"), Some(&expected));
        // A restore takes the time to live away again.
        c.call("POST", "/users/ttl-1/restore", None).await;
        assert!(!stored(&client, &users).await.contains_key("expiresAt"));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_migration_gives_older_deleted_items_their_time_to_live() {
        let store = common::dynamo().await;
        let (users, meta) = store.table_names();
        let (users, meta) = (users.to_owned(), meta.to_owned());
        let store = Arc::new(store);
        let c = Client::new(store.clone());
        create(&c, "ttl-1", json!({"email": "old@x.io"})).await;
        c.call("DELETE", "/users/ttl-1", None).await;
        let client = local_client(&common::dynamo_endpoint());
        let expected = stored(&client, &users).await["expiresAt"].clone();
        // As written before retention: no expiresAt anywhere.
        let forget = |table: &str, key: std::collections::HashMap<String, AttributeValue>| {
            client
                .update_item()
                .table_name(table)
                .set_key(Some(key))
                .update_expression("REMOVE expiresAt")
                .send()
        };
        let user_key = [("bubbleId".to_owned(), AttributeValue::S("ttl-1".into()))].into();
        forget(&users, user_key).await.unwrap();
        let record = deletion_record(&client, &meta).await;
        let record_key: std::collections::HashMap<_, _> = ["pk", "sk"]
            .map(|k| (k.to_owned(), record[k].clone()))
            .into();
        forget(&meta, record_key.clone()).await.unwrap();

        let report = store.migrate_keys().await.unwrap();
        assert_eq!(report.expiring, 2, "{report:?}");
        assert_eq!(stored(&client, &users).await["expiresAt"], expected);
        let record = client
            .get_item()
            .table_name(&meta)
            .set_key(Some(record_key))
            .send()
            .await;
        assert_eq!(record.unwrap().item.unwrap()["expiresAt"], expected);
        assert_eq!(
            store.migrate_keys().await.unwrap().expiring,
            0,
            "running it again changes nothing"
        );
    }

    /// Past the 90 records its transaction scrubs, the rest are one metered update each: an
    /// erasure with 92 records costs two requests and their write units more than one with
    /// 90, whose transactions are alike.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_erasure_of_a_long_history_scrubs_and_meters_every_record() {
        let c = Client::new(Arc::new(common::dynamo().await));
        let mut costs = Vec::new();
        for (b, deletions) in [("long-90", 90), ("long-92", 92)] {
            create(&c, b, json!({"email": format!("{b}@x.io")})).await;
            for _ in 0..deletions {
                assert_eq!(
                    c.call("DELETE", &format!("/users/{b}"), None).await.status,
                    200
                );
                let restored = c.call("POST", &format!("/users/{b}/restore"), None).await;
                assert_eq!(restored.status, 200);
            }
            let erased = c.call("POST", &format!("/users/{b}/erase"), None).await;
            assert_eq!(erased.status, 200, "{}", erased.text);
            costs.push(erased.db_costs());
        }
        let ((r90, _, w90), (r92, _, w92)) = (costs[0], costs[1]);
        assert_eq!((r90, r92), (3, 5), "two records past the transaction's 90");
        assert_eq!(
            w92 - w90,
            2.0,
            "each overflow scrub is metered: {w90} vs {w92} WCU"
        );
        let history = c.call("GET", "/deleted-users?pageSize=100", None).await;
        assert_eq!(history.status, 200, "{}", history.text);
        assert!(!history.text.contains("@x.io"), "every record scrubbed");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_erasure_is_a_read_a_history_query_and_one_transaction() {
        let c = Client::new(Arc::new(common::dynamo().await));
        create(&c, "cost-1", json!({"email": "cost@x.io"})).await;
        c.call("DELETE", "/users/cost-1", None).await;
        c.call("POST", "/users/cost-1/restore", None).await;
        let erased = c.call("POST", "/users/cost-1/erase", None).await;
        assert_eq!(erased.status, 200);
        assert_eq!(
            erased.db_requests(),
            3,
            "{:?}",
            erased.header("server-timing")
        );
    }
}
