//! Per-request storage accounting: requests made, time spent, items read.
//!
//! The HTTP layer opens a [`scope`] around each request; the DynamoDB store records every
//! call into it. `Server-Timing` and the request log line read it back.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Storage work done on behalf of one request.
#[derive(Debug, Default)]
pub struct Meter {
    requests: AtomicU64,
    micros: AtomicU64,
    items_read: AtomicU64,
}

impl Meter {
    /// Storage requests made.
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    /// Time spent waiting for storage.
    pub fn duration(&self) -> Duration {
        Duration::from_micros(self.micros.load(Ordering::Relaxed))
    }

    /// Items storage read (DynamoDB's `ScannedCount` for queries).
    pub fn items_read(&self) -> u64 {
        self.items_read.load(Ordering::Relaxed)
    }
}

tokio::task_local! {
    static METER: Arc<Meter>;
}

/// Runs `fut` with `meter` collecting its storage work.
pub async fn scope<F: Future>(meter: Arc<Meter>, fut: F) -> F::Output {
    METER.scope(meter, fut).await
}

/// Records one storage request that started at `started` and read `items` items.
pub fn record(started: Instant, items: u64) {
    let _ = METER.try_with(|m| {
        m.requests.fetch_add(1, Ordering::Relaxed);
        m.micros
            .fetch_add(started.elapsed().as_micros() as u64, Ordering::Relaxed);
        m.items_read.fetch_add(items, Ordering::Relaxed);
    });
}
