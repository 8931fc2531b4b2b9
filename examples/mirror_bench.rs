//! A mirror's initial sync, side by side in one run: today's one cursor with pages of 100
//! against one cursor with pages of 1,000 and against 4, 16 and 32 parallel segments with pages
//! of 1,000, each actually walked on DynamoDB Local (every user seen exactly once); a client's
//! sync through the API by 16 segments with gzip pages of 1,000; the bytes and CPU of a page
//! through the router, as JSON and XML, plain and gzip; then the modelled wall time and read
//! capacity of syncing 1,000,000 and 10,000,000 users.
//!
//! `cargo run --release --example mirror_bench -- 100000` (needs DYNAMODB_ENDPOINT).
//!
//! The local engine's counts (requests, rounds, items, RCU) are DynamoDB's; its speed is not,
//! so a page's time on AWS is modelled, from the constants below.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Instant;

use futures::stream::{self, TryStreamExt};
use serde_json::json;
use users_api::config::Config;
use users_api::domain::{BubbleId, Intent, Patch, Plan, User};
use users_api::edge::auth::hash_key;
use users_api::store::dynamo::item::{item_size, user_item};
use users_api::store::dynamo::{local_client_unhurried, DynamoStore};
use users_api::store::memory::MemoryStore;
use users_api::store::meter::{self, Meter};
use users_api::store::{Segment, UserStore, Window};
use users_api::{app, AppState};

#[path = "support/bulk.rs"]
mod bulk;

type Error = Box<dyn std::error::Error + Send + Sync>;

/// The model: a client 30 ms away, API Gateway's and a warm Lambda's own overhead, a
/// storage round of 4 ms plus its largest request's bytes at 40 MB/s, and 100 Mbit/s for
/// the answer to reach one worker.
const CLIENT_RTT_MS: f64 = 30.0;
const GATEWAY_MS: f64 = 10.0;
const ROUND_MS: f64 = 4.0;
const STORAGE_BYTES_PER_MS: f64 = 40_000.0;
const WIRE_BYTES_PER_MS: f64 = 12_500.0;
const SHARDS: u32 = 4;
const KEY: &str = "bench-key";

#[tokio::main]
async fn main() -> Result<(), Error> {
    let users: usize = std::env::args()
        .nth(1)
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(100_000);
    let endpoint = std::env::var("DYNAMODB_ENDPOINT")?;
    let suffix = uuid::Uuid::new_v4().simple().to_string();
    let client = local_client_unhurried(&endpoint);
    let (users_table, meta_table) = (format!("mirror-{suffix}"), format!("mirror-meta-{suffix}"));
    // The design not taken: every page over 64 write shards, so that any segment is a group
    // of them. A small directory shows a page's cost as well as a large one, and is walked
    // first: the local engine's queries slow down with all it holds, which AWS's do not.
    let few = 2000;
    let wide = DynamoStore::new(
        client.clone(),
        format!("wide-{suffix}"),
        format!("wide-meta-{suffix}"),
        Segment::MOST,
    );
    wide.create_tables().await?;
    let (wide_table, _) = wide.table_names();
    let item_bytes = load(&client, wide_table, few, Segment::MOST).await?;
    let wide: Arc<dyn UserStore> = Arc::new(wide);
    let mut not_taken = Vec::new();
    for size in [100, 1000] {
        let mut walk = walk(&wide, (1, Segment::MOST), size, few, item_bytes).await?;
        walk.label = format!("1 × pages of {size}, 64 write shards ({few} users)");
        not_taken.push(walk);
    }

    let store = DynamoStore::new(client.clone(), &users_table, &meta_table, SHARDS);
    store.create_tables().await?;
    let started = Instant::now();
    let item_bytes = load(&client, &users_table, users, SHARDS).await?;
    println!(
        "{users} users (one in ten deleted, {item_bytes:.0} bytes an item) loaded in {:.1?}",
        started.elapsed()
    );
    let store: Arc<dyn UserStore> = Arc::new(store);

    println!("\n== walked on the local engine: every user exactly once");
    println!("| walk | pages | requests a page (mean / max) | rounds a page (mean / max) | items read per user | RCU per 1,000 users | largest request | local wall time |");
    println!("|---|---|---|---|---|---|---|---|");
    let mut walks = Vec::new();
    for (segments, size) in [(1, 100), (1, 1000), (4, 1000), (16, 1000), (32, 1000)] {
        let walk = walk(&store, (segments, SHARDS), size, users, item_bytes).await?;
        walk.row();
        walks.push(walk);
    }
    not_taken.iter().for_each(Walk::row);

    let (calls, bytes, seconds) = sync_through_api(&router(store.clone())?, 16, users).await?;
    println!(
        "\nthrough the API: {users} users synced by 16 segments, pages of 1,000, gzip: each user once, {calls} calls, {:.1} MB received ({:.0} bytes a user), {seconds:.1} s locally",
        bytes as f64 / 1e6,
        bytes as f64 / users as f64
    );

    println!("\n== one page through the router (embedded store, 1,000 users): bytes and CPU");
    println!("| page | format | bytes | gzip bytes | ratio | CPU plain | CPU gzip |");
    println!("|---|---|---|---|---|---|---|");
    let pages = render_pages().await?;

    println!("\n== modelled initial sync on AWS ({CLIENT_RTT_MS} ms client round trip, {GATEWAY_MS} ms API Gateway and Lambda, {ROUND_MS} ms a storage round + its bytes at 40 MB/s, 100 Mbit/s to each worker)");
    println!("| users | workers | page size | encoding | API calls per worker | time per call | wall time | RCU |");
    println!("|---|---|---|---|---|---|---|---|");
    for total in [1_000_000f64, 10_000_000f64] {
        for (segments, size) in [(1, 100), (1, 1000), (16, 1000), (32, 1000)] {
            let walk = walks
                .iter()
                .find(|w| w.segments == segments && w.size == size)
                .expect("walked");
            for gzip in [false, true] {
                let page = pages
                    .iter()
                    .find(|p| p.size == size && p.format == "JSON")
                    .expect("rendered");
                model(total, walk, page, gzip);
            }
        }
    }
    Ok(())
}

