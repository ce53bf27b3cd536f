//! Settings, read from `TOLLGATE_*` environment variables with defaults that work locally.
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `TOLLGATE_DATABASE_URL` | `sqlite://tollgate.db` | `sqlite://FILE` (created on first start) or `postgres://...` |
//! | `TOLLGATE_KEYS` / `TOLLGATE_KEYS_FILE` | required | keyring `id:base64key,...`, first entry signs |
//! | `TOLLGATE_LISTEN` | `127.0.0.1:8080` | address the server binds |
//! | `TOLLGATE_TOKEN_PREFIX` | `tg` | prefix of minted tokens |
//! | `TOLLGATE_DEFAULT_TTL` | `30d` | lifetime of a token created without an expiry |
//! | `TOLLGATE_MAX_TTL` | `90d` | longest lifetime accepted (longer is refused, not clipped) |
//! | `TOLLGATE_SESSION_TTL` | `12h` | lifetime of a login session token |
//! | `TOLLGATE_REAUTH_WINDOW` | `10m` | a login session this recent may make a token that outlives it |
//! | `TOLLGATE_TOKEN_CREATION` | `true` | `false` closes the token API to everyone but admins (an admin reopens it with `PATCH /api/v1/settings`) |
//! | `TOLLGATE_PERSONAL_TOKENS` | `everyone` | who makes tokens for themselves: `everyone` (every active person) or `token_creator` |
//! | `TOLLGATE_BOOTSTRAP_ADMIN` | unset | `username:password` of the first admin on an empty store |
//! | `TOLLGATE_MAX_BODY_BYTES` | `65536` | request bodies over this answer 413 |
//! | `TOLLGATE_REQUEST_TIMEOUT` | `30s` | requests taking longer answer 503 |
//! | `TOLLGATE_LIST_MAINTENANCE_INTERVAL` | `30s` | how often the revocation list is compacted |
//! | `TOLLGATE_LIST_DELTA_RETENTION` | `7d` | how far back `?since=` deltas can reach |
//! | `TOLLGATE_LOGIN_ATTEMPTS` | `10` | login attempts per username (counted before the password is checked; a success clears them) before logins for it answer 429 |
//! | `TOLLGATE_LOGIN_SOURCE_ATTEMPTS` | `100` | failed login attempts per source address before logins from it answer 429 |
//! | `TOLLGATE_LOGIN_WINDOW` | `15m` | the window those attempts are counted in (per replica) |
//! | `TOLLGATE_LOG_FORMAT` | `text` | `json` writes one JSON object per log line, for machines (fields in [`crate::logging`]) |
//! | `TOLLGATE_LOG` | `info,sqlx=warn` | which log lines to write (`RUST_LOG` syntax; `RUST_LOG` itself is read when this is unset) |

use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

use tollgate_shared::{Keyring, KeyringError, valid_prefix, valid_subject};

use crate::logging::LogFormat;
use crate::times::parse_duration;

/// Who may make tokens for themselves (`TOLLGATE_PERSONAL_TOKENS`). Tokens for others and service
/// accounts stay with token creators and admins either way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PersonalTokens {
    /// Every active person (as OSMO and Rancher do).
    Everyone,
    /// Only holders of `token_creator` or `admin` (as Determined does).
    TokenCreators,
}

/// Address used when `TOLLGATE_LISTEN` is not set.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
/// Store used when `TOLLGATE_DATABASE_URL` is not set.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://tollgate.db";
const DAY: u64 = 86_400;

/// A setting could not be read. Never carries key material or passwords.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// Neither `TOLLGATE_KEYS` nor `TOLLGATE_KEYS_FILE` is set.
    #[error(
        "no signing keys: set TOLLGATE_KEYS or TOLLGATE_KEYS_FILE (make one with `tollgate keys generate`)"
    )]
    NoKeys,
    /// The keyring text is invalid.
    #[error("TOLLGATE_KEYS: {0}")]
    Keys(#[from] KeyringError),
    /// The key file could not be read.
    #[error("cannot read TOLLGATE_KEYS_FILE {path}: {source}")]
    KeyFile {
        path: String,
        source: std::io::Error,
    },
    /// A variable holds a value that does not parse or is out of range.
    #[error("{var}: {message}")]
    Invalid { var: &'static str, message: String },
}

fn invalid(var: &'static str, message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        var,
        message: message.into(),
    }
}

