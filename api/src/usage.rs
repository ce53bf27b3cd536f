//! Token use as the edge reports it: daily request counts for a range of days.

use serde::{Deserialize, Serialize};
use time::Date;
use time::macros::format_description;
use utoipa::ToSchema;

use crate::schema::{Timestamp, TokenId};

/// Julian day number of 1970-01-01.
const UNIX_EPOCH_JULIAN_DAY: i64 = 2_440_588;

/// One UTC day's requests through the edge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DayUsage {
    /// The day, `YYYY-MM-DD` (UTC).
    #[schema(format = Date)]
    pub date: String,
    /// Requests the edge let through with the token that day.
    pub requests: u64,
}

/// `GET /api/v1/tokens/{id}/usage`: every day of the range, days without use included.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TokenUsage {
    #[schema(value_type = TokenId)]
    pub token_id: String,
    /// First day of the range (UTC).
    #[schema(format = Date)]
    pub from: String,
    /// Last day of the range (UTC), included.
    #[schema(format = Date)]
    pub to: String,
    /// The latest use seen by the edge or the admin, whenever it was.
    #[schema(value_type = Option<Timestamp>)]
    pub last_used_at: Option<String>,
    /// Requests over the range.
    pub total: u64,
    /// One entry per day of the range, in order.
    pub days: Vec<DayUsage>,
}

/// `YYYY-MM-DD` for a day counted from 1970-01-01; `None` outside the calendar's range.
pub fn day_to_date(day: i64) -> Option<String> {
    let julian = i32::try_from(day.checked_add(UNIX_EPOCH_JULIAN_DAY)?).ok()?;
    let date = Date::from_julian_day(julian).ok()?;
    date.format(format_description!("[year]-[month]-[day]"))
        .ok()
}

/// The day (counted from 1970-01-01) of a `YYYY-MM-DD` date.
pub fn date_to_day(text: &str) -> Option<i64> {
    let date = Date::parse(text.trim(), format_description!("[year]-[month]-[day]")).ok()?;
    Some(i64::from(date.to_julian_day()) - UNIX_EPOCH_JULIAN_DAY)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_and_dates_round_trip() {
        assert_eq!(day_to_date(0).as_deref(), Some("1970-01-01"));
        assert_eq!(date_to_day("2026-12-03"), Some(1_796_256_000 / 86_400));
        for day in [-1, 0, 20_000, 36_500] {
            assert_eq!(date_to_day(&day_to_date(day).unwrap()), Some(day));
        }
        assert_eq!(date_to_day("2026-02-30"), None);
        assert_eq!(date_to_day("yesterday"), None);
        assert_eq!(day_to_date(i64::MAX), None);
    }
}
