//! Access, measured on the bench tables: an organization's pages beside the whole
//! directory's (a key bound to the producer one user in ten belongs to), and the storage
//! requests of a warm authenticated GET with a bootstrap key beside a managed key's.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use axum::body::Body;
use http_body_util::BodyExt;
use tower::ServiceExt;
use users_api::config::Config;
use users_api::domain::{Relation, Timestamp};
use users_api::edge::auth::{hash_key, Keys};
use users_api::keys::Binding;
use users_api::store::bound::Bound;
use users_api::store::meter::{self, Meter};
use users_api::store::{UserStore, Window};
use users_api::{app, AppState};

use super::{row, Cost};

type Error = Box<dyn std::error::Error>;

/// The producer one bench user in ten belongs to.
pub const PRODUCER: &str = "3f1f7c8e-5a2b-4c6d-9e0f-1a2b3c4d5e6f";
/// Whether bench user `i` belongs to [`PRODUCER`].
pub fn in_producer(i: usize) -> bool {
    i.is_multiple_of(10)
}

const BOOTSTRAP: &str = "bench-bootstrap-key";
/// GETs per key in the auth comparison.
const GETS: i64 = 600;

/// Every page of the list and the feed, unbound and bound, as rows of the comparison table.
pub async fn pages(store: Arc<dyn UserStore>, page_size: usize) -> Result<(), Error> {
    let binding = Binding {
        relation: Relation::Producer,
        id: PRODUCER.parse()?,
    };
    let bound: Arc<dyn UserStore> = Arc::new(Bound::new(store.clone(), binding));
    println!("\nan organization's pages (one user in ten is the producer's) beside the directory's; per page, mean / max");
    println!("| list                   | key          | pages | requests        | rounds        | items read       | RCU            | floor | modelled ms      |");
    println!("|---|---|---|---|---|---|---|---|---|");
    for feed in [false, true] {
        for (who, store) in [("unbound", &store), ("bound", &bound)] {
            let costs = walk(&**store, feed, page_size).await?;
            let list = if feed {
                "GET /users?updatedFrom"
            } else {
                "GET /users"
            };
            row(who, list, &costs);
        }
    }
    Ok(())
}

async fn walk(store: &dyn UserStore, feed: bool, page_size: usize) -> Result<Vec<Cost>, Error> {
    let (mut costs, mut after) = (Vec::new(), None::<String>);
    loop {
        let m = Arc::new(Meter::default());
        let window = Window::after(after.as_deref(), page_size);
        let page = meter::scope(m.clone(), async {
            match feed {
                false => store.list_active(window).await,
                true => store.changes("2000-01-01T00:00:00.000Z", window).await,
            }
        })
        .await?;
        costs.push(Cost::of(&m, &page.items));
        match page.next {
            Some(n) => after = Some(n),
            None => return Ok(costs),
        }
    }
}

/// `GETS` reads of one user with each key through the router, on a clock that moves one
/// second a request (an instance serving one request a second for ten minutes), and
/// again without moving (a busy instance); storage requests as `Server-Timing` counts them.
pub async fn warm_get(store: Arc<dyn UserStore>, bubble_id: &str) -> Result<(), Error> {
    let ring = format!("bench:write:{}", hash_key(BOOTSTRAP));
    let config = Config::from_vars(|k| match k {
        "API_KEYS" => Some(ring.clone()),
        "RATE_LIMIT_RPS" | "RATE_LIMIT_BURST" => Some("100000".into()),
        "POWERTOOLS_METRICS_DISABLED" => Some("true".into()),
        _ => None,
    })?;
    let ahead = Arc::new(AtomicI64::new(0));
    let (clock_ahead, start) = (ahead.clone(), Timestamp::now().millis());
    let clock =
        Arc::new(move || Timestamp::from_millis(start + clock_ahead.load(Ordering::SeqCst)));
    let mut state = AppState::new(store.clone(), &config);
    state.keys = Arc::new(Keys::new(config.keys.clone(), store.keys(), clock));
    let router = app(state);
    let (status, made) = call(
        &router,
        "POST",
        "/keys",
        BOOTSTRAP,
        r#"{"name":"bench","scopes":["read"]}"#,
    )
    .await?;
    if status != 201 {
        return Err(format!("POST /keys: {status}").into());
    }
    let managed = made["secret"].as_str().ok_or("a secret")?.to_owned();
    println!("\nwarm GET /users/{{ref}} ({GETS} per key and pace): storage requests per GET, as Server-Timing reports them");
    println!("| key       | pace               | GETs | requests per GET (mean / max) | extra requests (lookups, lastUsedAt) | modelled ms per GET |");
    println!("|---|---|---|---|---|---|");
    let path = format!("/users/{bubble_id}");
    let per_get = storage_requests(&router, &path, BOOTSTRAP).await?;
    for (pace, step) in [("1 request a second", 1_000), ("busy (same second)", 0)] {
        for (who, key) in [("bootstrap", BOOTSTRAP), ("managed", managed.as_str())] {
            let mut counts = Vec::new();
            for _ in 0..GETS {
                ahead.fetch_add(step, Ordering::SeqCst);
                counts.push(storage_requests(&router, &path, key).await?);
            }
            let mean = counts.iter().sum::<u64>() as f64 / counts.len() as f64;
            let extra: u64 = counts.iter().map(|c| c.saturating_sub(per_get)).sum();
            println!(
                "| {who:<9} | {pace:<18} | {GETS} | {mean:.3} / {} | {extra} | {:.2} |",
                counts.iter().max().unwrap_or(&0),
                mean * super::MODEL_MS_PER_ROUND,
            );
        }
    }
    Ok(())
}

/// One GET of `path` with `key` through the router: its storage requests, from
/// `Server-Timing`.
async fn storage_requests(router: &axum::Router, path: &str, key: &str) -> Result<u64, Error> {
    let request = http::Request::get(path)
        .header("authorization", key)
        .body(Body::empty())?;
    let response = router.clone().oneshot(request).await?;
    let status = response.status().as_u16();
    if status != 200 {
        return Err(format!("GET {path}: {status}").into());
    }
    let timing = response
        .headers()
        .get("server-timing")
        .and_then(|v| v.to_str().ok())
        .ok_or("Server-Timing")?
        .to_owned();
    response.into_body().collect().await?;
    timing
        .split("desc=\"")
        .nth(1)
        .and_then(|d| d.split(' ').next())
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| "a request count in Server-Timing".into())
}

async fn call(
    router: &axum::Router,
    method: &str,
    path: &str,
    key: &str,
    body: &str,
) -> Result<(u16, serde_json::Value), Error> {
    let request = http::Request::builder()
        .method(method)
        .uri(path)
        .header("authorization", key)
        .header("content-type", "application/json")
        .body(Body::from(body.to_owned()))?;
    let response = router.clone().oneshot(request).await?;
    let status = response.status().as_u16();
    let bytes = response.into_body().collect().await?.to_bytes();
    Ok((status, serde_json::from_slice(&bytes)?))
}
