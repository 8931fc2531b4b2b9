//! Helpers shared by the integration tests: apps and stores to test, and a request helper.
#![allow(dead_code)]

mod engine;
pub mod invariants;
mod logs;

pub use logs::logs;

/// Runs each named `async fn(Arc<dyn UserStore>)` as a test on a fresh embedded store and on
/// a fresh DynamoDB store of the local server: one suite, two stores.
macro_rules! on_both_stores {
    ($($name:ident),* $(,)?) => {
        mod memory {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                super::$name(crate::common::memory_store()).await
            })*
        }
        mod dynamodb {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                super::$name(crate::common::dynamo_store().await).await
            })*
        }
    };
}

use std::sync::Arc;

use axum::body::Body;
use http::{HeaderMap, Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;
use users_api::config::Config;
use users_api::edge::auth::hash_key;
use users_api::store::dynamo::{local_client, DynamoStore};
use users_api::store::memory::MemoryStore;
use users_api::store::UserStore;
use users_api::{app, AppState};

/// The dev keys `make run` configures.
pub const WRITE_KEY: &str = "dev-write-key";
/// See [`WRITE_KEY`].
pub const READ_KEY: &str = "dev-read-key";
/// Index and counter shards used by the DynamoDB tests.
pub const SHARDS: u32 = 4;

/// A configuration with the two dev keys.
pub fn config() -> Config {
    let keys = format!(
        "dev-write:write:{},dev-read:read:{}",
        hash_key(WRITE_KEY),
        hash_key(READ_KEY)
    );
    Config::from_vars(|k| match k {
        "API_KEYS" => Some(keys.clone()),
        "CURSOR_SECRET" => Some("test-secret".into()),
        // Tests make hundreds of requests a second with one key; rate limits have their own test.
        "RATE_LIMIT_RPS" | "RATE_LIMIT_BURST" => Some("100000".into()),
        _ => None,
    })
    .expect("test configuration is valid")
}

/// A fresh embedded store.
pub fn memory_store() -> Arc<dyn UserStore> {
    Arc::new(MemoryStore::new())
}

/// The endpoint of the local DynamoDB engine: `make test`'s, or one started for this run.
pub fn dynamo_endpoint() -> String {
    engine::endpoint()
}

/// A DynamoDB store on fresh tables of the local server.
pub async fn dynamo() -> DynamoStore {
    dynamo_with_shards(SHARDS).await
}

/// [`dynamo`] with `shards` index and counter shards.
pub async fn dynamo_with_shards(shards: u32) -> DynamoStore {
    let suffix = uuid::Uuid::new_v4().simple().to_string();
    let store = DynamoStore::new(
        local_client(&dynamo_endpoint()),
        format!("users-{suffix}"),
        format!("meta-{suffix}"),
        shards,
    );
    store.create_tables().await.expect("tables are created");
    store
}

/// `n` DynamoDB stores on the same fresh tables, each with its own client: function
/// instances as Lambda runs them side by side.
pub async fn dynamo_instances(n: usize) -> Vec<Arc<dyn UserStore>> {
    let first = dynamo().await;
    let (users, meta) = first.table_names();
    (0..n)
        .map(|_| {
            let store = DynamoStore::new(local_client(&dynamo_endpoint()), users, meta, SHARDS);
            Arc::new(store) as Arc<dyn UserStore>
        })
        .collect()
}

/// [`dynamo`] behind the trait.
pub async fn dynamo_store() -> Arc<dyn UserStore> {
    Arc::new(dynamo().await)
}

/// A router on `store` with the dev keys.
/// A client of `store` whose feed horizon (30 days of retention) follows a clock `offset`
/// milliseconds ahead of now.
pub fn clocked_client(
    store: Arc<dyn UserStore>,
    offset: Arc<std::sync::atomic::AtomicI64>,
) -> Client {
    use users_api::domain::{Retention, Timestamp};
    let mut state = AppState::new(store, &config());
    state.retention = Retention::with_clock(
        30,
        Arc::new(move || {
            let ahead = offset.load(std::sync::atomic::Ordering::SeqCst);
            Timestamp::from_millis(Timestamp::now().millis() + ahead)
        }),
    );
    Client::on(app(state))
}

pub fn router(store: Arc<dyn UserStore>) -> axum::Router {
    app(AppState::new(store, &config()))
}

/// A response, read whole.
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub text: String,
}

