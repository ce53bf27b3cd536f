//! Per-token rate limits: the rule's limit, the counting, and the answer's headers.
//!
//! A policy rule may carry `"limit": {"requests": N, "period_seconds": 10 | 60}`: each token
//! gets N requests per period on the routes that rule matches. The counting happens in one
//! Durable Object per token (`limiter.rs`), so every isolate in every location counts
//! against the same windows; this module is that object's state ([`Windows`]) and the small
//! text protocol between the worker and it, as plain Rust.
//!
//! A window opens with the first request after the last one ended and lasts one period; the
//! first N requests in it pass, the rest are refused until it ends (refused ones do not
//! count). The answer carries the IETF `RateLimit-Policy` / `RateLimit` headers
//! (draft-ietf-httpapi-ratelimit-headers: `"token";q=N;w=PERIOD` and `"token";r=LEFT;t=RESET`)
//! and, when refused, `Retry-After`.

use std::collections::HashMap;

use serde::Deserialize;

/// The periods Cloudflare's rate limiting offers, and the only ones a rule may name.
pub const PERIODS: [u64; 2] = [10, 60];
/// Most requests a limit may allow per period.
pub const MAX_REQUESTS: u32 = 1_000_000;
/// The policy name the headers carry.
const POLICY_NAME: &str = "token";

/// A rule's limit: `requests` per `period_s` seconds, per token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Limit {
    /// Requests allowed per window (1 to [`MAX_REQUESTS`]).
    pub requests: u32,
    /// The window's length in seconds, one of [`PERIODS`].
    pub period_s: u64,
}

/// The `limit` object of a policy rule.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLimit {
    requests: u64,
    period_seconds: u64,
}

impl Limit {
    /// Checks a rule's `limit` object.
    pub fn parse(raw: &RawLimit) -> Result<Limit, String> {
        if !PERIODS.contains(&raw.period_seconds) {
            return Err("limit.period_seconds must be 10 or 60".into());
        }
        match u32::try_from(raw.requests) {
            Ok(requests) if (1..=MAX_REQUESTS).contains(&requests) => Ok(Limit {
                requests,
                period_s: raw.period_seconds,
            }),
            _ => Err(format!("limit.requests must be 1 to {MAX_REQUESTS}")),
        }
    }
}

/// A limit as a route carries it: which rule it belongs to, so two rules count apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RouteLimit {
    /// The rule's position in the policy.
    pub rule: usize,
    /// Its limit.
    pub limit: Limit,
}

impl RouteLimit {
    /// The query the worker sends the token's limiter object.
    pub fn query(&self) -> String {
        format!(
            "rule={}&requests={}&period={}",
            self.rule, self.limit.requests, self.limit.period_s
        )
    }

    /// Reads [`RouteLimit::query`] back (in the limiter object); `None` if it is not one.
    pub fn from_query(query: &str) -> Option<RouteLimit> {
        let mut rule = None;
        let mut requests = None;
        let mut period = None;
        for pair in query.split('&') {
            let (name, value) = pair.split_once('=')?;
            let value: u64 = value.parse().ok()?;
            match name {
                "rule" => rule = Some(usize::try_from(value).ok()?),
                "requests" => requests = Some(value),
                "period" => period = Some(value),
                _ => return None,
            }
        }
        let limit = Limit::parse(&RawLimit {
            requests: requests?,
            period_seconds: period?,
        })
        .ok()?;
        Some(RouteLimit { rule: rule?, limit })
    }
}

/// What the limiter decided for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verdict {
    /// The request may pass.
    pub allowed: bool,
    /// Requests left in the window after this one.
    pub remaining: u32,
    /// Seconds until the window ends (at least 1).
    pub reset_s: u64,
}

impl Verdict {
    /// The limiter's answer body: `allowed remaining reset`.
    pub fn encode(&self) -> String {
        format!(
            "{} {} {}",
            u8::from(self.allowed),
            self.remaining,
            self.reset_s
        )
    }

    /// Reads [`Verdict::encode`] back; `None` if it is not one.
    pub fn decode(text: &str) -> Option<Verdict> {
        let mut parts = text.split(' ');
        let allowed = match parts.next()? {
            "1" => true,
            "0" => false,
            _ => return None,
        };
        let remaining = parts.next()?.parse().ok()?;
        let reset_s = parts.next()?.parse().ok()?;
        if parts.next().is_some() || reset_s == 0 {
            return None;
        }
        Some(Verdict {
            allowed,
            remaining,
            reset_s,
        })
    }

    /// The `RateLimit-Policy` and `RateLimit` headers for `limit`.
    pub fn headers(&self, limit: Limit) -> [(&'static str, String); 2] {
        [
            (
                "RateLimit-Policy",
                format!(
                    "\"{POLICY_NAME}\";q={};w={}",
                    limit.requests, limit.period_s
                ),
            ),
            (
                "RateLimit",
                format!("\"{POLICY_NAME}\";r={};t={}", self.remaining, self.reset_s),
            ),
        ]
    }
}

#[derive(Debug, Clone, Copy)]
struct Window {
    ends_ms: u64,
    used: u32,
}

/// The windows of one token, by route limit: the limiter object's whole state.
#[derive(Debug, Default)]
pub struct Windows {
    open: HashMap<RouteLimit, Window>,
}

impl Windows {
    /// Counts one request under `limit` at `now_ms`, if it may pass.
    pub fn hit(&mut self, limit: RouteLimit, now_ms: u64) -> Verdict {
        self.open.retain(|_, w| w.ends_ms > now_ms);
        let period_ms = limit.limit.period_s * 1000;
        let window = self.open.entry(limit).or_insert(Window {
            ends_ms: now_ms + period_ms,
            used: 0,
        });
        let allowed = window.used < limit.limit.requests;
        if allowed {
            window.used += 1;
        }
        Verdict {
            allowed,
            remaining: limit.limit.requests - window.used,
            reset_s: (window.ends_ms - now_ms).div_ceil(1000).max(1),
        }
    }

