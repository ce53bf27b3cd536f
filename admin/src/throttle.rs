//! Password-guessing protection for `POST /api/v1/login`.
//!
//! Every attempt is counted **before** its password is checked, under one lock
//! ([`LoginThrottle::begin`]), so a burst of concurrent guesses can never all be checked against
//! the same count. Attempts are counted per username, known or not (a refusal says nothing about
//! which names exist), keyed by the name's first 64 characters lower-cased (no longer name can
//! exist, and memory stays bounded), and per source address, so one client spraying names is
//! stopped before it locks many accounts out. Past `attempts` in one window for a name, or
//! `source_attempts` for a source, logins are answered 429 with `Retry-After` until the window
//! (which starts at the first attempt) is over, without checking the password; one audit row is
//! written per held-off window, not per attempt. At most [`MAX_IN_FLIGHT`] password checks run
//! at once per name. A successful login clears the name's count and does not count for its source.
//!
//! Counts live in this process: a fleet of N replicas allows up to N times the attempts.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::Mutex;

/// Most names (and, separately, sources) tracked at once; past it, expired windows are
/// dropped, then the oldest.
const MAX_TRACKED: usize = 100_000;
/// Password checks allowed in flight at once for one name.
pub const MAX_IN_FLIGHT: u32 = 2;
/// The part of a name the throttle keys on, in characters.
const KEY_CHARS: usize = 64;

/// Attempts in one window, for a name or a source.
#[derive(Clone, Copy)]
struct Counter {
    count: u32,
    since: i64,
    in_flight: u32,
    /// The refusal of this window has been audited.
    audited: bool,
}

#[derive(Default)]
struct Counts {
    names: HashMap<String, Counter>,
    sources: HashMap<IpAddr, Counter>,
}

/// Attempt counts per name and per source.
pub struct LoginThrottle {
    attempts: u32,
    source_attempts: u32,
    window: i64,
    counts: Mutex<Counts>,
}

/// A login attempt counted by [`LoginThrottle::begin`]; hand it back to [`LoginThrottle::finish`].
#[derive(Debug)]
#[must_use = "finish the attempt, or its name stays busy"]
pub struct Attempt {
    key: String,
    source: Option<IpAddr>,
}

/// Why a login is not even checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeldOff {
    /// Seconds until the window ends.
    pub retry_after: u64,
    /// True for the first refusal of this window: audit it (later ones are not).
    pub audit: bool,
    /// Not a limit reached: [`MAX_IN_FLIGHT`] checks for the name are running; retry shortly.
    pub busy: bool,
}

fn key(username: &str) -> String {
    username
        .chars()
        .take(KEY_CHARS)
        .collect::<String>()
        .to_lowercase()
}

/// The counter for `key` at `now`, a fresh one if its window is over; makes room first.
fn counter<K: Hash + Eq + Clone>(
    map: &mut HashMap<K, Counter>,
    key: &K,
    now: i64,
    window: i64,
) -> Counter {
    if !map.contains_key(key) && map.len() >= MAX_TRACKED {
        map.retain(|_, c| now < c.since.saturating_add(window) || c.in_flight > 0);
        if map.len() >= MAX_TRACKED {
            if let Some(oldest) = map
                .iter()
                .min_by_key(|(_, c)| c.since)
                .map(|(k, _)| k.clone())
            {
                map.remove(&oldest);
            }
        }
    }
    let fresh = Counter {
        count: 0,
        since: now,
        in_flight: 0,
        audited: false,
    };
    match map.get(key) {
        Some(c) if now < c.since.saturating_add(window) => *c,
        Some(c) => Counter {
            in_flight: c.in_flight,
            ..fresh
        },
        None => fresh,
    }
}

impl LoginThrottle {
    /// Allows `attempts` per name and `source_attempts` per source in each `window_seconds`.
    pub fn new(attempts: u32, source_attempts: u32, window_seconds: u64) -> Self {
        LoginThrottle {
            attempts,
            source_attempts,
            window: i64::try_from(window_seconds).unwrap_or(i64::MAX),
            counts: Mutex::new(Counts::default()),
        }
    }

    /// Counts an attempt for `username` from `source` at `now`, or says why it is held off.
    pub fn begin(
        &self,
        username: &str,
        source: Option<IpAddr>,
        now: i64,
    ) -> Result<Attempt, HeldOff> {
        let mut counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        let key = key(username);
        let mut name = counter(&mut counts.names, &key, now, self.window);
        let mut from = source.map(|s| (s, counter(&mut counts.sources, &s, now, self.window)));
        let retry = |c: &Counter| {
            u64::try_from(c.since.saturating_add(self.window) - now)
                .unwrap_or(1)
                .max(1)
        };
        let refusal = if name.count >= self.attempts {
            let held = HeldOff {
                retry_after: retry(&name),
                audit: !name.audited,
                busy: false,
            };
            name.audited = true;
            Some(held)
        } else if let Some((_, c)) = from
            .as_mut()
            .filter(|(_, c)| c.count >= self.source_attempts)
        {
            let held = HeldOff {
                retry_after: retry(c),
                audit: !c.audited,
                busy: false,
            };
            c.audited = true;
            Some(held)
        } else if name.in_flight >= MAX_IN_FLIGHT {
            Some(HeldOff {
                retry_after: 1,
                audit: false,
                busy: true,
            })
        } else {
            name.count += 1;
            name.in_flight += 1;
            if let Some((_, c)) = from.as_mut() {
                c.count += 1;
            }
            None
        };
        counts.names.insert(key.clone(), name);
        if let Some((s, c)) = from {
            counts.sources.insert(s, c);
        }
        match refusal {
            Some(held) => Err(held),
            None => Ok(Attempt { key, source }),
        }
    }

