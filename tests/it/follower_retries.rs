//! `make run`'s stream follower is at least once and in order, on DynamoDB Local: with the
//! listener refusing every event for a while, and then one user's for a while longer, every
//! version of every user arrives, each user's in version order, and an event the listener
//! took is not sent again.

use crate::common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use serde_json::json;
use users_api::events::local::{LocalStream, Pace, Start};
use users_api::events::{ChangeEvent, EventError, Sink};
use users_api::store::UserStore;

/// Refuses every event until `down`, and `stubborn`'s until `picky`; keeps what it takes.
struct Flaky {
    start: Instant,
    down: Duration,
    picky: Duration,
    stubborn: String,
    taken: Mutex<Vec<(String, u64)>>,
    refused: Mutex<usize>,
}

#[async_trait]
impl Sink for Flaky {
    async fn put(&self, events: &[ChangeEvent]) -> Vec<Result<(), EventError>> {
        let now = self.start.elapsed();
        events
            .iter()
            .map(|e| {
                let refused =
                    now < self.down || (e.detail.bubble_id == self.stubborn && now < self.picky);
                if refused {
                    *self.refused.lock().unwrap() += 1;
                    Err(EventError::Refused("the listener answered 500".into()))
                } else {
                    self.taken
                        .lock()
                        .unwrap()
                        .push((e.detail.bubble_id.clone(), e.detail.version));
                    Ok(())
                }
            })
            .collect()
    }
}

/// Follows `table`'s stream on the local engine into `sink`, polling every 50 ms.
fn spawn_follower<S: Sink + 'static>(
    table: &str,
    sink: Arc<S>,
    start: Start,
) -> tokio::task::JoinHandle<std::convert::Infallible> {
    let stream = LocalStream::new(&common::dynamo_endpoint(), table);
    let pace = Pace {
        poll: Duration::from_millis(50),
        window: Duration::ZERO,
    };
    tokio::spawn(async move { stream.follow(sink.as_ref(), start, pace).await })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dynamodb_a_listener_down_for_a_while_misses_nothing_and_gets_nothing_twice() {
    let store = common::dynamo().await;
    let sink = Arc::new(Flaky {
        start: Instant::now(),
        down: Duration::from_secs(3),
        picky: Duration::from_secs(6),
        stubborn: "f-0".into(),
        taken: Mutex::default(),
        refused: Mutex::default(),
    });
    let follower = spawn_follower(store.table_names().0, sink.clone(), Start::Oldest);
    let store: Arc<dyn UserStore> = Arc::new(store);
    let api = common::Client::new(store);
    let users: Vec<String> = (0..4).map(|i| format!("f-{i}")).collect();
    for round in 0..3 {
        for b in &users {
            let answer = api
                .call(
                    "POST",
                    &format!("/users/{b}"),
                    Some(json!({"firstName": format!("v{round}")})),
                )
                .await;
            assert_eq!(answer.status, 200, "{}", answer.text);
        }
    }
    let deadline = Instant::now() + Duration::from_secs(40);
    while sink.taken.lock().unwrap().len() < 12 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Anything sent twice would show up by now.
    tokio::time::sleep(Duration::from_millis(500)).await;
    follower.abort();
    let taken = sink.taken.lock().unwrap().clone();
    let mut by_user: HashMap<&str, Vec<u64>> = HashMap::new();
    for (b, v) in &taken {
        by_user.entry(b.as_str()).or_default().push(*v);
    }
    for b in &users {
        assert_eq!(
            by_user.get(b.as_str()),
            Some(&vec![1, 2, 3]),
            "{b}: {taken:?}"
        );
    }
    assert_eq!(taken.len(), 12, "each version once: {taken:?}");
    assert!(
        *sink.refused.lock().unwrap() > 3,
        "the listener did refuse for a while"
    );
}

/// Keeps every event it is given.
#[derive(Default)]
struct Keep(Mutex<Vec<(String, u64)>>);

#[async_trait]
impl Sink for Keep {
    async fn put(&self, events: &[ChangeEvent]) -> Vec<Result<(), EventError>> {
        let mut kept = self.0.lock().unwrap();
        kept.extend(
            events
                .iter()
                .map(|e| (e.detail.bubble_id.clone(), e.detail.version)),
        );
        vec![Ok(()); events.len()]
    }
}

/// As `make run` starts it: from the next change on, on tables made a moment before. The
/// local engine then refuses the first `LATEST` iterator once a record arrives
/// (`TrimmedDataAccessException`); the follower resumes that shard and loses nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dynamodb_a_follower_started_with_new_tables_misses_no_first_change() {
    let store = common::dynamo().await;
    let sink = Arc::new(Keep::default());
    let follower = spawn_follower(store.table_names().0, sink.clone(), Start::Latest);
    // Let it take its iterators first, as make run's follower does before any write.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let api = common::Client::new(Arc::new(store));
    for b in ["n-1", "n-2", "n-3"] {
        let answer = api
            .call(
                "POST",
                &format!("/users/{b}"),
                Some(json!({"firstName": "N"})),
            )
            .await;
        assert_eq!(answer.status, 200, "{}", answer.text);
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    while sink.0.lock().unwrap().len() < 3 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    follower.abort();
    let mut kept = sink.0.lock().unwrap().clone();
    kept.sort();
    kept.dedup();
    assert_eq!(
        kept,
        [("n-1".into(), 1), ("n-2".into(), 1), ("n-3".into(), 1)]
    );
}