    /// Windows still open (for tests and diagnostics).
    pub fn len(&self) -> usize {
        self.open.len()
    }

    /// True if no window is open.
    pub fn is_empty(&self) -> bool {
        self.open.is_empty()
    }
}

/// What an isolate remembers of tokens it saw refused: no need to ask the limiter again until
/// their window ends. Bounded: when full, the oldest entries make room.
#[derive(Debug, Default)]
pub struct Refused {
    until: HashMap<([u8; 16], RouteLimit), u64>,
}

/// Most tokens an isolate remembers as refused.
const MAX_REFUSED: usize = 4096;

impl Refused {
    /// The verdict to answer without asking, while the token's window is known to be spent.
    pub fn check(&self, token: [u8; 16], limit: RouteLimit, now_ms: u64) -> Option<Verdict> {
        let until = *self.until.get(&(token, limit))?;
        (until > now_ms).then(|| Verdict {
            allowed: false,
            remaining: 0,
            reset_s: (until - now_ms).div_ceil(1000).max(1),
        })
    }

    /// Remembers a refusal the limiter gave at `now_ms`.
    pub fn remember(&mut self, token: [u8; 16], limit: RouteLimit, verdict: Verdict, now_ms: u64) {
        if verdict.allowed {
            return;
        }
        if self.until.len() >= MAX_REFUSED {
            self.until.retain(|_, until| *until > now_ms);
        }
        if self.until.len() < MAX_REFUSED {
            self.until
                .insert((token, limit), now_ms + verdict.reset_s * 1000);
        }
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    const FIVE_PER_TEN: RouteLimit = RouteLimit {
        rule: 2,
        limit: Limit {
            requests: 5,
            period_s: 10,
        },
    };

    #[test]
    fn the_sixth_request_in_a_window_is_refused_until_it_ends() {
        let mut w = Windows::default();
        let t0 = 1_000_000;
        for i in 0..5 {
            let v = w.hit(FIVE_PER_TEN, t0 + i * 100);
            assert!(v.allowed, "request {i}");
            assert_eq!(v.remaining, 4 - i as u32);
        }
        let refused = w.hit(FIVE_PER_TEN, t0 + 2_500);
        assert_eq!(
            refused,
            Verdict {
                allowed: false,
                remaining: 0,
                reset_s: 8
            }
        );
        // Refused requests do not count; the window ends 10 s after it opened.
        assert!(!w.hit(FIVE_PER_TEN, t0 + 9_999).allowed);
        let next = w.hit(FIVE_PER_TEN, t0 + 10_000);
        assert!(next.allowed);
        assert_eq!((next.remaining, next.reset_s), (4, 10));
    }

    #[test]
    fn rules_count_apart_and_ended_windows_are_dropped() {
        let mut w = Windows::default();
        let other = RouteLimit {
            rule: 3,
            ..FIVE_PER_TEN
        };
        for _ in 0..5 {
            w.hit(FIVE_PER_TEN, 0);
        }
        assert!(!w.hit(FIVE_PER_TEN, 0).allowed);
        assert!(w.hit(other, 0).allowed);
        assert_eq!(w.len(), 2);
        w.hit(other, 60_000);
        assert_eq!(w.len(), 1);
    }

    #[test]
    fn the_wire_forms_round_trip_and_refuse_junk() {
        assert_eq!(
            RouteLimit::from_query(&FIVE_PER_TEN.query()),
            Some(FIVE_PER_TEN)
        );
        for bad in [
            "",
            "rule=1&requests=5",
            "rule=1&requests=5&period=30",
            "rule=1&requests=0&period=10",
            "rule=x&requests=5&period=10",
            "rule=1&requests=5&period=10&more=1",
        ] {
            assert_eq!(RouteLimit::from_query(bad), None, "{bad}");
        }
        let v = Verdict {
            allowed: false,
            remaining: 0,
            reset_s: 7,
        };
        assert_eq!(Verdict::decode(&v.encode()), Some(v));
        for bad in ["", "1 2", "2 0 1", "1 0 0", "1 0 1 1"] {
            assert_eq!(Verdict::decode(bad), None, "{bad}");
        }
        assert_eq!(
            v.headers(FIVE_PER_TEN.limit),
            [
                ("RateLimit-Policy", "\"token\";q=5;w=10".to_owned()),
                ("RateLimit", "\"token\";r=0;t=7".to_owned())
            ]
        );
    }

    #[test]
    fn limits_are_checked() {
        let parse = |requests, period_seconds| {
            Limit::parse(&RawLimit {
                requests,
                period_seconds,
            })
        };
        assert!(parse(5, 10).is_ok());
        assert!(parse(1_000_000, 60).is_ok());
        assert!(parse(0, 10).is_err());
        assert!(parse(1_000_001, 10).is_err());
        assert!(parse(5, 30).is_err());
    }

    #[test]
    fn an_isolate_remembers_refusals_until_the_window_ends() {
        let mut r = Refused::default();
        let token = [1; 16];
        let refused = Verdict {
            allowed: false,
            remaining: 0,
            reset_s: 3,
        };
        r.remember(token, FIVE_PER_TEN, refused, 1_000);
        assert_eq!(
            r.check(token, FIVE_PER_TEN, 2_000).map(|v| v.reset_s),
            Some(2)
        );
        assert_eq!(r.check([2; 16], FIVE_PER_TEN, 2_000), None);
        assert_eq!(r.check(token, FIVE_PER_TEN, 4_000), None);
    }
}
