//! How a write that lost a race tries again: re-planned at once on the state the failed
//! condition returned, then after full-jitter exponential backoff (AWS Architecture Blog,
//! "Exponential Backoff And Jitter"), until a time budget is spent. The budget ends before
//! the request's deadline, so the caller answers 503 itself rather than being stopped.

use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;

/// The longest a write keeps retrying, when the deadline allows it.
pub const WRITE_BUDGET: Duration = Duration::from_secs(3);
/// The first backoff's ceiling; each later one doubles it, up to [`MAX_BACKOFF`].
const BASE_BACKOFF: Duration = Duration::from_millis(5);
/// The largest ceiling of one backoff.
const MAX_BACKOFF: Duration = Duration::from_millis(250);

tokio::task_local! {
    static DEADLINE: Option<Instant>;
}

/// Runs `fut` knowing that its request must have answered by `deadline`.
pub async fn with_deadline<F: Future>(deadline: Option<Instant>, fut: F) -> F::Output {
    DEADLINE.scope(deadline, fut).await
}

/// The current request's deadline, if it has one.
pub fn deadline() -> Option<Instant> {
    DEADLINE.try_with(|d| *d).ok().flatten()
}

/// The retries of one write.
#[derive(Debug)]
pub struct Backoff {
    until: Instant,
    losses: u32,
}

impl Backoff {
    /// Retries within [`WRITE_BUDGET`] from now, and never past the request's deadline.
    pub fn for_writes() -> Self {
        let budget_end = Instant::now() + WRITE_BUDGET;
        Self {
            until: deadline().map_or(budget_end, |d| d.min(budget_end)),
            losses: 0,
        }
    }

    /// After a lost race: waits a random time up to a ceiling that doubles with each loss
    /// (no wait after the first, whose retry works on the state the failure returned), and
    /// says whether to try again. `false`: the budget is spent, answer 503.
    pub async fn lost(&mut self) -> bool {
        self.losses += 1;
        let wait = if self.losses == 1 {
            Duration::ZERO
        } else {
            let ceiling = BASE_BACKOFF
                .saturating_mul(1 << (self.losses - 2).min(16))
                .min(MAX_BACKOFF);
            ceiling.mul_f64(fastrand::f64())
        };
        if Instant::now() + wait >= self.until {
            return false;
        }
        tokio::time::sleep(wait).await;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn retries_back_off_and_stop_at_the_budget() {
        let started = Instant::now();
        let mut b = Backoff::for_writes();
        let mut tries = 0;
        while b.lost().await {
            tries += 1;
        }
        let spent = started.elapsed();
        assert!(tries > 10, "{tries} retries in the budget");
        assert!(spent <= WRITE_BUDGET, "{spent:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn a_near_deadline_shortens_the_budget() {
        let deadline = Instant::now() + Duration::from_millis(100);
        let started = Instant::now();
        with_deadline(Some(deadline), async {
            let mut b = Backoff::for_writes();
            while b.lost().await {}
        })
        .await;
        assert!(started.elapsed() <= Duration::from_millis(100));
    }
}
