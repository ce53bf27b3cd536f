//! Per-token rate limits: the rule's limit, the counting, and the answer's headers.
//!
//! A policy rule may carry `"limit": {"requests": N, "period_seconds": 10 | 60}`: each token
//! gets N requests per period on the routes that rule matches. The count is kept by one
//! Durable Object per token (`limiter.rs`), so every isolate in every location counts against
//! the same window; this module is that object's state ([`Windows`]), what an isolate keeps
//! between two questions to it ([`Leases`]), and the small text protocol between them, as
//! plain Rust.
//!
//! - A window opens with the first request after the last one ended and lasts one period.
//!   Permits are taken from it until N are gone; then requests are refused until it ends.
//! - An isolate asks for several permits at a time and spends them locally: one the first
//!   time, then twice what its last lease held, but never more than an eighth of what is left
//!   ([`FAIR_SHARE`]), so a busy token costs the object a handful of questions per window
//!   while a small limit (under 16) is still handed out one request at a time.
//! - So no token ever passes more than N requests per window, wherever they arrive. A token
//!   can be refused early by as many permits as other isolates hold and have not spent (each
//!   at most an eighth of what was left when it was leased, and twice that isolate's own
//!   recent use).
//! - A refused request carries `Retry-After` and the IETF `RateLimit-Policy` / `RateLimit`
//!   headers (draft-ietf-httpapi-ratelimit-headers: `"token";q=N;w=PERIOD` and
//!   `"token";r=LEFT;t=RESET`); an isolate that saw a token refused refuses it again without
//!   asking until the window ends.

use std::collections::HashMap;

use serde::Deserialize;

/// The periods Cloudflare's rate limiting offers, and the only ones a rule may name.
pub const PERIODS: [u64; 2] = [10, 60];
/// Most requests a limit may allow per period.
pub const MAX_REQUESTS: u32 = 1_000_000;
/// The policy name the headers carry.
const POLICY_NAME: &str = "token";
/// A lease is at most this fraction (1/FAIR_SHARE) of the permits left in the window.
pub const FAIR_SHARE: u32 = 8;
/// Most (token, rule) leases one isolate holds.
const MAX_LEASES: usize = 4096;

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
    /// The query the worker sends the token's limiter object, asking for `want` permits.
    pub fn query(&self, want: u32) -> String {
        format!(
            "rule={}&requests={}&period={}&want={want}",
            self.rule, self.limit.requests, self.limit.period_s
        )
    }

    /// Reads [`RouteLimit::query`] back (in the limiter object); `None` if it is not one.
    pub fn from_query(query: &str) -> Option<(RouteLimit, u32)> {
        let mut rule = None;
        let mut requests = None;
        let mut period = None;
        let mut want = None;
        for pair in query.split('&') {
            let (name, value) = pair.split_once('=')?;
            let value: u64 = value.parse().ok()?;
            match name {
                "rule" => rule = Some(usize::try_from(value).ok()?),
                "requests" => requests = Some(value),
                "period" => period = Some(value),
                "want" => want = Some(u32::try_from(value).ok().filter(|w| *w >= 1)?),
                _ => return None,
            }
        }
        let limit = Limit::parse(&RawLimit {
            requests: requests?,
            period_seconds: period?,
        })
        .ok()?;
        Some((RouteLimit { rule: rule?, limit }, want?))
    }
}

/// What the limiter decided: how many permits it granted (none: refused).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verdict {
    /// Permits granted; the request asking passes if at least one was.
    pub granted: u32,
    /// Permits left in the window after these.
    pub remaining: u32,
    /// Milliseconds until the window ends (at least 1).
    pub reset_ms: u64,
}

impl Verdict {
    /// True if the request may pass.
    pub fn allowed(&self) -> bool {
        self.granted > 0
    }

    /// Whole seconds until the window ends, rounded up (at least 1): `Retry-After`.
    pub fn reset_s(&self) -> u64 {
        self.reset_ms.div_ceil(1000).max(1)
    }

    /// The limiter's answer body: `granted remaining reset_ms`.
    pub fn encode(&self) -> String {
        format!("{} {} {}", self.granted, self.remaining, self.reset_ms)
    }

    /// Reads [`Verdict::encode`] back; `None` if it is not one.
    pub fn decode(text: &str) -> Option<Verdict> {
        let mut parts = text.split(' ');
        let granted = parts.next()?.parse().ok()?;
        let remaining = parts.next()?.parse().ok()?;
        let reset_ms = parts.next()?.parse().ok()?;
        if parts.next().is_some() || reset_ms == 0 {
            return None;
        }
        Some(Verdict {
            granted,
            remaining,
            reset_ms,
        })
    }

