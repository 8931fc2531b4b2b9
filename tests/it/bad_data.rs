//! What is accepted reads back, and what cannot be read never takes a list down: dates
//! outside the years 0000–9999 in UTC, lenient date spellings, and the spellings of sigma.

use crate::common;

use std::sync::Arc;

use common::Client;
use serde_json::json;
use users_api::store::dynamo::item::s;
use users_api::store::dynamo::local_client;
use users_api::store::UserStore;

const YEAR_10000_IN_UTC: &str = "9999-12-31T23:59:59-00:01";
const BEFORE_YEAR_0_IN_UTC: &str = "0000-01-01T00:00:00+00:01";

async fn dates_outside_years_0000_to_9999_in_utc_are_refused_and_store_nothing(
    store: Arc<dyn UserStore>,
) {
    let c = Client::new(store);
    for bad in [YEAR_10000_IN_UTC, BEFORE_YEAR_0_IN_UTC] {
        let single = c
            .call("POST", "/users/d1", Some(json!({"lastConnexion": bad})))
            .await;
        assert_eq!(single.status, 400, "{bad}: {}", single.text);
        assert_eq!(single.json()["details"][0]["field"], "lastConnexion");
        let batch = c
            .call(
                "POST",
                "/users",
                Some(json!([{"bubbleId": "d2", "lastConnexion": bad}])),
            )
            .await;
        assert_eq!(batch.json()["data"][0]["status"], 400, "{}", batch.text);
    }
    for missing in ["/users/d1", "/users/d2"] {
        assert_eq!(c.call("GET", missing, None).await.status, 404);
    }
    let edge = c
        .call(
            "POST",
            "/users/d3",
            Some(json!({"lastConnexion": "9999-12-31T23:59:59.999+00:00"})),
        )
        .await;
    assert_eq!(edge.json()["lastConnexion"], "9999-12-31T23:59:59.999Z");
    let patched = c
        .call(
            "PATCH",
            "/users/d3",
            Some(json!({"lastConnexion": YEAR_10000_IN_UTC})),
        )
        .await;
    assert_eq!(patched.status, 400);
    assert_eq!(c.call("GET", "/users/d3", None).await.json()["version"], 1);
}

async fn updated_from_takes_only_rfc_3339_or_exactly_yyyy_mm_dd(store: Arc<dyn UserStore>) {
    let c = Client::new(store);
    for lenient in ["2024-1-1", "%2B002024-01-01", "2024-01-1"] {
        let answer = c
            .call("GET", &format!("/users?updatedFrom={lenient}"), None)
            .await;
        assert_eq!(answer.status, 400, "{lenient}: {}", answer.text);
        assert_eq!(answer.json()["details"][0]["field"], "updatedFrom");
    }
    let fine = c.call("GET", "/users?updatedFrom=1970-01-01", None).await;
    assert_eq!(fine.status, 200);
}

async fn every_spelling_of_sigma_is_one_email_and_one_username(store: Arc<dyn UserStore>) {
    let c = Client::new(store);
    let made = c
        .call(
            "POST",
            "/users/s1",
            Some(json!({"email": "ΟΔΟΣ1@x.io", "username": "ΟΔΟΣ"})),
        )
        .await;
    assert_eq!(made.status, 200, "{}", made.text);
    for (field, value) in [
        ("email", "οδος1@x.io"),
        ("email", "οδοσ1@x.io"),
        ("username", "οδος"),
        ("username", "οδοσ"),
    ] {
        let taken = c
            .call("POST", "/users/s2", Some(json!({field: value})))
            .await;
        assert_eq!(taken.status, 409, "{field} {value}: {}", taken.text);
    }
    let found = c.call("GET", "/users?username=οδοσ", None).await.json();
    assert_eq!(found["data"][0]["bubbleId"], "s1");
}

on_both_stores!(
    dates_outside_years_0000_to_9999_in_utc_are_refused_and_store_nothing,
    updated_from_takes_only_rfc_3339_or_exactly_yyyy_mm_dd,
    every_spelling_of_sigma_is_one_email_and_one_username,
);

mod dynamodb_only {
    use super::*;

    /// A user item an older version wrote, which today's rules cannot read back: the pages,
    /// the feed and a batch around it still answer, and name it.
    #[tokio::test]
    async fn an_unreadable_stored_user_is_reported_and_never_takes_a_page_down() {
        let store = common::dynamo().await;
        let (users, _) = store.table_names();
        let users = users.to_owned();
        let c = Client::new(Arc::new(store));
        for b in ["u1", "u2", "u3"] {
            let made = c
                .call(
                    "POST",
                    &format!("/users/{b}"),
                    Some(json!({"firstName": b})),
                )
                .await;
            assert_eq!(made.status, 200);
        }
        local_client(&common::dynamo_endpoint())
            .update_item()
            .table_name(&users)
            .key("bubbleId", s("u2"))
            .update_expression("SET lastConnexion = :t")
            .expression_attribute_values(":t", s("+10000-01-01T00:00:59.000Z"))
            .send()
            .await
            .unwrap();
        for path in ["/users", "/users?updatedFrom=1970-01-01"] {
            let page = c.call("GET", path, None).await;
            assert_eq!(page.status, 200, "{path}: {}", page.text);
            let page = page.json();
            let shown: Vec<&str> = page["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|u| u["bubbleId"].as_str().unwrap())
                .collect();
            assert_eq!(shown.len(), 2, "{path}: {shown:?}");
            assert!(!shown.contains(&"u2"));
            assert_eq!(
                page["pagination"]["unreadableItems"],
                json!(["u2"]),
                "{path}"
            );
        }
        let batch = c
        .call(
            "POST",
            "/users?upsert=true",
            Some(json!([{"bubbleId": "u1", "lastName": "x"}, {"bubbleId": "u2", "lastName": "x"}])),
        )
        .await;
        assert_eq!(batch.status, 200, "{}", batch.text);
        let data = batch.json()["data"].clone();
        assert_eq!(
            (data[0]["status"].as_u64(), data[1]["status"].as_u64()),
            (Some(200), Some(500))
        );
        assert_eq!(data[1]["error"], "ALGOREP_003");
        // The bad field can be written over: a blind update reads nothing first.
        let repaired = c
            .call("PATCH", "/users/u2", Some(json!({"lastConnexion": null})))
            .await;
        assert_eq!(repaired.status, 200, "{}", repaired.text);
        let page = c.call("GET", "/users", None).await.json();
        assert_eq!(page["data"].as_array().unwrap().len(), 3);
        assert!(page["pagination"].get("unreadableItems").is_none());
    }
}