/// Bulk-loads `users` users shaped like the first client's, as a store of `shards` writes them, in
/// `BatchWriteItem`s of 25, four at a time; answers the mean stored item size.
async fn load(
    client: &aws_sdk_dynamodb::Client,
    table: &str,
    users: usize,
    shards: u32,
) -> Result<f64, Error> {
    let items: Vec<_> = (0..users)
        .map(|i| planned(i).map(|u| user_item(&u, shards)))
        .collect::<Result<_, _>>()?;
    let bytes = items.iter().map(item_size).sum::<usize>() as f64 / users.max(1) as f64;
    stream::iter(items.chunks(25).map(Ok::<_, Error>))
        .try_for_each_concurrent(4, |chunk| bulk::put_batch(client, table, chunk))
        .await?;
    Ok(bytes)
}

/// User `i`'s fields, shaped like the first client's own example (`events/02`).
fn body(i: usize) -> serde_json::Value {
    let event: serde_json::Value =
        serde_json::from_str(include_str!("../events/02-upsert-seed-200.json")).expect("JSON");
    let mut user: serde_json::Value =
        serde_json::from_str(event["body"].as_str().expect("a body")).expect("JSON");
    user.as_object_mut().expect("an object").remove("bubbleId");
    user["email"] = json!(format!("user{i}@algorep.ai"));
    user
}

/// User `i` as the store would write it; one in ten soft-deleted.
fn planned(i: usize) -> Result<User, Error> {
    let b = BubbleId::parse(&format!("1708861331497x{i:018}"))?;
    let p = Patch::from_json(&body(i)).map_err(|e| format!("{e:?}"))?;
    let Plan::Write(t) = Intent::Upsert(&b, &p).plan(None, None)? else {
        return Err("a creation writes".into());
    };
    let mut user = t.new;
    if i % 10 == 9 {
        user.deleted_at = Some(user.updated_at);
    }
    Ok(user)
}

/// One page's storage work.
#[derive(Debug, Clone, Copy)]
struct PageCost {
    requests: u64,
    rounds: u64,
    items_read: u64,
    rcu: f64,
    largest_rcu: f64,
    /// The partitions its rounds ask in parallel (a request reads about its share).
    partitions: u64,
}

/// A whole walk of the feed in `segments` segments, pages of `size`.
struct Walk {
    label: String,
    segments: u32,
    size: usize,
    users: usize,
    item_bytes: f64,
    pages: Vec<PageCost>,
    seconds: f64,
}

/// Walks the feed of a store of `shards` in `segments` parallel segments.
async fn walk(
    store: &Arc<dyn UserStore>,
    (segments, shards): (u32, u32),
    size: usize,
    users: usize,
    item_bytes: f64,
) -> Result<Walk, Error> {
    let started = Instant::now();
    let parts = (0..segments).map(|i| {
        let store = store.clone();
        tokio::spawn(
            async move { walk_segment(&store, Segment::new(i, segments)?, shards, size).await },
        )
    });
    let mut seen = HashSet::with_capacity(users);
    let mut pages = Vec::new();
    for part in futures::future::try_join_all(parts).await? {
        let (ids, costs) = part?;
        for id in ids {
            if !seen.insert(id) {
                return Err(format!("{id} seen twice in {segments} segments").into());
            }
        }
        pages.extend(costs);
    }
    if seen.len() != users {
        return Err(format!(
            "{} of {users} users seen in {segments} segments",
            seen.len()
        )
        .into());
    }
    Ok(Walk {
        label: format!("{segments} × pages of {size}"),
        segments,
        size,
        users,
        item_bytes,
        pages,
        seconds: started.elapsed().as_secs_f64(),
    })
}

