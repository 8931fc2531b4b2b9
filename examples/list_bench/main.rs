//! Lists every user page by page and reports what each page costs; on DynamoDB, beside the
//! design it replaced (one single-item query per item, see `baseline.rs`), in the same run.
//!
//! `cargo run --release --example list_bench -- memory 100000 100`
//! `cargo run --release --example list_bench -- dynamodb 10000 100` (needs DYNAMODB_ENDPOINT)
//!
//! One user in four is soft-deleted before the walk: a page must not read them. The DynamoDB
//! store is loaded with `BatchWriteItem` (the same items the store writes, built by the same
//! code), which is quicker than 10,000 transactional creations and measures the same walk.
//! Each page's RCU (as DynamoDB Local reports it) stands beside its floor: the 4 KB blocks its
//! own items fill, 0.5 RCU each (eventually consistent). `projection.rs` then measures the
//! relation index projected `KEYS_ONLY` against `ALL`, and `access.rs` an organization's pages
//! and a managed key's warm GET.

use std::sync::Arc;
use std::time::Instant;

mod access;
mod baseline;
#[path = "../support/bulk.rs"]
mod bulk;
mod projection;

use serde_json::json;
use users_api::domain::{BubbleId, Intent, Patch, Plan, User, UserRef};
use users_api::store::dynamo::item::{counter_key, item_size, n, shard_of, user_item, COUNT};
use users_api::store::dynamo::{local_client_unhurried, DynamoStore};
use users_api::store::memory::MemoryStore;
use users_api::store::meter::{self, Meter};
use users_api::store::{UserStore, Window};

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
    let started = Instant::now();
    let mut dynamo = None;
    let store: Arc<dyn UserStore> = match kind {
        "memory" => {
            let store = Arc::new(MemoryStore::new());
            for i in 0..users {
                let b = BubbleId::parse(&format!("user{i:07}"))?;
                let p = Patch::from_json(&body(i)).map_err(|e| format!("{e:?}"))?;
                let key = UserRef::Bubble(b.clone());
                store.apply(&key, &Intent::Upsert(&b, &p), None).await?;
                if i % 4 == 3 {
                    store.apply(&key, &Intent::Delete("bench"), None).await?;
                }
            }
            store
        }
        "dynamodb" => {
            let endpoint = std::env::var("DYNAMODB_ENDPOINT")?;
            let suffix = uuid::Uuid::new_v4().simple().to_string();
            let (users_table, meta_table) =
                (format!("bench-{suffix}"), format!("bench-meta-{suffix}"));
            let client = local_client_unhurried(&endpoint);
            let store = DynamoStore::new(client.clone(), &users_table, &meta_table, SHARDS);
            store.create_tables().await?;
            bulk_load(&client, &users_table, &meta_table, users).await?;
            dynamo = Some((client, users_table));
            Arc::new(store)
        }
        other => return Err(format!("unknown store {other}").into()),
    };
    let active = store.count_active().await?;
    println!(
        "{kind}: {users} users ({active} active) loaded in {:.1?}",
        started.elapsed()
    );
    let (mut after, mut seen, mut times) = (None::<String>, 0u64, Vec::new());
    let walk = Instant::now();
    let mut costs = Vec::new();
    loop {
        let m = Arc::new(Meter::default());
        let t = Instant::now();
        let window = Window::after(after.as_deref(), page_size);
        let page = meter::scope(m.clone(), store.list_active(window)).await?;
        times.push(t.elapsed());
        costs.push(Cost::of(&m, &page.items));
        seen += page.items.len() as u64;
        match page.next {
            Some(n) => after = Some(n),
            None => break,
        }
    }
    assert_eq!(seen, active, "the walk sees every active user once");
    times.sort();
    let pct = |p: f64| times[((times.len() - 1) as f64 * p) as usize];
    println!(
        "{kind}: walked {seen} active users in {} pages of {page_size} in {:.1?}: per page p50 {:.2?}, p99 {:.2?} (this machine; DynamoDB Local's own time for DynamoDB)",
        times.len(),
        walk.elapsed(),
        pct(0.5),
        pct(0.99)
    );
    if let Some(client) = dynamo {
        compare(&*store, &client, page_size).await?;
        access::pages(store.clone(), page_size).await?;
        access::warm_get(store.clone(), "user0000000").await?;
        projection::compare(&client.0).await?;
    }
    Ok(())
}

