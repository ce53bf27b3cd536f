//! The worker's settings, read from `[vars]` and secrets (`TOLLGATE_*`).
//!
//! [`Config::from_lookup`] parses everything at once and names the first
//! setting that is wrong; the worker answers every request with a 500 naming
//! that setting until the configuration is fixed, and never lets traffic
//! through meanwhile.

use tollgate_shared::assertion::{self, AssertionKeys};
use tollgate_shared::{Authority, DEFAULT_PREFIX, Keyring, valid_prefix};

use crate::policy::{Case, Policy};

/// Where the revocation list lives: the admin's base URL.
pub const ADMIN_URL: &str = "TOLLGATE_ADMIN_URL";
/// Where verified requests go: the origin's base URL.
pub const ORIGIN_URL: &str = "TOLLGATE_ORIGIN_URL";
/// Route rules, JSON (see [`crate::policy`]).
pub const POLICY: &str = "TOLLGATE_POLICY";
/// Refresh the revocation list when it is older than this (seconds, default 1).
pub const REFRESH_SECONDS: &str = "TOLLGATE_REFRESH_SECONDS";
/// Refuse with 503 after this long without a good list (seconds, default 300).
pub const MAX_STALE_SECONDS: &str = "TOLLGATE_MAX_STALE_SECONDS";
/// Token prefix (default `tg`).
pub const TOKEN_PREFIX: &str = "TOLLGATE_TOKEN_PREFIX";
/// The keyring secret, `id:base64key,...`.
pub const KEYS: &str = "TOLLGATE_KEYS";
/// Clock leeway when checking token times (seconds, default 30).
pub const LEEWAY_SECONDS: &str = "TOLLGATE_LEEWAY_SECONDS";
/// Benchmark-only switch: `true` forwards every request without verification.
pub const BENCHMARK_PASSTHROUGH: &str = "TOLLGATE_BENCHMARK_PASSTHROUGH";
/// `true`: route literals match case-insensitively (for origins that route that way).
pub const CASE_INSENSITIVE_ROUTES: &str = "TOLLGATE_CASE_INSENSITIVE_ROUTES";
/// Lifetime of the identity assertion sent to the origin (seconds, default 60).
pub const ASSERTION_SECONDS: &str = "TOLLGATE_ASSERTION_SECONDS";
/// Seconds between an isolate's usage reports to the admin (default 5, 1 to 60).
pub const USAGE_SECONDS: &str = "TOLLGATE_USAGE_SECONDS";
/// The Durable Object binding that counts rate limits (declared in `wrangler.toml`).
pub const LIMITER_BINDING: &str = "TOLLGATE_LIMITER";

/// Every setting the worker reads, for documentation and diagnostics.
pub const ALL: [&str; 12] = [
    ADMIN_URL,
    ORIGIN_URL,
    POLICY,
    REFRESH_SECONDS,
    MAX_STALE_SECONDS,
    TOKEN_PREFIX,
    KEYS,
    LEEWAY_SECONDS,
    BENCHMARK_PASSTHROUGH,
    CASE_INSENSITIVE_ROUTES,
    ASSERTION_SECONDS,
    USAGE_SECONDS,
];

const DEFAULT_REFRESH_SECONDS: u64 = 1;
const DEFAULT_MAX_STALE_SECONDS: u64 = 300;
const DEFAULT_USAGE_SECONDS: u64 = 5;
const MAX_USAGE_SECONDS: u64 = 60;
const MAX_SECONDS: u64 = 7 * 24 * 3600;

/// A setting that is missing or wrong. Never carries secret material.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{setting}: {problem}")]
pub struct ConfigError {
    /// The variable's name, e.g. `TOLLGATE_POLICY`.
    pub setting: &'static str,
    /// What is wrong with it.
    pub problem: String,
}

fn bad(setting: &'static str, problem: impl Into<String>) -> ConfigError {
    ConfigError {
        setting,
        problem: problem.into(),
    }
}