    fn refused(remaining: u32, ends_ms: u64, now_ms: u64) -> Verdict {
        Verdict {
            granted: 0,
            remaining,
            reset_ms: ends_ms.saturating_sub(now_ms).max(1),
        }
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
                format!(
                    "\"{POLICY_NAME}\";r={};t={}",
                    self.remaining,
                    self.reset_s()
                ),
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
    /// Grants up to `want` permits under `limit` at `now_ms`: at most an eighth of what is left
    /// ([`FAIR_SHARE`]), at least one while any is left.
    pub fn take(&mut self, limit: RouteLimit, want: u32, now_ms: u64) -> Verdict {
        self.open.retain(|_, w| w.ends_ms > now_ms);
        let period_ms = limit.limit.period_s * 1000;
        let window = self.open.entry(limit).or_insert(Window {
            ends_ms: now_ms + period_ms,
            used: 0,
        });
        let left = limit.limit.requests.saturating_sub(window.used);
        let granted = want.min((left / FAIR_SHARE).max(1)).min(left);
        window.used += granted;
        Verdict {
            granted,
            remaining: left - granted,
            reset_ms: (window.ends_ms - now_ms).max(1),
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

/// One isolate's permits for one token and rule.
#[derive(Debug, Clone, Copy)]
struct Lease {
    /// Permits not yet spent (0 after a refusal).
    permits: u32,
    /// The size of the last grant, to size the next question.
    last_grant: u32,
    /// When the window the permits belong to ends (ms).
    ends_ms: u64,
    /// Permits left at the limiter when it last answered (for the refusal's headers).
    remaining: u32,
}

/// What an isolate should do about a request under a limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Local {
    /// A permit held here was spent on it: let it through.
    Pass,
    /// The window is known to be spent: refuse without asking.
    Refuse(Verdict),
    /// Ask the limiter for this many permits.
    Ask(u32),
}

/// The permits an isolate holds between questions to the limiter, per token and rule.
#[derive(Debug, Default)]
pub struct Leases {
    held: HashMap<([u8; 16], RouteLimit), Lease>,
}

impl Leases {
    /// Spends a held permit, refuses from a known refusal, or says how many to ask for.
    pub fn spend(&mut self, token: [u8; 16], limit: RouteLimit, now_ms: u64) -> Local {
        let Some(lease) = self.held.get_mut(&(token, limit)) else {
            return Local::Ask(1);
        };
        if lease.ends_ms <= now_ms {
            // A new window: ask for what the last lease held, so steady traffic keeps its pace.
            return Local::Ask(lease.last_grant.max(1));
        }
        if lease.permits > 0 {
            lease.permits -= 1;
            return Local::Pass;
        }
        if lease.last_grant == 0 {
            return Local::Refuse(Verdict::refused(lease.remaining, lease.ends_ms, now_ms));
        }
        Local::Ask(lease.last_grant.saturating_mul(2))
    }

    /// Keeps what the limiter answered to a question asked at `asked_ms`; the request that
    /// asked spends one permit. The lease ends when the window ends, counted from the asking,
    /// so it never outlives the limiter's window.
    pub fn granted(&mut self, token: [u8; 16], limit: RouteLimit, verdict: Verdict, asked_ms: u64) {
        if self.held.len() >= MAX_LEASES {
            self.held.retain(|_, l| l.ends_ms > asked_ms);
        }
        if self.held.len() >= MAX_LEASES && !self.held.contains_key(&(token, limit)) {
            return;
        }
        self.held.insert(
            (token, limit),
            Lease {
                permits: verdict.granted.saturating_sub(1),
                last_grant: verdict.granted,
                ends_ms: asked_ms + verdict.reset_ms,
                remaining: verdict.remaining,
            },
        );
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

    fn per_minute(requests: u32) -> RouteLimit {
        RouteLimit {
            rule: 0,
            limit: Limit {
                requests,
                period_s: 60,
            },
        }
    }

    #[test]
    fn the_sixth_request_in_a_window_is_refused_until_it_ends() {
        let mut w = Windows::default();
        let t0 = 1_000_000;
        for i in 0..5 {
            // A small limit goes one permit at a time, whatever is asked.
            let v = w.take(FIVE_PER_TEN, 4, t0 + i * 100);
            assert_eq!((v.granted, v.remaining), (1, 4 - i as u32), "request {i}");
        }
        let refused = w.take(FIVE_PER_TEN, 1, t0 + 2_500);
        assert_eq!(
            refused,
            Verdict {
                granted: 0,
                remaining: 0,
                reset_ms: 7_500
            }
        );
        assert_eq!(refused.reset_s(), 8);
        assert!(!w.take(FIVE_PER_TEN, 1, t0 + 9_999).allowed());
        let next = w.take(FIVE_PER_TEN, 1, t0 + 10_000);
        assert_eq!((next.granted, next.remaining, next.reset_s()), (1, 4, 10));
    }

    #[test]
    fn grants_are_at_most_an_eighth_of_what_is_left() {
        let mut w = Windows::default();
        let limit = per_minute(800);
        assert_eq!(w.take(limit, 1_000, 0).granted, 100);
        assert_eq!(w.take(limit, 1_000, 0).granted, 87);
        assert_eq!(w.take(limit, 3, 0).granted, 3);
        // Every permit is handed out once, never more.
        let mut w2 = Windows::default();
        let mut granted = 0;
        loop {
            let v = w2.take(limit, 1_000, 0);
            if !v.allowed() {
                break;
            }
            granted += v.granted;
        }
        assert_eq!(granted, 800);
    }

    #[test]
    fn rules_count_apart_and_ended_windows_are_dropped() {
        let mut w = Windows::default();
        let other = RouteLimit {
            rule: 3,
            ..FIVE_PER_TEN
        };
        for _ in 0..5 {
            w.take(FIVE_PER_TEN, 1, 0);
        }
        assert!(!w.take(FIVE_PER_TEN, 1, 0).allowed());
        assert!(w.take(other, 1, 0).allowed());
        assert_eq!(w.len(), 2);
        w.take(other, 1, 60_000);
        assert_eq!(w.len(), 1);
    }

    #[test]
    fn an_isolate_spends_its_lease_and_asks_for_more_as_it_goes() {
        let limit = per_minute(1_000_000);
        let (mut w, mut leases) = (Windows::default(), Leases::default());
        let token = [1; 16];
        let mut questions = 0;
        for i in 0..10_000u64 {
            match leases.spend(token, limit, i) {
                Local::Pass => {}
                Local::Ask(want) => {
                    questions += 1;
                    let v = w.take(limit, want, i);
                    assert!(v.allowed());
                    leases.granted(token, limit, v, i);
                }
                Local::Refuse(v) => panic!("refused {v:?}"),
            }
        }
        assert!(questions <= 15, "{questions} questions for 10 000 requests");
    }

    #[test]
    fn isolates_never_pass_more_than_the_limit_together() {
        let limit = per_minute(100);
        let mut w = Windows::default();
        let mut isolates: Vec<Leases> = (0..5).map(|_| Leases::default()).collect();
        let token = [2; 16];
        let mut passed = 0;
        for i in 0..1_000u64 {
            let leases = &mut isolates[(i % 5) as usize];
            let ok = match leases.spend(token, limit, i) {
                Local::Pass => true,
                Local::Refuse(_) => false,
                Local::Ask(want) => {
                    let v = w.take(limit, want, i);
                    leases.granted(token, limit, v, i);
                    v.allowed()
                }
            };
            passed += u32::from(ok);
        }
        assert_eq!(
            passed, 100,
            "five busy isolates use every permit, and no more"
        );
        // Refused ones are refused again without asking, until the window ends.
        assert!(matches!(
            isolates[0].spend(token, limit, 2_000),
            Local::Refuse(_)
        ));
        assert!(matches!(
            isolates[0].spend(token, limit, 60_001),
            Local::Ask(_)
        ));
    }

    #[test]
    fn the_wire_forms_round_trip_and_refuse_junk() {
        assert_eq!(
            RouteLimit::from_query(&FIVE_PER_TEN.query(3)),
            Some((FIVE_PER_TEN, 3))
        );
        for bad in [
            "",
            "rule=1&requests=5&want=1",
            "rule=1&requests=5&period=30&want=1",
            "rule=1&requests=0&period=10&want=1",
            "rule=x&requests=5&period=10&want=1",
            "rule=1&requests=5&period=10&want=0",
            "rule=1&requests=5&period=10",
            "rule=1&requests=5&period=10&want=1&more=1",
        ] {
            assert_eq!(RouteLimit::from_query(bad), None, "{bad}");
        }
        let v = Verdict {
            granted: 0,
            remaining: 0,
            reset_ms: 6_001,
        };
        assert_eq!(Verdict::decode(&v.encode()), Some(v));
        for bad in ["", "1 2", "x 0 1", "1 0 0", "1 0 1 1"] {
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
}