async fn walk_segment(
    store: &Arc<dyn UserStore>,
    segment: Segment,
    shards: u32,
    size: usize,
) -> Result<(Vec<uuid::Uuid>, Vec<PageCost>), Error> {
    let partitions = segment
        .partitions_of(shards)
        .map_or(Segment::MOST / segment.count(), |p| p.len() as u32);
    let (mut ids, mut costs, mut after) = (Vec::new(), Vec::new(), None::<String>);
    loop {
        let m = Arc::new(Meter::default());
        let window = Window::after(after.as_deref(), size).in_segment(segment);
        let page = meter::scope(m.clone(), store.changes("1970", window)).await?;
        costs.push(PageCost {
            requests: m.requests(),
            rounds: m.rounds(),
            items_read: m.items_read(),
            rcu: m.capacity().read,
            largest_rcu: m.largest_read(),
            partitions: u64::from(partitions),
        });
        ids.extend(page.items.iter().map(|u| u.id));
        match page.next {
            Some(next) => after = Some(next),
            None => return Ok((ids, costs)),
        }
    }
}

impl Walk {
    fn mean(&self, f: impl Fn(&PageCost) -> f64) -> f64 {
        self.pages.iter().map(&f).sum::<f64>() / self.pages.len().max(1) as f64
    }

    fn max(&self, f: impl Fn(&PageCost) -> f64) -> f64 {
        self.pages.iter().map(f).fold(0.0, f64::max)
    }

    fn rcu_per_user(&self) -> f64 {
        self.pages.iter().map(|p| p.rcu).sum::<f64>() / self.users as f64
    }

    /// The modelled storage time of a mean page: its rounds, each the time of its largest
    /// request (a partition's share of the items read).
    fn storage_ms(&self) -> f64 {
        let per_request =
            self.mean(|p| p.items_read as f64 / p.partitions as f64) * self.item_bytes;
        self.mean(|p| p.rounds as f64) * ROUND_MS + per_request / STORAGE_BYTES_PER_MS
    }

    fn row(&self) {
        let items: u64 = self.pages.iter().map(|p| p.items_read).sum();
        println!(
            "| {} | {} | {:.1} / {} | {:.2} / {} | {:.2} | {:.1} | {:.0} KB | {:.1} s |",
            self.label,
            self.pages.len(),
            self.mean(|p| p.requests as f64),
            self.max(|p| p.requests as f64),
            self.mean(|p| p.rounds as f64),
            self.max(|p| p.rounds as f64),
            items as f64 / self.users as f64,
            1000.0 * self.rcu_per_user(),
            self.max(|p| p.largest_rcu) * 8.192,
            self.seconds,
        );
    }
}

/// A page's size and CPU as the router answers it.
struct Rendered {
    size: usize,
    format: &'static str,
    plain_bytes: usize,
    gzip_bytes: usize,
    plain_ms: f64,
    gzip_ms: f64,
}

/// The service's router on `store`, with one key.
fn router(store: Arc<dyn UserStore>) -> Result<axum::Router, Error> {
    let keys = format!("bench:write:{}", hash_key(KEY));
    let config = Config::from_vars(|k| match k {
        "API_KEYS" => Some(keys.clone()),
        "RATE_LIMIT_RPS" | "RATE_LIMIT_BURST" => Some("100000".into()),
        "POWERTOOLS_METRICS_DISABLED" => Some("true".into()),
        _ => None,
    })?;
    Ok(app(AppState::new(store, &config)))
}

