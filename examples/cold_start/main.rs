//! Cold start and footprint, side by side: a hello-world `lambda_http` binary and this service
//! (DynamoDB store on the local server, and the embedded store), each started fresh on a fake
//! Lambda Runtime API, alternating, `TRIALS` times. Prints medians of
//!
//! - **init**: from spawning the process to its first `next` call;
//! - **init + first request**: to the answer of a GET of one user (hello-world: its one page);
//!   the allowance for ours is that request's own storage time (`db` in `Server-Timing`),
//!   printed beside the median warm one;
//! - **peak RSS** (`VmHWM`) after the whole run;
//! - **warm CPU** per invocation on `/health` and on the GET, from the process's threads'
//!   `schedstat` (nanoseconds on CPU), over `WARM` invocations after a warm-up;
//!
//! and, apart, what loading the platform's trust store costs against parsing compiled-in roots.
//! The DynamoDB store points at the local engine (DynamoDB Local), whose own speed is not
//! AWS's: the first GET's storage time is printed beside the figures that include it.
//!
//! `cold_start HELLO_BIN USERS_API_BIN` with `DYNAMODB_ENDPOINT` set (`make bench` runs it).

mod runtime_api;
mod sample;
mod trust;

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use runtime_api::RuntimeApi;
use sample::{median, Sample};
use users_api::domain::{BubbleId, Intent, Patch, UserRef};
use users_api::store::dynamo::{local_client_unhurried, DynamoStore};
use users_api::store::UserStore;

type Error = Box<dyn std::error::Error>;

const TRIALS: usize = 10;
/// How long a binary may take to start or to answer before the run is called failed.
const PATIENCE: std::time::Duration = std::time::Duration::from_secs(20);
const WARM: usize = 300;
const HEALTH: &str = include_str!("../../events/01-health-200.json");
const SEED: &str = include_str!("../../events/02-upsert-seed-200.json");
const GET: &str = include_str!("../../events/05-get-by-bubble-id-200.json");
/// The dev keys' hashes, as `make run` configures them.
const API_KEYS: &str = "dev-write:write:2cc827ddd1d176c150091ef0c8e181de15afbaf3c855263ca0d9069f7c2c3309,dev-read:read:bb22af3bbb7413af1d7c8f58b0a8c03350ab86a93e30cb92eb5021f477294ace";

/// One binary under one configuration.
struct Arm {
    name: &'static str,
    binary: String,
    env: Vec<(String, String)>,
    /// The first GET's status: the embedded store starts empty, so its lookup misses.
    first_status: u64,
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let mut args = std::env::args().skip(1);
    let (Some(hello), Some(ours)) = (args.next(), args.next()) else {
        return Err("usage: cold_start HELLO_BIN USERS_API_BIN".into());
    };
    let endpoint = std::env::var("DYNAMODB_ENDPOINT")?;
    let (users, meta) = seed(&endpoint).await?;
    let dynamo = vec![
        ("STORE".into(), "dynamodb".into()),
        ("TABLE_NAME".into(), users),
        ("META_TABLE_NAME".into(), meta),
        ("AWS_REGION".into(), "us-east-1".into()),
        ("AWS_ACCESS_KEY_ID".into(), "local".into()),
        ("AWS_SECRET_ACCESS_KEY".into(), "local".into()),
        ("AWS_ENDPOINT_URL_DYNAMODB".into(), endpoint.clone()),
    ];
    let arms = [
        Arm {
            name: "hello-world",
            binary: hello,
            env: vec![],
            first_status: 200,
        },
        Arm {
            name: "users-api, DynamoDB",
            binary: ours.clone(),
            env: dynamo,
            first_status: 200,
        },
        Arm {
            name: "users-api, embedded",
            binary: ours,
            env: vec![("STORE".into(), "memory".into())],
            first_status: 404,
        },
    ];
    let mut samples: Vec<Vec<Sample>> = arms.iter().map(|_| Vec::new()).collect();
    for trial in 0..TRIALS {
        // Alternate the order, so no arm always runs on a warmer page cache.
        let mut order: Vec<usize> = (0..arms.len()).collect();
        if trial % 2 == 1 {
            order.reverse();
        }
        for i in order {
            samples[i].push(run(&arms[i]).await?);
        }
    }
    report(&arms, &samples);
    trust::report();
    Ok(())
}

