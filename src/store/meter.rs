//! Per-request storage accounting: requests made, sequential rounds, time spent, items read
//! and the capacity units storage reported.
//!
//! The HTTP layer opens a [`scope`] around each request; the DynamoDB store records every
//! call into it. `Server-Timing` and the request log line read it back.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Capacity units one storage request consumed, as storage reported them.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub struct Capacity {
    /// Read capacity units.
    pub read: f64,
    /// Write capacity units.
    pub write: f64,
}

/// One storage request: when it ran and what it cost.
#[derive(Debug, Clone, Copy)]
struct Call {
    started: Instant,
    ended: Instant,
    items: u64,
    capacity: Capacity,
}

/// Storage work done on behalf of one request.
#[derive(Debug, Default)]
pub struct Meter {
    calls: Mutex<Vec<Call>>,
}

impl Meter {
    fn calls(&self) -> Vec<Call> {
        self.calls.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Storage requests made.
    pub fn requests(&self) -> u64 {
        self.calls().len() as u64
    }

    /// Time spent waiting for storage: the sum of every request's duration.
    pub fn duration(&self) -> Duration {
        self.calls().iter().map(|c| c.ended - c.started).sum()
    }

    /// Items storage read (DynamoDB's `ScannedCount` for queries).
    pub fn items_read(&self) -> u64 {
        self.calls().iter().map(|c| c.items).sum()
    }

    /// The capacity units storage reported consumed, summed.
    pub fn capacity(&self) -> Capacity {
        self.calls()
            .iter()
            .fold(Capacity::default(), |a, c| Capacity {
                read: a.read + c.capacity.read,
                write: a.write + c.capacity.write,
            })
    }

    /// The most read capacity one request consumed: an eventually consistent read of up to
    /// `8 KiB × this` bytes (0.5 RCU per 4 KB block), for keeping requests under a page.
    pub fn largest_read(&self) -> f64 {
        self.calls()
            .iter()
            .map(|c| c.capacity.read)
            .fold(0.0, f64::max)
    }

    /// Sequential rounds: the longest chain of requests each of which started after the
    /// previous one ended. Requests that overlap in time count as one round, so this is
    /// what a client waits for when every request takes the same time.
    pub fn rounds(&self) -> u64 {
        let mut calls = self.calls();
        calls.sort_by_key(|c| c.ended);
        let mut depth: Vec<u64> = Vec::with_capacity(calls.len());
        for (i, c) in calls.iter().enumerate() {
            let before = calls[..i]
                .iter()
                .zip(&depth)
                .filter(|(p, _)| p.ended <= c.started)
                .map(|(_, d)| *d)
                .max()
                .unwrap_or(0);
            depth.push(before + 1);
        }
        depth.into_iter().max().unwrap_or(0)
    }
}

tokio::task_local! {
    static METER: Arc<Meter>;
}

/// Runs `fut` with `meter` collecting its storage work.
pub async fn scope<F: Future>(meter: Arc<Meter>, fut: F) -> F::Output {
    METER.scope(meter, fut).await
}

/// Records one storage request that started at `started`, read `items` items and consumed
/// `capacity`.
pub fn record(started: Instant, items: u64, capacity: Capacity) {
    let call = Call {
        started,
        ended: Instant::now(),
        items,
        capacity,
    };
    let _ = METER.try_with(|m| m.calls.lock().unwrap_or_else(|e| e.into_inner()).push(call));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(start_ms: u64, end_ms: u64, base: Instant) -> Call {
        Call {
            started: base + Duration::from_millis(start_ms),
            ended: base + Duration::from_millis(end_ms),
            items: 1,
            capacity: Capacity {
                read: 0.5,
                write: 0.0,
            },
        }
    }

    #[test]
    fn overlapping_requests_are_one_round_and_a_follow_up_is_another() {
        let base = Instant::now();
        let m = Meter::default();
        // Four in parallel, then one refill after the second one ended, and a request
        // running beside all of them.
        *m.calls.lock().unwrap() = vec![
            call(0, 4, base),
            call(0, 5, base),
            call(0, 6, base),
            call(0, 7, base),
            call(5, 9, base),
            call(0, 9, base),
        ];
        assert_eq!(m.rounds(), 2);
        assert_eq!(m.requests(), 6);
        assert_eq!(m.items_read(), 6);
        assert_eq!(m.capacity().read, 3.0);
        assert_eq!(Meter::default().rounds(), 0);
    }
}
