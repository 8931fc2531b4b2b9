//! The read side through the API, on both stores: pages, cursors, the change feed.

use crate::common;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use common::Client;
use serde_json::{json, Value};
use users_api::store::UserStore;

/// Follows `nextPageUrl` from `first` to the end; returns every item and the page count.
pub async fn walk(c: &Client, first: &str) -> (Vec<Value>, usize) {
    let mut items = Vec::new();
    let mut url = Some(first.to_owned());
    let mut pages = 0;
    while let Some(u) = url {
        let answer = c.call("GET", &u, None).await;
        assert_eq!(answer.status, 200, "{u}: {}", answer.text);
        let body = answer.json();
        items.extend(body["data"].as_array().unwrap().iter().cloned());
        url = body["pagination"]["nextPageUrl"]
            .as_str()
            .map(str::to_owned);
        pages += 1;
        assert!(pages < 2000, "the walk ends");
    }
    (items, pages)
}

fn bubble_ids(items: &[Value]) -> Vec<String> {
    items
        .iter()
        .map(|u| u["bubbleId"].as_str().unwrap().to_owned())
        .collect()
}

async fn the_list_envelope_counts_exactly_and_pages_by_cursor_or_number(store: Arc<dyn UserStore>) {
    let c = Client::new(store);
    for i in 0..7 {
        c.call(
            "POST",
            &format!("/users/u{i}"),
            Some(json!({"firstName": "x"})),
        )
        .await;
    }
    c.call("DELETE", "/users/u3", None).await;
    let first = c.call("GET", "/users?pageSize=4", None).await.json();
    let p = &first["pagination"];
    assert_eq!(
        (
            p["totalItems"].clone(),
            p["itemsPerPage"].clone(),
            p["currentPage"].clone(),
            p["totalPages"].clone()
        ),
        (json!(6), json!(4), json!(1), json!(2))
    );
    assert!(p["nextPageUrl"]
        .as_str()
        .unwrap()
        .starts_with("/users?pageSize=4&cursor="));
    let second = c
        .call("GET", p["nextPageUrl"].as_str().unwrap(), None)
        .await
        .json();
    assert_eq!(second["pagination"]["currentPage"], 2);
    assert_eq!(
        second["pagination"]["nextPageUrl"],
        Value::Null,
        "null on the last page"
    );
    let (all, pages) = walk(&c, "/users?pageSize=4").await;
    assert_eq!(bubble_ids(&all), ["u0", "u1", "u2", "u4", "u5", "u6"]);
    assert_eq!(pages, 2);
    let numbered = c.call("GET", "/users?page=2&pageSize=4", None).await.json();
    assert_eq!(
        bubble_ids(numbered["data"].as_array().unwrap()),
        ["u5", "u6"]
    );
    assert_eq!(numbered["pagination"]["currentPage"], 2);
    let beyond = c.call("GET", "/users?page=9&pageSize=4", None).await.json();
    assert_eq!(beyond["data"], json!([]));
    let default = c.call("GET", "/users", None).await.json();
    assert_eq!(default["pagination"]["itemsPerPage"], 10);
    assert_eq!(default["data"].as_array().unwrap().len(), 6);
}

