//! The revocation list held in the isolate, and when to refresh it.
//!
//! [`ListCache`] is a plain state machine: the worker asks it for a [`Plan`]
//! on each request, starts a fetch when told to ([`ListCache::start`] gives
//! the URL and `If-None-Match`), and hands back what the admin answered
//! ([`ListCache::finish`]). Times are Unix milliseconds.
//!
//! - A list is *confirmed* at the instant its fetch started, when the admin
//!   answered with a correctly signed document at or above the sequence held,
//!   or with 304, **and** a valid freshness statement ("sequence N is current
//!   as of T", [`tollgate_shared::freshness`]) for exactly that sequence,
//!   no older than the stale bound. Anything else (unreachable, an error
//!   status, garbage, a bad signature, a lower sequence, a missing, forged,
//!   mismatched or old statement) keeps the last confirmed list and is retried
//!   after the refresh period.
//! - Younger than the refresh period: used as is.
//! - Younger than the use bound ([`Timing::use_ms`], twice the refresh
//!   period): used, and one background refresh is started.
//! - Older (or no list): the request waits for a refresh before deciding; a
//!   request that finds one under way waits for that one ([`Plan::AwaitFetch`]),
//!   so a burst shares a single fetch.
//! - When that refresh fails, a list confirmed within the stale bound is still
//!   used (the admin is unreachable, not the token revoked); past the bound,
//!   the answer is 503: the edge fails closed.
//!
//! So a token revoked at the admin is refused everywhere within the use
//! bound of the revocation while the admin answers, and within the stale
//! bound when it does not.

use tollgate_shared::{Document, Freshness, FreshnessError, Keyring, ListError, RevocationList};

/// A fetch older than this is presumed lost (its request context ended) and may be replaced.
pub const IN_FLIGHT_LIMIT_MS: u64 = 4_000;

/// The refresh period, the use bound and the stale bound, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timing {
    /// Refresh a list older than this (in the background).
    pub refresh_ms: u64,
    /// Past this age a request waits for a refresh before deciding.
    pub use_ms: u64,
    /// Refuse to verify with a list not confirmed for longer than this.
    pub max_stale_ms: u64,
}

impl Timing {
    /// The timing for a refresh period and a stale bound: the use bound is twice the period.
    pub fn new(refresh_ms: u64, max_stale_ms: u64) -> Timing {
        Timing {
            refresh_ms,
            use_ms: refresh_ms.saturating_mul(2).min(max_stale_ms),
            max_stale_ms,
        }
    }
}

/// What a request should do about the list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plan {
    /// Verify against the list held.
    Use,
    /// Verify against the list held, and refresh it in the background.
    UseAndRefresh,
    /// The list is too old to decide on (or missing): fetch it, then decide.
    FetchFirst,
    /// Too old, and a fetch is under way: wait for it, then decide.
    AwaitFetch,
    /// No usable list, and the last fetch failed moments ago: answer 503.
    Unavailable,
}

/// The request to send to the admin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fetch {
    /// The revocations URL, with `?since=N` when a delta would do.
    pub url: String,
    /// The `If-None-Match` value, when a list is held.
    pub if_none_match: Option<String>,
    /// When the fetch started: what the list is confirmed as of if it succeeds.
    pub started_at: u64,
}

/// What the admin answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// 304 Not Modified, with the freshness statement header if any.
    NotModified {
        /// The `X-Tollgate-Freshness` header.
        freshness: Option<String>,
    },
    /// 200 with this body and headers.
    Document {
        /// The response body.
        body: Vec<u8>,
        /// The `ETag` header, if any.
        etag: Option<String>,
        /// The `X-Tollgate-Freshness` header.
        freshness: Option<String>,
    },
    /// Any other status.
    Status(u16),
    /// No answer: connection refused, timeout, body cut short. The reason is for logs.
    Unreachable(String),
}

