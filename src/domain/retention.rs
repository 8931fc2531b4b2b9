//! How long a soft-deleted user is kept: `DELETED_RETENTION_DAYS` after its deletion it is
//! erased for good (on AWS by DynamoDB's time to live; both stores also apply the rule when
//! they read, since TTL removes an expired item only within days). The feed's horizon follows.

use std::sync::Arc;

use super::time::Timestamp;
use super::user::User;

/// A source of the current time: the system's, or a test's.
pub type Clock = Arc<dyn Fn() -> Timestamp + Send + Sync>;

/// The default retention of soft-deleted users, in days (as Entra ID keeps deleted users).
pub const DEFAULT_DAYS: u32 = 30;

const DAY_MS: i64 = 86_400_000;

/// The retention period and the clock it is measured by.
#[derive(Clone)]
pub struct Retention {
    days: u32,
    clock: Clock,
}

impl std::fmt::Debug for Retention {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Retention")
            .field("days", &self.days)
            .finish()
    }
}

impl Default for Retention {
    fn default() -> Self {
        Self::days(DEFAULT_DAYS)
    }
}

impl Retention {
    /// `days` of retention by the system clock.
    pub fn days(days: u32) -> Self {
        Self::with_clock(days, Arc::new(Timestamp::now))
    }

    /// `days` of retention by `clock` (tests move it forward).
    pub fn with_clock(days: u32, clock: Clock) -> Self {
        Self { days, clock }
    }

    /// The retention period in days.
    pub fn period_days(&self) -> u32 {
        self.days
    }

    /// The current time by this retention's clock.
    pub fn now(&self) -> Timestamp {
        (self.clock)()
    }

    /// Deletions before this instant are erased: now − the retention period.
    pub fn horizon(&self) -> Timestamp {
        Timestamp::from_millis(self.now().millis() - i64::from(self.days) * DAY_MS)
    }

    /// When a user deleted at `deleted_at` is erased for good.
    pub fn expiry(&self, deleted_at: Timestamp) -> Timestamp {
        Timestamp::from_millis(deleted_at.millis() + i64::from(self.days) * DAY_MS)
    }

    /// Whether `user` was deleted longer ago than the retention period: it is gone, as if
    /// it had never been (its time to live has passed).
    pub fn is_gone(&self, user: &User) -> bool {
        user.deleted_at
            .is_some_and(|d| self.expiry(d) <= self.now())
    }
}
