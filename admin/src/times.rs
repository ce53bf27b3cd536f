//! Time: [`UnixTime`] (the clock, RFC 3339 rendering and parsing) and parsing of durations as
//! people type them.

use std::time::{SystemTime, UNIX_EPOCH};

use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{Date, OffsetDateTime};

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
        let text = text.trim();
        if let Ok(t) = OffsetDateTime::parse(text, &Rfc3339) {
            return Ok(UnixTime(t.unix_timestamp()));
        }
        let date =
            Date::parse(text, format_description!("[year]-[month]-[day]")).map_err(|_| BadTime)?;
        Ok(UnixTime(date.midnight().assume_utc().unix_timestamp()))
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

/// The text is neither a date nor an RFC 3339 timestamp.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("expected a date (YYYY-MM-DD) or an RFC 3339 timestamp")]
pub struct BadTime;

/// Parses `YYYY-MM-DD` (midnight UTC at the start of that day) or an RFC 3339 timestamp, into
/// Unix seconds.
pub fn parse_time(s: &str) -> Result<i64, BadTime> {
    UnixTime::parse(s).map(UnixTime::as_secs)
}

/// Parses a duration in seconds: a number with an optional unit `s`, `m`, `h`, `d` or `w`.
pub fn parse_duration(s: &str) -> Option<u64> {
    let s = s.trim();
    let (digits, unit) = match s.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => s.split_at(i),
        None => (s, ""),
    };
    let n: u64 = digits.parse().ok()?;
    let scale = match unit.trim() {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 604_800,
        _ => return None,
    };
    n.checked_mul(scale)
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

    #[test]
    fn parses_dates_as_midnight_utc() {
        assert_eq!(parse_time("2027-01-15"), Ok(1_800_000_000 - 8 * 3600));
        assert_eq!(parse_time("2027-13-01"), Err(BadTime));
        assert_eq!(parse_time("tomorrow"), Err(BadTime));
        assert_eq!(parse_time(""), Err(BadTime));
    }

    #[test]
    fn parses_durations() {
        assert_eq!(parse_duration("90"), Some(90));
        assert_eq!(parse_duration("30d"), Some(30 * 86_400));
        assert_eq!(parse_duration("12h"), Some(12 * 3600));
        assert_eq!(parse_duration("2w"), Some(2 * 604_800));
        assert_eq!(parse_duration("5 m"), Some(300));
        assert_eq!(parse_duration("3y"), None);
        assert_eq!(parse_duration("d"), None);
        assert_eq!(parse_duration("99999999999999999999"), None);
    }
}
