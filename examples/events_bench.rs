//! Change events on the local engine: users written through the store (one at a time, then
//! in batch upserts of 100), the stream followed as `make run` follows it, each event
//! timed from its write's answer to the sink. Prints events and sink calls per change
//! (a sink call is one PutEvents on AWS) and the write-to-sink delay.
//!
//! `cargo run --release --example events_bench -- 1000` (needs DYNAMODB_ENDPOINT).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use serde_json::json;
use users_api::domain::{BubbleId, Intent, Patch, UserRef};
use users_api::events::local::{LocalStream, Pace, Start};
use users_api::events::{ChangeEvent, Sink, LOCAL_PACE};
use users_api::store::dynamo::{local_client_unhurried, DynamoStore};
use users_api::store::{batch, UserStore};

type Error = Box<dyn std::error::Error>;

/// Counts calls and keeps each event's arrival time by bubbleId.
#[derive(Default)]
struct Timed {
    calls: Mutex<usize>,
    arrivals: Mutex<HashMap<String, Instant>>,
}

#[async_trait]
impl Sink for Timed {
    async fn put(&self, events: &[ChangeEvent]) -> Vec<Result<(), users_api::events::EventError>> {
        let now = Instant::now();
        *self.calls.lock().unwrap() += 1;
        let mut arrivals = self.arrivals.lock().unwrap();
        for e in events {
            arrivals.insert(e.detail.bubble_id.clone(), now);
        }
        vec![Ok(()); events.len()]
    }
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let n: usize = std::env::args()
        .nth(1)
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(1000);
    let endpoint = std::env::var("DYNAMODB_ENDPOINT")?;
    println!(
        "\nchange events of {n} new users, local stream polled every {:?}",
        LOCAL_PACE.poll
    );
    println!("| writes | batching window | events | sink calls | calls per change | delay p50 | p95 | max |");
    println!("|---|---|---|---|---|---|---|---|");
    let second = Duration::from_secs(1);
    let runs = [
        (false, Duration::ZERO),
        (false, second),
        (true, Duration::ZERO),
        (true, second),
    ];
    for (batched, window) in runs {
        let pace = Pace {
            window,
            ..LOCAL_PACE
        };
        let suffix = uuid::Uuid::new_v4().simple().to_string();
        let store = DynamoStore::new(
            local_client_unhurried(&endpoint),
            format!("ev-{suffix}"),
            format!("ev-meta-{suffix}"),
            4,
        );
        store.create_tables().await?;
        let (table, _) = store.table_names();
        let stream = LocalStream::new(&endpoint, table);
        let sink = Arc::new(Timed::default());
        let follower = {
            let sink = sink.clone();
            tokio::spawn(async move { stream.follow(sink.as_ref(), Start::Oldest, pace).await })
        };
        let items: Vec<(BubbleId, Patch)> = (0..n)
            .map(|i| {
                let b = BubbleId::parse(&format!("ev-{i}")).unwrap();
                (
                    b,
                    Patch::from_json(&json!({"lastName": format!("L{i}")})).unwrap(),
                )
            })
            .collect();
        let mut written = HashMap::new();
        if batched {
            for chunk in items.chunks(100) {
                for r in batch::upsert_all(&store, chunk, 8).await? {
                    r?;
                }
                let now = Instant::now();
                written.extend(chunk.iter().map(|(b, _)| (b.to_string(), now)));
            }
        } else {
            for (b, p) in &items {
                store
                    .apply(&UserRef::Bubble(b.clone()), &Intent::Upsert(b, p), None)
                    .await?;
                written.insert(b.to_string(), Instant::now());
            }
        }
        let deadline = Instant::now() + Duration::from_secs(120);
        while sink.arrivals.lock().unwrap().len() < n && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        follower.abort();
        let arrivals = sink.arrivals.lock().unwrap();
        let mut delays: Vec<Duration> = written
            .iter()
            .filter_map(|(b, at)| {
                arrivals
                    .get(b)
                    .map(|got| got.saturating_duration_since(*at))
            })
            .collect();
        delays.sort();
        let pick = |q: f64| delays[((delays.len() - 1) as f64 * q) as usize].as_secs_f64() * 1000.0;
        let calls = *sink.calls.lock().unwrap();
        println!(
            "| {} | {} s | {} | {calls} | {:.3} | {:.0} ms | {:.0} ms | {:.0} ms |",
            if batched {
                "batch upserts of 100"
            } else {
                "one at a time"
            },
            window.as_secs(),
            arrivals.len(),
            calls as f64 / arrivals.len().max(1) as f64,
            pick(0.5),
            pick(0.95),
            pick(1.0),
        );
    }
    Ok(())
}