/// Why an answer's freshness statement was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Unconfirmed {
    /// No statement came with the answer.
    #[error("the answer carries no freshness statement")]
    Missing,
    /// The statement is malformed or its signature is wrong.
    #[error("{0}")]
    Invalid(FreshnessError),
    /// The statement is for another sequence than the list.
    #[error("the freshness statement is for sequence {statement}, the list is at {list}")]
    Mismatch {
        /// The list's sequence.
        list: u64,
        /// The statement's.
        statement: u64,
    },
    /// The statement is older than the stale bound: a replay.
    #[error("the freshness statement is {age_s} s old")]
    TooOld {
        /// Its age, seconds.
        age_s: u64,
    },
}

/// What came of a fetch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// A newer list is now held.
    Updated {
        /// Its sequence number.
        sequence: u64,
    },
    /// The list held is current (304, or the same sequence).
    Current {
        /// Its sequence number.
        sequence: u64,
    },
    /// A delta that does not fit the list held: fetch the whole list again at once.
    NeedFull,
    /// The document was refused (bad signature, lower sequence, malformed); the last good list is kept.
    Rejected(ListError),
    /// The answer's freshness statement was refused; nothing changed.
    Unconfirmed(Unconfirmed),
    /// No usable answer; the last good list is kept.
    Failed(String),
}

impl Outcome {
    /// True if the list held is now confirmed current.
    pub fn is_good(&self) -> bool {
        matches!(self, Outcome::Updated { .. } | Outcome::Current { .. })
    }
}

/// What [`ListCache::finish`] checks answers against.
#[derive(Debug, Clone, Copy)]
pub struct Checks<'a> {
    /// Verifies documents and statements.
    pub keyring: &'a Keyring,
    /// Statements older than the stale bound are refused.
    pub timing: Timing,
    /// After an update, entries that expired before this (Unix seconds) are dropped.
    pub prune_before: u64,
}

/// The revocation list held in memory and its refresh bookkeeping.
#[derive(Debug, Clone, Default)]
pub struct ListCache {
    list: Option<RevocationList>,
    etag: Option<String>,
    good_at: Option<u64>,
    failed_at: Option<u64>,
    refreshing_since: Option<u64>,
    full_next: bool,
}

impl ListCache {
    /// An empty cache: the first request will fetch the list.
    pub fn new() -> Self {
        Self::default()
    }

    /// The list held, if any (fresh or not: use [`plan`](Self::plan) first).
    pub fn list(&self) -> Option<&RevocationList> {
        self.list.as_ref()
    }

    /// The list, if it was confirmed current within the stale bound at `now`.
    pub fn usable(&self, now: u64, timing: Timing) -> Option<&RevocationList> {
        let good_at = self.good_at?;
        self.list
            .as_ref()
            .filter(|_| now.saturating_sub(good_at) <= timing.max_stale_ms)
    }

    /// When the list was last confirmed current.
    pub fn good_at(&self) -> Option<u64> {
        self.good_at
    }

    /// True while a fetch started less than [`IN_FLIGHT_LIMIT_MS`] ago has not finished.
    pub fn refreshing(&self, now: u64) -> bool {
        self.refreshing_since
            .is_some_and(|t| now.saturating_sub(t) < IN_FLIGHT_LIMIT_MS)
    }

    fn retry_due(&self, now: u64, timing: Timing) -> bool {
        self.failed_at
            .is_none_or(|f| now.saturating_sub(f) >= timing.refresh_ms)
    }

    /// What a request at `now` should do.
    pub fn plan(&self, now: u64, timing: Timing) -> Plan {
        let age = match (&self.list, self.good_at) {
            (Some(_), Some(good_at)) => Some(now.saturating_sub(good_at)),
            _ => None,
        };
        match age {
            Some(age) if age < timing.refresh_ms => Plan::Use,
            Some(age) if age < timing.use_ms => {
                if !self.refreshing(now) && self.retry_due(now, timing) {
                    Plan::UseAndRefresh
                } else {
                    Plan::Use
                }
            }
            _ if self.refreshing(now) => Plan::AwaitFetch,
            _ if self.retry_due(now, timing) => Plan::FetchFirst,
            // The admin failed moments ago: decide with what is held, if still within the bound.
            _ if self.usable(now, timing).is_some() => Plan::Use,
            _ => Plan::Unavailable,
        }
    }

