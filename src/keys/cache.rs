//! [`Keys`]: the one answer to "who is this key": bootstrap keys from the ring, managed keys
//! from storage through a per-instance cache of at most 10 s, so an authenticated request
//! costs what it did, and a revocation or rotation holds everywhere within 10 s.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::managed::{hash_secret, Closed, PREFIX};
use super::{Binding, KeyRecord, KeyRing, KeyStore, Scopes};
use crate::domain::{Clock, Timestamp};

/// How long an instance trusts what it read of a managed key.
pub const CACHE_MS: i64 = 10_000;
/// How stale `lastUsedAt` may be: a busy key costs one write per this period.
pub const TOUCH_MS: i64 = 60_000;
/// Entries the cache holds before it starts afresh (a flood of unknown keys cannot grow it).
const MAX_ENTRIES: usize = 10_000;
/// Lookups of secrets no key has that one instance makes per second of its clock: past
/// this, an uncached `uak_` secret is answered 429 without reading storage, so a spray of
/// made-up secrets costs at most this many reads a second per instance. Known keys do not
/// count against it.
pub const MISSES_PER_SECOND: u32 = 10;

/// Who a request was authenticated as.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The key's name (logged, recorded as `deletedBy`, `createdBy`).
    pub name: String,
    /// What it may do.
    pub scopes: Scopes,
    /// The organization it is bound to, if any.
    pub binding: Option<Binding>,
    /// A managed key's id; `None` for a bootstrap key.
    pub key_id: Option<String>,
}

/// Why a presented key is refused: the 401 metric's reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// No key was presented.
    Missing,
    /// No key has this secret.
    Unknown,
    /// The key was revoked.
    Revoked,
    /// The key expired, or the secret was rotated out.
    Expired,
    /// Storage could not say: not the caller's fault, so 503, not 401.
    Unavailable,
    /// Too many unknown secrets were looked up this second: 429, try again in a second.
    Throttled,
}

impl Refusal {
    /// The reason's name, as the metric's dimension.
    pub fn name(self) -> &'static str {
        match self {
            Refusal::Missing => "missing",
            Refusal::Unknown => "unknown",
            Refusal::Revoked => "revoked",
            Refusal::Expired => "expired",
            Refusal::Unavailable => "unavailable",
            Refusal::Throttled => "throttled",
        }
    }
}

struct Entry {
    record: Option<KeyRecord>,
    fetched: Timestamp,
    touched: Option<Timestamp>,
}

/// Bootstrap and managed keys, and the cache of the latter.
pub struct Keys {
    ring: KeyRing,
    store: Arc<dyn KeyStore>,
    clock: Clock,
    cache: Mutex<HashMap<String, Entry>>,
    /// The clock's second and the unknown secrets looked up in it.
    misses: Mutex<(i64, u32)>,
}

impl Keys {
    /// Keys from `ring` and `store`, timed by `clock`.
    pub fn new(ring: KeyRing, store: Arc<dyn KeyStore>, clock: Clock) -> Self {
        Self {
            ring,
            store,
            clock,
            cache: Mutex::new(HashMap::new()),
            misses: Mutex::new((0, 0)),
        }
    }

    /// Where managed keys are kept.
    pub fn store(&self) -> &Arc<dyn KeyStore> {
        &self.store
    }

    /// Now, by this service's clock.
    pub fn now(&self) -> Timestamp {
        (self.clock)()
    }

    /// The caller whose secret is `presented`, or why not. A managed key is read at most
    /// once per [`CACHE_MS`] per instance, and its `lastUsedAt` written at most once per
    /// [`TOUCH_MS`].
    pub async fn authenticate(&self, presented: &str) -> Result<Caller, Refusal> {
        if !presented.starts_with(PREFIX) {
            let key = self.ring.find(presented).ok_or(Refusal::Unknown)?;
            return Ok(Caller {
                name: key.name.clone(),
                scopes: key.scopes,
                binding: None,
                key_id: None,
            });
        }
        let hash = hash_secret(presented);
        let now = self.now();
        let record = self.record(&hash, now).await?;
        let record = record.ok_or(Refusal::Unknown)?;
        record.opens(&hash, now).map_err(|closed| match closed {
            Closed::Revoked => Refusal::Revoked,
            Closed::Expired => Refusal::Expired,
        })?;
        self.touch(&hash, &record, now).await;
        Ok(Caller {
            name: record.name.clone(),
            scopes: record.scopes,
            binding: record.binding,
            key_id: Some(record.id),
        })
    }

    /// Forgets what this instance read of the key with this id (after it changed it).
    pub fn forget(&self, id: &str) {
        self.entries()
            .retain(|_, e| e.record.as_ref().is_none_or(|r| r.id != id));
    }

    async fn record(&self, hash: &str, now: Timestamp) -> Result<Option<KeyRecord>, Refusal> {
        if let Some(e) = self.entries().get(hash) {
            if now.millis() - e.fetched.millis() < CACHE_MS {
                return Ok(e.record.clone());
            }
        }
        if self.misses_spent(now) {
            tracing::warn!("unknown managed keys looked up too often: throttled");
            return Err(Refusal::Throttled);
        }
        let record = self.store.by_hash(hash).await.map_err(|e| {
            tracing::error!(error = %e, "managed key lookup failed");
            Refusal::Unavailable
        })?;
        if record.is_none() {
            self.count_miss(now);
        }
        let mut entries = self.entries();
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        let touched = entries.get(hash).and_then(|e| e.touched);
        entries.insert(
            hash.to_owned(),
            Entry {
                record: record.clone(),
                fetched: now,
                touched,
            },
        );
        Ok(record)
    }

    /// Writes `lastUsedAt` when neither storage nor this instance has it within a minute.
    async fn touch(&self, hash: &str, record: &KeyRecord, now: Timestamp) {
        let recent = |t: Option<Timestamp>| t.is_some_and(|t| now.millis() - t.millis() < TOUCH_MS);
        let touched = self.entries().get(hash).and_then(|e| e.touched);
        if recent(record.last_used_at) || recent(touched) {
            return;
        }
        if let Some(e) = self.entries().get_mut(hash) {
            e.touched = Some(now);
        }
        if let Err(e) = self.store.touch(&record.id, now).await {
            tracing::warn!(error = %e, key_id = %record.id, "lastUsedAt not written");
        }
    }

    /// Whether this second's budget of unknown-secret lookups is spent.
    fn misses_spent(&self, now: Timestamp) -> bool {
        let misses = self.misses.lock().unwrap_or_else(|e| e.into_inner());
        misses.0 == now.millis().div_euclid(1000) && misses.1 >= MISSES_PER_SECOND
    }

    fn count_miss(&self, now: Timestamp) {
        let second = now.millis().div_euclid(1000);
        let mut misses = self.misses.lock().unwrap_or_else(|e| e.into_inner());
        if misses.0 != second {
            *misses = (second, 0);
        }
        misses.1 += 1;
    }

    fn entries(&self) -> std::sync::MutexGuard<'_, HashMap<String, Entry>> {
        self.cache.lock().unwrap_or_else(|e| e.into_inner())
    }
}
