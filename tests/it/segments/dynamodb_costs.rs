//! What a segment's page costs on DynamoDB Local, for pages of 100 and 1,000: at most two
//! sequential rounds, a bounded number of requests, read capacity within twice the floor its
//! own items fill, and no single request near DynamoDB's 1 MB page.

use crate::common;

use std::sync::Arc;

use common::Client;
use serde_json::{json, Value};
use users_api::domain::User;
use users_api::store::dynamo::item::{item_size, user_item};
use users_api::store::meter::{self, Meter};
use users_api::store::{Segment, UserStore, Window};

const USERS: usize = 2100;

/// User `i`, shaped like the first client's own example (`events/02`): about 1.1 KB stored.
pub fn seed_like(i: usize) -> Value {
    let event: Value =
        serde_json::from_str(include_str!("../../../events/02-upsert-seed-200.json"))
            .expect("the sample event is JSON");
    let mut user: Value =
        serde_json::from_str(event["body"].as_str().expect("a body")).expect("its body is JSON");
    user["bubbleId"] = json!(format!("1708861331497x{i:018}"));
    user["email"] = json!(format!("user{i}@algorep.ai"));
    user
}

/// The read capacity a page's own items fill: its 4 KB blocks, eventually consistent.
fn read_floor(users: &[User]) -> f64 {
    let bytes: usize = users.iter().map(|u| item_size(&user_item(u, 4))).sum();
    bytes.div_ceil(4096) as f64 * 0.5
}

#[derive(Clone, Copy)]
enum List {
    Feed,
    Active,
}

/// Walks `segment` of `list` in pages of `size`, asserting each page's cost; answers the
/// users and the pages.
async fn walk(
    store: &Arc<dyn UserStore>,
    list: List,
    segment: Segment,
    size: usize,
) -> (Vec<User>, usize) {
    let partitions = segment
        .partitions_of(common::SHARDS)
        .map_or(Segment::MOST / segment.count(), |p| p.len() as u32) as u64;
    let (mut users, mut after, mut pages) = (Vec::new(), None::<String>, 0);
    loop {
        let m = Arc::new(Meter::default());
        let window = Window::after(after.as_deref(), size).in_segment(segment);
        let page = meter::scope(m.clone(), async {
            match list {
                List::Feed => store.changes("1970", window).await,
                List::Active => store.list_active(window).await,
            }
        })
        .await
        .unwrap();
        let what = format!(
            "segment {} of {}, pages of {size}, page {pages}",
            segment.index(),
            segment.count()
        );
        // Two rounds but for a rare skew of a page's items over its partitions, which the
        // merge bounds at three (see `shard_merge`); `make bench` reports the mean and max.
        assert!(m.rounds() <= 3, "{what}: {} rounds", m.rounds());
        assert!(
            m.requests() <= 2 * partitions + 1,
            "{what}: {} requests",
            m.requests()
        );
        if page.items.len() == size {
            let (read, floor) = (m.capacity().read, read_floor(&page.items));
            assert!(read <= 2.0 * floor, "{what}: {read} RCU, floor {floor}");
        }
        // An eventually consistent request reads 8 KiB per unit: well under 1 MB a request.
        assert!(
            m.largest_read() * 8192.0 < 0.9 * 1024.0 * 1024.0,
            "{what}: {} RCU in one request",
            m.largest_read()
        );
        for u in &page.items {
            assert!(segment.holds(&u.id), "{what}: {} is not in it", u.bubble_id);
        }
        users.extend(page.items);
        pages += 1;
        match page.next {
            Some(next) => after = Some(next),
            None => return (users, pages),
        }
    }
}

#[tokio::test]
async fn segment_pages_cost_their_items_in_at_most_two_rounds() {
    let store: Arc<dyn UserStore> = Arc::new(common::dynamo().await);
    let c = Client::new(store.clone());
    let all: Vec<Value> = (0..USERS).map(seed_like).collect();
    super::upsert_all(&c, &all, 100).await;
    let (whole, pages) = walk(&store, List::Feed, Segment::WHOLE, 1000).await;
    assert_eq!((whole.len(), pages), (USERS, 3));
    for (count, size) in [(2, 1000), (4, 100), (8, 100), (32, 1000), (64, 1000)] {
        let mut seen = 0;
        for index in 0..count {
            let segment = Segment::new(index, count).unwrap();
            for list in [List::Feed, List::Active] {
                let (users, _) = walk(&store, list, segment, size).await;
                if matches!(list, List::Feed) {
                    seen += users.len();
                }
            }
        }
        assert_eq!(seen, USERS, "{count} segments see every user once");
    }
}
