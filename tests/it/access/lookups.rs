//! What a managed key's lookup costs and how it fails: a warm instance answers a managed
//! key's request with the storage requests a bootstrap key's costs; storage that cannot
//! answer is 503, never 401; a spray of made-up secrets is throttled after a bounded number
//! of reads a second, while known keys keep working.

use super::*;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

use async_trait::async_trait;
use users_api::domain::Timestamp;
use users_api::edge::auth::Keys;
use users_api::edge::AppState;
use users_api::keys::{KeyRecord, KeyStore, MISSES_PER_SECOND};
use users_api::store::StoreError;

/// A key store that counts lookups by secret, and fails them all when told to.
struct Watched {
    inner: Arc<dyn KeyStore>,
    lookups: AtomicU64,
    failing: std::sync::atomic::AtomicBool,
}

#[async_trait]
impl KeyStore for Watched {
    async fn create(&self, record: &KeyRecord) -> Result<(), StoreError> {
        self.inner.create(record).await
    }
    async fn get(&self, id: &str) -> Result<Option<KeyRecord>, StoreError> {
        self.inner.get(id).await
    }
    async fn list(&self) -> Result<Vec<KeyRecord>, StoreError> {
        self.inner.list().await
    }
    async fn by_hash(&self, hash: &str) -> Result<Option<KeyRecord>, StoreError> {
        self.lookups.fetch_add(1, Ordering::SeqCst);
        if self.failing.load(Ordering::SeqCst) {
            return Err(StoreError::Unavailable);
        }
        self.inner.by_hash(hash).await
    }
    async fn replace(&self, old: &KeyRecord, new: &KeyRecord) -> Result<(), StoreError> {
        self.inner.replace(old, new).await
    }
    async fn touch(&self, id: &str, at: Timestamp) -> Result<(), StoreError> {
        self.inner.touch(id, at).await
    }
}

/// One instance over `store` whose key lookups `Watched` counts, on a clock that stands
/// still unless `ahead` moves it (so a test never straddles a second by chance).
fn instance(store: &Arc<dyn UserStore>, ahead: &Arc<AtomicI64>) -> (Client, Arc<Watched>) {
    let watched = Arc::new(Watched {
        inner: store.keys(),
        lookups: AtomicU64::new(0),
        failing: Default::default(),
    });
    let (ahead, start) = (ahead.clone(), Timestamp::now().millis());
    let clock = Arc::new(move || Timestamp::from_millis(start + ahead.load(Ordering::SeqCst)));
    let mut state = AppState::new(store.clone(), &common::config());
    state.keys = Arc::new(Keys::new(common::config().keys, watched.clone(), clock));
    (Client::on(users_api::app(state)), watched)
}

async fn a_key_lookup_storage_cannot_answer_is_503_and_a_spray_of_secrets_is_throttled(
    store: Arc<dyn UserStore>,
) {
    let ahead = Arc::new(AtomicI64::new(0));
    let (admin, watched) = instance(&store, &ahead);
    let (known, _) = make_key(&admin, json!({"name": "known", "scopes": ["read"]})).await;
    let known = admin.with_key(&known);
    assert_eq!(known.call("GET", "/users", None).await.status, 200);

    // Storage down: an uncached key is 503 with Retry-After, the cached one still works.
    watched.failing.store(true, Ordering::SeqCst);
    let down = admin
        .with_key("uak_notcachedanywhere")
        .call("GET", "/users", None)
        .await;
    assert_eq!(down.status, 503, "{}", down.text);
    assert!(down.header("retry-after").is_some());
    assert_eq!(known.call("GET", "/users", None).await.status, 200);
    watched.failing.store(false, Ordering::SeqCst);

    // A spray: each made-up secret costs a lookup until this second's budget is spent, then
    // none; known keys are served from the cache meanwhile.
    ahead.fetch_add(1_000, Ordering::SeqCst);
    let before = watched.lookups.load(Ordering::SeqCst);
    let mut statuses = Vec::new();
    for i in 0..MISSES_PER_SECOND + 5 {
        let made_up = admin.with_key(&format!("uak_madeup{i:04}"));
        statuses.push(made_up.call("GET", "/users", None).await.status);
    }
    let spent = watched.lookups.load(Ordering::SeqCst) - before;
    assert_eq!(
        spent,
        u64::from(MISSES_PER_SECOND),
        "lookups within one second"
    );
    let budget = MISSES_PER_SECOND as usize;
    assert!(statuses[..budget].iter().all(|s| *s == 401), "{statuses:?}");
    assert!(statuses[budget..].iter().all(|s| *s == 429), "{statuses:?}");
    assert_eq!(known.call("GET", "/users", None).await.status, 200);
    // The next second looks up again.
    ahead.fetch_add(1_000, Ordering::SeqCst);
    let next = admin
        .with_key("uak_madeupnext")
        .call("GET", "/users", None)
        .await;
    assert_eq!(next.status, 401);
    // A bootstrap key never looks anything up.
    let before = watched.lookups.load(Ordering::SeqCst);
    assert_eq!(admin.call("GET", "/users", None).await.status, 200);
    assert_eq!(watched.lookups.load(Ordering::SeqCst), before);
}

on_both_stores!(a_key_lookup_storage_cannot_answer_is_503_and_a_spray_of_secrets_is_throttled);

/// On DynamoDB, where storage requests are counted: a managed key's GET costs one lookup
/// (and its first `lastUsedAt` write) per 10 s on an instance, and otherwise exactly what a
/// bootstrap key's costs, as `Server-Timing` reports it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dynamodb_a_warm_managed_key_costs_what_a_bootstrap_key_costs() {
    let store = common::dynamo_store().await;
    let ahead = Arc::new(AtomicI64::new(0));
    let (admin, _) = instance(&store, &ahead);
    let made = admin
        .call("POST", "/users/warm1", Some(json!({"email": "warm1@x.io"})))
        .await;
    assert_eq!(made.status, 200, "{}", made.text);
    let bootstrap = admin.call("GET", "/users/warm1", None).await.db_requests();
    let (secret, _) = make_key(&admin, json!({"name": "warm", "scopes": ["read"]})).await;
    let managed = admin.with_key(&secret);
    let get = || async {
        managed
            .call("GET", "/users/warm1", None)
            .await
            .db_requests()
    };
    assert_eq!(
        get().await,
        bootstrap + 2,
        "first use: lookup and lastUsedAt"
    );
    for _ in 0..5 {
        assert_eq!(get().await, bootstrap, "warm: nothing more");
    }
    ahead.fetch_add(10_001, Ordering::SeqCst);
    assert_eq!(get().await, bootstrap + 1, "a lookup per 10 s, no write");
    assert_eq!(get().await, bootstrap);
    ahead.fetch_add(60_000, Ordering::SeqCst);
    assert_eq!(
        get().await,
        bootstrap + 2,
        "a minute on: lookup and lastUsedAt"
    );
}
