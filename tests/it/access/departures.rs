//! A user that leaves an organization (an unbound key changes its relation, unsets it, or
//! erases the person) shows once more in that organization's feed, as a tombstone with ids
//! and times only, so the organization's mirror drops it; the organization it joins sees it
//! whole.

use std::sync::Arc;

use serde_json::{json, Value};
use users_api::store::UserStore;

use super::{two_organizations, ORG_A, ORG_B};
use crate::common::Client;

/// The whole feed as `client` walks it, a page of `size` at a time.
async fn walk_feed(client: &Client, size: usize) -> Vec<Value> {
    let mut seen = Vec::new();
    let mut url = format!("/users?updatedFrom=1970-01-01&pageSize={size}");
    loop {
        let page = client.call("GET", &url, None).await;
        assert_eq!(page.status, 200, "{}", page.text);
        let page = page.json();
        seen.extend(page["data"].as_array().unwrap().iter().cloned());
        match page["pagination"]["nextPageUrl"].as_str() {
            Some(next) => url = next.to_owned(),
            None => return seen,
        }
    }
}

fn entries<'a>(feed: &'a [Value], bubble_id: &str) -> Vec<&'a Value> {
    feed.iter().filter(|u| u["bubbleId"] == bubble_id).collect()
}

async fn a_user_that_leaves_shows_once_in_its_organizations_feed_as_a_tombstone(
    store: Arc<dyn UserStore>,
) {
    let admin = Client::new(store);
    let (a, b) = two_organizations(&admin).await;
    for name in ["stays", "moves", "unset", "erased"] {
        let body = json!({"email": format!("{name}@x.io"), "firstName": "Personal"});
        let made = a.call("POST", &format!("/users/{name}"), Some(body)).await;
        assert_eq!(made.status, 200, "{}", made.text);
    }
    let moved = admin
        .call("PATCH", "/users/moves", Some(json!({"producerId": ORG_B})))
        .await;
    assert_eq!(moved.status, 200, "{}", moved.text);
    let unset = admin
        .call("PATCH", "/users/unset", Some(json!({"producerId": null})))
        .await;
    assert_eq!(unset.status, 200, "{}", unset.text);
    let erased = admin.call("POST", "/users/erased/erase", None).await;
    assert_eq!(erased.status, 200, "{}", erased.text);

    for size in [1, 2, 100] {
        let feed = walk_feed(&a, size).await;
        assert_eq!(feed.len(), 4, "pages of {size}: {feed:?}");
        let stays = entries(&feed, "stays");
        assert_eq!(stays.len(), 1);
        assert_eq!(stays[0]["firstName"], "Personal");
        for (name, left) in [
            ("moves", moved.json()),
            ("unset", unset.json()),
            ("erased", erased.json()),
        ] {
            let shown = entries(&feed, name);
            assert_eq!(shown.len(), 1, "{name} once, pages of {size}");
            let tomb = shown[0];
            assert_eq!(tomb["id"], left["id"], "{name}");
            assert_eq!(tomb["version"], left["version"], "{name}");
            assert_eq!(tomb["updatedAt"], left["updatedAt"], "{name}");
            assert_eq!(
                tomb["deletedAt"], left["updatedAt"],
                "{name}: deleted when it left"
            );
            for personal in ["email", "firstName", "producerId", "username"] {
                assert!(tomb[personal].is_null(), "{name}: {personal} in {tomb}");
            }
        }
    }
    // The organization it joined sees it whole; the others never reach B's feed.
    let feed = walk_feed(&b, 100).await;
    let ids: Vec<&str> = feed
        .iter()
        .map(|u| u["bubbleId"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["moves"]);
    assert_eq!(feed[0]["producerId"], ORG_B);
    assert_eq!(feed[0]["email"], "moves@x.io");
    // A's feed from after the departures holds none of them again.
    let since = moved.json()["updatedAt"].as_str().unwrap().to_owned();
    let later = a
        .call("GET", &format!("/users?updatedFrom={since}"), None)
        .await
        .json();
    let later: Vec<&str> = later["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["bubbleId"].as_str().unwrap())
        .collect();
    assert!(!later.contains(&"stays"), "{later:?}");
    assert!(later
        .iter()
        .all(|b| ["moves", "unset", "erased"].contains(b)));
    // Reads of the departed users stay 404 for A.
    for name in ["moves", "unset", "erased"] {
        let read = a.call("GET", &format!("/users/{name}"), None).await;
        assert_eq!(read.status, 404, "{name}");
    }
}

/// A write that keeps the relation (or sets one where there was none) leaves nothing behind.
async fn a_write_that_keeps_the_organization_records_no_departure(store: Arc<dyn UserStore>) {
    let admin = Client::new(store);
    let (a, _) = two_organizations(&admin).await;
    a.call("POST", "/users/k1", Some(json!({"firstName": "One"})))
        .await;
    admin.call("POST", "/users/k2", Some(json!({}))).await;
    let kept = admin
        .call(
            "POST",
            "/users/k1",
            Some(json!({"producerId": ORG_A, "firstName": "Two"})),
        )
        .await;
    assert_eq!(kept.status, 200, "{}", kept.text);
    let joined = admin
        .call("PATCH", "/users/k2", Some(json!({"producerId": ORG_A})))
        .await;
    assert_eq!(joined.status, 200, "{}", joined.text);
    let feed = walk_feed(&a, 100).await;
    let names: Vec<&str> = feed
        .iter()
        .map(|u| u["bubbleId"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["k1", "k2"], "{feed:?}");
    assert!(feed.iter().all(|u| u["deletedAt"].is_null()));
}

on_both_stores!(
    a_user_that_leaves_shows_once_in_its_organizations_feed_as_a_tombstone,
    a_write_that_keeps_the_organization_records_no_departure,
);
