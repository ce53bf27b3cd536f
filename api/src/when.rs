//! The wire forms of time: an expiry as a date or an RFC 3339 timestamp, and durations as
//! people type them (`90m`, `12h`, `30d`). The server and the command line read them alike.

use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{Date, OffsetDateTime};

/// The text is neither a date nor an RFC 3339 timestamp.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("expected a date (YYYY-MM-DD) or an RFC 3339 timestamp")]
pub struct BadTime;

/// Parses `YYYY-MM-DD` (midnight UTC at the start of that day) or an RFC 3339 timestamp, into
/// seconds since the Unix epoch.
pub fn parse_time(text: &str) -> Result<i64, BadTime> {
    let text = text.trim();
    if let Ok(t) = OffsetDateTime::parse(text, &Rfc3339) {
        return Ok(t.unix_timestamp());
    }
    let date =
        Date::parse(text, format_description!("[year]-[month]-[day]")).map_err(|_| BadTime)?;
    Ok(date.midnight().assume_utc().unix_timestamp())
}

/// Parses a duration in seconds: a number with an optional unit `s`, `m`, `h`, `d` or `w`.
pub fn parse_duration(text: &str) -> Option<u64> {
    let text = text.trim();
    let (digits, unit) = match text.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => text.split_at(i),
        None => (text, ""),
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
    fn parses_rfc3339_in_any_offset() {
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
