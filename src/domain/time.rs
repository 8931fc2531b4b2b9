//! Timestamps owned by the service: UTC, millisecond precision, strictly increasing.

use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, SecondsFormat, TimeZone, Utc};

/// A service timestamp (`createdAt`, `updatedAt`, `deletedAt`), UTC to the millisecond.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(i64);

static LAST_MS: AtomicI64 = AtomicI64::new(0);

/// `0000-01-01T00:00:00.000Z` in milliseconds since the epoch.
const START_OF_0000: i64 = -62_167_219_200_000;
/// `9999-12-31T23:59:59.999Z` in milliseconds since the epoch.
const END_OF_9999: i64 = 253_402_300_799_999;

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

    /// Parses RFC 3339 (any offset) or a bare `YYYY-MM-DD` (midnight UTC), whose instant in
    /// UTC falls in the years 0000 to 9999: what [`Timestamp::to_rfc3339`] can render.
    pub fn parse(s: &str) -> Option<Self> {
        Self::parse_rfc3339(s).or_else(|| Self::parse_date(s))
    }

    /// Parses an RFC 3339 date-time (any offset) whose instant in UTC falls in the years
    /// 0000 to 9999. `9999-12-31T23:59:59-00:01` is in year 10000 in UTC, so it is refused:
    /// its rendering would not be RFC 3339, and a stored value must read back.
    pub fn parse_rfc3339(s: &str) -> Option<Self> {
        let t = DateTime::parse_from_rfc3339(s).ok()?;
        Self::in_range(t.timestamp_millis())
    }

    /// Parses exactly `YYYY-MM-DD` (four-digit year, two-digit month and day), as midnight UTC.
    fn parse_date(s: &str) -> Option<Self> {
        let b = s.as_bytes();
        let shaped = b.len() == 10
            && b.iter().enumerate().all(|(i, c)| match i {
                4 | 7 => *c == b'-',
                _ => c.is_ascii_digit(),
            });
        if !shaped {
            return None;
        }
        let d = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()?;
        Self::in_range(d.and_hms_opt(0, 0, 0)?.and_utc().timestamp_millis())
    }

    fn in_range(ms: i64) -> Option<Self> {
        (START_OF_0000..=END_OF_9999)
            .contains(&ms)
            .then_some(Self(ms))
    }

    /// Whether the timestamp falls in the years 1970 to 9999, the range whose RFC 3339
    /// rendering is fixed width (so text order is time order).
    pub fn is_within_years_1970_to_9999(self) -> bool {
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
    }

    #[test]
    fn instants_outside_years_0000_to_9999_in_utc_are_refused() {
        for bad in [
            "9999-12-31T23:59:59-00:01",
            "0000-01-01T00:00:00+00:01",
            "+10000-01-01",
            "+10000-01-01T00:00:00Z",
            "-0001-12-31T23:59:59Z",
        ] {
            assert_eq!(Timestamp::parse(bad), None, "{bad}");
        }
        let first = Timestamp::parse("0000-01-01T00:00:00Z").unwrap();
        assert_eq!(first.to_rfc3339(), "0000-01-01T00:00:00.000Z");
        assert_eq!(
            Timestamp::parse("9999-12-31T23:59:59.999+00:00")
                .unwrap()
                .to_rfc3339(),
            "9999-12-31T23:59:59.999Z"
        );
    }

    #[test]
    fn a_date_is_exactly_four_two_two_digits() {
        for lenient in [
            "2024-1-1",
            "+002024-01-01",
            "2024-01-1",
            "02024-01-01",
            " 2024-01-01",
        ] {
            assert_eq!(Timestamp::parse(lenient), None, "{lenient}");
        }
        assert!(Timestamp::parse("2024-01-01").is_some());
    }

    /// An RFC 3339 spelling of year `y` (0000–9999) at the given offset in minutes.
    fn spelling(y: i32, mo: u32, d: u32, secs: u32, ms: u32, offset_min: i32) -> String {
        let sign = if offset_min < 0 { '-' } else { '+' };
        let o = offset_min.unsigned_abs();
        format!(
            "{y:04}-{mo:02}-{d:02}T{:02}:{:02}:{:02}.{ms:03}{sign}{:02}:{:02}",
            secs / 3600,
            secs / 60 % 60,
            secs % 60,
            o / 60,
            o % 60
        )
    }

    proptest::proptest! {
        /// Whatever the year and offset: accepted exactly when the UTC instant is in years
        /// 0000–9999, and what is accepted renders as fixed-width RFC 3339 that parses back to
        /// the same instant.
        #[test]
        fn accepted_instants_render_and_read_back(
            y in proptest::prop_oneof![0i32..=2, 1i32..=9999, 9997i32..=9999],
            mo in 1u32..=12,
            d in 1u32..=28,
            secs in proptest::prop_oneof![0u32..86_400, 0u32..120, 86_280u32..86_400],
            ms in 0u32..1000,
            offset_min in -(23 * 60 + 59)..=(23 * 60 + 59),
        ) {
            let text = spelling(y, mo, d, secs, ms, offset_min);
            let utc = DateTime::parse_from_rfc3339(&text).unwrap().timestamp_millis();
            let in_range = (START_OF_0000..=END_OF_9999).contains(&utc);
            match Timestamp::parse(&text) {
                Some(t) => {
                    proptest::prop_assert!(in_range, "{text} accepted");
                    let shown = t.to_rfc3339();
                    proptest::prop_assert_eq!(shown.len(), 24, "{}", shown);
                    proptest::prop_assert_eq!(Timestamp::parse(&shown), Some(t));
                }
                None => proptest::prop_assert!(!in_range, "{text} refused"),
            }
        }
    }
}