/// The first admin to create on an empty store.
#[derive(Clone)]
pub struct BootstrapAdmin {
    pub username: String,
    pub password: String,
}

impl fmt::Debug for BootstrapAdmin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BootstrapAdmin")
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

/// Everything the server needs to start.
#[derive(Debug, Clone)]
pub struct Settings {
    pub database_url: String,
    pub keyring: Keyring,
    pub listen: SocketAddr,
    pub token_prefix: String,
    /// Seconds.
    pub default_ttl: u64,
    /// Seconds.
    pub max_ttl: u64,
    /// Seconds.
    pub session_ttl: u64,
    /// Seconds: a login session at most this old may mint a token that outlives it
    /// (`TOLLGATE_REAUTH_WINDOW`, default 10 minutes).
    pub reauth_window: u64,
    /// The token API's switch until an admin turns it (`PATCH /api/v1/settings`): `false` closes
    /// it to everyone but admins.
    pub token_creation: bool,
    /// Who may make tokens for themselves.
    pub personal_tokens: PersonalTokens,
    pub bootstrap_admin: Option<BootstrapAdmin>,
    pub max_body_bytes: usize,
    pub request_timeout: Duration,
    pub list_maintenance_interval: Duration,
    /// Seconds.
    pub list_delta_retention: u64,
    /// Login attempts allowed per username within [`Settings::login_window`].
    pub login_attempts: u32,
    /// Login attempts allowed per source address within [`Settings::login_window`].
    pub login_source_attempts: u32,
    /// Seconds.
    pub login_window: u64,
    /// How log lines are written (`TOLLGATE_LOG_FORMAT`).
    pub log_format: LogFormat,
}

