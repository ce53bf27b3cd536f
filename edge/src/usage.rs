//! What an isolate tells the admin about token use, and when.
//!
//! [`Tally`] is a plain state machine, like [`crate::refresh::ListCache`]: each request adds
//! to it ([`Tally::used`], [`Tally::refused`], [`Tally::rate_limited`]) and then asks
//! [`Tally::plan`] whether a report should be scheduled. The worker schedules it in the
//! background (`ctx.wait_until`), waits out the delay, takes the report ([`Tally::take`]),
//! sends it and calls [`Tally::finish`]. Nothing of this is on the request path: a report that
//! fails is dropped with its counts (the requests were answered long before).
//!
//! Reports go at most once per interval; one is under way at a time (one presumed lost after
//! [`LOST_AFTER_MS`] may be replaced). Counts are kept per token and UTC day, so a day's count
//! is exact however the reports fall; "last used" reaches the admin within the interval plus
//! the time to deliver it.

use std::collections::BTreeMap;

use tollgate_shared::usage::{Counters, MAX_USES, Reason, Report, ReporterId, TokenUse};
use tollgate_shared::{ErrorCode, Kind, TokenId};

/// A scheduled report not finished this long after its delay is presumed lost.
pub const LOST_AFTER_MS: u64 = 30_000;
/// Most token-days an isolate holds between reports; uses of further tokens are not counted
/// until a report makes room.
pub const MAX_PENDING: usize = 16 * MAX_USES;

#[derive(Debug, Clone, Copy)]
struct Pending {
    kind: Kind,
    count: u64,
    last_seen: u64,
}

/// What the worker should do about reporting after a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plan {
    /// Nothing to report, or a report is already scheduled.
    Wait,
    /// Schedule a report after this many milliseconds.
    ReportIn(u64),
}

/// One isolate's counts since its last report.
#[derive(Debug)]
pub struct Tally {
    reporter: ReporterId,
    sequence: u64,
    uses: BTreeMap<([u8; 16], u64), Pending>,
    verified: u64,
    rate_limited: u64,
    refused: Vec<(ErrorCode, u64)>,
    /// When the last report was taken (ms).
    last_taken_ms: Option<u64>,
    /// When the scheduled report is due (ms), while one is scheduled or under way.
    scheduled_for: Option<u64>,
    /// Uses not counted because [`MAX_PENDING`] was reached.
    dropped: u64,
}

impl Tally {
    /// An empty tally for the isolate `reporter`.
    pub fn new(reporter: ReporterId) -> Tally {
        Tally {
            reporter,
            sequence: 0,
            uses: BTreeMap::new(),
            verified: 0,
            rate_limited: 0,
            refused: Vec::new(),
            last_taken_ms: None,
            scheduled_for: None,
            dropped: 0,
        }
    }

    /// Counts a request the token `id` was verified and let through for (its roles held and it
    /// was within its limit), at `now_s` (Unix seconds).
    pub fn used(&mut self, id: TokenId, kind: Kind, now_s: u64) {
        self.verified += 1;
        let key = (id.0, now_s / tollgate_shared::usage::SECONDS_PER_DAY);
        if let Some(p) = self.uses.get_mut(&key) {
            p.count += 1;
            p.last_seen = p.last_seen.max(now_s);
        } else if self.uses.len() < MAX_PENDING {
            self.uses.insert(
                key,
                Pending {
                    kind,
                    count: 1,
                    last_seen: now_s,
                },
            );
        } else {
            self.dropped += 1;
        }
    }

    /// Counts a request refused with `code` (a rate limit is counted by [`Tally::rate_limited`]).
    pub fn refused(&mut self, code: ErrorCode) {
        match self.refused.iter_mut().find(|(c, _)| *c == code) {
            Some((_, n)) => *n += 1,
            None => self.refused.push((code, 1)),
        }
    }

    /// Counts a request refused for being over a limit.
    pub fn rate_limited(&mut self) {
        self.rate_limited += 1;
        self.refused(ErrorCode::RateLimited);
    }

    fn is_empty(&self) -> bool {
        self.uses.is_empty()
            && self.verified == 0
            && self.rate_limited == 0
            && self.refused.is_empty()
    }

    /// Whether to schedule a report now, given the interval between reports.
    pub fn plan(&mut self, now_ms: u64, interval_ms: u64) -> Plan {
        if self.is_empty() {
            return Plan::Wait;
        }
        if let Some(due) = self.scheduled_for {
            if now_ms < due.saturating_add(LOST_AFTER_MS) {
                return Plan::Wait;
            }
        }
        let due = self
            .last_taken_ms
            .map_or(now_ms, |t| t.saturating_add(interval_ms))
            .max(now_ms);
        self.scheduled_for = Some(due);
        Plan::ReportIn(due - now_ms)
    }