/// What one page cost in storage, and the floor of its read capacity.
#[derive(Clone, Copy)]
struct Cost {
    requests: u64,
    rounds: u64,
    items: u64,
    rcu: f64,
    floor: f64,
}

impl Cost {
    fn of(m: &Meter, page: &[User]) -> Self {
        Self {
            requests: m.requests(),
            rounds: m.rounds(),
            items: m.items_read(),
            rcu: m.capacity().read,
            floor: rcu_floor(page),
        }
    }
}

/// The least a page of these users can cost: the 4 KB blocks their items fill, 0.5 RCU each
/// (an eventually consistent read).
fn rcu_floor(page: &[User]) -> f64 {
    let bytes: usize = page.iter().map(|u| item_size(&user_item(u, SHARDS))).sum();
    bytes.div_ceil(4096) as f64 * 0.5
}

/// Prints one row of the comparison: per page, mean and max of each figure, and the time
/// under the model (every request 4 ms, requests of one round overlapping).
fn row(design: &str, list: &str, costs: &[Cost]) {
    let n = costs.len().max(1) as f64;
    let stat = |f: fn(&Cost) -> u64| {
        let sum: u64 = costs.iter().map(f).sum();
        (sum as f64 / n, costs.iter().map(f).max().unwrap_or(0))
    };
    let (rq, rq_max) = stat(|c| c.requests);
    let (rd, rd_max) = stat(|c| c.rounds);
    let (it, it_max) = stat(|c| c.items);
    let rcu: f64 = costs.iter().map(|c| c.rcu).sum::<f64>() / n;
    let rcu_max = costs.iter().map(|c| c.rcu).fold(0.0, f64::max);
    let floor: f64 = costs.iter().map(|c| c.floor).sum::<f64>() / n;
    println!(
        "| {list:<22} | {design:<12} | {:>5} | {rq:>7.1} / {rq_max:<5} | {rd:>6.2} / {rd_max:<4} | {it:>7.1} / {it_max:<6} | {rcu:>6.1} / {rcu_max:<5.1} | {floor:>5.1} | {:>7.1} / {:<6.0} |",
        costs.len(),
        rd * MODEL_MS_PER_ROUND,
        rd_max as f64 * MODEL_MS_PER_ROUND,
    );
}

/// Milliseconds a DynamoDB request takes in the latency model.
const MODEL_MS_PER_ROUND: f64 = 4.0;
/// Pages of the old design measured: enough for its per-page figures, which do not vary.
const BASELINE_PAGES: usize = 4;