/// A client's first sync through the API: `segments` workers at once, each following its
/// segment's `nextPageUrl` with pages of 1,000 and gzip; every user must come exactly once.
/// Answers the calls, the bytes received and the seconds it took.
async fn sync_through_api(
    router: &axum::Router,
    segments: u32,
    users: usize,
) -> Result<(usize, usize, f64), Error> {
    use http_body_util::BodyExt;
    use std::io::Read;
    use tower::ServiceExt;
    let started = Instant::now();
    let workers = (0..segments).map(|i| {
        let router = router.clone();
        tokio::spawn(async move {
            let mut url = Some(format!(
                "/users?updatedFrom=1970-01-01&segment={i}&segments={segments}&pageSize=1000"
            ));
            let (mut ids, mut calls, mut bytes) = (Vec::new(), 0, 0);
            while let Some(u) = url {
                let req = http::Request::builder()
                    .uri(&u)
                    .header("authorization", KEY)
                    .header("accept-encoding", "gzip")
                    .body(axum::body::Body::empty())?;
                let res = router.clone().oneshot(req).await?;
                if res.headers().get("content-encoding").map(|v| v.as_bytes()) != Some(b"gzip") {
                    return Err::<_, Error>(format!("{u}: not gzip").into());
                }
                let zipped = res.into_body().collect().await?.to_bytes();
                let mut text = String::new();
                flate2::read::GzDecoder::new(&zipped[..]).read_to_string(&mut text)?;
                let page: serde_json::Value = serde_json::from_str(&text)?;
                for u in page["data"].as_array().ok_or("a page")? {
                    ids.push(u["id"].as_str().ok_or("an id")?.to_owned());
                }
                url = page["pagination"]["nextPageUrl"]
                    .as_str()
                    .map(str::to_owned);
                calls += 1;
                bytes += zipped.len();
            }
            Ok((ids, calls, bytes))
        })
    });
    let (mut seen, mut calls, mut bytes) = (HashSet::with_capacity(users), 0, 0);
    for worker in futures::future::try_join_all(workers).await? {
        let (ids, c, b) = worker?;
        for id in ids {
            if !seen.insert(id) {
                return Err("a user came twice".into());
            }
        }
        calls += c;
        bytes += b;
    }
    if seen.len() != users {
        return Err(format!("{} of {users} users came", seen.len()).into());
    }
    Ok((calls, bytes, started.elapsed().as_secs_f64()))
}

async fn render_pages() -> Result<Vec<Rendered>, Error> {
    let store = Arc::new(MemoryStore::new());
    for i in 0..1000 {
        let b = BubbleId::parse(&format!("1708861331497x{i:018}"))?;
        let p = Patch::from_json(&body(i)).map_err(|e| format!("{e:?}"))?;
        store
            .apply(
                &users_api::domain::UserRef::Bubble(b.clone()),
                &Intent::Upsert(&b, &p),
                None,
            )
            .await?;
    }
    let router = router(store)?;
    let mut out = Vec::new();
    for size in [100, 1000] {
        for (format, accept) in [("JSON", "application/json"), ("XML", "application/xml")] {
            let path = format!("/users?updatedFrom=1970-01-01&pageSize={size}");
            let (plain_bytes, plain_ms) = timed(&router, &path, accept, false).await?;
            let (gzip_bytes, gzip_ms) = timed(&router, &path, accept, true).await?;
            println!(
                "| {size} users | {format} | {plain_bytes} | {gzip_bytes} | {:.1}× | {plain_ms:.2} ms | {gzip_ms:.2} ms |",
                plain_bytes as f64 / gzip_bytes as f64
            );
            out.push(Rendered {
                size,
                format,
                plain_bytes,
                gzip_bytes,
                plain_ms,
                gzip_ms,
            });
        }
    }
    Ok(out)
}

/// The body size and the median time of 31 answers to `path`.
async fn timed(
    router: &axum::Router,
    path: &str,
    accept: &str,
    gzip: bool,
) -> Result<(usize, f64), Error> {
    use http_body_util::BodyExt;
    use tower::ServiceExt;
    let mut times = Vec::new();
    let mut bytes = 0;
    for _ in 0..31 {
        let mut req = http::Request::builder()
            .uri(path)
            .header("authorization", KEY)
            .header("accept", accept);
        if gzip {
            req = req.header("accept-encoding", "gzip");
        }
        let started = Instant::now();
        let res = router
            .clone()
            .oneshot(req.body(axum::body::Body::empty())?)
            .await?;
        let body = res.into_body().collect().await?.to_bytes();
        times.push(started.elapsed().as_secs_f64() * 1000.0);
        bytes = body.len();
    }
    times.sort_by(f64::total_cmp);
    Ok((bytes, times[times.len() / 2]))
}

/// One row of the model: `total` users by the walk's workers and pages, plain or gzip.
fn model(total: f64, walk: &Walk, page: &Rendered, gzip: bool) {
    let workers = f64::from(walk.segments);
    let calls = (total / workers / walk.size as f64).ceil();
    let (bytes, cpu) = match gzip {
        true => (page.gzip_bytes, page.gzip_ms),
        false => (page.plain_bytes, page.plain_ms),
    };
    let per_call =
        CLIENT_RTT_MS + GATEWAY_MS + walk.storage_ms() + cpu + bytes as f64 / WIRE_BYTES_PER_MS;
    let wall = calls * per_call / 1000.0;
    let wall = match wall {
        w if w >= 120.0 => format!("{:.1} min", w / 60.0),
        w => format!("{w:.1} s"),
    };
    println!(
        "| {} | {} | {} | {} | {} | {per_call:.1} ms | {wall} | {:.0} |",
        total as u64,
        walk.segments,
        walk.size,
        if gzip { "gzip" } else { "plain" },
        calls as u64,
        total * walk.rcu_per_user(),
    );
}
