//! Lists every user page by page and reports time and storage items read per page.
//!
//! `cargo run --release --example list_bench -- memory 100000 100`
//! `cargo run --release --example list_bench -- dynamodb 10000 100` (needs DYNAMODB_ENDPOINT)
//!
//! One user in four is soft-deleted before the walk: a page must not read them. The DynamoDB
//! store is loaded with `BatchWriteItem` (the same items the store writes, built by the same
//! code): moto copies whole tables on every transaction, which makes 10,000 transactional
//! creations take far longer than the walk being measured.

use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::types::{PutRequest, WriteRequest};
use serde_json::json;
use users_api::domain::{shard_of, BubbleId, Intent, Patch, Plan, User, UserRef};
use users_api::store::dynamo::item::{counter_key, n, user_item, COUNT};
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
    let started = Instant::now();
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
            let client = local_client(&endpoint);
            let store = DynamoStore::new(client.clone(), &users_table, &meta_table, SHARDS);
            store.create_tables().await?;
            bulk_load(&client, &users_table, &meta_table, users).await?;
            Arc::new(store)
        }
        other => return Err(format!("unknown store {other}").into()),
    };
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

fn body(i: usize) -> serde_json::Value {
    json!({"email": format!("u{i}@example.com"), "firstName": "Bench"})
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
        let put = PutRequest::builder()
            .set_item(Some(user_item(&user, SHARDS)))
            .build()?;
        batch.push(WriteRequest::builder().put_request(put).build());
        if batch.len() == 25 || i + 1 == users {
            let mut pending = std::mem::take(&mut batch);
            while !pending.is_empty() {
                let out = client
                    .batch_write_item()
                    .request_items(users_table, pending)
                    .send()
                    .await?;
                pending = out
                    .unprocessed_items
                    .and_then(|mut u| u.remove(users_table))
                    .unwrap_or_default();
            }
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
