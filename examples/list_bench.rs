//! Lists every user page by page and reports time and storage items read per page.
//!
//! `cargo run --release --example list_bench -- memory 100000 100`
//! `cargo run --release --example list_bench -- dynamodb 10000 100` (needs DYNAMODB_ENDPOINT)
//!
//! One user in four is soft-deleted before the walk: a page must not read them.

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::{stream, StreamExt};
use serde_json::json;
use users_api::domain::{BubbleId, Intent, Patch, UserRef};
use users_api::store::dynamo::{local_client, DynamoStore};
use users_api::store::memory::MemoryStore;
use users_api::store::meter::{self, Meter};
use users_api::store::UserStore;

const SHARDS: u32 = 4;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let kind = args.get(1).map(String::as_str).unwrap_or("memory");
    let users: usize = args
        .get(2)
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(100_000);
    let page_size: usize = args.get(3).map(|s| s.parse()).transpose()?.unwrap_or(100);
    let store: Arc<dyn UserStore> = match kind {
        "memory" => Arc::new(MemoryStore::new()),
        "dynamodb" => {
            let endpoint = std::env::var("DYNAMODB_ENDPOINT")?;
            let suffix = uuid::Uuid::new_v4().simple().to_string();
            let s = DynamoStore::new(
                local_client(&endpoint),
                format!("bench-{suffix}"),
                format!("bench-meta-{suffix}"),
                SHARDS,
            );
            s.create_tables().await?;
            Arc::new(s)
        }
        other => return Err(format!("unknown store {other}").into()),
    };

    let started = Instant::now();
    let parallel = if kind == "memory" { 1 } else { 16 };
    stream::iter(0..users)
        .map(|i| {
            let store = store.clone();
            async move {
                let b = BubbleId::parse(&format!("user{i:07}")).unwrap();
                let p = Patch::from_json(
                    &json!({"email": format!("u{i}@example.com"), "firstName": "Bench"}),
                )
                .unwrap();
                let key = UserRef::Bubble(b.clone());
                store
                    .apply(&key, &Intent::Upsert(&b, &p), None)
                    .await
                    .expect("create");
                if i % 4 == 3 {
                    store
                        .apply(&key, &Intent::Delete("bench"), None)
                        .await
                        .expect("delete");
                }
            }
        })
        .buffer_unordered(parallel)
        .collect::<()>()
        .await;
    let active = store.count_active().await?;
    println!(
        "{kind}: {users} users ({active} active) loaded in {:.1?}",
        started.elapsed()
    );

    let mut times: Vec<Duration> = Vec::new();
    let mut reads: Vec<u64> = Vec::new();
    let mut requests: Vec<u64> = Vec::new();
    let mut seen = 0usize;
    let mut after: Option<String> = None;
    let walk = Instant::now();
    loop {
        let m = Arc::new(Meter::default());
        let t = Instant::now();
        let page = meter::scope(m.clone(), store.list_active(after.as_deref(), page_size)).await?;
        times.push(t.elapsed());
        reads.push(m.items_read());
        requests.push(m.requests());
        seen += page.items.len();
        match page.next {
            Some(n) => after = Some(n),
            None => break,
        }
    }
    assert_eq!(seen as u64, active, "the walk sees every active user once");
    times.sort();
    let pct = |p: f64| times[((times.len() - 1) as f64 * p) as usize];
    let mean = times.iter().sum::<Duration>() / times.len() as u32;
    println!(
        "{kind}: walked {seen} active users in {} pages of {page_size} in {:.1?}: per page mean {:.2?}, p50 {:.2?}, p99 {:.2?}",
        times.len(),
        walk.elapsed(),
        mean,
        pct(0.5),
        pct(0.99)
    );
    if kind == "dynamodb" {
        let max_reads = reads.iter().max().copied().unwrap_or(0);
        let mean_reads = reads.iter().sum::<u64>() as f64 / reads.len() as f64;
        let mean_requests = requests.iter().sum::<u64>() as f64 / requests.len() as f64;
        println!(
            "{kind}: items read per page: mean {mean_reads:.1}, max {max_reads} (page size {page_size} + {SHARDS} shards = {}); storage requests per page: mean {mean_requests:.1}",
            page_size as u64 + u64::from(SHARDS)
        );
    }
    Ok(())
}