/// The parsed configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// The revocation list endpoint, `<admin>/api/v1/revocations`.
    pub revocations_url: String,
    /// Where usage reports go, `<admin>/api/v1/usage`.
    pub usage_url: String,
    /// Time between an isolate's usage reports, milliseconds.
    pub usage_interval_ms: u64,
    /// The origin's base URL without a trailing slash; the request path is appended.
    pub origin_base: String,
    /// The path part of `origin_base` (may be empty): what the origin sees before the request path.
    pub origin_path_prefix: String,
    /// Signs the identity assertion (the keyring's origin-assertion subkeys).
    pub assertion_keys: AssertionKeys,
    /// Lifetime of an assertion, seconds.
    pub assertion_lifetime_s: u64,
    /// Route rules.
    pub policy: Policy,
    /// Refresh period of the revocation list, milliseconds.
    pub refresh_ms: u64,
    /// Longest time without a good list before failing closed, milliseconds.
    pub max_stale_ms: u64,
    /// Verifies tokens: keyring, prefix and leeway.
    pub authority: Authority,
    /// Clock leeway, seconds (also kept in `authority`); list entries are pruned this long after expiry.
    pub leeway_s: u64,
    /// Forward without verifying (benchmarks only).
    pub passthrough: bool,
}

impl Config {
    /// Reads every setting through `lookup` (name → value; `None` when unset).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let get = |name: &str| {
            lookup(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };

        // The list decides what is refused: it must not travel in clear over a network.
        let admin = base_url(ADMIN_URL, get(ADMIN_URL), Tls::UnlessLoopback)?;
        let origin_base = base_url(ORIGIN_URL, get(ORIGIN_URL), Tls::Optional)?;
        let case = match flag(CASE_INSENSITIVE_ROUTES, get(CASE_INSENSITIVE_ROUTES))? {
            true => Case::Insensitive,
            false => Case::Sensitive,
        };
        let policy = Policy::parse_with(get(POLICY).as_deref().unwrap_or("[]"), case)
            .map_err(|e| bad(POLICY, e.to_string()))?;
        let refresh = seconds(
            REFRESH_SECONDS,
            get(REFRESH_SECONDS),
            DEFAULT_REFRESH_SECONDS,
            1,
        )?;
        let max_stale = seconds(
            MAX_STALE_SECONDS,
            get(MAX_STALE_SECONDS),
            DEFAULT_MAX_STALE_SECONDS,
            1,
        )?;
        if max_stale < refresh {
            return Err(bad(
                MAX_STALE_SECONDS,
                format!(
                    "must be at least {REFRESH_SECONDS} ({refresh}), or every refresh would fail closed"
                ),
            ));
        }
        let leeway = seconds(
            LEEWAY_SECONDS,
            get(LEEWAY_SECONDS),
            tollgate_shared::DEFAULT_LEEWAY_SECONDS,
            0,
        )?;
        let prefix = get(TOKEN_PREFIX).unwrap_or_else(|| DEFAULT_PREFIX.to_owned());
        if !valid_prefix(&prefix) {
            return Err(bad(TOKEN_PREFIX, "must be 1-8 of a-z 0-9"));
        }
        let keys = get(KEYS).ok_or_else(|| {
            bad(
                KEYS,
                "is not set (use `wrangler secret put TOLLGATE_KEYS`, or .dev.vars locally)",
            )
        })?;
        let keyring = Keyring::parse(&keys).map_err(|e| bad(KEYS, e.to_string()))?;
        let authority = Authority::new(keyring)
            .with_prefix(&prefix)
            .map_err(|_| bad(TOKEN_PREFIX, "must be 1-8 of a-z 0-9"))?
            .with_leeway(leeway);
        let passthrough = flag(BENCHMARK_PASSTHROUGH, get(BENCHMARK_PASSTHROUGH))?;
        let assertion_lifetime_s = seconds(
            ASSERTION_SECONDS,
            get(ASSERTION_SECONDS),
            assertion::DEFAULT_LIFETIME_SECONDS,
            1,
        )?
        .min(3600);
        let usage = seconds(USAGE_SECONDS, get(USAGE_SECONDS), DEFAULT_USAGE_SECONDS, 1)?;
        if usage > MAX_USAGE_SECONDS {
            return Err(bad(
                USAGE_SECONDS,
                format!("must be 1 to {MAX_USAGE_SECONDS}"),
            ));
        }
        let origin_path_prefix = origin_base
            .split_once("://")
            .and_then(|(_, rest)| rest.find('/').and_then(|i| rest.get(i..)))
            .unwrap_or_default()
            .to_owned();
        Ok(Config {
            revocations_url: format!("{admin}/api/v1/revocations"),
            usage_url: format!("{admin}/api/v1/usage"),
            usage_interval_ms: usage * 1000,
            origin_base,
            origin_path_prefix,
            assertion_keys: AssertionKeys::from_keyring(authority.keyring()),
            assertion_lifetime_s,
            policy,
            refresh_ms: refresh * 1000,
            max_stale_ms: max_stale * 1000,
            authority,
            leeway_s: leeway,
            passthrough,
        })
    }

    /// The list refresh timing.
    pub fn timing(&self) -> crate::refresh::Timing {
        crate::refresh::Timing::new(self.refresh_ms, self.max_stale_ms)
    }

    /// Seconds a refused client should wait before retrying a 503 (`Retry-After`).
    pub fn retry_after_seconds(&self) -> u64 {
        self.refresh_ms.div_ceil(1000).max(1)
    }
}

