//! The write side through the API, on both stores: update by either id, soft delete with
//! history, restore, batch create.

use crate::common;

use std::sync::Arc;

use common::Client;
use serde_json::{json, Value};
use users_api::store::UserStore;

async fn updates_find_users_by_local_id_or_bubble_id(store: Arc<dyn UserStore>) {
    let c = Client::new(store);
    let id = c
        .call("POST", "/users/b1", Some(json!({"firstName": "A"})))
        .await
        .json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let by_id = c
        .call(
            "PUT",
            &format!("/users/{id}"),
            Some(json!({"lastName": "L"})),
        )
        .await;
    assert_eq!(
        (by_id.status.as_u16(), by_id.json()["version"].clone()),
        (200, json!(2))
    );
    let patch = c
        .call_with(
            "PATCH",
            "/users/b1",
            &[("content-type", "application/merge-patch+json")],
            Some(json!({"firstName": null})),
        )
        .await;
    assert_eq!(patch.status, 200);
    assert_eq!(patch.json()["firstName"], Value::Null);
    assert_eq!(patch.json()["lastName"], "L");
    assert_eq!(
        c.call("PUT", "/users/ghost", Some(json!({"lastName": "x"})))
            .await
            .json()["error"],
        "ALGOREP_029"
    );
    let bad = c
        .call("PUT", "/users/b1", Some(json!({"bubbleId": "b2"})))
        .await;
    assert_eq!(
        (
            bad.status.as_u16(),
            bad.json()["details"][0]["field"].clone()
        ),
        (400, json!("bubbleId"))
    );
}