impl Settings {
    /// Defaults for everything but the store and the keys.
    pub fn new(database_url: impl Into<String>, keyring: Keyring) -> Self {
        Settings {
            database_url: database_url.into(),
            keyring,
            listen: DEFAULT_LISTEN.parse().expect("valid default address"),
            token_prefix: tollgate_shared::DEFAULT_PREFIX.to_owned(),
            default_ttl: 30 * DAY,
            max_ttl: 90 * DAY,
            session_ttl: 12 * 3600,
            reauth_window: 600,
            token_creation: true,
            personal_tokens: PersonalTokens::Everyone,
            bootstrap_admin: None,
            max_body_bytes: 64 * 1024,
            request_timeout: Duration::from_secs(30),
            list_maintenance_interval: Duration::from_secs(30),
            list_delta_retention: 7 * DAY,
            login_attempts: 10,
            login_source_attempts: 100,
            login_window: 15 * 60,
            log_format: LogFormat::Text,
        }
    }

    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads settings through `get` (a variable name to its value).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str| get(name).filter(|v| !v.trim().is_empty());
        let keys_text = match (get("TOLLGATE_KEYS"), get("TOLLGATE_KEYS_FILE")) {
            (Some(text), _) => text,
            (None, Some(path)) => std::fs::read_to_string(&path)
                .map_err(|source| ConfigError::KeyFile { path, source })?,
            (None, None) => return Err(ConfigError::NoKeys),
        };
        let keyring = Keyring::parse(&keys_text)?;
        let mut s = Settings::new(
            get("TOLLGATE_DATABASE_URL").unwrap_or_else(|| DEFAULT_DATABASE_URL.into()),
            keyring,
        );
        if let Some(v) = get("TOLLGATE_LISTEN") {
            s.listen = v.trim().parse().map_err(|_| {
                invalid("TOLLGATE_LISTEN", "expected host:port, e.g. 127.0.0.1:8080")
            })?;
        }
        if let Some(v) = get("TOLLGATE_TOKEN_PREFIX") {
            if !valid_prefix(v.trim()) {
                return Err(invalid("TOLLGATE_TOKEN_PREFIX", "1-8 of a-z 0-9"));
            }
            s.token_prefix = v.trim().to_owned();
        }
        let duration = |var: &'static str, default: u64| -> Result<u64, ConfigError> {
            match get(var) {
                None => Ok(default),
                Some(v) => parse_duration(&v).filter(|d| *d > 0).ok_or_else(|| {
                    invalid(var, "expected a positive duration such as 3600, 12h or 30d")
                }),
            }
        };
        s.default_ttl = duration("TOLLGATE_DEFAULT_TTL", s.default_ttl)?;
        s.max_ttl = duration("TOLLGATE_MAX_TTL", s.max_ttl)?;
        s.session_ttl = duration("TOLLGATE_SESSION_TTL", s.session_ttl)?;
        s.reauth_window = duration("TOLLGATE_REAUTH_WINDOW", s.reauth_window)?;
        s.request_timeout = Duration::from_secs(duration(
            "TOLLGATE_REQUEST_TIMEOUT",
            s.request_timeout.as_secs(),
        )?);
        s.list_maintenance_interval = Duration::from_secs(duration(
            "TOLLGATE_LIST_MAINTENANCE_INTERVAL",
            s.list_maintenance_interval.as_secs(),
        )?);
        s.list_delta_retention = duration("TOLLGATE_LIST_DELTA_RETENTION", s.list_delta_retention)?;
        s.login_window = duration("TOLLGATE_LOGIN_WINDOW", s.login_window)?;
        if let Some(v) = get("TOLLGATE_LOGIN_ATTEMPTS") {
            s.login_attempts = v
                .trim()
                .parse()
                .ok()
                .filter(|n| (1..=1000).contains(n))
                .ok_or_else(|| {
                    invalid("TOLLGATE_LOGIN_ATTEMPTS", "expected a count from 1 to 1000")
                })?;
        }
        if let Some(v) = get("TOLLGATE_LOGIN_SOURCE_ATTEMPTS") {
            s.login_source_attempts = v
                .trim()
                .parse()
                .ok()
                .filter(|n| (1..=100_000).contains(n))
                .ok_or_else(|| {
                    invalid(
                        "TOLLGATE_LOGIN_SOURCE_ATTEMPTS",
                        "expected a count from 1 to 100000",
                    )
                })?;
        }
        if s.default_ttl > s.max_ttl {
            return Err(invalid(
                "TOLLGATE_DEFAULT_TTL",
                "must not exceed TOLLGATE_MAX_TTL",
            ));
        }
        if s.session_ttl > s.max_ttl {
            return Err(invalid(
                "TOLLGATE_SESSION_TTL",
                "must not exceed TOLLGATE_MAX_TTL",
            ));
        }
        if let Some(v) = get("TOLLGATE_TOKEN_CREATION") {
            s.token_creation = parse_switch(&v)
                .ok_or_else(|| invalid("TOLLGATE_TOKEN_CREATION", "expected true or false"))?;
        }
        if let Some(v) = get("TOLLGATE_PERSONAL_TOKENS") {
            s.personal_tokens = match v.trim() {
                "everyone" => PersonalTokens::Everyone,
                "token_creator" => PersonalTokens::TokenCreators,
                _ => {
                    return Err(invalid(
                        "TOLLGATE_PERSONAL_TOKENS",
                        "expected everyone or token_creator",
                    ));
                }
            };
        }
        if let Some(v) = get("TOLLGATE_MAX_BODY_BYTES") {
            s.max_body_bytes = v
                .trim()
                .parse()
                .ok()
                .filter(|n| (1024..=16 << 20).contains(n))
                .ok_or_else(|| {
                    invalid(
                        "TOLLGATE_MAX_BODY_BYTES",
                        "expected a byte count from 1024 to 16777216",
                    )
                })?;
        }
        if let Some(v) = get("TOLLGATE_LOG_FORMAT") {
            s.log_format = LogFormat::parse(&v)
                .ok_or_else(|| invalid("TOLLGATE_LOG_FORMAT", "expected text or json"))?;
        }
        if let Some(v) = get("TOLLGATE_BOOTSTRAP_ADMIN") {
            let (user, password) = v
                .split_once(':')
                .ok_or_else(|| invalid("TOLLGATE_BOOTSTRAP_ADMIN", "expected username:password"))?;
            if !valid_subject(user) {
                return Err(invalid(
                    "TOLLGATE_BOOTSTRAP_ADMIN",
                    "invalid username (1-64 of A-Z a-z 0-9 . _ @ + : -)",
                ));
            }
            if !crate::auth::acceptable_password(password) {
                return Err(invalid(
                    "TOLLGATE_BOOTSTRAP_ADMIN",
                    "the password must be 8 to 256 characters",
                ));
            }
            s.bootstrap_admin = Some(BootstrapAdmin {
                username: user.to_owned(),
                password: password.to_owned(),
            });
        }
        Ok(s)
    }
}