/// An absolute `http(s)` URL with a host and no query, fragment or credentials; returned without a trailing `/`.
fn base_url(setting: &'static str, value: Option<String>, tls: Tls) -> Result<String, ConfigError> {
    let value = value.ok_or_else(|| bad(setting, "is not set"))?;
    let rest = value
        .strip_prefix("http://")
        .or_else(|| value.strip_prefix("https://"))
        .ok_or_else(|| bad(setting, "must be an absolute http:// or https:// URL"))?;
    if value.contains(['?', '#']) {
        return Err(bad(setting, "must not have a query or fragment"));
    }
    if value.contains(|c: char| c.is_whitespace() || c.is_control() || c == '\\') {
        return Err(bad(
            setting,
            "must not contain spaces, control characters or backslashes",
        ));
    }
    let authority = rest.split('/').next().unwrap_or_default();
    if authority.contains('@') {
        return Err(bad(setting, "must not carry credentials"));
    }
    let (host, port) = match authority.strip_prefix('[') {
        Some(v6) => match v6.split_once(']') {
            Some((addr, rest)) if rest.is_empty() || rest.starts_with(':') => {
                (addr, rest.strip_prefix(':'))
            }
            _ => ("", None),
        },
        None => match authority.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        },
    };
    if port.is_some_and(|p| p.parse::<u16>().is_err()) {
        return Err(bad(setting, "has an invalid port"));
    }
    if host.is_empty() {
        return Err(bad(setting, "must name a host"));
    }
    if tls == Tls::UnlessLoopback && value.starts_with("http://") && !is_loopback(host) {
        return Err(bad(
            setting,
            "must be https:// (plain http is only allowed for a loopback host such as 127.0.0.1)",
        ));
    }
    Ok(value.trim_end_matches('/').to_owned())
}

/// Whether a base URL may use plain `http://`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tls {
    /// Any scheme.
    Optional,
    /// `https://` unless the host is a loopback address or `localhost`.
    UnlessLoopback,
}

