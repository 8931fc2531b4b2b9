//! Parallel segments of the list and the change feed, on both stores: together a split's
//! segments return every user once, as one cursor's walk does, for every segment count,
//! while others write; and pages of up to 1,000 by cursor.

use crate::common;

mod dynamodb_costs;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use common::Client;
use serde_json::{json, Value};
use users_api::store::{Segment, UserStore};
use uuid::Uuid;

const COUNTS: [u32; 7] = [1, 2, 4, 8, 16, 32, 64];
const FEED: &str = "/users?updatedFrom=1970-01-01";

/// Follows `nextPageUrl` from `first` to the end; every item, in order.
async fn walk(c: &Client, first: &str) -> Vec<Value> {
    crate::lists::walk(c, first).await.0
}

fn id_of(user: &Value) -> Uuid {
    user["id"].as_str().unwrap().parse().unwrap()
}

/// Upserts `users` through the batch upsert, `per_call` a call.
pub async fn upsert_all(c: &Client, users: &[Value], per_call: usize) {
    for chunk in users.chunks(per_call) {
        let done = c
            .call(
                "POST",
                "/users?upsert=true",
                Some(Value::Array(chunk.to_vec())),
            )
            .await;
        assert_eq!(
            done.status,
            200,
            "{}",
            &done.text[..done.text.len().min(300)]
        );
    }
}

/// Upserts `n` users `prefix0`…; answers their bubbleIds.
async fn seed(c: &Client, prefix: &str, n: usize) -> Vec<String> {
    let ids: Vec<String> = (0..n).map(|i| format!("{prefix}{i}")).collect();
    let users: Vec<Value> = ids
        .iter()
        .map(|b| json!({"bubbleId": b, "firstName": "Seg", "language": "fr"}))
        .collect();
    upsert_all(c, &users, 100).await;
    ids
}

/// Walks every segment of `count` from `base` (a path with its query) with `pageSize`,
/// asserting that each item is in the segment that returned it; answers the items.
async fn walk_segments(c: &Client, base: &str, count: u32, page_size: usize) -> Vec<Value> {
    let mut all = Vec::new();
    for i in 0..count {
        let url = format!("{base}&segment={i}&segments={count}&pageSize={page_size}");
        let items = walk(c, &url).await;
        let segment = Segment::new(i, count).unwrap();
        for u in &items {
            assert!(segment.holds(&id_of(u)), "{url} answered {u}");
        }
        all.extend(items);
    }
    all
}

fn once_each(items: &[Value]) -> HashSet<Uuid> {
    let mut seen = HashSet::new();
    for u in items {
        assert!(seen.insert(id_of(u)), "{} twice", u["bubbleId"]);
    }
    seen
}

