//! Leak check of everything a Lambda invocation runs in this crate: API Gateway events are
//! converted by `lambda_http` exactly as the runtime does, then answered by the router, in
//! rounds of 20,000 (reads and upserts); resident memory must stay flat between rounds.
//!
//! `cargo run --release --example leakcheck`

use axum::body::Body;
use http_body_util::BodyExt;
use tower::ServiceExt;
use users_api::config::Config;
use users_api::{app, build_store, AppState};

const ROUNDS: usize = 5;
const PER_ROUND: usize = 20_000;

fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let line = status
        .lines()
        .find(|l| l.starts_with("VmRSS"))
        .unwrap_or("VmRSS: 0 kB");
    line.split_whitespace()
        .nth(1)
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let config = Config::from_env()?;
    let router = app(AppState::new(build_store(&config).await?, &config));
    let events: Vec<String> = [
        "events/02-upsert-seed-200.json",
        "events/05-get-by-bubble-id-200.json",
        "events/03-upsert-merge-200.json",
    ]
    .iter()
    .map(std::fs::read_to_string)
    .collect::<Result<_, _>>()?;
    let mut after_first = 0;
    for round in 1..=ROUNDS {
        for i in 0..PER_ROUND {
            let request = lambda_http::request::from_str(&events[i % events.len()])?;
            let (parts, body) = request.into_parts();
            let response = router
                .clone()
                .oneshot(http::Request::from_parts(parts, Body::from(body.to_vec())))
                .await?;
            let status = response.status();
            response.into_body().collect().await?;
            if status.is_server_error() {
                return Err(format!("round {round}: {status}").into());
            }
        }
        let rss = rss_kib();
        println!(
            "leakcheck round {round}: {} invocations, VmRSS {:.1} MiB",
            round * PER_ROUND,
            rss as f64 / 1024.0
        );
        if round == 1 {
            after_first = rss;
        }
    }
    let growth = rss_kib().saturating_sub(after_first);
    println!(
        "leakcheck: growth after the first round {growth} KiB over {} invocations",
        (ROUNDS - 1) * PER_ROUND
    );
    Ok(())
}