async fn a_deleted_user_is_hidden_freed_recorded_and_restorable(store: Arc<dyn UserStore>) {
    let c = Client::new(store);
    let created = c
        .call(
            "POST",
            "/users/b1",
            Some(json!({"email": "a@x.io", "username": "ada"})),
        )
        .await
        .json();
    let deleted = c.call("DELETE", "/users/b1", None).await;
    assert_eq!(deleted.status, 200);
    assert!(deleted.json()["deletedAt"].is_string());
    assert_eq!(c.call("GET", "/users/b1", None).await.status, 404);
    let shown = c.call("GET", "/users/b1?includeDeleted=true", None).await;
    assert_eq!(shown.json()["id"], created["id"]);
    assert_eq!(
        c.call("GET", "/users", None).await.json()["pagination"]["totalItems"],
        0
    );
    assert_eq!(c.call("DELETE", "/users/b1", None).await.status, 404);
    assert_eq!(c.call("POST", "/users/b1/restore", None).await.status, 200);
    assert_eq!(c.call("DELETE", "/users/b1", None).await.status, 200);

    let taker = c
        .call(
            "POST",
            "/users/b2",
            Some(json!({"email": "A@x.io", "username": "ADA"})),
        )
        .await;
    assert_eq!(
        taker.status, 200,
        "a deleted user's e-mail and username are free at once"
    );
    let refused = c
        .call(
            "POST",
            &format!("/users/{}/restore", created["id"].as_str().unwrap()),
            None,
        )
        .await;
    assert_eq!(
        (refused.status.as_u16(), refused.json()["error"].clone()),
        (409, json!("ALGOREP_030"))
    );
    assert!(c
        .call("GET", "/users/b1?includeDeleted=true", None)
        .await
        .json()["deletedAt"]
        .is_string());

    let history = c.call("GET", "/deleted-users", None).await.json();
    let records = history["data"].as_array().unwrap();
    assert_eq!(records.len(), 2);
    assert_eq!(records[0]["deletedBy"], "dev-write");
    assert_eq!(records[0]["email"], "a@x.io");
    assert!(
        records[0]["deletedAt"].as_str() > records[1]["deletedAt"].as_str(),
        "newest first"
    );
    let keys: Vec<&str> = records[0]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "id",
            "bubbleId",
            "email",
            "username",
            "deletedAt",
            "deletedBy"
        ]
    );

    c.call("DELETE", "/users/b2", None).await;
    let back = c
        .call("POST", "/users/b1", Some(json!({"firstName": "Back"})))
        .await
        .json();
    assert_eq!(
        (back["id"].clone(), back["deletedAt"].clone()),
        (created["id"].clone(), Value::Null),
        "an upsert reactivates"
    );
    assert_eq!(
        c.call("GET", "/deleted-users", None).await.json()["data"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
}

async fn a_batch_creates_or_refuses_each_item_on_its_own(store: Arc<dyn UserStore>) {
    let c = Client::new(store);
    c.call(
        "POST",
        "/users/existing",
        Some(json!({"email": "taken@x.io"})),
    )
    .await;
    let batch = json!([
        {"bubbleId": "n1", "email": "n1@x.io"},
        {"bubbleId": "existing"},
        {"bubbleId": "n2", "email": "TAKEN@x.io"},
        {"bubbleId": "n3", "nickname": "x"},
        {"email": "no-bubble@x.io"},
        {"bubbleId": "n4"},
    ]);
    let answer = c.call("POST", "/users", Some(batch)).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    let data = answer.json()["data"].as_array().unwrap().clone();
    let statuses: Vec<_> = data
        .iter()
        .map(|r| (r["index"].as_u64().unwrap(), r["status"].as_u64().unwrap()))
        .collect();
    assert_eq!(
        statuses,
        [(0, 201), (1, 409), (2, 409), (3, 400), (4, 400), (5, 201)]
    );
    assert_eq!(data[0]["user"]["bubbleId"], "n1");
    assert_eq!(data[1]["error"], "ALGOREP_030");
    assert_eq!(data[2]["details"][0]["field"], "email");
    assert_eq!(data[3]["details"][0]["field"], "nickname");
    assert!(data[1]["message"].is_string());
    for gone in ["n2", "n3"] {
        assert_eq!(
            c.call("GET", &format!("/users/{gone}"), None).await.status,
            404,
            "a refused item leaves nothing"
        );
    }
    assert_eq!(
        c.call("GET", "/users", None).await.json()["pagination"]["totalItems"],
        3
    );

    let too_many: Vec<_> = (0..101)
        .map(|i| json!({"bubbleId": format!("x{i}")}))
        .collect();
    let answer = c.call("POST", "/users", Some(json!(too_many))).await;
    assert_eq!(
        (answer.status.as_u16(), answer.json()["error"].clone()),
        (413, json!("ALGOREP_034"))
    );
    for bad in [json!([]), json!({"bubbleId": "x"})] {
        let answer = c.call("POST", "/users", Some(bad)).await;
        assert_eq!(
            (answer.status.as_u16(), answer.json()["error"].clone()),
            (400, json!("ALGOREP_005"))
        );
    }
    assert_eq!(
        c.call("GET", "/users", None).await.json()["pagination"]["totalItems"],
        3,
        "refused batches write nothing"
    );
}

async fn a_bubble_id_is_never_dot_segments_nor_another_users_id(store: Arc<dyn UserStore>) {
    let c = Client::new(store);
    for dots in ["/users/.", "/users/..", "/users/%2E", "/users/%2E%2E"] {
        let answer = c.call("POST", dots, Some(json!({}))).await;
        assert_eq!(answer.status, 400, "{dots}: {}", answer.text);
        assert_eq!(answer.json()["error"], "ALGOREP_005", "{dots}");
    }
    let first = c.call("POST", "/users/first", Some(json!({}))).await.json();
    let id = first["id"].as_str().unwrap().to_owned();
    for taken in [id.clone(), id.to_uppercase()] {
        let answer = c
            .call(
                "POST",
                &format!("/users/{taken}"),
                Some(json!({"firstName": "X"})),
            )
            .await;
        assert_eq!(answer.status, 409, "{taken}: {}", answer.text);
        let body = answer.json();
        assert_eq!(
            (body["error"].as_str(), body["details"][0]["field"].as_str()),
            (Some("ALGOREP_030"), Some("bubbleId"))
        );
    }
    let batch = c
        .call(
            "POST",
            "/users",
            Some(json!([{"bubbleId": id}, {"bubbleId": "fresh"}])),
        )
        .await
        .json();
    assert_eq!(batch["data"][0]["status"], 409);
    assert_eq!(batch["data"][1]["status"], 201);
    let still = c.call("GET", &format!("/users/{id}"), None).await.json();
    assert_eq!(
        still["bubbleId"], "first",
        "the id still finds its own user"
    );
    let uuid_shaped = uuid::Uuid::new_v4().to_string();
    let free = c
        .call("POST", &format!("/users/{uuid_shaped}"), Some(json!({})))
        .await;
    assert_eq!(
        free.status, 200,
        "a UUID that is no user's id is a fine bubbleId"
    );
}

async fn emails_and_usernames_are_unique_by_their_canonical_keys(store: Arc<dyn UserStore>) {
    let c = Client::new(store);
    let first = c
        .call(
            "POST",
            "/users/first",
            Some(json!({"email": "Café@Bücher.de", "username": "Ｂｏｂ"})),
        )
        .await;
    assert_eq!(first.status, 200, "{}", first.text);
    for (body, field) in [
        (json!({"email": "cafe\u{301}@bücher.de"}), "email"),
        (json!({"email": "CAFÉ@xn--bcher-kva.de"}), "email"),
        (json!({"username": "bob"}), "username"),
        (json!({"username": "BOB"}), "username"),
    ] {
        let answer = c.call("POST", "/users/second", Some(body.clone())).await;
        assert_eq!(answer.status, 409, "{body}: {}", answer.text);
        assert_eq!(answer.json()["details"][0]["field"], field, "{body}");
    }
    for (body, field) in [
        (json!({"username": "bob\u{200B}"}), "username"),
        (json!({"username": "b\u{202E}ob"}), "username"),
        (json!({"email": "eve\u{200B}@x.io"}), "email"),
        (json!({"email": "eve@x\u{FEFF}.io"}), "email"),
    ] {
        let answer = c.call("POST", "/users/third", Some(body.clone())).await;
        assert_eq!(answer.status, 400, "{body}: {}", answer.text);
        assert_eq!(answer.json()["details"][0]["field"], field, "{body}");
    }
    let stored = c
        .call(
            "POST",
            "/users/nfc",
            Some(json!({"lastName": "x", "email": "zoe\u{308}@x.io"})),
        )
        .await
        .json();
    assert_eq!(stored["email"], "zoë@x.io", "stored and answered as NFC");
    let respelled = c
        .call(
            "PUT",
            "/users/first",
            Some(json!({"email": "café@xn--bcher-kva.de"})),
        )
        .await;
    assert_eq!(
        respelled.status, 200,
        "the owner may respell its own address"
    );
    assert_eq!(respelled.json()["email"], "café@xn--bcher-kva.de");
}

/// `(status, result or error)` of each item of a batch answer.
fn item_outcomes(answer: &Value) -> Vec<(u64, String)> {
    answer["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let what = r["result"].as_str().or(r["error"].as_str()).unwrap();
            (r["status"].as_u64().unwrap(), what.to_owned())
        })
        .collect()
}

