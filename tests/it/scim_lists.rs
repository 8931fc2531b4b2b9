//! SCIM list parameters as RFC 7644 §3.4.2.4 reads them: `count` is clamped, `startIndex`
//! below 1 reads as 1, both apply to a filter's matches, `count=0` answers how many match,
//! and a parameter that is not a whole number is 400.

use crate::common;

use std::sync::Arc;

use serde_json::json;
use users_api::store::UserStore;

const BY_NAME: &str = "filter=userName%20eq%20%22lister%22";

async fn listed(store: Arc<dyn UserStore>) -> common::Client {
    let idp = common::Client::scim(store);
    for (ext, name) in [("l1", "lister"), ("l2", "other")] {
        let created = idp
            .call(
                "POST",
                "/Users",
                Some(json!({"externalId": ext, "userName": name})),
            )
            .await;
        assert_eq!(created.status, 201, "{}", created.text);
    }
    idp
}

async fn count_zero_with_a_filter_answers_the_match_count(store: Arc<dyn UserStore>) {
    let idp = listed(store).await;
    let answer = idp
        .call("GET", &format!("/Users?{BY_NAME}&count=0"), None)
        .await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    let body = answer.json();
    assert_eq!(body["totalResults"], 1);
    assert_eq!(body["Resources"], json!([]));
}

async fn a_filter_honours_start_index(store: Arc<dyn UserStore>) {
    let idp = listed(store).await;
    let first = idp
        .call("GET", &format!("/Users?{BY_NAME}&startIndex=1"), None)
        .await
        .json();
    assert_eq!(first["Resources"].as_array().unwrap().len(), 1);
    let past = idp
        .call("GET", &format!("/Users?{BY_NAME}&startIndex=2"), None)
        .await
        .json();
    assert_eq!(
        (past["totalResults"].clone(), past["startIndex"].clone()),
        (json!(1), json!(2))
    );
    assert_eq!(past["Resources"], json!([]));
}

async fn counts_and_indexes_are_whole_numbers_clamped_to_range(store: Arc<dyn UserStore>) {
    let idp = listed(store).await;
    for bad in ["startIndex=abc", "count=abc", "count=1.5", "startIndex="] {
        let answer = idp.call("GET", &format!("/Users?{bad}"), None).await;
        assert_eq!(answer.status, 400, "{bad}: {}", answer.text);
        assert_eq!(answer.json()["scimType"], "invalidValue", "{bad}");
    }
    let huge = idp
        .call("GET", "/Users?count=99999999999999999999999", None)
        .await;
    assert_eq!(huge.status, 200, "{}", huge.text);
    assert_eq!(huge.json()["itemsPerPage"], 2);
    let low = idp.call("GET", "/Users?startIndex=-5&count=-1", None).await;
    assert_eq!(low.status, 200, "{}", low.text);
    assert_eq!(
        (
            low.json()["startIndex"].clone(),
            low.json()["totalResults"].clone()
        ),
        (json!(1), json!(2))
    );
}

async fn a_filter_error_echoes_little_of_the_filter(store: Arc<dyn UserStore>) {
    let idp = listed(store).await;
    let long = "x".repeat(5_000);
    let answer = idp
        .call("GET", &format!("/Users?filter={long}%20eq%20%22a%22"), None)
        .await;
    assert_eq!(answer.status, 400, "{}", &answer.text[..200]);
    assert!(answer.text.len() < 600, "{} bytes", answer.text.len());
}

on_both_stores!(
    count_zero_with_a_filter_answers_the_match_count,
    a_filter_honours_start_index,
    counts_and_indexes_are_whole_numbers_clamped_to_range,
    a_filter_error_echoes_little_of_the_filter,
);
