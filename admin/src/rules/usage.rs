//! Whether a verified usage report from the edge is taken, and what it writes.
//!
//! The signature is checked before this (by `tollgate_shared::usage::Report::verify`); here the
//! report's age is judged against the admin's clock, and its numbers are bounded so that no
//! sum can overflow the store. Whether its sequence number is new is the store's to say, in the
//! same transaction that writes it.

use tollgate_shared::ErrorCode;
use tollgate_shared::usage::Report;

use super::Refusal;
use crate::times::UnixTime;

/// A report sent further than this from the admin's clock, either way, is refused: older ones
/// may be replays of reports whose sequence number has been forgotten.
pub const WINDOW_SECONDS: u64 = 300;
/// Most requests one entry may count: far above what one isolate serves between two reports,
/// and small enough that no day's total overflows a 64-bit column.
pub const MAX_COUNT: u64 = 1 << 40;

/// One token's requests on one UTC day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DayCount {
    /// The token id, 32 hex digits.
    pub token_id: String,
    /// Days since 1970-01-01 (UTC).
    pub day: i64,
    /// Requests to add.
    pub requests: i64,
}

/// What a taken report writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Intake {
    /// The reporting isolate, 32 hex digits.
    pub reporter: String,
    /// Its sequence number: taken only if above the last one taken from it.
    pub sequence: i64,
    /// When it was sent.
    pub sent_at: UnixTime,
    /// Counts to add, one per token and day.
    pub days: Vec<DayCount>,
    /// The latest use of each token, never later than `now`, one per token.
    pub last_seen: Vec<(String, UnixTime)>,
}

/// Decides whether `report`, whose tag is already verified, is taken at `now`.
pub fn admit(report: &Report, now: UnixTime) -> Result<Intake, Refusal> {
    let sent_at = UnixTime::from_secs(i64::try_from(report.sent_at).unwrap_or(i64::MAX));
    if sent_at < now.minus(WINDOW_SECONDS) || sent_at > now.plus(WINDOW_SECONDS) {
        return Err(Refusal::new(
            ErrorCode::ReplayedBatch,
            format!(
                "the report was sent at {}, more than {WINDOW_SECONDS} seconds from the admin's clock ({}): \
                 a replay, or the clocks disagree",
                sent_at.rfc3339(),
                now.rfc3339()
            ),
        ));
    }
    let sequence = i64::try_from(report.sequence).map_err(|_| {
        Refusal::new(
            ErrorCode::InvalidBody,
            "the report's sequence number is out of range",
        )
    })?;
    if report.uses.iter().any(|u| u.count > MAX_COUNT) || counters(report).any(|c| c > MAX_COUNT) {
        return Err(Refusal::new(
            ErrorCode::InvalidBody,
            format!("a count in the report is above {MAX_COUNT}"),
        ));
    }
    let mut days = Vec::with_capacity(report.uses.len());
    let mut last_seen: Vec<(String, UnixTime)> = Vec::new();
    for u in &report.uses {
        let id = u.token_id.to_string();
        let seen = UnixTime::from_secs(i64::try_from(u.last_seen).unwrap_or(i64::MAX)).min(now);
        days.push(DayCount {
            token_id: id.clone(),
            day: seen.as_secs() / 86_400,
            requests: u.count as i64,
        });
        // Uses come ordered by token, so one token's days are adjacent.
        match last_seen.last_mut() {
            Some((last, at)) if *last == id => *at = (*at).max(seen),
            _ => last_seen.push((id, seen)),
        }
    }
    Ok(Intake {
        reporter: report.reporter.to_string(),
        sequence,
        sent_at,
        days,
        last_seen,
    })
}

fn counters(report: &Report) -> impl Iterator<Item = u64> + '_ {
    let c = &report.counters;
    [c.verified, c.rate_limited]
        .into_iter()
        .chain(c.refused.iter().map(|(_, n)| *n))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tollgate_shared::usage::{Counters, ReporterId, TokenUse};
    use tollgate_shared::{Kind, TokenId};

    const NOW: i64 = 1_800_000_000;

    fn report(sent_at: u64, uses: Vec<TokenUse>) -> Report {
        Report {
            reporter: ReporterId([3; 16]),
            sequence: 1,
            sent_at,
            uses,
            counters: Counters::default(),
        }
    }

    fn used(id: u8, count: u64, last_seen: u64) -> TokenUse {
        TokenUse {
            token_id: TokenId([id; 16]),
            kind: Kind::Personal,
            count,
            last_seen,
        }
    }

    #[test]
    fn reports_outside_the_window_are_refused() {
        let now = UnixTime::from_secs(NOW);
        let n = NOW as u64;
        for sent in [n - WINDOW_SECONDS - 1, n + WINDOW_SECONDS + 1, 0, u64::MAX] {
            let r = admit(&report(sent, vec![]), now).unwrap_err();
            assert_eq!(r.code, ErrorCode::ReplayedBatch, "{sent}");
        }
        for sent in [n - WINDOW_SECONDS, n, n + WINDOW_SECONDS] {
            assert!(admit(&report(sent, vec![]), now).is_ok(), "{sent}");
        }
    }

    #[test]
    fn days_last_uses_and_bounds() {
        let now = UnixTime::from_secs(NOW);
        let n = NOW as u64;
        let day = n / 86_400;
        let r = report(
            n,
            vec![
                used(1, 4, day * 86_400 - 10),
                used(1, 2, n - 5),
                used(2, 1, n + 100),
            ],
        );
        let intake = admit(&r, now).unwrap();
        assert_eq!(
            intake
                .days
                .iter()
                .map(|d| (d.day, d.requests))
                .collect::<Vec<_>>(),
            [(day as i64 - 1, 4), (day as i64, 2), (day as i64, 1)]
        );
        // A use after the admin's now (clock skew) counts as now.
        assert_eq!(
            intake.last_seen,
            [
                (TokenId([1; 16]).to_string(), UnixTime::from_secs(NOW - 5)),
                (TokenId([2; 16]).to_string(), now)
            ]
        );
        let too_many = report(n, vec![used(1, MAX_COUNT + 1, n)]);
        assert_eq!(
            admit(&too_many, now).unwrap_err().code,
            ErrorCode::InvalidBody
        );
        let mut late = report(n, vec![]);
        late.sequence = u64::MAX;
        assert_eq!(admit(&late, now).unwrap_err().code, ErrorCode::InvalidBody);
    }
}
