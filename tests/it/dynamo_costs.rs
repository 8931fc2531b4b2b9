//! What each operation costs in DynamoDB requests, read from `Server-Timing` as a client
//! sees it, against the local server.

use crate::common;

use std::sync::Arc;

use common::Client;
use serde_json::json;
use users_api::domain::Relation;
use users_api::store::meter::{self, Meter};
use users_api::store::{UserStore, Window};

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

/// Creates `n` users through the API and deletes every other one.
async fn half_deleted(c: &Client, n: usize) {
    for i in 0..n {
        let path = format!("/users/u{i:04}");
        let made = c.call("POST", &path, Some(json!({"firstName": "x"}))).await;
        assert_eq!(made.status, 200, "{}", made.text);
        if i % 2 == 1 {
            assert_eq!(c.call("DELETE", &path, None).await.status, 200);
        }
    }
}

/// What reading one page cost.
struct PageCost {
    requests: u64,
    rounds: u64,
    items: u64,
}

/// Walks one of the three lists with a meter around every page; answers the items seen and
/// each page's cost.
async fn metered_walk(
    store: &Arc<dyn UserStore>,
    list: &str,
    page_size: usize,
) -> (usize, Vec<PageCost>) {
    let (mut after, mut seen, mut costs) = (None::<String>, 0, Vec::new());
    loop {
        let m = Arc::new(Meter::default());
        let window = Window::after(after.as_deref(), page_size);
        let (len, next) = meter::scope(m.clone(), async {
            let page = match list {
                "users" => store
                    .list_active(window)
                    .await
                    .map(|p| (p.items.len(), p.next)),
                "feed" => store
                    .changes("2000-01-01T00:00:00.000Z", window)
                    .await
                    .map(|p| (p.items.len(), p.next)),
                _ => store
                    .deletions(window)
                    .await
                    .map(|p| (p.items.len(), p.next)),
            };
            page.unwrap()
        })
        .await;
        costs.push(PageCost {
            requests: m.requests(),
            rounds: m.rounds(),
            items: m.items_read(),
        });
        seen += len;
        match next {
            Some(n) => after = Some(n),
            None => return (seen, costs),
        }
    }
}

/// The hard bounds of every page; how often a page needs a second or third round depends on
/// the random spread of ids, and is measured on a seeded spread by the merge's unit tests
/// and by `make bench`.
#[tokio::test]
async fn every_list_page_keeps_its_request_round_and_item_bounds_on_1_and_8_shards() {
    for shards in [1u32, 8] {
        let store: Arc<dyn UserStore> = Arc::new(common::dynamo_with_shards(shards).await);
        let c = Client::new(store.clone());
        half_deleted(&c, 220).await;
        let s = u64::from(shards);
        for (list, expected) in [("users", 110), ("feed", 220), ("deleted", 110)] {
            for page_size in [10usize, 100] {
                let (seen, costs) = metered_walk(&store, list, page_size).await;
                assert_eq!(seen, expected, "{list} over {shards} shards by {page_size}");
                for (i, cost) in costs.iter().enumerate() {
                    let what = format!("{list}, {shards} shards, page {i} of {page_size}");
                    assert!(
                        cost.requests <= 2 * s + 1,
                        "{what}: {} requests",
                        cost.requests
                    );
                    assert!(cost.rounds <= 3, "{what}: {} rounds", cost.rounds);
                    assert!(
                        cost.items <= (page_size + page_size / 2) as u64 + s,
                        "{what}: {} items read",
                        cost.items
                    );
                }
            }
        }
        // Through the API: the page and its exact count, in 2S + 2 requests at most.
        let page = c.call("GET", "/users?pageSize=100", None).await;
        assert_eq!(page.json()["pagination"]["totalItems"], 110);
        assert!(page.db_requests() <= 2 * s + 2, "{}", page.db_requests());
    }
}

