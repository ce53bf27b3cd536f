//! The revocation list held in the isolate, and when to refresh it.
//!
//! [`ListCache`] is a plain state machine: the worker asks it for a [`Plan`]
//! on each request, starts a fetch when told to ([`ListCache::start`] gives
//! the URL and `If-None-Match`), and hands back what the admin answered
//! ([`ListCache::finish`]). Times are Unix milliseconds.
//!
//! - A list younger than the refresh period is used as is.
//! - An older one is still used, and one background refresh is started.
//! - A list is *good* when the admin answered with a correctly signed document
//!   at or above the sequence held, or with 304. Anything else (unreachable,
//!   an error status, garbage, a bad signature, a lower sequence) keeps the
//!   last good list and is retried after the refresh period.
//! - With no list at all, or none good within the stale bound, a request
//!   fetches the list itself before answering; if that fails (or failed less
//!   than a refresh period ago) the answer is 503: the edge fails closed.

use tollgate_shared::{Document, Keyring, ListError, RevocationList};

/// A background fetch older than this is presumed lost (its isolate context ended) and may be replaced.
pub const IN_FLIGHT_LIMIT_MS: u64 = 10_000;

/// The refresh period and the stale bound, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timing {
    /// Refresh a list older than this.
    pub refresh_ms: u64,
    /// Refuse to verify with a list not confirmed for longer than this.
    pub max_stale_ms: u64,
}

/// What a request should do about the list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plan {
    /// Verify against the list held.
    Use,
    /// Verify against the list held, and refresh it in the background.
    UseAndRefresh,
    /// No usable list: fetch it before answering.
    FetchFirst,
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
}

/// What the admin answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// 304 Not Modified.
    NotModified,
    /// 200 with this body and `ETag` header.
    Document {
        /// The response body.
        body: Vec<u8>,
        /// The `ETag` header, if any.
        etag: Option<String>,
    },
    /// Any other status.
    Status(u16),
    /// No answer: connection refused, timeout, body cut short. The reason is for logs.
    Unreachable(String),
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
    /// No usable answer; the last good list is kept.
    Failed(String),
}