/// The chunked merge beside the old one-item-per-query merge, on the same tables.
async fn compare(
    store: &dyn UserStore,
    client: &(aws_sdk_dynamodb::Client, String),
    page_size: usize,
) -> Result<(), Box<dyn std::error::Error>> {
    let (client, table) = client;
    println!("\nper page, mean / max; modelled ms = rounds x {MODEL_MS_PER_ROUND} ms (requests of a round overlap)");
    println!(
        "RCU as DynamoDB Local reports it; floor = 4 KB blocks of the page's own items x 0.5 RCU"
    );
    println!("| list                   | design       | pages | requests        | rounds        | items read       | RCU            | floor | modelled ms      |");
    println!("|---|---|---|---|---|---|---|---|---|");
    for (list, index, partition, sort, floor) in [
        ("GET /users", "active", "activeShard", "activeKey", None),
        (
            "GET /users?updatedFrom",
            "feed",
            "feedShard",
            "feedKey",
            Some("2000-01-01T00:00:00.000Z"),
        ),
    ] {
        let mut costs = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let m = Arc::new(Meter::default());
            let window = Window::after(after.as_deref(), page_size);
            let page = meter::scope(m.clone(), async {
                match floor {
                    None => store.list_active(window).await,
                    Some(f) => store.changes(f, window).await,
                }
            })
            .await?;
            costs.push(Cost::of(&m, &page.items));
            let next = page.next;
            match next {
                Some(n) => after = Some(n),
                None => break,
            }
        }
        row("chunked", list, &costs);
        let old = baseline::OneByOne {
            client,
            table,
            index,
            partition_attr: partition,
            sort_attr: sort,
            shards: SHARDS,
            floor,
        };
        let mut costs = Vec::new();
        let mut after: Option<String> = None;
        for _ in 0..BASELINE_PAGES {
            let m = Arc::new(Meter::default());
            let (users, next) = meter::scope(m.clone(), old.page(after.as_deref(), page_size))
                .await
                .map_err(|e| e.to_string())?;
            costs.push(Cost::of(&m, &users));
            after = next;
        }
        row("one-by-one", list, &costs);
    }
    for (page, size) in [(3usize, 40usize), (10, 100), (50, 100), (75, 100)] {
        let m = Arc::new(Meter::default());
        let window = Window::offset((page - 1) * size, size);
        let got = meter::scope(m.clone(), store.list_active(window)).await?;
        assert_eq!(got.items.len(), size, "page {page} is full");
        row(
            "chunked",
            &format!("page={page}&pageSize={size}"),
            &[Cost::of(&m, &got.items)],
        );
    }
    // The old design reached page N by walking every earlier item one query at a time.
    let old = baseline::OneByOne {
        client,
        table,
        index: "active",
        partition_attr: "activeShard",
        sort_attr: "activeKey",
        shards: SHARDS,
        floor: None,
    };
    let m = Arc::new(Meter::default());
    let (users, _) = meter::scope(m.clone(), async {
        let (_, after) = old.page(None, 80).await?;
        old.page(after.as_deref(), 40).await
    })
    .await
    .map_err(|e| e.to_string())?;
    row("one-by-one", "page=3&pageSize=40", &[Cost::of(&m, &users)]);
    Ok(())
}

/// Bench user `i`'s fields; one in ten belongs to [`access::PRODUCER`].
fn body(i: usize) -> serde_json::Value {
    let mut body = json!({"email": format!("u{i}@example.com"), "firstName": "Bench"});
    if access::in_producer(i) {
        body["producerId"] = json!(access::PRODUCER);
    }
    body
}

/// The user `i` as the store would have written it; one in four soft-deleted.
fn planned(i: usize) -> Result<User, Box<dyn std::error::Error>> {
    let b = BubbleId::parse(&format!("user{i:07}"))?;
    let p = Patch::from_json(&body(i)).map_err(|e| format!("{e:?}"))?;
    let Plan::Write(t) = Intent::Upsert(&b, &p).plan(None, None)? else {
        return Err("a creation writes".into());
    };
    let mut user = t.new;
    if i % 4 == 3 {
        user.deleted_at = Some(user.updated_at);
    }
    Ok(user)
}

async fn bulk_load(
    client: &aws_sdk_dynamodb::Client,
    users_table: &str,
    meta_table: &str,
    users: usize,
) -> Result<(), Box<dyn std::error::Error>> {
    let mut active = vec![0i64; SHARDS as usize];
    let mut batch = Vec::new();
    for i in 0..users {
        let user = planned(i)?;
        if user.is_active() {
            active[shard_of(&user.id, SHARDS) as usize] += 1;
        }
        batch.push(user_item(&user, SHARDS));
        if batch.len() == 25 || i + 1 == users {
            bulk::put_batch(client, users_table, &std::mem::take(&mut batch))
                .await
                .map_err(|e| e as Box<dyn std::error::Error>)?;
        }
    }
    for (shard, count) in active.iter().enumerate() {
        client
            .update_item()
            .table_name(meta_table)
            .set_key(Some(counter_key(shard as u32)))
            .update_expression("ADD #n :d")
            .expression_attribute_names("#n", COUNT)
            .expression_attribute_values(":d", n(count))
            .send()
            .await?;
    }
    Ok(())
}