async fn a_batch_upsert_applies_each_item_as_a_single_upsert_would(store: Arc<dyn UserStore>) {
    let c = Client::new(store);
    c.call(
        "POST",
        "/users/old",
        Some(json!({"firstName": "O", "lastName": "L"})),
    )
    .await;
    c.call("POST", "/users/gone", Some(json!({"email": "gone@x.io"})))
        .await;
    c.call("DELETE", "/users/gone", None).await;
    c.call("POST", "/users/holder", Some(json!({"email": "held@x.io"})))
        .await;
    let batch = json!([
        {"bubbleId": "new", "email": "new@x.io"},
        {"bubbleId": "old", "lastName": null},
        {"bubbleId": "old", "firstName": "twice"},
        {"bubbleId": "gone", "firstName": "back"},
        {"bubbleId": "holder"},
        {"bubbleId": "thief", "email": "HELD@x.io"},
        {"firstName": "no id"},
        {"bubbleId": "bad", "email": "not-an-address"},
    ]);
    let first = c
        .call("POST", "/users?upsert=true", Some(batch.clone()))
        .await;
    assert_eq!(first.status, 200, "{}", first.text);
    let expected: Vec<(u64, String)> = [
        (201, "created"),
        (200, "updated"),
        (400, "ALGOREP_005"),
        (200, "reactivated"),
        (200, "unchanged"),
        (409, "ALGOREP_030"),
        (400, "ALGOREP_005"),
        (400, "ALGOREP_005"),
    ]
    .iter()
    .map(|(s, w)| (*s, (*w).to_owned()))
    .collect();
    let body = first.json();
    assert_eq!(item_outcomes(&body), expected);
    assert_eq!(body["data"][2]["details"][0]["field"], "bubbleId");
    assert_eq!(
        body["data"][1]["user"]["lastName"],
        Value::Null,
        "null erases"
    );
    assert_eq!(body["data"][1]["user"]["firstName"], "O", "absent keeps");
    let gone = c.call("GET", "/users/gone", None).await.json();
    assert_eq!(
        (gone["deletedAt"].clone(), gone["firstName"].clone()),
        (Value::Null, json!("back"))
    );

    let retried = c
        .call("POST", "/users?upsert=true", Some(batch))
        .await
        .json();
    let again: Vec<(u64, String)> = item_outcomes(&retried);
    assert_eq!(
        again
            .iter()
            .filter(|(s, _)| *s == 200)
            .map(|(_, w)| w.as_str())
            .collect::<Vec<_>>(),
        ["unchanged", "unchanged", "unchanged", "unchanged"],
        "retrying a batch is safe: {again:?}"
    );
    let created = c
        .call("POST", "/users", Some(json!([{"bubbleId": "plain"}])))
        .await
        .json();
    assert_eq!(
        created["data"][0]["status"], 201,
        "without upsert, POST /users still creates"
    );
    let bad = c
        .call(
            "POST",
            "/users?upsert=maybe",
            Some(json!([{"bubbleId": "x"}])),
        )
        .await;
    assert_eq!(bad.status, 400);
}