/// Fresh tables on the local server holding the seed user of `events/02`.
async fn seed(endpoint: &str) -> Result<(String, String), Error> {
    let suffix = uuid::Uuid::new_v4().simple().to_string();
    let (users, meta) = (format!("cold-{suffix}"), format!("cold-meta-{suffix}"));
    let store = DynamoStore::new(local_client_unhurried(endpoint), &users, &meta, 4);
    store.create_tables().await?;
    let event: serde_json::Value = serde_json::from_str(SEED)?;
    let body: serde_json::Value = serde_json::from_str(event["body"].as_str().unwrap_or("{}"))?;
    let bubble = BubbleId::parse(body["bubbleId"].as_str().unwrap_or_default())?;
    let patch = Patch::from_json(&body).map_err(|e| format!("{e:?}"))?;
    let store: Arc<dyn UserStore> = Arc::new(store);
    store
        .apply(
            &UserRef::Bubble(bubble.clone()),
            &Intent::Upsert(&bubble, &patch),
            None,
        )
        .await?;
    Ok((users, meta))
}

/// One cold start of `arm`, its first request, then warm invocations.
async fn run(arm: &Arm) -> Result<Sample, Error> {
    let mut api = RuntimeApi::start().await?;
    let started = Instant::now();
    let mut child = spawn(arm, &api.address)?;
    let init = api.init_done.take().expect("fresh runtime");
    let init_done = tokio::time::timeout(PATIENCE, init)
        .await
        .map_err(|_| format!("{}: no call to next within {PATIENCE:?}", arm.name))??;
    let get = Bytes::from_static(GET.as_bytes());
    let first = tokio::time::timeout(PATIENCE, api.invoke(&get))
        .await
        .map_err(|_| format!("{}: no answer within {PATIENCE:?}", arm.name))?;
    expect_status(&first.body, arm)?;
    let mut sample = Sample {
        init_ms: ms(init_done - started),
        first_ms: ms(first.at - started),
        first_db_ms: sample::db_duration_ms(&first.body).unwrap_or(0.0),
        ..Sample::default()
    };
    let health = Bytes::from_static(HEALTH.as_bytes());
    sample.cpu_health_us = warm_cpu(&mut api, &child, &health).await?;
    sample.cpu_get_us = warm_cpu(&mut api, &child, &get).await?;
    sample.db_ms = warm_db_ms(&mut api, &get).await;
    sample.rss_kib = status_kib(child.id(), "VmHWM")?;
    sample.anon_kib = status_kib(child.id(), "RssAnon")?;
    child.kill()?;
    child.wait()?;
    Ok(sample)
}

fn spawn(arm: &Arm, runtime_api: &str) -> std::io::Result<Child> {
    Command::new(&arm.binary)
        .env_clear()
        .env("AWS_LAMBDA_RUNTIME_API", runtime_api)
        .env("AWS_LAMBDA_FUNCTION_NAME", "users-api")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/users-api")
        .env("AWS_LAMBDA_LOG_STREAM_NAME", "bench")
        .env("API_KEYS", API_KEYS)
        .env("CURSOR_SECRET", "bench-cursor-secret")
        .env("RATE_LIMIT_RPS", "100000")
        .env("RATE_LIMIT_BURST", "100000")
        .envs(arm.env.iter().cloned())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
}

fn expect_status(answer: &[u8], arm: &Arm) -> Result<(), Error> {
    let doc: serde_json::Value = serde_json::from_slice(answer)?;
    match doc["statusCode"].as_u64() {
        Some(s) if s == arm.first_status => Ok(()),
        other => Err(format!("{}: first request answered {other:?}: {doc}", arm.name).into()),
    }
}

/// CPU time per invocation of `event`, over `WARM` of them after a warm-up of 20.
async fn warm_cpu(api: &mut RuntimeApi, child: &Child, event: &Bytes) -> Result<f64, Error> {
    for _ in 0..20 {
        api.invoke(event).await;
    }
    let before = cpu_ns(child.id())?;
    for _ in 0..WARM {
        api.invoke(event).await;
    }
    Ok((cpu_ns(child.id())? - before) as f64 / WARM as f64 / 1000.0)
}