    /// Marks a fetch as started and says what to ask `revocations_url` for.
    pub fn start(&mut self, now: u64, revocations_url: &str) -> Fetch {
        self.refreshing_since = Some(now);
        match &self.list {
            Some(list) if !self.full_next => Fetch {
                url: format!("{revocations_url}?since={}", list.sequence),
                if_none_match: Some(
                    self.etag
                        .clone()
                        .unwrap_or_else(|| format!("\"{}\"", list.sequence)),
                ),
                started_at: now,
            },
            _ => Fetch {
                url: revocations_url.to_owned(),
                if_none_match: None,
                started_at: now,
            },
        }
    }

    /// Takes the admin's answer at `now` to the fetch `fetch` begun by [`start`](Self::start).
    ///
    /// Documents are checked against the keyring, never move the list
    /// backwards, and are applied only with a fresh statement for their
    /// sequence; so is a 304.
    pub fn finish(
        &mut self,
        now: u64,
        fetch: &Fetch,
        answer: Answer,
        checks: &Checks<'_>,
    ) -> Outcome {
        if self.refreshing_since == Some(fetch.started_at) {
            self.refreshing_since = None;
        }
        let (outcome, etag) = match answer {
            Answer::Unreachable(why) => (Outcome::Failed(why), None),
            Answer::Status(code) => (Outcome::Failed(format!("the admin answered {code}")), None),
            Answer::NotModified { freshness } => (self.confirm(now, freshness, checks), None),
            Answer::Document {
                body,
                etag,
                freshness,
            } => (self.take(now, &body, freshness, checks), etag),
        };
        if outcome.is_good() {
            // A slower, older fetch never moves the confirmation backwards.
            self.good_at = Some(
                self.good_at
                    .map_or(fetch.started_at, |g| g.max(fetch.started_at)),
            );
            self.failed_at = None;
            self.full_next = false;
            if let Some(list) = &mut self.list {
                if matches!(outcome, Outcome::Updated { .. }) {
                    list.prune(checks.prune_before);
                    self.etag = Some(etag.unwrap_or_else(|| format!("\"{}\"", list.sequence)));
                }
            }
        } else {
            self.failed_at = Some(now);
        }
        outcome
    }

    /// A 304: the list held is current if the statement says so.
    fn confirm(&self, now: u64, freshness: Option<String>, checks: &Checks<'_>) -> Outcome {
        let Some(list) = &self.list else {
            return Outcome::Failed("304 Not Modified while no list is held".into());
        };
        match statement(now, freshness.as_deref(), list.sequence, checks) {
            Ok(()) => Outcome::Current {
                sequence: list.sequence,
            },
            Err(why) => Outcome::Unconfirmed(why),
        }
    }

    fn take(
        &mut self,
        now: u64,
        body: &[u8],
        freshness: Option<String>,
        checks: &Checks<'_>,
    ) -> Outcome {
        let doc = match Document::decode(body, checks.keyring) {
            Ok(doc) => doc,
            Err(e) => return Outcome::Rejected(e),
        };
        let sequence = match &doc {
            Document::Full(l) => l.sequence,
            Document::Delta(d) => d.sequence,
        };
        if let Some(held) = &self.list {
            if sequence < held.sequence {
                return Outcome::Rejected(ListError::Stale {
                    have: held.sequence,
                    got: sequence,
                });
            }
        }
        if let Err(why) = statement(now, freshness.as_deref(), sequence, checks) {
            return Outcome::Unconfirmed(why);
        }
        match (&mut self.list, doc) {
            (None, Document::Full(list)) => {
                self.list = Some(list);
                Outcome::Updated { sequence }
            }
            (None, Document::Delta(_)) => {
                self.full_next = true;
                Outcome::NeedFull
            }
            (Some(held), doc) => match held.update(doc) {
                Ok(true) => Outcome::Updated { sequence },
                Ok(false) => Outcome::Current { sequence },
                Err(ListError::BaseMismatch { .. }) => {
                    self.full_next = true;
                    Outcome::NeedFull
                }
                Err(e) => Outcome::Rejected(e),
            },
        }
    }
}

