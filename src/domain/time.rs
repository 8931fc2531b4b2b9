//! Timestamps owned by the service: UTC, millisecond precision, strictly increasing.

use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, SecondsFormat, TimeZone, Utc};

/// A service timestamp (`createdAt`, `updatedAt`, `deletedAt`), UTC to the millisecond.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(i64);

static LAST_MS: AtomicI64 = AtomicI64::new(0);

impl Timestamp {
    /// Now, strictly later than any timestamp this process handed out before, so two
    /// writes of one instance never share a millisecond in the change feed.
    pub fn now() -> Self {
        let wall = Utc::now().timestamp_millis();
        let prev = LAST_MS
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |last| {
                Some(wall.max(last + 1))
            })
            .unwrap_or(wall);
        Self(wall.max(prev + 1))
    }

    /// The timestamp from milliseconds since the epoch.
    pub fn from_millis(ms: i64) -> Self {
        Self(ms)
    }

    /// Milliseconds since the epoch.
    pub fn millis(self) -> i64 {
        self.0
    }

    /// The later of `self` and one millisecond after `floor`: keeps a user's
    /// `updatedAt` increasing even when instance clocks disagree.
    pub fn after(self, floor: Timestamp) -> Self {
        Self(self.0.max(floor.0 + 1))
    }

    /// Parses RFC 3339 (any offset) or a bare `YYYY-MM-DD` (midnight UTC).
    pub fn parse(s: &str) -> Option<Self> {
        if let Ok(t) = DateTime::parse_from_rfc3339(s) {
            return Some(Self(t.timestamp_millis()));
        }
        let d = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()?;
        Some(Self(d.and_hms_opt(0, 0, 0)?.and_utc().timestamp_millis()))
    }

    /// Whether the timestamp falls in the years 1970 to 9999, the range whose RFC 3339
    /// rendering is fixed width (so text order is time order).
    pub fn is_within_years_1970_to_9999(self) -> bool {
        const END_OF_9999: i64 = 253_402_300_799_999;
        (0..=END_OF_9999).contains(&self.0)
    }

    /// `2024-01-19T12:45:04.147Z`: fixed width, so text order is time order.
    pub fn to_rfc3339(self) -> String {
        Utc.timestamp_millis_opt(self.0)
            .single()
            .unwrap_or_default()
            .to_rfc3339_opts(SecondsFormat::Millis, true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn now_is_strictly_increasing() {
        let a = Timestamp::now();
        let b = Timestamp::now();
        assert!(b > a);
    }

    #[test]
    fn rendering_is_fixed_width_millisecond_utc() {
        let t = Timestamp::parse("2024-01-19T13:45:04.147+01:00").unwrap();
        assert_eq!(t.to_rfc3339(), "2024-01-19T12:45:04.147Z");
        assert_eq!(
            Timestamp::parse("2024-01-19").unwrap().to_rfc3339(),
            "2024-01-19T00:00:00.000Z"
        );
        assert!(Timestamp::parse("19/01/2024").is_none());
    }

    #[test]
    fn only_years_1970_to_9999_are_in_range() {
        let within = |s: &str| Timestamp::parse(s).unwrap().is_within_years_1970_to_9999();
        assert!(within("1970-01-01"));
        assert!(within("9999-12-31T23:59:59.999Z"));
        assert!(!within("1969-12-31T23:59:59.999Z"));
        assert!(
            !within("+10000-01-01"),
            "a five-digit year sorts before every other"
        );
    }
}