    /// Takes the report to send at `now_ms` (`now_s` on the edge's clock): every count held, up
    /// to [`MAX_USES`] token-days (the rest go in the next report). `None` if there is nothing.
    pub fn take(&mut self, now_ms: u64, now_s: u64) -> Option<Report> {
        if self.is_empty() {
            self.scheduled_for = None;
            return None;
        }
        self.last_taken_ms = Some(now_ms);
        self.sequence += 1;
        let keys: Vec<([u8; 16], u64)> = self.uses.keys().take(MAX_USES).copied().collect();
        let uses = keys
            .into_iter()
            .filter_map(|key| {
                self.uses.remove(&key).map(|p| TokenUse {
                    token_id: TokenId(key.0),
                    kind: p.kind,
                    count: p.count,
                    last_seen: p.last_seen,
                })
            })
            .collect();
        let refused = std::mem::take(&mut self.refused)
            .into_iter()
            .map(|(code, n)| (Reason::Code(code), n))
            .collect();
        Some(Report {
            reporter: self.reporter,
            sequence: self.sequence,
            sent_at: now_s,
            uses,
            counters: Counters {
                verified: std::mem::take(&mut self.verified),
                refused,
                rate_limited: std::mem::take(&mut self.rate_limited),
            },
        })
    }

    /// The report taken last is done (sent or lost); another may be scheduled.
    pub fn finish(&mut self) {
        self.scheduled_for = None;
    }

    /// Uses not counted since the isolate started because the tally was full.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;
    use tollgate_shared::Keyring;

    const DAY: u64 = 20_000 * 86_400;

    fn tally() -> Tally {
        Tally::new(ReporterId([5; 16]))
    }

    #[test]
    fn uses_are_counted_per_token_and_day_and_sent_in_order() {
        let mut t = tally();
        t.used(TokenId([2; 16]), Kind::Service, DAY + 5);
        t.used(TokenId([1; 16]), Kind::Personal, DAY - 1);
        t.used(TokenId([1; 16]), Kind::Personal, DAY + 7);
        t.used(TokenId([1; 16]), Kind::Personal, DAY + 3);
        t.refused(ErrorCode::Revoked);
        t.refused(ErrorCode::Revoked);
        t.rate_limited();
        let r = t.take(1_000, DAY + 10).unwrap();
        assert_eq!(r.sequence, 1);
        let got: Vec<_> = r
            .uses
            .iter()
            .map(|u| (u.token_id.0[0], u.count, u.last_seen))
            .collect();
        assert_eq!(got, [(1, 1, DAY - 1), (1, 2, DAY + 7), (2, 1, DAY + 5)]);
        assert_eq!(r.counters.verified, 4);
        assert_eq!(r.counters.rate_limited, 1);
        assert_eq!(
            r.counters.refused,
            [
                (Reason::Code(ErrorCode::Revoked), 2),
                (Reason::Code(ErrorCode::RateLimited), 1)
            ]
        );
        // What the tally takes is a report the admin reads back.
        let k = Keyring::parse("k1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=").unwrap();
        assert_eq!(Report::verify(&r.sign(&k), &k), Ok(r));
        assert_eq!(t.take(2_000, DAY + 11), None);
    }

    #[test]
    fn one_report_per_interval_and_one_at_a_time() {
        let mut t = tally();
        assert_eq!(t.plan(0, 5_000), Plan::Wait);
        t.used(TokenId([1; 16]), Kind::Personal, DAY);
        assert_eq!(t.plan(0, 5_000), Plan::ReportIn(0));
        t.used(TokenId([1; 16]), Kind::Personal, DAY);
        assert_eq!(t.plan(100, 5_000), Plan::Wait);
        let first = t.take(100, DAY).unwrap();
        t.used(TokenId([1; 16]), Kind::Personal, DAY + 1);
        assert_eq!(t.plan(200, 5_000), Plan::Wait);
        t.finish();
        // The next report waits out the interval from the last one taken.
        assert_eq!(t.plan(200, 5_000), Plan::ReportIn(4_900));
        let second = t.take(5_100, DAY + 5).unwrap();
        assert_eq!((first.sequence, second.sequence), (1, 2));
        assert_eq!(first.uses[0].count, 2);
        assert_eq!(second.uses[0].count, 1);
    }

    #[test]
    fn a_lost_report_is_replaced_and_a_full_tally_counts_what_it_drops() {
        let mut t = tally();
        t.used(TokenId([1; 16]), Kind::Personal, DAY);
        assert_eq!(t.plan(0, 5_000), Plan::ReportIn(0));
        assert_eq!(t.plan(LOST_AFTER_MS - 1, 5_000), Plan::Wait);
        assert_eq!(t.plan(LOST_AFTER_MS, 5_000), Plan::ReportIn(0));

        let mut full = tally();
        for i in 0..=MAX_PENDING as u128 {
            full.used(TokenId(i.to_be_bytes()), Kind::Service, DAY);
        }
        assert_eq!(full.dropped(), 1);
        let r = full.take(0, DAY).unwrap();
        assert_eq!(r.uses.len(), MAX_USES);
        assert_eq!(r.counters.verified, MAX_PENDING as u64 + 1);
        // The rest stays for the next reports.
        assert_eq!(full.take(1, DAY).unwrap().uses.len(), MAX_USES);
    }
}
