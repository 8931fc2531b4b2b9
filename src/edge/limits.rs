//! Per-key rate limiting within one function instance (GCRA, via `governor`).
//!
//! Each key gets a bucket of `burst` requests refilled at `rps` per second. Lambda runs many
//! instances, so this bounds one instance's work per key; the HTTP API stage throttling in
//! `template.yaml` is the limit across all of them.

use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::middleware::StateInformationMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};

type Limiter =
    RateLimiter<String, DefaultKeyedStateStore<String>, DefaultClock, StateInformationMiddleware>;

/// What the `X-RateLimit-*` headers say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Allowance {
    /// `X-RateLimit-Limit`: the bucket's size (the burst).
    pub limit: u32,
    /// `X-RateLimit-Remaining`: requests left in the bucket now.
    pub remaining: u32,
    /// `X-RateLimit-Reset`: seconds until the bucket is full again.
    pub reset_secs: u64,
    /// With a refusal: seconds until the next request is allowed (`Retry-After`).
    pub retry_after: Option<u64>,
}

/// The per-key limiter.
pub struct RateLimits {
    limiter: Limiter,
    limit: u32,
    refill: Duration,
}

impl RateLimits {
    /// `rps` requests per second per key, with bursts of up to `burst`.
    pub fn per_second(rps: u32, burst: u32) -> Self {
        let rps = NonZeroU32::new(rps.max(1)).expect("at least 1");
        Self::with_quota(Quota::per_second(rps), burst)
    }

    /// One request per `period` per key, with bursts of up to `burst` (tests use long periods).
    pub fn per_period(period: Duration, burst: u32) -> Self {
        Self::with_quota(
            Quota::with_period(period).expect("a non-zero period"),
            burst,
        )
    }

    fn with_quota(quota: Quota, burst: u32) -> Self {
        let burst = NonZeroU32::new(burst.max(1)).expect("at least 1");
        let quota = quota.allow_burst(burst);
        Self {
            limiter: RateLimiter::keyed(quota).with_middleware::<StateInformationMiddleware>(),
            limit: burst.get(),
            refill: quota.replenish_interval(),
        }
    }

    /// Takes one request from `key`'s bucket.
    pub fn check(&self, key: &str) -> Allowance {
        let key = key.to_owned();
        let full_in = |remaining: u32| {
            (self.refill * (self.limit - remaining.min(self.limit)))
                .as_secs_f64()
                .ceil() as u64
        };
        match self.limiter.check_key(&key) {
            Ok(state) => {
                let remaining = state.remaining_burst_capacity();
                Allowance {
                    limit: self.limit,
                    remaining,
                    reset_secs: full_in(remaining),
                    retry_after: None,
                }
            }
            Err(not_until) => {
                let wait = not_until.wait_time_from(DefaultClock::default().now());
                Allowance {
                    limit: self.limit,
                    remaining: 0,
                    reset_secs: full_in(0),
                    retry_after: Some(wait.as_secs_f64().ceil().max(1.0) as u64),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_empties_then_refuses_with_a_retry_time() {
        let limits = RateLimits::per_period(Duration::from_secs(60), 2);
        let a = limits.check("k");
        assert_eq!((a.limit, a.remaining, a.retry_after), (2, 1, None));
        assert_eq!(limits.check("k").remaining, 0);
        let refused = limits.check("k");
        assert!(refused.retry_after.is_some_and(|s| (1..=60).contains(&s)));
        assert_eq!(
            limits.check("other").remaining,
            1,
            "keys have their own buckets"
        );
    }
}