async fn bad_list_parameters_are_named(store: Arc<dyn UserStore>) {
    let c = Client::new(store);
    c.call("POST", "/users/a", Some(json!({}))).await;
    c.call("POST", "/users/b", Some(json!({}))).await;
    let cursor_url = c.call("GET", "/users?pageSize=1", None).await.json()["pagination"]
        ["nextPageUrl"]
        .as_str()
        .unwrap()
        .to_owned();
    let cursor = cursor_url.split("cursor=").nth(1).unwrap().to_owned();
    let mut tampered = cursor.clone();
    let flipped = if tampered.starts_with('e') { "f" } else { "e" };
    tampered.replace_range(0..1, flipped);
    let cases = [
        ("/users?pageSize=0", "pageSize"),
        ("/users?pageSize=1001", "pageSize"),
        ("/users?pageSize=ten", "pageSize"),
        ("/users?page=0", "page"),
        ("/users?page=-1", "page"),
        (&format!("/users?cursor={tampered}") as &str, "cursor"),
        ("/users?cursor=not-a-cursor", "cursor"),
        (
            &format!("/users?updatedFrom=1970-01-01&cursor={cursor}"),
            "cursor",
        ),
        (&format!("/deleted-users?cursor={cursor}"), "cursor"),
        ("/users?updatedFrom=yesterday", "updatedFrom"),
        ("/users?updatedFrom=2024-13-01", "updatedFrom"),
        ("/users/a?includeDeleted=maybe", "includeDeleted"),
    ];
    for (url, name) in cases {
        let answer = c.call("GET", url, None).await;
        assert_eq!(answer.status, 400, "{url}");
        let body = answer.json();
        assert_eq!(
            (body["error"].clone(), body["details"][0]["field"].clone()),
            (json!("ALGOREP_005"), json!(name)),
            "{url}"
        );
    }
}

async fn the_feed_lists_changes_since_t_with_tombstones(store: Arc<dyn UserStore>) {
    let c = Client::new(store);
    for b in ["a", "b", "c", "d"] {
        c.call(
            "POST",
            &format!("/users/{b}"),
            Some(json!({"firstName": "1"})),
        )
        .await;
    }
    let cut = c.call("GET", "/users/b", None).await.json()["updatedAt"]
        .as_str()
        .unwrap()
        .to_owned();
    c.call("DELETE", "/users/a", None).await;
    c.call("POST", "/users/c", Some(json!({"firstName": "1"})))
        .await; // changes nothing
    c.call("POST", "/users/d", Some(json!({"firstName": "2"})))
        .await;
    let (items, _) = walk(
        &c,
        &format!("/users?updatedFrom={}&pageSize=2", cut.replace('+', "%2B")),
    )
    .await;
    assert_eq!(bubble_ids(&items), ["b", "c", "a", "d"]);
    assert!(
        items[2]["deletedAt"].is_string(),
        "a deletion shows as a tombstone"
    );
    let stamps: Vec<&str> = items
        .iter()
        .map(|u| u["updatedAt"].as_str().unwrap())
        .collect();
    assert!(
        stamps.windows(2).all(|w| w[0] < w[1]),
        "ascending updatedAt"
    );
    let first = c
        .call("GET", "/users?updatedFrom=1970-01-01&pageSize=2", None)
        .await
        .json();
    assert_eq!(first["pagination"]["totalItems"], Value::Null);
    assert!(first["pagination"]["nextPageUrl"]
        .as_str()
        .unwrap()
        .starts_with("/users?updatedFrom=1970-01-01T00%3A00%3A00.000Z&pageSize=2&cursor="));
    let (everything, _) = walk(&c, "/users?updatedFrom=1970-01-01&pageSize=3").await;
    assert_eq!(everything.len(), 4);
    let later = c
        .call("GET", "/users?updatedFrom=2999-01-01", None)
        .await
        .json();
    assert_eq!(later["data"], json!([]));
}