async fn one_instant_in_another_offset_is_no_change(store: Arc<dyn UserStore>) {
    let c = Client::new(store);
    let first = c
        .call(
            "POST",
            "/users/t",
            Some(json!({"lastConnexion": "2024-01-19T13:45:04.147+01:00"})),
        )
        .await
        .json();
    assert_eq!(first["lastConnexion"], "2024-01-19T12:45:04.147Z");
    for same in ["2024-01-19T12:45:04.147Z", "2024-01-19T12:45:04.147+00:00"] {
        let again = c
            .call("POST", "/users/t", Some(json!({"lastConnexion": same})))
            .await
            .json();
        assert_eq!(again["version"], first["version"], "{same} is no change");
        assert_eq!(
            again["updatedAt"], first["updatedAt"],
            "{same} does not move the user"
        );
    }
}

on_both_stores!(
    one_instant_in_another_offset_is_no_change,
    a_batch_upsert_applies_each_item_as_a_single_upsert_would,
    emails_and_usernames_are_unique_by_their_canonical_keys,
    a_bubble_id_is_never_dot_segments_nor_another_users_id,
    updates_find_users_by_local_id_or_bubble_id,
    a_deleted_user_is_hidden_freed_recorded_and_restorable,
    a_batch_creates_or_refuses_each_item_on_its_own,
);

/// The table's own life: migration and creation. DynamoDB only.
mod dynamodb_only {
    use super::*;
    use users_api::domain::{Guard, UniqueField};
    use users_api::store::dynamo::{local_client, DynamoStore};

    const PRODUCER: &str = "50658c1e-356e-4407-b120-d110552292d8";

    /// Puts `owner`'s guard of `field` back under `legacy`, as an earlier rule stored it: the
    /// guard at the canonical key gone, one at `legacy` owned by the user, and the user item's
    /// key attribute naming `legacy`.
    async fn plant_legacy_guard(
        store: &DynamoStore,
        owner: &str,
        field: UniqueField,
        canonical: &str,
        legacy: &str,
    ) {
        use users_api::store::dynamo::item::{guard_attr, guard_key, s, OWNER};
        let (users, meta) = store.table_names();
        let raw = local_client(&common::dynamo_endpoint());
        let key = |k: &str| {
            guard_key(&Guard {
                field,
                key: k.to_owned(),
            })
        };
        raw.delete_item()
            .table_name(meta)
            .set_key(Some(key(canonical)))
            .send()
            .await
            .unwrap();
        let mut old = key(legacy);
        old.insert(OWNER.into(), s(owner));
        raw.put_item()
            .table_name(meta)
            .set_item(Some(old))
            .send()
            .await
            .unwrap();
        raw.update_item()
            .table_name(users)
            .key("bubbleId", s(owner))
            .update_expression("SET #k = :k")
            .expression_attribute_names("#k", guard_attr(field))
            .expression_attribute_values(":k", s(legacy))
            .send()
            .await
            .unwrap();
    }