#[tokio::test]
async fn a_numbered_page_reads_ahead_in_chunks_not_item_by_item() {
    let store = common::dynamo_store().await;
    let c = Client::new(store);
    half_deleted(&c, 240).await;
    let numbered = c.call("GET", "/users?page=3&pageSize=40", None).await;
    assert_eq!(numbered.status, 200, "{}", numbered.text);
    assert!(
        numbered.db_requests() <= 14,
        "page=3&pageSize=40: {} requests",
        numbered.db_requests()
    );
    let ids = |a: &common::Answer| -> Vec<String> {
        a.json()["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["bubbleId"].as_str().unwrap().to_owned())
            .collect()
    };
    let expected: Vec<String> = (160..240).step_by(2).map(|i| format!("u{i:04}")).collect();
    assert_eq!(
        ids(&numbered),
        expected,
        "users 81 to 120 in creation order"
    );
}

#[tokio::test]
async fn server_timing_reports_the_capacity_dynamodb_consumed() {
    let c = client().await;
    c.call("POST", "/users/cap", Some(json!({"firstName": "x"})))
        .await;
    let read = c.call("GET", "/users/cap", None).await;
    let (requests, rcu, wcu) = read.db_costs();
    assert_eq!((requests, wcu), (1, 0.0));
    assert!(rcu > 0.0, "a read consumes read units: {rcu}");
    let write = c
        .call("POST", "/users/cap", Some(json!({"firstName": "y"})))
        .await;
    let (_, _, wcu) = write.db_costs();
    assert!(wcu > 0.0, "a write consumes write units: {wcu}");
    // The same payload again: the conditional update fails (nothing would change), and
    // DynamoDB bills a failed conditional write at least 1 WCU.
    let again = c
        .call("POST", "/users/cap", Some(json!({"firstName": "y"})))
        .await;
    assert_eq!(again.json()["version"], 2, "nothing was written");
    assert_eq!(
        again.db_costs(),
        (1, 0.0, 1.0),
        "one failed write, 1 WCU billed"
    );
}

#[tokio::test]
async fn a_batch_upsert_costs_one_read_plus_the_users_that_change() {
    let c = client().await;
    let users = |n: usize, name: &str| -> Vec<serde_json::Value> {
        (0..n)
            .map(|i| json!({"bubbleId": format!("s{i:03}"), "firstName": name, "email": format!("s{i}@x.io")}))
            .collect()
    };
    let results = |a: &common::Answer| -> Vec<String> {
        a.json()["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["result"].as_str().unwrap().to_owned())
            .collect()
    };
    // Half of a batch applied before a failure; the client retries the whole batch.
    let half = c
        .call("POST", "/users?upsert=true", Some(json!(users(10, "A"))))
        .await;
    assert_eq!(
        half.db_requests(),
        1 + 10,
        "one read, one transaction per creation"
    );
    let whole = c
        .call("POST", "/users?upsert=true", Some(json!(users(20, "A"))))
        .await;
    assert_eq!(
        whole.db_requests(),
        1 + 10,
        "only the ten not yet applied are written"
    );
    let outcomes = results(&whole);
    assert!(
        outcomes[..10].iter().all(|r| r == "unchanged"),
        "{outcomes:?}"
    );
    assert!(
        outcomes[10..].iter().all(|r| r == "created"),
        "{outcomes:?}"
    );

    let unchanged = c
        .call("POST", "/users?upsert=true", Some(json!(users(20, "A"))))
        .await;
    assert_eq!(
        unchanged.db_requests(),
        1,
        "a batch that changes nothing is one read"
    );

    let mut some_changed = users(20, "A");
    for i in [2, 7, 11] {
        some_changed[i]["firstName"] = json!("B");
    }
    let changed = c
        .call("POST", "/users?upsert=true", Some(json!(some_changed)))
        .await;
    assert_eq!(
        changed.db_requests(),
        1 + 3,
        "one read and three plain updates"
    );
    assert_eq!(
        results(&changed).iter().filter(|r| *r == "updated").count(),
        3
    );
}

#[tokio::test]
async fn finding_a_user_costs_two_requests_and_a_relation_page_two_rounds() {
    let store = Arc::new(common::dynamo().await);
    let shared: Arc<dyn UserStore> = store.clone();
    let c = Client::new(shared.clone());
    let p = "50658c1e-356e-4407-b120-d110552292d8";
    let made = c
        .call(
            "POST",
            "/users/f1",
            Some(json!({"email": "f1@x.io", "username": "f1", "producerId": p})),
        )
        .await
        .json();
    for i in 2..30 {
        let body = json!({"producerId": p, "firstName": format!("{i}")});
        c.call("POST", &format!("/users/f{i}"), Some(body)).await;
    }
    let id = made["id"].as_str().unwrap();
    for query in [
        "email=F1%40x.io".to_owned(),
        "username=F1".to_owned(),
        format!("id={id}"),
        "id=f1".to_owned(),
        "email=nobody%40x.io".to_owned(),
        "id=50658c1e-0000-4407-b120-d110552292d8".to_owned(),
    ] {
        let answer = c.call("GET", &format!("/users?{query}"), None).await;
        assert_eq!(answer.status, 200);
        assert!(
            answer.db_requests() <= 2,
            "{query}: {} requests",
            answer.db_requests()
        );
    }
    let mut after: Option<String> = None;
    let mut seen = 0;
    loop {
        let m = Arc::new(Meter::default());
        let page = meter::scope(
            m.clone(),
            shared.list_related(Relation::Producer, p, Window::after(after.as_deref(), 10)),
        )
        .await
        .unwrap();
        assert_eq!(m.requests(), 1, "a relation page is one query");
        assert!(m.items_read() <= 11, "{} items", m.items_read());
        seen += page.items.len();
        match page.next {
            Some(n) => after = Some(n),
            None => break,
        }
    }
    assert_eq!(seen, 29);
}

/// The read-capacity floor of `users`: their items' bytes in 4 KB units, at half a unit
/// each (an eventually consistent query).
fn read_floor(users: &[users_api::domain::User]) -> f64 {
    use users_api::store::dynamo::item::{item_size, user_item};
    let bytes: usize = users.iter().map(|u| item_size(&user_item(u, 4))).sum();
    bytes.div_ceil(4096) as f64 * 0.5
}

#[tokio::test]
async fn an_organizations_list_and_feed_pages_cost_at_most_twice_their_read_floor() {
    let store: Arc<dyn UserStore> = Arc::new(common::dynamo().await);
    let c = Client::new(store.clone());
    let p = uuid::Uuid::new_v4().to_string();
    let q = uuid::Uuid::new_v4().to_string();
    for i in 0..103 {
        let body = json!({
            "producerId": p, "email": format!("org{i}-{p}@x.io"), "firstName": "Firstname",
            "lastName": format!("Lastname {i}"), "language": "en",
        });
        c.call("POST", &format!("/users/org{i}-{p}"), Some(body))
            .await;
    }
    // Three leave: the feed merges their departures with the organization's users.
    for i in 0..3 {
        let left = c
            .call(
                "PATCH",
                &format!("/users/org{i}-{p}"),
                Some(json!({"producerId": q})),
            )
            .await;
        assert_eq!(left.status, 200, "{}", left.text);
    }
    let m = Arc::new(Meter::default());
    let list = meter::scope(
        m.clone(),
        store.list_related(Relation::Producer, &p, Window::after(None, 100)),
    )
    .await
    .unwrap();
    assert_eq!((list.items.len(), m.requests(), m.rounds()), (100, 1, 1));
    let floor = read_floor(&list.items);
    let read = m.capacity().read;
    assert!(read <= 2.0 * floor, "list: {read} RCU, floor {floor}");

    // The bound key's page and its totalItems, as `GET /users` asks them: the count is the
    // organization's counters, one request beside the page, however large it is.
    let binding = users_api::keys::Binding {
        relation: Relation::Producer,
        id: p.parse().unwrap(),
    };
    let view = users_api::store::bound::Bound::new(store.clone(), binding);
    let m = Arc::new(Meter::default());
    let (page, total) = meter::scope(m.clone(), async {
        tokio::join!(
            view.list_active(Window::after(None, 100)),
            view.count_active()
        )
    })
    .await;
    assert_eq!((page.unwrap().items.len(), total.unwrap()), (100, 100));
    assert_eq!((m.requests(), m.rounds()), (2, 1), "page and count");

    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let m = Arc::new(Meter::default());
        let page = meter::scope(
            m.clone(),
            store.changes_related(
                Relation::Producer,
                &p,
                "1970",
                Window::after(after.as_deref(), 100),
            ),
        )
        .await
        .unwrap();
        // The members and the departures, each asked for the whole page: one round.
        assert_eq!((m.rounds(), m.requests()), (1, 2), "feed page");
        if page.items.len() == 100 {
            let floor = read_floor(&page.items);
            let read = m.capacity().read;
            assert!(read <= 2.0 * floor, "feed: {read} RCU, floor {floor}");
        }
        seen.extend(page.items);
        match page.next {
            Some(n) => after = Some(n),
            None => break,
        }
    }
    let tombstones = seen
        .iter()
        .filter(|u| u.profile.iter().next().is_none())
        .count();
    assert_eq!(
        (seen.len(), tombstones),
        (103, 3),
        "100 members and 3 who left"
    );
}
