//! Time: [`UnixTime`] (the clock, RFC 3339 rendering and parsing). The wire forms (dates,
//! timestamps, durations as people type them) are [`tollgate_api::when`]'s.

use std::time::{SystemTime, UNIX_EPOCH};

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use tollgate_api::when;

/// An instant, in whole seconds since the Unix epoch (UTC). Arithmetic saturates instead of
/// overflowing; the store reads and writes it as a 64-bit integer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, sqlx::Type)]
#[sqlx(transparent)]
pub struct UnixTime(i64);

impl UnixTime {
    /// 1970-01-01T00:00:00Z.
    pub const EPOCH: UnixTime = UnixTime(0);
    /// The latest representable instant.
    pub const MAX: UnixTime = UnixTime(i64::MAX);

    /// The instant `secs` seconds after the epoch (before it if negative).
    pub const fn from_secs(secs: i64) -> UnixTime {
        UnixTime(secs)
    }

    /// Seconds since the epoch.
    pub const fn as_secs(self) -> i64 {
        self.0
    }

    /// Seconds since the epoch, 0 for an instant before it (the form tokens and lists carry).
    pub const fn as_unsigned(self) -> u64 {
        if self.0 < 0 { 0 } else { self.0 as u64 }
    }

    /// The current time, to the second (the epoch if the clock is set before it).
    pub fn now() -> UnixTime {
        let secs = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
            .unwrap_or(0);
        UnixTime(secs)
    }

    /// `seconds` later, or [`UnixTime::MAX`].
    pub fn plus(self, seconds: u64) -> UnixTime {
        let secs = i64::try_from(seconds).unwrap_or(i64::MAX);
        UnixTime(self.0.saturating_add(secs))
    }

    /// `seconds` earlier, or the earliest representable instant.
    pub fn minus(self, seconds: u64) -> UnixTime {
        let secs = i64::try_from(seconds).unwrap_or(i64::MAX);
        UnixTime(self.0.saturating_sub(secs))
    }

    /// Seconds from `earlier` to `self` (negative if `earlier` is later), saturating.
    pub fn seconds_since(self, earlier: UnixTime) -> i64 {
        self.0.saturating_sub(earlier.0)
    }

    /// RFC 3339 in UTC (`2026-11-23T23:00:00Z`); the number of seconds if out of range.
    pub fn rfc3339(self) -> String {
        OffsetDateTime::from_unix_timestamp(self.0)
            .ok()
            .and_then(|d| d.format(&Rfc3339).ok())
            .unwrap_or_else(|| self.0.to_string())
    }

    /// Parses `YYYY-MM-DD` (midnight UTC at the start of that day) or an RFC 3339 timestamp.
    pub fn parse(text: &str) -> Result<UnixTime, BadTime> {
        when::parse_time(text).map(UnixTime)
    }
}

impl std::fmt::Display for UnixTime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.rfc3339())
    }
}

/// The current time in Unix seconds.
pub fn now() -> i64 {
    UnixTime::now().as_secs()
}

/// Renders Unix seconds as RFC 3339 in UTC (`2026-11-23T23:00:00Z`).
pub fn rfc3339(t: i64) -> String {
    UnixTime(t).rfc3339()
}

pub use when::{BadTime, parse_duration};

/// Parses `YYYY-MM-DD` (midnight UTC at the start of that day) or an RFC 3339 timestamp, into
/// Unix seconds.
pub fn parse_time(s: &str) -> Result<i64, BadTime> {
    UnixTime::parse(s).map(UnixTime::as_secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arithmetic_saturates_instead_of_overflowing() {
        let t = UnixTime::from_secs(1_800_000_000);
        assert_eq!(t.plus(60).as_secs(), 1_800_000_060);
        assert_eq!(t.minus(60).as_secs(), 1_799_999_940);
        assert_eq!(t.plus(u64::MAX), UnixTime::MAX);
        assert_eq!(UnixTime::MAX.plus(1), UnixTime::MAX);
        assert_eq!(UnixTime::from_secs(i64::MIN).minus(1).as_secs(), i64::MIN);
        assert_eq!(t.minus(u64::MAX).as_secs(), i64::MIN + 1_800_000_001);
        assert_eq!(t.plus(5).seconds_since(t), 5);
        assert_eq!(
            UnixTime::MAX.seconds_since(UnixTime::from_secs(-1)),
            i64::MAX
        );
        assert!(t < t.plus(1) && t.minus(1) < t);
        assert_eq!(UnixTime::from_secs(-5).as_unsigned(), 0);
        assert!(UnixTime::now() > UnixTime::from_secs(1_700_000_000));
    }

    #[test]
    fn renders_out_of_range_times_as_seconds() {
        assert_eq!(UnixTime::MAX.rfc3339(), i64::MAX.to_string());
        assert_eq!(UnixTime::EPOCH.to_string(), "1970-01-01T00:00:00Z");
        assert_eq!(
            UnixTime::parse("2027-01-15T08:00:00Z"),
            Ok(UnixTime::from_secs(1_800_000_000))
        );
    }

    #[test]
    fn renders_and_parses_rfc3339() {
        assert_eq!(rfc3339(1_800_000_000), "2027-01-15T08:00:00Z");
        assert_eq!(parse_time("2027-01-15T08:00:00Z"), Ok(1_800_000_000));
        assert_eq!(parse_time("2027-01-15T09:00:00+01:00"), Ok(1_800_000_000));
    }
}