/// Checks that `text` is a valid statement that `sequence` was current within the stale bound.
fn statement(
    now: u64,
    text: Option<&str>,
    sequence: u64,
    checks: &Checks<'_>,
) -> Result<(), Unconfirmed> {
    let text = text.ok_or(Unconfirmed::Missing)?;
    let f = Freshness::verify(text, checks.keyring).map_err(Unconfirmed::Invalid)?;
    if f.sequence != sequence {
        return Err(Unconfirmed::Mismatch {
            list: sequence,
            statement: f.sequence,
        });
    }
    let age_s = (now / 1000).saturating_sub(f.as_of);
    if age_s.saturating_mul(1000) > checks.timing.max_stale_ms {
        return Err(Unconfirmed::TooOld { age_s });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;
    use tollgate_shared::{Delta, Entry, TokenId};

    const URL: &str = "http://admin/api/v1/revocations";
    const T: Timing = Timing {
        refresh_ms: 1_000,
        use_ms: 2_000,
        max_stale_ms: 10_000,
    };

    fn ring() -> Keyring {
        Keyring::parse("k1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=").unwrap()
    }

    fn other_ring() -> Keyring {
        Keyring::parse("k1:ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=").unwrap()
    }

    fn list(sequence: u64, revoked: &[u8]) -> RevocationList {
        let mut l = RevocationList::new(sequence, 1);
        for b in revoked {
            l.insert(TokenId([*b; 16]), Entry::revoked(u64::MAX / 4));
        }
        l
    }

    /// A statement that `sequence` is current at `at_ms`, signed with `keyring`.
    fn fresh(sequence: u64, at_ms: u64, keyring: &Keyring) -> Option<String> {
        Some(
            Freshness {
                sequence,
                as_of: at_ms / 1000,
            }
            .sign(keyring),
        )
    }

    /// The admin's answer: `l`, with a statement made at `at_ms`.
    fn doc(l: &RevocationList, at_ms: u64) -> Answer {
        Answer::Document {
            body: l.encode(&ring()),
            etag: Some(format!("\"{}\"", l.sequence)),
            freshness: fresh(l.sequence, at_ms, &ring()),
        }
    }

    fn not_modified(sequence: u64, at_ms: u64) -> Answer {
        Answer::NotModified {
            freshness: fresh(sequence, at_ms, &ring()),
        }
    }

    /// Starts a fetch at `at` and finishes it at once with `answer`.
    fn fetch(c: &mut ListCache, at: u64, answer: Answer) -> Outcome {
        let f = c.start(at, URL);
        c.finish(at, &f, answer, &checks(0))
    }

    fn checks(prune_before: u64) -> Checks<'static> {
        static RING: std::sync::OnceLock<Keyring> = std::sync::OnceLock::new();
        Checks {
            keyring: RING.get_or_init(ring),
            timing: T,
            prune_before,
        }
    }

    fn loaded(sequence: u64, at: u64) -> ListCache {
        let mut c = ListCache::new();
        assert_eq!(
            fetch(&mut c, at, doc(&list(sequence, &[1]), at)),
            Outcome::Updated { sequence }
        );
        c
    }

    #[test]
    fn the_use_bound_is_twice_the_refresh_period() {
        assert_eq!(
            Timing::new(1_000, 300_000),
            Timing {
                refresh_ms: 1_000,
                use_ms: 2_000,
                max_stale_ms: 300_000
            }
        );
        assert_eq!(
            Timing::new(5_000, 6_000).use_ms,
            6_000,
            "never past the stale bound"
        );
    }

    #[test]
    fn first_request_fetches_the_whole_list() {
        let mut c = ListCache::new();
        assert_eq!(c.plan(0, T), Plan::FetchFirst);
        let f = c.start(0, URL);
        assert_eq!(
            f,
            Fetch {
                url: URL.into(),
                if_none_match: None,
                started_at: 0,
            }
        );
        assert_eq!(
            c.plan(1, T),
            Plan::AwaitFetch,
            "a second request waits for the same fetch"
        );
        assert_eq!(
            c.finish(5, &f, doc(&list(3, &[1]), 5), &checks(0)),
            Outcome::Updated { sequence: 3 }
        );
        assert_eq!(c.list().unwrap().sequence, 3);
        assert!(c.list().unwrap().get(&TokenId([1; 16])).is_some());
        assert_eq!(c.good_at(), Some(0), "confirmed as of the fetch's start");
    }

    #[test]
    fn ages_decide_use_background_refresh_or_wait() {
        let mut c = loaded(3, 1_000);
        assert_eq!(c.plan(1_999, T), Plan::Use);
        assert_eq!(c.plan(2_000, T), Plan::UseAndRefresh);
        assert_eq!(c.plan(2_999, T), Plan::UseAndRefresh);
        assert_eq!(
            c.plan(3_000, T),
            Plan::FetchFirst,
            "past the use bound: wait for a fresh list"
        );
        let f = c.start(2_000, URL);
        assert_eq!(f.url, format!("{URL}?since=3"));
        assert_eq!(f.if_none_match.as_deref(), Some("\"3\""));
        assert_eq!(
            c.plan(2_100, T),
            Plan::Use,
            "one background refresh at a time"
        );
        assert_eq!(
            c.plan(3_100, T),
            Plan::AwaitFetch,
            "past the bound, requests join the fetch under way"
        );
        assert_eq!(
            c.finish(3_200, &f, not_modified(3, 3_200), &checks(0)),
            Outcome::Current { sequence: 3 }
        );
        assert_eq!(c.good_at(), Some(2_000));
        assert_eq!(c.plan(3_300, T), Plan::UseAndRefresh);
    }

    #[test]
    fn a_lost_fetch_is_replaced() {
        let mut c = loaded(3, 0);
        c.start(1_000, URL);
        assert_eq!(c.plan(1_000 + IN_FLIGHT_LIMIT_MS - 1, T), Plan::AwaitFetch);
        assert_eq!(c.plan(1_000 + IN_FLIGHT_LIMIT_MS, T), Plan::FetchFirst);
    }

    #[test]
    fn a_slow_old_fetch_does_not_move_the_confirmation_back() {
        let mut c = loaded(3, 0);
        let old = c.start(1_000, URL);
        let new = c.start(1_000 + IN_FLIGHT_LIMIT_MS, URL);
        assert!(
            c.finish(5_100, &new, not_modified(3, 5_100), &checks(0))
                .is_good()
        );
        assert!(
            c.finish(5_200, &old, not_modified(3, 5_200), &checks(0))
                .is_good()
        );
        assert_eq!(c.good_at(), Some(5_000));
    }

    #[test]
    fn deltas_apply_and_newer_full_lists_replace() {
        let mut c = loaded(3, 0);
        let old = c.list().unwrap().clone();
        let mut new = old.clone();
        new.sequence = 4;
        new.insert(TokenId([2; 16]), Entry::revoked(u64::MAX / 4));
        let delta = Delta::between(&old, &new);
        let answer = Answer::Document {
            body: delta.encode(&ring()),
            etag: Some("\"4\"".into()),
            freshness: fresh(4, 1_000, &ring()),
        };
        assert_eq!(
            fetch(&mut c, 1_000, answer),
            Outcome::Updated { sequence: 4 }
        );
        assert!(c.list().unwrap().get(&TokenId([2; 16])).is_some());
        assert_eq!(c.start(2_000, URL).if_none_match.as_deref(), Some("\"4\""));
        assert_eq!(
            fetch(&mut c, 2_000, doc(&list(9, &[5]), 2_000)),
            Outcome::Updated { sequence: 9 }
        );
        assert!(c.list().unwrap().get(&TokenId([2; 16])).is_none());
        assert!(c.list().unwrap().get(&TokenId([5; 16])).is_some());
    }

    #[test]
    fn same_sequence_confirms_the_list() {
        let mut c = loaded(3, 0);
        assert_eq!(
            fetch(&mut c, 2_000, doc(&list(3, &[]), 2_000)),
            Outcome::Current { sequence: 3 }
        );
        assert!(
            c.list().unwrap().get(&TokenId([1; 16])).is_some(),
            "an equal sequence is not re-applied"
        );
        assert_eq!(c.good_at(), Some(2_000));
    }

    #[test]
    fn bad_signature_is_never_applied() {
        let mut c = loaded(3, 0);
        let forged = Answer::Document {
            body: list(7, &[]).encode(&other_ring()),
            etag: None,
            freshness: fresh(7, 2_000, &other_ring()),
        };
        assert_eq!(
            fetch(&mut c, 2_000, forged),
            Outcome::Rejected(ListError::BadSignature)
        );
        assert_eq!(c.list().unwrap().sequence, 3);
        assert_eq!(
            c.good_at(),
            Some(0),
            "a refused document does not count as fresh"
        );
        let mut tampered = list(7, &[]).encode(&ring());
        if let Some(b) = tampered.get_mut(20) {
            *b ^= 1;
        }
        let answer = Answer::Document {
            body: tampered,
            etag: None,
            freshness: fresh(7, 3_000, &ring()),
        };
        assert!(matches!(fetch(&mut c, 3_000, answer), Outcome::Rejected(_)));
        assert_eq!(c.list().unwrap().sequence, 3);
    }

    #[test]
    fn lower_sequence_is_never_applied() {
        let mut c = loaded(5, 0);
        assert_eq!(
            fetch(&mut c, 2_000, doc(&list(4, &[]), 2_000)),
            Outcome::Rejected(ListError::Stale { have: 5, got: 4 })
        );
        assert_eq!(c.list().unwrap().sequence, 5);
        assert!(c.list().unwrap().get(&TokenId([1; 16])).is_some());
    }

    #[test]
    fn a_304_needs_a_fresh_statement_for_the_list_held() {
        let mut c = loaded(3, 0);
        let cases = [
            (
                Answer::NotModified { freshness: None },
                Unconfirmed::Missing,
            ),
            (
                Answer::NotModified {
                    freshness: fresh(3, 2_000, &other_ring()),
                },
                Unconfirmed::Invalid(FreshnessError::BadSignature),
            ),
            (
                Answer::NotModified {
                    freshness: Some("bm9wZQ".into()),
                },
                Unconfirmed::Invalid(FreshnessError::Malformed),
            ),
            (
                not_modified(2, 2_000),
                Unconfirmed::Mismatch {
                    list: 3,
                    statement: 2,
                },
            ),
            (
                not_modified(4, 2_000),
                Unconfirmed::Mismatch {
                    list: 3,
                    statement: 4,
                },
            ),
        ];
        for (answer, why) in cases {
            assert_eq!(fetch(&mut c, 2_000, answer), Outcome::Unconfirmed(why));
            assert_eq!(c.good_at(), Some(0));
        }
        // A statement replayed from longer ago than the stale bound.
        assert_eq!(
            fetch(&mut c, 20_000, not_modified(3, 9_000)),
            Outcome::Unconfirmed(Unconfirmed::TooOld { age_s: 11 })
        );
        assert_eq!(c.good_at(), Some(0));
    }

    #[test]
    fn an_unsigned_304_forever_fails_closed() {
        let mut c = loaded(3, 0);
        let mut now = 0;
        while now <= T.max_stale_ms + T.refresh_ms {
            now += T.refresh_ms;
            if matches!(c.plan(now, T), Plan::FetchFirst | Plan::UseAndRefresh) {
                fetch(&mut c, now, Answer::NotModified { freshness: None });
            }
        }
        assert!(c.usable(now, T).is_none());
        assert_eq!(c.plan(now, T), Plan::Unavailable);
    }

    #[test]
    fn a_replayed_old_list_is_refused_by_a_fresh_isolate() {
        let old = list(2, &[]);
        let recorded = doc(&old, 0);
        let mut c = ListCache::new();
        assert_eq!(
            fetch(&mut c, 60_000, recorded),
            Outcome::Unconfirmed(Unconfirmed::TooOld { age_s: 60 })
        );
        assert!(c.list().is_none());
        // A statement for a newer sequence does not confirm an older document either.
        let mixed = Answer::Document {
            body: old.encode(&ring()),
            etag: None,
            freshness: fresh(3, 60_000, &ring()),
        };
        assert_eq!(
            fetch(&mut c, 61_000, mixed),
            Outcome::Unconfirmed(Unconfirmed::Mismatch {
                list: 2,
                statement: 3
            })
        );
        assert!(c.list().is_none());
    }

    #[test]
    fn garbage_and_errors_keep_the_last_good_list() {
        let mut c = loaded(3, 0);
        for answer in [
            Answer::Document {
                body: b"<html>oops</html>".to_vec(),
                etag: None,
                freshness: None,
            },
            Answer::Status(500),
            Answer::Unreachable("connection refused".into()),
        ] {
            assert!(!fetch(&mut c, 1_500, answer).is_good());
            assert_eq!(c.list().unwrap().sequence, 3);
        }
        assert_eq!(
            c.plan(2_000, T),
            Plan::Use,
            "retries wait a refresh period after a failure"
        );
        assert_eq!(
            c.plan(2_500, T),
            Plan::FetchFirst,
            "retry due, past the use bound"
        );
    }

    #[test]
    fn when_the_admin_fails_the_held_list_serves_until_the_stale_bound() {
        let mut c = loaded(3, 0);
        assert_eq!(c.plan(5_000, T), Plan::FetchFirst);
        assert!(!fetch(&mut c, 5_000, Answer::Unreachable("down".into())).is_good());
        assert_eq!(c.plan(5_500, T), Plan::Use, "the admin failed moments ago");
        assert!(c.usable(5_500, T).is_some());
        assert_eq!(
            c.plan(6_000, T),
            Plan::FetchFirst,
            "tries again after a refresh period"
        );
        assert!(!fetch(&mut c, 9_800, Answer::Status(502)).is_good());
        assert!(c.usable(10_000, T).is_some());
        assert!(c.usable(10_001, T).is_none());
        assert_eq!(
            c.plan(10_500, T),
            Plan::Unavailable,
            "past the stale bound: 503"
        );
        assert_eq!(c.plan(10_800, T), Plan::FetchFirst);
        assert_eq!(
            fetch(&mut c, 10_800, not_modified(3, 10_800)),
            Outcome::Current { sequence: 3 }
        );
        assert_eq!(
            c.plan(10_900, T),
            Plan::Use,
            "a good answer revives the list"
        );
    }

    #[test]
    fn no_list_and_failing_admin_is_unavailable() {
        let mut c = ListCache::new();
        assert!(!fetch(&mut c, 0, not_modified(1, 0)).is_good());
        assert_eq!(c.plan(10, T), Plan::Unavailable);
        assert!(c.list().is_none() && c.usable(10, T).is_none());
        let answer = Answer::Document {
            body: list(2, &[]).encode(&other_ring()),
            etag: None,
            freshness: fresh(2, 1_000, &other_ring()),
        };
        assert!(!fetch(&mut c, 1_000, answer).is_good());
        assert!(c.list().is_none());
    }

    #[test]
    fn delta_that_does_not_fit_asks_for_the_whole_list() {
        let mut c = loaded(3, 0);
        let delta = Delta {
            base_sequence: 1,
            sequence: 4,
            ..Default::default()
        };
        let answer = Answer::Document {
            body: delta.encode(&ring()),
            etag: None,
            freshness: fresh(4, 2_000, &ring()),
        };
        assert_eq!(fetch(&mut c, 2_000, answer), Outcome::NeedFull);
        assert_eq!(c.list().unwrap().sequence, 3);
        let f = c.start(2_000, URL);
        assert_eq!((f.url.as_str(), f.if_none_match.as_deref()), (URL, None));
        assert_eq!(
            c.finish(2_001, &f, doc(&list(4, &[]), 2_001), &checks(0)),
            Outcome::Updated { sequence: 4 }
        );
        assert!(c.start(3_000, URL).url.ends_with("?since=4"));
    }

    #[test]
    fn expired_entries_are_pruned_after_an_update() {
        let mut c = ListCache::new();
        let mut l = RevocationList::new(1, 1);
        l.insert(TokenId([1; 16]), Entry::revoked(100));
        l.insert(TokenId([2; 16]), Entry::revoked(300));
        let f = c.start(0, URL);
        assert!(c.finish(0, &f, doc(&l, 0), &checks(200)).is_good());
        assert!(c.list().unwrap().get(&TokenId([1; 16])).is_none());
        assert!(c.list().unwrap().get(&TokenId([2; 16])).is_some());
    }
}