async fn segments_partition_the_list_and_the_feed_for_every_count(store: Arc<dyn UserStore>) {
    let c = Client::new(store);
    let ids = seed(&c, "seg", 150).await;
    for b in ids.iter().step_by(10) {
        assert_eq!(
            c.call("DELETE", &format!("/users/{b}"), None).await.status,
            200
        );
    }
    let feed = once_each(&walk(&c, &format!("{FEED}&pageSize=100")).await);
    let list = once_each(&walk(&c, "/users?pageSize=100").await);
    assert_eq!((feed.len(), list.len()), (150, 135));
    for count in COUNTS {
        let split = walk_segments(&c, FEED, count, 7).await;
        assert_eq!(once_each(&split), feed, "the feed in {count} segments");
        let split = walk_segments(&c, "/users?", count, 7).await;
        assert_eq!(once_each(&split), list, "the list in {count} segments");
    }
    // A segment's feed keeps the feed's order, deleted users included.
    let one = walk(&c, &format!("{FEED}&segment=1&segments=2&pageSize=3")).await;
    let keys: Vec<(String, String)> = one
        .iter()
        .map(|u| {
            (
                u["updatedAt"].as_str().unwrap().to_owned(),
                u["bubbleId"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);
    assert!(one.iter().any(|u| !u["deletedAt"].is_null()));
}

/// While 8 segments of the feed are walked, a writer updates, deletes, restores and moves
/// users to other bubbleIds (SCIM's `externalId`). As for one cursor: a user nobody wrote
/// comes once, a written one at least once, and never one version twice nor from a segment
/// not its own.
async fn segments_keep_one_cursors_guarantee_while_others_write(store: Arc<dyn UserStore>) {
    let c = Client::new(store.clone());
    let ids = seed(&c, "busy", 120).await;
    let writer = Client::new(store);
    let written: Vec<String> = ids.iter().step_by(3).cloned().collect();
    let touched = written.clone();
    let writes = tokio::spawn(async move {
        let mut moved = Vec::new();
        for (round, b) in touched.iter().enumerate() {
            let path = format!("/users/{b}");
            let status = match round % 4 {
                0 => {
                    writer
                        .call(
                            "PATCH",
                            &path,
                            Some(json!({"firstName": format!("W{round}")})),
                        )
                        .await
                        .status
                }
                1 => writer.call("DELETE", &path, None).await.status,
                2 => {
                    writer.call("DELETE", &path, None).await;
                    writer
                        .call("POST", &format!("{path}/restore"), None)
                        .await
                        .status
                }
                _ => {
                    let user = writer.call("GET", &path, None).await.json();
                    let to = format!("moved-{b}");
                    let patch = json!({
                        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                        "Operations": [{"op": "replace", "path": "externalId", "value": to}],
                    });
                    moved.push(to);
                    let id = user["id"].as_str().unwrap().to_owned();
                    writer
                        .scim_face()
                        .call("PATCH", &format!("/Users/{id}"), Some(patch))
                        .await
                        .status
                }
            };
            assert_eq!(status, 200, "write {round} on {b}");
            tokio::task::yield_now().await;
        }
        moved
    });
    let split = walk_segments(&c, FEED, 8, 5).await;
    let moved = writes.await.unwrap();

    let mut versions: HashMap<Uuid, Vec<u64>> = HashMap::new();
    for u in &split {
        versions
            .entry(id_of(u))
            .or_default()
            .push(u["version"].as_u64().unwrap());
    }
    let after = walk(&c, &format!("{FEED}&pageSize=100")).await;
    assert_eq!(
        after.len(),
        120,
        "every user, moved or deleted, is in the feed"
    );
    let written: HashSet<&str> = written
        .iter()
        .map(String::as_str)
        .chain(moved.iter().map(String::as_str))
        .collect();
    for user in &after {
        let seen = versions
            .get(&id_of(user))
            .unwrap_or_else(|| panic!("{} missed", user["bubbleId"]));
        let mut distinct = seen.clone();
        distinct.sort_unstable();
        distinct.dedup();
        assert_eq!(
            distinct.len(),
            seen.len(),
            "{}: a version twice",
            user["bubbleId"]
        );
        if !written.contains(user["bubbleId"].as_str().unwrap()) {
            assert_eq!(seen.len(), 1, "{} was not written: once", user["bubbleId"]);
        }
    }
}

async fn segment_parameters_are_checked_and_cursors_stay_in_their_segment(
    store: Arc<dyn UserStore>,
) {
    let c = Client::new(store);
    seed(&c, "chk", 30).await;
    let refused = [
        ("/users?segment=1", "segments"),
        ("/users?segments=4", "segment"),
        ("/users?segment=0&segments=3", "segments"),
        ("/users?segment=0&segments=128", "segments"),
        ("/users?segment=4&segments=4", "segment"),
        ("/users?segment=-1&segments=4", "segment"),
        ("/users?segment=0&segments=2&email=a%40b.io", "segment"),
        (
            "/users?segment=0&segments=2&producerId=0a0a0a0a-0000-4000-8000-00000000000a",
            "segment",
        ),
        ("/users?pageSize=1001", "pageSize"),
        ("/users?pageSize=101&page=2", "pageSize"),
        (
            "/users?producerId=0a0a0a0a-0000-4000-8000-00000000000a&pageSize=101",
            "pageSize",
        ),
        ("/deleted-users?pageSize=101", "pageSize"),
    ];
    for (url, field) in refused {
        let a = c.call("GET", url, None).await;
        assert_eq!(a.status, 400, "{url}: {}", a.text);
        assert_eq!(a.json()["details"][0]["field"], field, "{url}: {}", a.text);
    }
    // A segment's cursor is refused by another segment, and by the whole list.
    let first = c
        .call(
            "GET",
            &format!("{FEED}&segment=1&segments=2&pageSize=2"),
            None,
        )
        .await;
    let next = first.json()["pagination"]["nextPageUrl"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        next.contains("segment=1") && next.contains("segments=2"),
        "{next}"
    );
    let cursor = next.split("cursor=").nth(1).unwrap();
    for other in ["&segment=0&segments=2", "&segment=1&segments=4", ""] {
        let a = c
            .call(
                "GET",
                &format!("{FEED}&pageSize=2{other}&cursor={cursor}"),
                None,
            )
            .await;
        assert_eq!(
            (a.status.as_u16(), a.json()["details"][0]["field"].clone()),
            (400, json!("cursor")),
            "{other}"
        );
    }
    // Pages of 1,000 by cursor on the feed and the list (and on a first page that names
    // itself, as generated clients do); a segment has no count.
    for url in [
        format!("{FEED}&pageSize=1000"),
        "/users?pageSize=1000".to_owned(),
        "/users?pageSize=1000&page=1".to_owned(),
    ] {
        let page = c.call("GET", &url, None).await.json();
        assert_eq!(
            (
                page["data"].as_array().unwrap().len(),
                page["pagination"]["itemsPerPage"].clone()
            ),
            (30, json!(1000))
        );
    }
    let segment = c
        .call("GET", "/users?segment=0&segments=2", None)
        .await
        .json();
    assert!(segment["pagination"]["totalItems"].is_null(), "{segment}");
    // An organization's key walks its directory by one cursor.
    let (secret, _) = crate::access::make_key(
        &c,
        json!({"name": "org", "scopes": ["read"], "producerId": crate::access::ORG_A}),
    )
    .await;
    let org = c
        .with_key(&secret)
        .call("GET", "/users?segment=0&segments=2", None)
        .await;
    assert_eq!(
        (
            org.status.as_u16(),
            org.json()["details"][0]["field"].clone()
        ),
        (400, json!("segment"))
    );
}

/// A page over the compression threshold is gzip for a client that accepts it, the same
/// JSON once unzipped; small answers and other clients get plain bodies.
async fn large_answers_are_gzipped_for_clients_that_accept_it(store: Arc<dyn UserStore>) {
    use std::io::Read;
    let c = Client::new(store);
    seed(&c, "zip", 50).await;
    let auth = ("authorization", common::WRITE_KEY);
    for accept in ["application/json", "application/xml"] {
        let path = format!("{FEED}&pageSize=50");
        let plain = common::send(&c.app, "GET", &path, &[auth, ("accept", accept)], None).await;
        assert_eq!(plain.header("content-encoding"), None);
        assert_eq!(plain.header("vary"), Some("accept-encoding"));
        let headers = [
            auth,
            ("accept", accept),
            ("accept-encoding", "br;q=1, gzip;q=0.8"),
        ];
        let zipped = common::send_bytes(&c.app, "GET", &path, &headers).await;
        assert_eq!(zipped.0.get("content-encoding").unwrap(), "gzip");
        let mut text = String::new();
        flate2::read::GzDecoder::new(&zipped.1[..])
            .read_to_string(&mut text)
            .unwrap();
        assert_eq!(text, plain.text);
        assert!(
            zipped.1.len() * 4 < plain.text.len(),
            "{} of {}",
            zipped.1.len(),
            plain.text.len()
        );
    }
    let small = common::send(
        &c.app,
        "GET",
        "/health",
        &[("accept-encoding", "gzip")],
        None,
    )
    .await;
    assert_eq!(small.header("content-encoding"), None);
    let refused = [auth, ("accept-encoding", "gzip;q=0")];
    let plain = common::send(
        &c.app,
        "GET",
        &format!("{FEED}&pageSize=50"),
        &refused,
        None,
    )
    .await;
    assert_eq!(plain.header("content-encoding"), None);
}

/// A page of users whose texts are at their limits stops before Lambda's 6 MB, JSON or XML
/// (`&` is five bytes in XML), and its cursor goes on from the last user it holds.
async fn a_page_of_the_largest_users_stays_under_six_megabytes(store: Arc<dyn UserStore>) {
    let c = Client::new(store);
    let text = "&".repeat(1024);
    let users: Vec<Value> = (0..150)
        .map(|i| {
            json!({"bubbleId": format!("big{i}"), "firstName": text, "lastName": text,
                   "status": text, "role": text, "displayName": text, "language": text})
        })
        .collect();
    upsert_all(&c, &users, 20).await;
    let auth = ("authorization", common::WRITE_KEY);
    for path in [
        format!("{FEED}&pageSize=1000"),
        "/users?pageSize=1000".to_owned(),
    ] {
        for accept in ["application/json", "application/xml"] {
            let page = common::send(&c.app, "GET", &path, &[auth, ("accept", accept)], None).await;
            assert_eq!(page.status, 200);
            assert!(
                page.text.len() < 6 * 1000 * 1000,
                "{path} {accept}: {} bytes",
                page.text.len()
            );
        }
        let first = c.call("GET", &path, None).await.json();
        let held = first["data"].as_array().unwrap().len();
        assert!(
            held < 150 && first["pagination"]["nextPageUrl"].is_string(),
            "{path}: {held}"
        );
        assert_eq!(once_each(&walk(&c, &path).await).len(), 150, "{path}");
    }
}

on_both_stores!(
    a_page_of_the_largest_users_stays_under_six_megabytes,
    segments_partition_the_list_and_the_feed_for_every_count,
    segments_keep_one_cursors_guarantee_while_others_write,
    segment_parameters_are_checked_and_cursors_stay_in_their_segment,
    large_answers_are_gzipped_for_clients_that_accept_it,
);
