//! Syncs a directory through batch upserts and through single upserts, side by side on the
//! DynamoDB store, in three passes: the initial load, an unchanged reconciliation, and one
//! with 5 % of the users changed. Prints storage requests, sequential rounds and the time
//! under a model (4 ms a request, requests of a round overlapping) per pass, and the capacity
//! units DynamoDB reported.
//!
//! `cargo run --release --example sync_bench -- 10000` (needs DYNAMODB_ENDPOINT: DynamoDB Local).

use std::sync::Arc;

use serde_json::json;
use users_api::domain::{BubbleId, Intent, Patch, UserRef};
use users_api::store::dynamo::{local_client_unhurried, DynamoStore};
use users_api::store::meter::{self, Meter};
use users_api::store::{batch, UserStore};

const MODEL_MS_PER_ROUND: f64 = 4.0;
const BATCH: usize = 100;

type Error = Box<dyn std::error::Error>;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let users: usize = std::env::args()
        .nth(1)
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(10_000);
    let endpoint = std::env::var("DYNAMODB_ENDPOINT")?;
    let batched = store(&endpoint).await?;
    let single = store(&endpoint).await?;
    println!("\nsync of {users} users, per pass; modelled time = rounds x {MODEL_MS_PER_ROUND} ms");
    println!(
        "| pass | design | API calls | storage requests | sequential rounds | RCU | WCU | modelled time |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for (pass, changed_every) in [("initial load", 1), ("unchanged", 0), ("5 % changed", 20)] {
        let items = directory(users, pass, changed_every)?;
        let (calls, m) = by_batches(&batched, &items).await?;
        row(pass, "batch upsert", calls, &m);
        let (calls, m) = one_by_one(&single, &items).await?;
        row(pass, "single upserts", calls, &m);
    }
    Ok(())
}

async fn store(endpoint: &str) -> Result<Arc<dyn UserStore>, Error> {
    let suffix = uuid::Uuid::new_v4().simple().to_string();
    let store = DynamoStore::new(
        local_client_unhurried(endpoint),
        format!("sync-{suffix}"),
        format!("sync-meta-{suffix}"),
        4,
    );
    store.create_tables().await?;
    Ok(Arc::new(store))
}

/// The directory as the client sends it in `pass`: every `changed_every`-th user with a
/// new first name (0: none; 1: the first load).
fn directory(
    users: usize,
    pass: &str,
    changed_every: usize,
) -> Result<Vec<(BubbleId, Patch)>, Error> {
    (0..users)
        .map(|i| {
            let changed = changed_every > 1 && i % changed_every == 0;
            let name = if changed { pass } else { "Initial" };
            let body = json!({"email": format!("u{i}@example.com"), "firstName": name});
            let patch = Patch::from_json(&body).map_err(|e| format!("{e:?}"))?;
            Ok((BubbleId::parse(&format!("user{i:06}"))?, patch))
        })
        .collect()
}

/// Batches of 100, one after another; totals of the meters.
async fn by_batches(
    store: &Arc<dyn UserStore>,
    items: &[(BubbleId, Patch)],
) -> Result<(usize, Totals), Error> {
    let mut totals = Totals::default();
    for chunk in items.chunks(BATCH) {
        let m = Arc::new(Meter::default());
        let results = meter::scope(m.clone(), batch::upsert_all(store.as_ref(), chunk, 8)).await?;
        for r in results {
            r?;
        }
        totals.add(&m);
    }
    Ok((items.len().div_ceil(BATCH), totals))
}

/// One upsert per user, one after another.
async fn one_by_one(
    store: &Arc<dyn UserStore>,
    items: &[(BubbleId, Patch)],
) -> Result<(usize, Totals), Error> {
    let mut totals = Totals::default();
    for (b, p) in items {
        let m = Arc::new(Meter::default());
        let key = UserRef::Bubble(b.clone());
        meter::scope(m.clone(), store.apply(&key, &Intent::Upsert(b, p), None)).await?;
        totals.add(&m);
    }
    Ok((items.len(), totals))
}

#[derive(Default)]
struct Totals {
    requests: u64,
    rounds: u64,
    rcu: f64,
    wcu: f64,
}

impl Totals {
    fn add(&mut self, m: &Meter) {
        self.requests += m.requests();
        self.rounds += m.rounds();
        let c = m.capacity();
        self.rcu += c.read;
        self.wcu += c.write;
    }
}

fn row(pass: &str, design: &str, calls: usize, t: &Totals) {
    let secs = t.rounds as f64 * MODEL_MS_PER_ROUND / 1000.0;
    println!(
        "| {pass} | {design} | {calls} | {} | {} | {:.0} | {:.0} | {secs:.1} s |",
        t.requests, t.rounds, t.rcu, t.wcu
    );
}