impl Outcome {
    /// True if the list held is now confirmed current.
    pub fn is_good(&self) -> bool {
        matches!(self, Outcome::Updated { .. } | Outcome::Current { .. })
    }
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
        let age = self.good_at.map(|g| now.saturating_sub(g));
        match age {
            Some(age) if self.list.is_some() && age <= timing.max_stale_ms => {
                if age >= timing.refresh_ms && !self.refreshing(now) && self.retry_due(now, timing)
                {
                    Plan::UseAndRefresh
                } else {
                    Plan::Use
                }
            }
            _ if self.retry_due(now, timing) => Plan::FetchFirst,
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
            },
            _ => Fetch {
                url: revocations_url.to_owned(),
                if_none_match: None,
            },
        }
    }

    /// Takes the admin's answer to the fetch begun by [`start`](Self::start).
    ///
    /// Documents are checked against `keyring` and never move the list
    /// backwards. After an update, entries that expired before
    /// `prune_before` (Unix seconds) are dropped.
    pub fn finish(
        &mut self,
        now: u64,
        answer: Answer,
        keyring: &Keyring,
        prune_before: u64,
    ) -> Outcome {
        self.refreshing_since = None;
        let (outcome, etag) = match answer {
            Answer::Unreachable(why) => (Outcome::Failed(why), None),
            Answer::Status(code) => (Outcome::Failed(format!("the admin answered {code}")), None),
            Answer::NotModified => match &self.list {
                Some(list) => (
                    Outcome::Current {
                        sequence: list.sequence,
                    },
                    None,
                ),
                None => (
                    Outcome::Failed("304 Not Modified while no list is held".into()),
                    None,
                ),
            },
            Answer::Document { body, etag } => (self.take(&body, keyring), etag),
        };
        if outcome.is_good() {
            self.good_at = Some(now);
            self.failed_at = None;
            self.full_next = false;
            if let Some(list) = &mut self.list {
                if matches!(outcome, Outcome::Updated { .. }) {
                    list.prune(prune_before);
                    self.etag = Some(etag.unwrap_or_else(|| format!("\"{}\"", list.sequence)));
                }
            }
        } else {
            self.failed_at = Some(now);
        }
        outcome
    }

    fn take(&mut self, body: &[u8], keyring: &Keyring) -> Outcome {
        let doc = match Document::decode(body, keyring) {
            Ok(doc) => doc,
            Err(e) => return Outcome::Rejected(e),
        };
        match (&mut self.list, doc) {
            (None, Document::Full(list)) => {
                let sequence = list.sequence;
                self.list = Some(list);
                Outcome::Updated { sequence }
            }
            (None, Document::Delta(_)) => {
                self.full_next = true;
                Outcome::NeedFull
            }
            (Some(held), doc) => match held.update(doc) {
                Ok(true) => Outcome::Updated {
                    sequence: held.sequence,
                },
                Ok(false) => Outcome::Current {
                    sequence: held.sequence,
                },
                Err(ListError::BaseMismatch { .. }) => {
                    self.full_next = true;
                    Outcome::NeedFull
                }
                Err(e) => Outcome::Rejected(e),
            },
        }
    }
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

    fn doc(l: &RevocationList, keyring: &Keyring) -> Answer {
        Answer::Document {
            body: l.encode(keyring),
            etag: Some(format!("\"{}\"", l.sequence)),
        }
    }

    fn loaded(sequence: u64, at: u64) -> ListCache {
        let mut c = ListCache::new();
        c.start(at, URL);
        assert_eq!(
            c.finish(at, doc(&list(sequence, &[1]), &ring()), &ring(), 0),
            Outcome::Updated { sequence }
        );
        c
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
                if_none_match: None
            }
        );
        assert_eq!(
            c.finish(5, doc(&list(3, &[1]), &ring()), &ring(), 0),
            Outcome::Updated { sequence: 3 }
        );
        assert_eq!(c.list().unwrap().sequence, 3);
        assert!(c.list().unwrap().get(&TokenId([1; 16])).is_some());
        assert_eq!(c.good_at(), Some(5));
    }

    #[test]
    fn fresh_list_is_used_then_refreshed_in_the_background() {
        let mut c = loaded(3, 1_000);
        assert_eq!(c.plan(1_500, T), Plan::Use);
        assert_eq!(c.plan(2_000, T), Plan::UseAndRefresh);
        let f = c.start(2_000, URL);
        assert_eq!(f.url, format!("{URL}?since=3"));
        assert_eq!(f.if_none_match.as_deref(), Some("\"3\""));
        assert_eq!(
            c.plan(2_100, T),
            Plan::Use,
            "one background refresh at a time"
        );
        assert_eq!(
            c.finish(2_200, Answer::NotModified, &ring(), 0),
            Outcome::Current { sequence: 3 }
        );
        assert_eq!(c.plan(2_300, T), Plan::Use);
        assert_eq!(c.plan(3_200, T), Plan::UseAndRefresh);
    }

    #[test]
    fn a_lost_background_fetch_is_replaced() {
        let mut c = loaded(3, 0);
        c.start(1_000, URL);
        let long = Timing {
            refresh_ms: 1_000,
            max_stale_ms: 60_000,
        };
        assert_eq!(c.plan(1_000 + IN_FLIGHT_LIMIT_MS - 1, long), Plan::Use);
        assert_eq!(
            c.plan(1_000 + IN_FLIGHT_LIMIT_MS, long),
            Plan::UseAndRefresh
        );
    }

    #[test]
    fn deltas_apply_and_newer_full_lists_replace() {
        let mut c = loaded(3, 0);
        let old = c.list().unwrap().clone();
        let mut new = old.clone();
        new.sequence = 4;
        new.insert(TokenId([2; 16]), Entry::revoked(u64::MAX / 4));
        let delta = Delta::between(&old, &new);
        c.start(1_000, URL);
        let answer = Answer::Document {
            body: delta.encode(&ring()),
            etag: Some("\"4\"".into()),
        };
        assert_eq!(
            c.finish(1_000, answer, &ring(), 0),
            Outcome::Updated { sequence: 4 }
        );
        assert!(c.list().unwrap().get(&TokenId([2; 16])).is_some());
        assert_eq!(c.start(2_000, URL).if_none_match.as_deref(), Some("\"4\""));
        assert_eq!(
            c.finish(2_000, doc(&list(9, &[5]), &ring()), &ring(), 0),
            Outcome::Updated { sequence: 9 }
        );
        assert!(c.list().unwrap().get(&TokenId([2; 16])).is_none());
        assert!(c.list().unwrap().get(&TokenId([5; 16])).is_some());
    }

    #[test]
    fn same_sequence_confirms_the_list() {
        let mut c = loaded(3, 0);
        c.start(2_000, URL);
        assert_eq!(
            c.finish(2_000, doc(&list(3, &[]), &ring()), &ring(), 0),
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
        c.start(2_000, URL);
        let forged = doc(&list(7, &[]), &other_ring());
        assert_eq!(
            c.finish(2_000, forged, &ring(), 0),
            Outcome::Rejected(ListError::BadSignature)
        );
        assert_eq!(c.list().unwrap().sequence, 3);
        assert!(c.list().unwrap().get(&TokenId([1; 16])).is_some());
        assert_eq!(
            c.good_at(),
            Some(0),
            "a refused document does not count as fresh"
        );
        let mut tampered = list(7, &[]).encode(&ring());
        if let Some(b) = tampered.get_mut(20) {
            *b ^= 1;
        }
        c.start(3_000, URL);
        let answer = Answer::Document {
            body: tampered,
            etag: None,
        };
        assert!(matches!(
            c.finish(3_000, answer, &ring(), 0),
            Outcome::Rejected(_)
        ));
        assert_eq!(c.list().unwrap().sequence, 3);
    }

    #[test]
    fn lower_sequence_is_never_applied() {
        let mut c = loaded(5, 0);
        c.start(2_000, URL);
        let older = doc(&list(4, &[]), &ring());
        assert_eq!(
            c.finish(2_000, older, &ring(), 0),
            Outcome::Rejected(ListError::Stale { have: 5, got: 4 })
        );
        assert_eq!(c.list().unwrap().sequence, 5);
        assert!(c.list().unwrap().get(&TokenId([1; 16])).is_some());
    }

    #[test]
    fn garbage_and_errors_keep_the_last_good_list() {
        let mut c = loaded(3, 0);
        for answer in [
            Answer::Document {
                body: b"<html>oops</html>".to_vec(),
                etag: None,
            },
            Answer::Status(500),
            Answer::Unreachable("connection refused".into()),
        ] {
            c.start(2_000, URL);
            assert!(!c.finish(2_000, answer, &ring(), 0).is_good());
            assert_eq!(c.list().unwrap().sequence, 3);
        }
        assert_eq!(
            c.plan(2_500, T),
            Plan::Use,
            "retries wait a refresh period after a failure"
        );
        assert_eq!(c.plan(3_000, T), Plan::UseAndRefresh);
    }

    #[test]
    fn past_the_stale_bound_the_edge_fails_closed() {
        let mut c = loaded(3, 0);
        assert_eq!(c.plan(10_000, T), Plan::UseAndRefresh);
        assert!(c.usable(10_000, T).is_some());
        assert_eq!(
            c.plan(10_001, T),
            Plan::FetchFirst,
            "too old: fetch before answering"
        );
        assert!(c.usable(10_001, T).is_none());
        c.start(10_001, URL);
        assert!(
            !c.finish(10_002, Answer::Unreachable("down".into()), &ring(), 0)
                .is_good()
        );
        assert_eq!(c.plan(10_500, T), Plan::Unavailable);
        assert_eq!(
            c.plan(11_002, T),
            Plan::FetchFirst,
            "tries again after a refresh period"
        );
        c.start(11_002, URL);
        assert_eq!(
            c.finish(11_003, Answer::NotModified, &ring(), 0),
            Outcome::Current { sequence: 3 }
        );
        assert_eq!(
            c.plan(11_004, T),
            Plan::Use,
            "a good answer revives the list"
        );
        assert!(c.usable(11_004, T).is_some());
    }

    #[test]
    fn no_list_and_failing_admin_is_unavailable() {
        let mut c = ListCache::new();
        c.start(0, URL);
        assert!(!c.finish(0, Answer::NotModified, &ring(), 0).is_good());
        assert_eq!(c.plan(10, T), Plan::Unavailable);
        assert!(c.list().is_none() && c.usable(10, T).is_none());
        c.start(1_000, URL);
        let answer = Answer::Document {
            body: list(2, &[]).encode(&other_ring()),
            etag: None,
        };
        assert!(!c.finish(1_000, answer, &ring(), 0).is_good());
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
        c.start(2_000, URL);
        let answer = Answer::Document {
            body: delta.encode(&ring()),
            etag: None,
        };
        assert_eq!(c.finish(2_000, answer, &ring(), 0), Outcome::NeedFull);
        assert_eq!(c.list().unwrap().sequence, 3);
        let f = c.start(2_000, URL);
        assert_eq!(
            f,
            Fetch {
                url: URL.into(),
                if_none_match: None
            }
        );
        assert_eq!(
            c.finish(2_001, doc(&list(4, &[]), &ring()), &ring(), 0),
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
        c.start(0, URL);
        assert!(c.finish(0, doc(&l, &ring()), &ring(), 200).is_good());
        assert!(c.list().unwrap().get(&TokenId([1; 16])).is_none());
        assert!(c.list().unwrap().get(&TokenId([2; 16])).is_some());
    }
}