/// The median `db` duration of `Server-Timing` over 20 warm GETs (0 when there is none).
async fn warm_db_ms(api: &mut RuntimeApi, get: &Bytes) -> f64 {
    let mut durations = Vec::new();
    for _ in 0..20 {
        let answer = api.invoke(get).await;
        durations.push(sample::db_duration_ms(&answer.body).unwrap_or(0.0));
    }
    median(&durations)
}

/// Nanoseconds the process's threads have spent on a CPU.
fn cpu_ns(pid: u32) -> std::io::Result<u64> {
    let mut total = 0;
    for task in std::fs::read_dir(format!("/proc/{pid}/task"))? {
        let stat = std::fs::read_to_string(task?.path().join("schedstat")).unwrap_or_default();
        total += stat
            .split(' ')
            .next()
            .and_then(|n| n.parse::<u64>().ok())
            .unwrap_or(0);
    }
    Ok(total)
}

/// A figure of `/proc/PID/status` in KiB (`VmHWM`: peak resident; `RssAnon`: heap and
/// stacks, the rest of the resident set being the binary's pages).
fn status_kib(pid: u32, name: &str) -> Result<u64, Error> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let prefix = format!("{name}:");
    let line = status
        .lines()
        .find(|l| l.starts_with(&prefix))
        .ok_or(prefix)?;
    Ok(line
        .split_whitespace()
        .nth(1)
        .ok_or("bad status line")?
        .parse()?)
}

fn ms(d: std::time::Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn report(arms: &[Arm], samples: &[Vec<Sample>]) {
    let medians: Vec<Sample> = samples.iter().map(|s| Sample::median_of(s)).collect();
    let hello = &medians[0];
    println!(
        "\ncold start, {TRIALS} trials alternating, medians (release builds, fake Runtime API)"
    );
    println!("| binary | init | init + first GET | its storage time | one warm storage request | peak RSS | of it heap+stacks at the end | warm CPU /health | warm CPU GET |");
    println!("|---|---|---|---|---|---|---|---|---|");
    for (arm, m) in arms.iter().zip(&medians) {
        println!(
            "| {} | {:.2} ms ({:.2}x) | {:.2} ms | {:.2} ms | {:.2} ms | {:.1} MiB | {:.1} MiB | {:.0} µs ({:.2}x) | {:.0} µs ({:.2}x) |",
            arm.name,
            m.init_ms,
            m.init_ms / hello.init_ms,
            m.first_ms,
            m.first_db_ms,
            m.db_ms,
            m.rss_kib as f64 / 1024.0,
            m.anon_kib as f64 / 1024.0,
            m.cpu_health_us,
            m.cpu_health_us / hello.cpu_health_us,
            m.cpu_get_us,
            m.cpu_get_us / hello.cpu_get_us,
        );
    }
    let ours = &medians[1];
    let allowance = 1.5 * hello.first_ms + ours.first_db_ms;
    let verdict = |ok: bool| if ok { "met" } else { "MISSED" };
    println!("\ntargets, DynamoDB store:");
    println!(
        "- init {:.2}x hello-world (≤ 1.5x): {}",
        ours.init_ms / hello.init_ms,
        verdict(ours.init_ms <= 1.5 * hello.init_ms)
    );
    println!(
        "- init + first GET {:.2} ms ≤ 1.5 x {:.2} + its storage request {:.2} = {:.2} ms: {} \
         (with a warm storage request, {:.2} ms, instead: {:.2} ms)",
        ours.first_ms,
        hello.first_ms,
        ours.first_db_ms,
        allowance,
        verdict(ours.first_ms <= allowance),
        ours.db_ms,
        1.5 * hello.first_ms + ours.db_ms,
    );
    println!(
        "- peak RSS {:.1} MiB (≤ 8): {}",
        ours.rss_kib as f64 / 1024.0,
        verdict(ours.rss_kib <= 8 * 1024)
    );
    let (health, get) = (
        ours.cpu_health_us / hello.cpu_health_us,
        ours.cpu_get_us / hello.cpu_get_us,
    );
    println!(
        "- warm CPU {health:.2}x on /health, {get:.2}x on a GET (≤ 2x): {}",
        verdict(health <= 2.0 && get <= 2.0)
    );
}