    /// A table written before canonical keys and id guards is brought up to date by the
    /// one-off migration, and works before it too.
    #[tokio::test]
    async fn the_key_migration_moves_legacy_guards_to_canonical_keys() {
        use users_api::store::dynamo::item::{guard_key, id_guard_key, s, OWNER};
        let store = Arc::new(common::dynamo().await);
        let c = Client::new(store.clone());
        let made = c
            .call(
                "POST",
                "/users/legacy",
                Some(json!({"email": "Anna@Bücher.de", "producerId": PRODUCER})),
            )
            .await
            .json();
        let (users, meta) = store.table_names();
        let raw = local_client(&common::dynamo_endpoint());
        let guard = |key: &str| {
            guard_key(&users_api::domain::Guard {
                field: users_api::domain::UniqueField::Email,
                key: key.to_owned(),
            })
        };
        // Back to how the service stored it before: keyed by the lowercased value, no id
        // guard, no relation index key.
        let legacy_key = "anna@bücher.de";
        plant_legacy_guard(
            &store,
            "legacy",
            UniqueField::Email,
            "anna@xn--bcher-kva.de",
            legacy_key,
        )
        .await;
        raw.delete_item()
            .table_name(meta)
            .set_key(Some(id_guard_key(made["id"].as_str().unwrap())))
            .send()
            .await
            .unwrap();
        raw.update_item()
            .table_name(users)
            .key("bubbleId", s("legacy"))
            .update_expression("REMOVE #rel")
            .expression_attribute_names("#rel", "activeProducerId")
            .send()
            .await
            .unwrap();

        let before = c
            .call(
                "POST",
                "/users/legacy",
                Some(json!({"email": "Anna@Bücher.de", "firstName": "A"})),
            )
            .await;
        assert_eq!(
            before.status, 200,
            "a legacy user still takes writes: {}",
            before.text
        );

        // The write above wrote the whole item again, index keys included; unlink it once
        // more, from the segment indexes too (written before them).
        raw.update_item()
            .table_name(users)
            .key("bubbleId", s("legacy"))
            .update_expression("REMOVE #rel, #fs, #as")
            .expression_attribute_names("#rel", "activeProducerId")
            .expression_attribute_names("#fs", "feedSegment")
            .expression_attribute_names("#as", "activeSegment")
            .send()
            .await
            .unwrap();
        let id: uuid::Uuid = made["id"].as_str().unwrap().parse().unwrap();
        let segment = (id.as_u128() % 64) as u32;
        let in_segment = format!("/users?segment={segment}&segments=64");
        let producers = format!("/users?producerId={PRODUCER}");
        let unlisted = c.call("GET", &producers, None).await.json();
        assert_eq!(unlisted["data"], json!([]), "not in the relation index yet");
        let unsegmented = c.call("GET", &in_segment, None).await.json();
        let unsegmented = unsegmented["data"].as_array().unwrap();
        assert!(
            unsegmented.iter().all(|u| u["bubbleId"] != "legacy"),
            "not in the segment index yet"
        );
        let report = store.migrate_keys().await.unwrap();
        assert_eq!(
            (
                report.rekeyed,
                report.ids_held,
                report.linked,
                report.segmented
            ),
            (1, 1, 1, 2),
            "{report:?}"
        );
        let segmented = c.call("GET", &in_segment, None).await.json();
        let bubble_ids = |page: &Value| -> Vec<Value> {
            let users = page["data"].as_array().unwrap();
            users.iter().map(|u| u["bubbleId"].clone()).collect()
        };
        assert!(
            bubble_ids(&segmented).contains(&json!("legacy")),
            "{segmented}"
        );
        let listed = c.call("GET", &producers, None).await.json();
        assert_eq!(listed["data"][0]["bubbleId"], "legacy");
        assert!(report.conflicts.is_empty());
        let owner = |key: &str| {
            let raw = raw.clone();
            let key = guard(key);
            async move {
                raw.get_item()
                    .table_name(meta)
                    .set_key(Some(key))
                    .consistent_read(true)
                    .send()
                    .await
                    .unwrap()
                    .item
                    .and_then(|i| i.get(OWNER).and_then(|v| v.as_s().ok()).cloned())
            }
        };
        assert_eq!(
            owner("anna@xn--bcher-kva.de").await.as_deref(),
            Some("legacy")
        );
        assert_eq!(
            owner(legacy_key).await,
            None,
            "the legacy guard is released"
        );
        let taken = c
            .call(
                "POST",
                "/users/other",
                Some(json!({"email": "ANNA@xn--bcher-kva.de"})),
            )
            .await;
        assert_eq!(taken.status, 409);
        let again = store.migrate_keys().await.unwrap();
        assert_eq!(
            (again.rekeyed, again.ids_held, again.linked, again.segmented),
            (0, 0, 0, 0),
            "a second run changes nothing"
        );
    }