impl Answer {
    /// The body as JSON.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text))
    }

    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// `Server-Timing`'s description: `<n> requests, <r> RCU, <w> WCU`, as numbers.
    pub fn db_costs(&self) -> (u64, f64, f64) {
        let timing = self.header("server-timing").expect("Server-Timing is set");
        let desc = timing.split("desc=\"").nth(1).expect("desc");
        let words: Vec<&str> = desc.trim_end_matches('"').split(' ').collect();
        assert_eq!(
            (words.len(), words[1], words[3], words[5]),
            (6, "requests,", "RCU,", "WCU"),
            "{timing}"
        );
        (
            words[0].parse().expect("a count"),
            words[2].parse().expect("RCU"),
            words[4].parse().expect("WCU"),
        )
    }

    /// The storage request count from `Server-Timing`.
    pub fn db_requests(&self) -> u64 {
        self.db_costs().0
    }
}

/// Sends one request through the router.
pub async fn send(
    app: &axum::Router,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> Answer {
    let mut req = Request::builder().method(method).uri(path);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let req = req
        .body(
            body.map(|b| Body::from(b.to_owned()))
                .unwrap_or_else(Body::empty),
        )
        .unwrap();
    let res = app.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    Answer {
        status,
        headers,
        text: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

/// Sends one request through the router; answers the headers and the body's bytes as sent
/// (a compressed body stays compressed).
pub async fn send_bytes(
    app: &axum::Router,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
) -> (HeaderMap, Vec<u8>) {
    let mut req = Request::builder().method(method).uri(path);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let res = app
        .clone()
        .oneshot(req.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let headers = res.headers().clone();
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    (headers, bytes.to_vec())
}

/// A client that sends the write key: to the native API as JSON ([`Client::new`]), or to
/// `/scim/v2` as a bearer token with SCIM's media type ([`Client::scim`]).
pub struct Client {
    pub app: axum::Router,
    prefix: &'static str,
    auth: String,
    content_type: &'static str,
}

impl Client {
    pub fn new(store: Arc<dyn UserStore>) -> Self {
        Self::on(router(store))
    }

    /// A client of the router `app`.
    pub fn on(app: axum::Router) -> Self {
        Self {
            app,
            prefix: "",
            auth: WRITE_KEY.to_owned(),
            content_type: "application/json",
        }
    }

    /// An identity provider's client: paths under `/scim/v2`.
    pub fn scim(store: Arc<dyn UserStore>) -> Self {
        Self {
            app: router(store),
            prefix: "/scim/v2",
            auth: format!("Bearer {WRITE_KEY}"),
            content_type: "application/scim+json",
        }
    }

    /// The same client presenting another key.
    pub fn with_key(&self, key: &str) -> Self {
        let auth = match self.prefix {
            "" => key.to_owned(),
            _ => format!("Bearer {key}"),
        };
        Self {
            app: self.app.clone(),
            prefix: self.prefix,
            auth,
            content_type: self.content_type,
        }
    }

    /// The key this client presents.
    pub fn auth_key(&self) -> &str {
        self.auth.trim_start_matches("Bearer ")
    }

    /// The SCIM face of this client's router.
    pub fn scim_face(&self) -> Self {
        Self {
            app: self.app.clone(),
            prefix: "/scim/v2",
            auth: format!("Bearer {}", self.auth.trim_start_matches("Bearer ")),
            content_type: "application/scim+json",
        }
    }

    pub async fn call(&self, method: &str, path: &str, body: Option<Value>) -> Answer {
        self.call_with(method, path, &[], body).await
    }

    pub async fn call_with(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<Value>,
    ) -> Answer {
        let body = body.map(|b| b.to_string());
        let mut all = vec![
            ("authorization", self.auth.as_str()),
            ("content-type", self.content_type),
        ];
        all.extend_from_slice(headers);
        let path = format!("{}{path}", self.prefix);
        send(&self.app, method, &path, &all, body.as_deref()).await
    }
}