fn parse_switch(v: &str) -> Option<bool> {
    match v.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" | "enabled" => Some(true),
        "0" | "false" | "no" | "off" | "disabled" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    const KEYS: &str = "k1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

    fn settings(vars: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Settings::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn defaults() {
        let s = settings(&[("TOLLGATE_KEYS", KEYS)]).unwrap();
        assert_eq!(s.database_url, DEFAULT_DATABASE_URL);
        assert_eq!(s.listen.to_string(), DEFAULT_LISTEN);
        assert_eq!((s.default_ttl, s.max_ttl), (30 * DAY, 90 * DAY));
        assert!(s.token_creation);
        assert_eq!(s.token_prefix, "tg");
        assert_eq!(s.log_format, LogFormat::Text);
    }

    #[test]
    fn reads_every_setting() {
        let s = settings(&[
            ("TOLLGATE_KEYS", KEYS),
            ("TOLLGATE_LISTEN", "127.0.0.1:0"),
            ("TOLLGATE_TOKEN_PREFIX", "acme"),
            ("TOLLGATE_DEFAULT_TTL", "1d"),
            ("TOLLGATE_MAX_TTL", "7d"),
            ("TOLLGATE_TOKEN_CREATION", "off"),
            ("TOLLGATE_BOOTSTRAP_ADMIN", "root:correct horse"),
            ("TOLLGATE_DATABASE_URL", "postgres://db/x"),
            ("TOLLGATE_LOGIN_ATTEMPTS", "5"),
            ("TOLLGATE_LOGIN_WINDOW", "1h"),
            ("TOLLGATE_LOG_FORMAT", "json"),
        ])
        .unwrap();
        assert_eq!(s.log_format, LogFormat::Json);
        assert_eq!((s.login_attempts, s.login_window), (5, 3600));
        assert_eq!(s.listen.port(), 0);
        assert_eq!(s.token_prefix, "acme");
        assert_eq!((s.default_ttl, s.max_ttl), (DAY, 7 * DAY));
        assert!(!s.token_creation);
        assert_eq!(s.bootstrap_admin.as_ref().unwrap().username, "root");
        assert!(
            !format!("{s:?}").contains("correct horse"),
            "Debug must not show the password"
        );
        assert_eq!(s.database_url, "postgres://db/x");
    }

    #[test]
    fn refuses_bad_values() {
        assert!(matches!(settings(&[]), Err(ConfigError::NoKeys)));
        assert!(matches!(
            settings(&[("TOLLGATE_KEYS", "k1:short")]),
            Err(ConfigError::Keys(_))
        ));
        let bad = [
            ("TOLLGATE_LISTEN", "nowhere"),
            ("TOLLGATE_TOKEN_PREFIX", "Bad_"),
            ("TOLLGATE_MAX_TTL", "0"),
            ("TOLLGATE_DEFAULT_TTL", "100d"),
            ("TOLLGATE_TOKEN_CREATION", "maybe"),
            ("TOLLGATE_BOOTSTRAP_ADMIN", "nopassword"),
            ("TOLLGATE_BOOTSTRAP_ADMIN", "root:short"),
            ("TOLLGATE_LOGIN_ATTEMPTS", "0"),
            ("TOLLGATE_LOGIN_ATTEMPTS", "many"),
            ("TOLLGATE_LOGIN_WINDOW", "0"),
            ("TOLLGATE_LOG_FORMAT", "xml"),
        ];
        for (var, value) in bad {
            let err = settings(&[("TOLLGATE_KEYS", KEYS), (var, value)]).unwrap_err();
            assert!(err.to_string().starts_with(var), "{var}={value}: {err}");
        }
        let err = settings(&[("TOLLGATE_KEYS_FILE", "/nonexistent/keys")]).unwrap_err();
        assert!(matches!(err, ConfigError::KeyFile { .. }));
    }

    #[test]
    fn key_errors_never_show_keys() {
        let err = settings(&[(
            "TOLLGATE_KEYS",
            "k1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd",
        )])
        .unwrap_err();
        assert!(!err.to_string().contains("AAEC"));
    }
}