    /// A username guard keyed by the lowercasing rule (a final Σ became ς) moves to its
    /// case-folded key, so the other spellings of the name are taken again.
    #[tokio::test]
    async fn the_key_migration_moves_a_guard_keyed_before_case_folding() {
        let store = Arc::new(common::dynamo().await);
        let c = Client::new(store.clone());
        let made = c
            .call("POST", "/users/greek", Some(json!({"username": "ΟΔΟΣ"})))
            .await;
        assert_eq!(made.status, 200);
        let (folded, lowered) = ("οδοσ", "οδος");
        assert_eq!(UniqueField::Username.key("ΟΔΟΣ"), folded);
        plant_legacy_guard(&store, "greek", UniqueField::Username, folded, lowered).await;
        let report = store.migrate_keys().await.unwrap();
        assert_eq!(report.rekeyed, 1, "{report:?}");
        let taken = c
            .call("POST", "/users/other", Some(json!({"username": "οδοσ"})))
            .await;
        assert_eq!(
            taken.status, 409,
            "the folded key is guarded: {}",
            taken.text
        );
        let again = store.migrate_keys().await.unwrap();
        assert_eq!(again.rekeyed, 0, "a second run changes nothing");
    }

    /// A user written before shown names were held (an e-mail, no username) gets its name
    /// claimed as a username by the migration, so no one else can take it.
    #[tokio::test]
    async fn the_key_migration_holds_the_name_a_user_without_a_username_shows() {
        use users_api::store::dynamo::item::{guard_attr, guard_key, s};
        let store = Arc::new(common::dynamo().await);
        let c = Client::new(store.clone());
        let made = c
            .call(
                "POST",
                "/users/pre-name",
                Some(json!({"email": "Pre@x.io"})),
            )
            .await;
        assert_eq!(made.status, 200);
        let (users, meta) = store.table_names();
        let raw = local_client(&common::dynamo_endpoint());
        let shown = users_api::domain::Guard {
            field: UniqueField::Username,
            key: UniqueField::Username.key("Pre@x.io"),
        };
        raw.delete_item()
            .table_name(meta)
            .set_key(Some(guard_key(&shown)))
            .send()
            .await
            .unwrap();
        raw.update_item()
            .table_name(users)
            .key("bubbleId", s("pre-name"))
            .update_expression("REMOVE #k")
            .expression_attribute_names("#k", guard_attr(UniqueField::Username))
            .send()
            .await
            .unwrap();
        let report = store.migrate_keys().await.unwrap();
        assert_eq!((report.names_held, report.rekeyed), (1, 0), "{report:?}");
        let taken = c
            .call(
                "POST",
                "/users/other",
                Some(json!({"username": "pre@X.io"})),
            )
            .await;
        assert_eq!(taken.status, 409, "{}", taken.text);
        let again = store.migrate_keys().await.unwrap();
        assert_eq!(again.names_held, 0, "a second run changes nothing");
    }

    /// Instances that start together all create the tables if missing; none fails on the race.
    #[tokio::test]
    async fn instances_starting_together_create_the_tables_once_and_all_start() {
        use users_api::store::dynamo::{local_client, DynamoStore};
        let suffix = uuid::Uuid::new_v4().simple().to_string();
        let starts = (0..4).map(|_| {
            let store = DynamoStore::new(
                local_client(&common::dynamo_endpoint()),
                format!("users-{suffix}"),
                format!("meta-{suffix}"),
                4,
            );
            async move { store.create_tables().await }
        });
        for started in futures::future::join_all(starts).await {
            assert_eq!(started, Ok(()));
        }
    }
}