async fn a_walk_under_concurrent_writes_sees_every_steady_user_once(store: Arc<dyn UserStore>) {
    let c = Arc::new(Client::new(store));
    for i in 0..24 {
        c.call(
            "POST",
            &format!("/users/steady{i:02}"),
            Some(json!({"firstName": "0"})),
        )
        .await;
    }
    for i in 0..6 {
        c.call(
            "POST",
            &format!("/users/churn{i}"),
            Some(json!({"firstName": "0"})),
        )
        .await;
    }
    let writer = {
        let c = c.clone();
        tokio::spawn(async move {
            for round in 0..12 {
                let steady = format!("/users/steady{:02}", (round * 7) % 24);
                c.call(
                    "POST",
                    &steady,
                    Some(json!({"firstName": format!("{round}")})),
                )
                .await;
                c.call("POST", &format!("/users/new{round}"), Some(json!({})))
                    .await;
                let churn = format!("/users/churn{}", round % 6);
                if c.call("DELETE", &churn, None).await.status == 404 {
                    c.call("POST", &format!("{churn}/restore"), None).await;
                }
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
        })
    };
    let (items, _) = walk(&c, "/users?pageSize=3").await;
    writer.await.unwrap();
    let mut seen: HashMap<String, usize> = HashMap::new();
    for b in bubble_ids(&items) {
        *seen.entry(b).or_default() += 1;
    }
    for i in 0..24 {
        assert_eq!(
            seen.get(&format!("steady{i:02}")),
            Some(&1),
            "steady{i:02} seen exactly once"
        );
    }
    assert!(
        seen.values().all(|n| *n == 1),
        "no user is listed twice: {seen:?}"
    );
}

/// The cursor of `GET /users?pageSize=1`, split into its payload and its tag.
async fn a_cursor(c: &Client) -> (String, String) {
    let url = c.call("GET", "/users?pageSize=1", None).await.json()["pagination"]["nextPageUrl"]
        .as_str()
        .unwrap()
        .to_owned();
    let cursor = url.split("cursor=").nth(1).unwrap();
    let (payload, tag) = cursor.split_once('.').unwrap();
    (payload.to_owned(), tag.to_owned())
}

fn assert_bad(answer: &common::Answer, field: &str, what: &str) {
    assert_eq!(answer.status, 400, "{what}: {}", answer.text);
    let body = answer.json();
    assert_eq!(
        (body["error"].as_str(), body["details"][0]["field"].as_str()),
        (Some("ALGOREP_005"), Some(field)),
        "{what}"
    );
}

async fn only_a_cursor_with_its_whole_tag_is_accepted(store: Arc<dyn UserStore>) {
    let c = Client::new(store);
    c.call("POST", "/users/a", Some(json!({}))).await;
    c.call("POST", "/users/b", Some(json!({}))).await;
    let (payload, tag) = a_cursor(&c).await;
    let whole = c
        .call(
            "GET",
            &format!("/users?pageSize=1&cursor={payload}.{tag}"),
            None,
        )
        .await;
    assert_eq!(whole.status, 200, "{}", whole.text);
    let b64 = |bytes: &[u8]| URL_SAFE_NO_PAD.encode(bytes);
    for byte in 0..=255u8 {
        let forged = format!("/users?pageSize=1&cursor={payload}.{}", b64(&[byte]));
        assert_bad(
            &c.call("GET", &forged, None).await,
            "cursor",
            "a 1-byte tag",
        );
    }
    let raw = URL_SAFE_NO_PAD.decode(&tag).unwrap();
    assert_eq!(raw.len(), 32, "the whole HMAC-SHA-256");
    for len in [1, 8, 16, 31] {
        let truncated = format!("/users?cursor={payload}.{}", b64(&raw[..len]));
        assert_bad(
            &c.call("GET", &truncated, None).await,
            "cursor",
            "a short tag",
        );
    }
    let long = format!("/users?cursor={payload}.{}", "A".repeat(5000));
    assert_bad(
        &c.call("GET", &long, None).await,
        "cursor",
        "an oversized cursor",
    );
}

async fn page_numbers_stay_within_the_window(store: Arc<dyn UserStore>) {
    let c = Client::new(store);
    for i in 0..5 {
        c.call("POST", &format!("/users/w{i}"), Some(json!({})))
            .await;
    }
    for ok in [
        "/users?page=1000&pageSize=10",
        "/users?page=100&pageSize=100",
    ] {
        let answer = c.call("GET", ok, None).await;
        assert_eq!(answer.status, 200, "{ok}: {}", answer.text);
        assert_eq!(answer.json()["data"], json!([]));
    }
    for beyond in [
        "/users?page=1001&pageSize=10",
        "/users?page=101&pageSize=100",
        "/users?page=10001",
        "/users?page=18446744073709551615&pageSize=100",
        "/users?page=99999999999999999999999",
        "/deleted-users?page=2000",
        "/users?updatedFrom=1970-01-01&page=1001&pageSize=10",
    ] {
        let answer = c.call("GET", beyond, None).await;
        assert_bad(&answer, "page", beyond);
        assert!(
            answer.json()["details"][0]["reason"]
                .as_str()
                .unwrap()
                .contains("nextPageUrl"),
            "{beyond}: the error points to cursors"
        );
    }
    let third = c.call("GET", "/users?page=3&pageSize=2", None).await.json();
    assert_eq!(bubble_ids(third["data"].as_array().unwrap()), ["w4"]);
}

async fn the_feed_takes_dates_from_1970_to_9999_only(store: Arc<dyn UserStore>) {
    let c = Client::new(store);
    c.call("POST", "/users/f", Some(json!({}))).await;
    for bad in [
        "%2B10000-01-01",
        "%2B10000-01-01T00:00:00Z",
        "1969-12-31",
        "1969-12-31T23:59:59.999Z",
        "0000-01-01",
    ] {
        let url = format!("/users?updatedFrom={bad}");
        assert_bad(&c.call("GET", &url, None).await, "updatedFrom", &url);
    }
    for good in ["1970-01-01", "9999-12-31T23:59:59.999Z"] {
        let answer = c
            .call("GET", &format!("/users?updatedFrom={good}"), None)
            .await;
        assert_eq!(answer.status, 200, "{good}");
    }
    let everyone = c
        .call("GET", "/users?updatedFrom=1970-01-01", None)
        .await
        .json();
    assert_eq!(everyone["data"].as_array().unwrap().len(), 1);
}

async fn users_are_found_by_email_username_or_id_as_uniqueness_compares(store: Arc<dyn UserStore>) {
    let c = Client::new(store);
    let ann = c
        .call(
            "POST",
            "/users/ann",
            Some(json!({"email": "Ann@Bücher.de", "username": "Ann"})),
        )
        .await
        .json();
    let bob = c
        .call(
            "POST",
            "/users/bob",
            Some(json!({"email": "bob@x.io", "username": "bob"})),
        )
        .await
        .json();
    c.call("DELETE", "/users/bob", None).await;
    let found = |a: &common::Answer| -> (u64, Vec<String>) {
        assert_eq!(a.status, 200, "{}", a.text);
        let body = a.json();
        (
            body["pagination"]["totalItems"].as_u64().unwrap(),
            bubble_ids(body["data"].as_array().unwrap()),
        )
    };
    let ann_id = ann["id"].as_str().unwrap();
    let bob_id = bob["id"].as_str().unwrap();
    for (query, expected) in [
        ("email=ann%40xn--bcher-kva.de".to_owned(), vec!["ann"]),
        ("email=ANN%40b%C3%BCcher.de".to_owned(), vec!["ann"]),
        ("username=ANN".to_owned(), vec!["ann"]),
        (format!("id={ann_id}"), vec!["ann"]),
        ("id=ann".to_owned(), vec!["ann"]),
        ("email=bob%40x.io".to_owned(), vec![]),
        ("username=bob".to_owned(), vec![]),
        (format!("id={bob_id}"), vec![]),
        ("email=nobody%40x.io".to_owned(), vec![]),
    ] {
        let answer = c.call("GET", &format!("/users?{query}"), None).await;
        let (total, ids) = found(&answer);
        assert_eq!(ids, expected, "{query}");
        assert_eq!(total, expected.len() as u64, "{query}: exact totalItems");
    }
    let bad = c.call("GET", "/users?email=not-an-address", None).await;
    assert_eq!(bad.json()["details"][0]["field"], "email");
}

async fn one_filter_at_a_time_and_no_unknown_parameter(store: Arc<dyn UserStore>) {
    let c = Client::new(store);
    c.call("POST", "/users/a", Some(json!({}))).await;
    let two = c
        .call("GET", "/users?email=a%40x.io&username=a", None)
        .await;
    assert_eq!(two.status, 400);
    let fields: Vec<String> = two.json()["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["field"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(fields, ["email", "username"]);
    let with_feed = c
        .call(
            "GET",
            "/users?updatedFrom=1970-01-01&producerId=50658c1e-356e-4407-b120-d110552292d8",
            None,
        )
        .await;
    assert_eq!(with_feed.status, 400);
    for (method, url, name) in [
        ("GET", "/users?emial=a%40x.io", "emial"),
        ("GET", "/users/a?verbose=1", "verbose"),
        (
            "GET",
            "/deleted-users?updatedFrom=1970-01-01",
            "updatedFrom",
        ),
        ("POST", "/users/a?dryRun=true", "dryRun"),
        ("DELETE", "/users/a?force=1", "force"),
        ("GET", "/users?producerId=not-a-uuid", "producerId"),
    ] {
        let answer = c.call(method, url, Some(json!({}))).await;
        assert_eq!(answer.status, 400, "{method} {url}: {}", answer.text);
        assert_eq!(answer.json()["details"][0]["field"], name, "{method} {url}");
    }
    assert_eq!(
        c.call("GET", "/users/a", None).await.status,
        200,
        "nothing was deleted"
    );
}

async fn the_users_of_a_producer_are_listed_in_creation_order(store: Arc<dyn UserStore>) {
    let c = Client::new(store);
    let p = "50658c1e-356e-4407-b120-d110552292d8";
    let other = "11111111-2222-4333-8444-555555555555";
    for (b, producer) in [
        ("p1", p),
        ("o1", other),
        ("p2", p),
        ("p3", p),
        ("p4", p),
        ("p5", p),
    ] {
        let made = c
            .call(
                "POST",
                &format!("/users/{b}"),
                Some(json!({"producerId": producer})),
            )
            .await;
        assert_eq!(made.status, 200);
    }
    c.call("DELETE", "/users/p3", None).await;
    c.call("PUT", "/users/p4", Some(json!({"firstName": "stays"})))
        .await;
    c.call("PUT", "/users/p5", Some(json!({"producerId": other})))
        .await;
    c.call("PUT", "/users/o1", Some(json!({"producerId": p})))
        .await;
    let (items, pages) = walk(&c, &format!("/users?producerId={p}&pageSize=2")).await;
    assert_eq!(bubble_ids(&items), ["p1", "o1", "p2", "p4"]);
    assert_eq!(pages, 2);
    let first = c
        .call("GET", &format!("/users?producerId={p}&pageSize=2"), None)
        .await
        .json();
    assert_eq!(first["pagination"]["totalItems"], Value::Null);
    let second = c
        .call(
            "GET",
            &format!("/users?producerId={p}&pageSize=2&page=2"),
            None,
        )
        .await
        .json();
    assert_eq!(bubble_ids(second["data"].as_array().unwrap()), ["p2", "p4"]);
    let others = c
        .call("GET", &format!("/users?producerId={other}"), None)
        .await
        .json();
    assert_eq!(bubble_ids(others["data"].as_array().unwrap()), ["p5"]);
    c.call("PUT", "/users/p5", Some(json!({"producerId": null})))
        .await;
    let none = c
        .call("GET", &format!("/users?producerId={other}"), None)
        .await
        .json();
    assert_eq!(none["data"], json!([]));
    c.call("POST", "/users/p3/restore", None).await;
    let (items, _) = walk(&c, &format!("/users?producerId={p}&pageSize=10")).await;
    assert_eq!(
        bubble_ids(&items),
        ["p1", "o1", "p2", "p3", "p4"],
        "a restored user is back"
    );
}

on_both_stores!(
    users_are_found_by_email_username_or_id_as_uniqueness_compares,
    one_filter_at_a_time_and_no_unknown_parameter,
    the_users_of_a_producer_are_listed_in_creation_order,
    only_a_cursor_with_its_whole_tag_is_accepted,
    page_numbers_stay_within_the_window,
    the_feed_takes_dates_from_1970_to_9999_only,
    the_list_envelope_counts_exactly_and_pages_by_cursor_or_number,
    bad_list_parameters_are_named,
    the_feed_lists_changes_since_t_with_tombstones,
    a_walk_under_concurrent_writes_sees_every_steady_user_once,
);
