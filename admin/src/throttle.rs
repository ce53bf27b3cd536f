//! Password-guessing protection for `POST /api/v1/login`.
//!
//! Failed logins are counted per username, known or not (so a refusal says nothing about
//! which names exist). Once a name has `attempts` failures inside one window, further logins
//! for it are answered 429 with `Retry-After` until the window, which starts at the first
//! failure, is over; the password is not even checked. A successful login clears the count.
//!
//! Counts live in this process: a fleet of N replicas allows up to N times the attempts.

use std::collections::HashMap;
use std::sync::Mutex;

/// Most usernames tracked at once; past it, expired windows are dropped, then the oldest.
const MAX_TRACKED: usize = 100_000;

/// Failure counts per username.
pub struct LoginThrottle {
    attempts: u32,
    window: i64,
    failures: Mutex<HashMap<String, Failures>>,
}

#[derive(Clone, Copy)]
struct Failures {
    count: u32,
    since: i64,
}

impl LoginThrottle {
    /// Allows `attempts` failures per `window_seconds` for each username.
    pub fn new(attempts: u32, window_seconds: u64) -> Self {
        LoginThrottle {
            attempts,
            window: i64::try_from(window_seconds).unwrap_or(i64::MAX),
            failures: Mutex::new(HashMap::new()),
        }
    }

    fn key(username: &str) -> String {
        username.to_lowercase()
    }

    /// `Err(seconds)` if logins for `username` are blocked at `now`, with how long for.
    pub fn check(&self, username: &str, now: i64) -> Result<(), u64> {
        let failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        match failures.get(&Self::key(username)) {
            Some(f) if f.count >= self.attempts && now < f.since.saturating_add(self.window) => {
                Err(u64::try_from(f.since.saturating_add(self.window) - now).unwrap_or(1))
            }
            _ => Ok(()),
        }
    }

    /// Counts a failed login for `username` at `now`.
    pub fn failed(&self, username: &str, now: i64) {
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        let key = Self::key(username);
        if !failures.contains_key(&key) && failures.len() >= MAX_TRACKED {
            let window = self.window;
            failures.retain(|_, f| now < f.since.saturating_add(window));
            if failures.len() >= MAX_TRACKED {
                if let Some(oldest) = failures
                    .iter()
                    .min_by_key(|(_, f)| f.since)
                    .map(|(k, _)| k.clone())
                {
                    failures.remove(&oldest);
                }
            }
        }
        let entry = failures.entry(key).or_insert(Failures {
            count: 0,
            since: now,
        });
        if now >= entry.since.saturating_add(self.window) {
            *entry = Failures {
                count: 0,
                since: now,
            };
        }
        entry.count = entry.count.saturating_add(1);
    }

    /// Clears the count for `username` after a successful login.
    pub fn succeeded(&self, username: &str) {
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        failures.remove(&Self::key(username));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_after_the_allowed_failures_until_the_window_ends() {
        let t = LoginThrottle::new(3, 60);
        for i in 0..3 {
            assert_eq!(t.check("alice", 1000 + i), Ok(()));
            t.failed("alice", 1000 + i);
        }
        assert_eq!(t.check("alice", 1002), Err(58));
        assert_eq!(
            t.check("ALICE", 1059),
            Err(1),
            "names are matched without case"
        );
        assert_eq!(t.check("bob", 1002), Ok(()), "other names are not affected");
        assert_eq!(t.check("alice", 1060), Ok(()));
        t.failed("alice", 1060);
        assert_eq!(
            t.check("alice", 1061),
            Ok(()),
            "a new window starts from one failure"
        );
    }

    #[test]
    fn success_clears_the_count() {
        let t = LoginThrottle::new(2, 60);
        t.failed("alice", 0);
        t.succeeded("alice");
        t.failed("alice", 1);
        assert_eq!(t.check("alice", 2), Ok(()));
        t.failed("alice", 2);
        assert!(t.check("alice", 3).is_err());
    }

    #[test]
    fn tracking_is_bounded() {
        let t = LoginThrottle::new(1, 60);
        for i in 0..MAX_TRACKED + 10 {
            t.failed(&format!("user{i}"), 0);
        }
        let len = t.failures.lock().unwrap().len();
        assert_eq!(len, MAX_TRACKED);
        assert!(
            t.check(&format!("user{}", MAX_TRACKED + 9), 1).is_err(),
            "the newest is kept"
        );
    }
}