/// `localhost`, `*.localhost`, 127.0.0.0/8 or `::1`.
fn is_loopback(host: &str) -> bool {
    let lower = host.to_ascii_lowercase();
    lower == "localhost"
        || lower.ends_with(".localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// `true`/`1` or `false`/`0`; unset is false.
fn flag(setting: &'static str, value: Option<String>) -> Result<bool, ConfigError> {
    match value.as_deref() {
        None | Some("false") | Some("0") => Ok(false),
        Some("true") | Some("1") => Ok(true),
        Some(_) => Err(bad(setting, "must be true or false")),
    }
}

fn seconds(
    setting: &'static str,
    value: Option<String>,
    default: u64,
    min: u64,
) -> Result<u64, ConfigError> {
    let Some(text) = value else {
        return Ok(default);
    };
    let n: u64 = text
        .parse()
        .map_err(|_| bad(setting, "must be a whole number of seconds"))?;
    if n < min || n > MAX_SECONDS {
        return Err(bad(
            setting,
            format!("must be between {min} and {MAX_SECONDS} seconds"),
        ));
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;
    use std::collections::HashMap;

    const KEYS_OK: &str = "k1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

    fn parse(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let mut map: HashMap<String, String> = HashMap::from([
            (ADMIN_URL.to_owned(), "http://127.0.0.1:8080/".to_owned()),
            (
                ORIGIN_URL.to_owned(),
                "http://127.0.0.1:9000/base/".to_owned(),
            ),
            (KEYS.to_owned(), KEYS_OK.to_owned()),
        ]);
        for (k, v) in pairs {
            if v.is_empty() {
                map.remove(*k);
            } else {
                map.insert((*k).to_owned(), (*v).to_owned());
            }
        }
        Config::from_lookup(|name| map.get(name).cloned())
    }

    #[test]
    fn defaults_fill_what_is_unset() {
        let c = parse(&[]).unwrap();
        assert_eq!(
            c.revocations_url,
            "http://127.0.0.1:8080/api/v1/revocations"
        );
        assert_eq!(c.origin_base, "http://127.0.0.1:9000/base");
        assert_eq!(c.origin_path_prefix, "/base");
        assert_eq!(c.assertion_lifetime_s, 60);
        let c = parse(&[
            (ADMIN_URL, "https://[::1]:8443"),
            (ORIGIN_URL, "http://origin.internal"),
            (CASE_INSENSITIVE_ROUTES, "true"),
        ])
        .unwrap();
        assert_eq!(c.revocations_url, "https://[::1]:8443/api/v1/revocations");
        assert_eq!(c.origin_base, "http://origin.internal");
        assert_eq!(c.origin_path_prefix, "");
        assert_eq!((c.refresh_ms, c.max_stale_ms), (1000, 300_000));
        assert_eq!(c.authority.prefix(), "tg");
        assert!(!c.passthrough);
        assert_eq!(c.retry_after_seconds(), 1);
    }

    #[test]
    fn explicit_values_are_used() {
        let c = parse(&[
            (REFRESH_SECONDS, "5"),
            (MAX_STALE_SECONDS, "60"),
            (TOKEN_PREFIX, "acme"),
            (BENCHMARK_PASSTHROUGH, "true"),
        ])
        .unwrap();
        assert_eq!((c.refresh_ms, c.max_stale_ms), (5000, 60_000));
        assert_eq!(c.authority.prefix(), "acme");
        assert!(c.passthrough);
        assert_eq!(c.retry_after_seconds(), 5);
    }

    #[test]
    fn each_bad_setting_is_named() {
        let cases: &[(&str, &str)] = &[
            (ADMIN_URL, ""),
            (ADMIN_URL, "not a url"),
            (ADMIN_URL, "ftp://host"),
            (ADMIN_URL, "http://"),
            (ADMIN_URL, "http:///path"),
            (ADMIN_URL, "http://host:port"),
            (ADMIN_URL, "http://ho st"),
            (ADMIN_URL, "http://[::1"),
            (ADMIN_URL, "http://[::1]x"),
            (ADMIN_URL, "http://h:1:2"),
            (ORIGIN_URL, "http://127.0.0.1:9000/#frag"),
            (ORIGIN_URL, "http://127.0.0.1:9000/?q=1"),
            (ORIGIN_URL, "http://user:pw@127.0.0.1/"),
            (POLICY, "{nope"),
            (REFRESH_SECONDS, "0"),
            (REFRESH_SECONDS, "1.5"),
            (MAX_STALE_SECONDS, "-3"),
            (TOKEN_PREFIX, "Bad_Prefix"),
            (KEYS, ""),
            (KEYS, "k1:short"),
            (LEEWAY_SECONDS, "lots"),
            (BENCHMARK_PASSTHROUGH, "yes"),
            (CASE_INSENSITIVE_ROUTES, "maybe"),
            (ADMIN_URL, "http://admin.example.com"),
            (ADMIN_URL, "http://10.0.0.5:8080"),
            (ADMIN_URL, "http://127.0.0.1.example.com"),
        ];
        for (setting, value) in cases {
            let err = parse(&[(setting, value)]).unwrap_err();
            assert_eq!(err.setting, *setting, "{setting}={value:?} gave {err}");
            assert!(err.to_string().starts_with(setting));
        }
    }

    #[test]
    fn plain_http_to_the_admin_only_on_loopback() {
        for url in [
            "http://127.0.0.1:8080",
            "http://127.9.9.9",
            "http://localhost:8080",
            "http://admin.localhost",
            "http://[::1]:8080",
            "https://admin.example.com",
        ] {
            assert!(parse(&[(ADMIN_URL, url)]).is_ok(), "{url}");
        }
        assert!(parse(&[(ORIGIN_URL, "http://origin.internal")]).is_ok());
    }

    #[test]
    fn stale_bound_below_refresh_is_refused() {
        let err = parse(&[(REFRESH_SECONDS, "10"), (MAX_STALE_SECONDS, "5")]).unwrap_err();
        assert_eq!(err.setting, MAX_STALE_SECONDS);
    }

    #[test]
    fn keyring_errors_do_not_show_key_material() {
        let secret = "c2hvcnQ=";
        let err = parse(&[(KEYS, &format!("k1:{secret}"))]).unwrap_err();
        assert_eq!(err.setting, KEYS);
        assert!(!err.to_string().contains(secret));
    }
}