    /// Ends an attempt: a success clears the name's count and takes the attempt off its source.
    pub fn finish(&self, attempt: Attempt, succeeded: bool) {
        let mut counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(c) = counts.names.get_mut(&attempt.key) {
            c.in_flight = c.in_flight.saturating_sub(1);
            if succeeded {
                c.count = 0;
                c.audited = false;
            }
        }
        if succeeded {
            if let Some(c) = attempt.source.and_then(|s| counts.sources.get_mut(&s)) {
                c.count = c.count.saturating_sub(1);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOME: Option<IpAddr> = Some(IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 1)));

    fn fail(t: &LoginThrottle, name: &str, now: i64) {
        let a = t.begin(name, HOME, now).unwrap();
        t.finish(a, false);
    }

    #[test]
    fn holds_off_after_the_allowed_attempts_until_the_window_ends() {
        let t = LoginThrottle::new(3, 1000, 60);
        for i in 0..3 {
            fail(&t, "alice", 1000 + i);
        }
        assert_eq!(
            t.begin("alice", HOME, 1002).unwrap_err(),
            HeldOff {
                retry_after: 58,
                audit: true,
                busy: false
            }
        );
        assert_eq!(
            t.begin("ALICE", HOME, 1059).unwrap_err(),
            HeldOff {
                retry_after: 1,
                audit: false,
                busy: false
            },
            "names are matched without case, and one audit row per window"
        );
        assert!(
            t.begin("bob", HOME, 1002).is_ok(),
            "other names are not affected"
        );
        fail(&t, "alice", 1060);
        assert!(t.begin("alice", HOME, 1061).is_ok(), "a new window starts");
    }

    #[test]
    fn attempts_count_before_the_password_is_checked() {
        let t = LoginThrottle::new(10, 1000, 60);
        // A burst: every attempt begins before any finishes.
        let mut started = Vec::new();
        let mut held = 0;
        for _ in 0..40 {
            match t.begin("alice", HOME, 0) {
                Ok(a) => {
                    started.push(a);
                    // Two checks at most run at once; each finishes before the next begins.
                    if started.len() == MAX_IN_FLIGHT as usize {
                        for a in started.drain(..) {
                            t.finish(a, false);
                        }
                    }
                }
                Err(_) => held += 1,
            }
        }
        assert_eq!(held, 30, "only the allowed 10 reached a password check");
    }

    #[test]
    fn password_checks_in_flight_are_bounded_per_name() {
        let t = LoginThrottle::new(100, 1000, 60);
        let a = t.begin("alice", HOME, 0).unwrap();
        let b = t.begin("alice", HOME, 0).unwrap();
        assert_eq!(
            t.begin("alice", HOME, 0).unwrap_err(),
            HeldOff {
                retry_after: 1,
                audit: false,
                busy: true
            }
        );
        t.finish(a, false);
        assert!(t.begin("alice", HOME, 0).is_ok());
        t.finish(b, true);
    }

    #[test]
    fn success_clears_the_name() {
        let t = LoginThrottle::new(2, 1000, 60);
        fail(&t, "alice", 0);
        let a = t.begin("alice", HOME, 1).unwrap();
        t.finish(a, true);
        fail(&t, "alice", 2);
        assert!(t.begin("alice", HOME, 3).is_ok());
    }

    #[test]
    fn one_source_cannot_lock_out_every_name() {
        let t = LoginThrottle::new(3, 5, 60);
        for i in 0..5 {
            fail(&t, &format!("victim{i}"), 0);
        }
        assert!(
            t.begin("victim9", HOME, 1).is_err(),
            "the source is held off"
        );
        let elsewhere = Some(IpAddr::V4(std::net::Ipv4Addr::new(198, 51, 100, 7)));
        let a = t
            .begin("victim0", elsewhere, 1)
            .expect("the account itself is not locked");
        t.finish(a, true);
    }

    #[test]
    fn keys_and_tracking_are_bounded() {
        assert_eq!(key(&"A".repeat(65_536)).len(), KEY_CHARS);
        let t = LoginThrottle::new(1, u32::MAX, 60);
        for i in 0..MAX_TRACKED + 10 {
            fail(&t, &format!("user{i}"), 0);
        }
        assert_eq!(t.counts.lock().unwrap().names.len(), MAX_TRACKED);
        assert!(
            t.begin(&format!("user{}", MAX_TRACKED + 9), HOME, 1)
                .is_err(),
            "the newest is kept"
        );
    }
}
