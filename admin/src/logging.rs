//! Logs: one line per request, one per security event, as text or JSON.
//!
//! - `tollgate::request` (INFO): `method` (as the metrics label it: made-up methods are
//!   `other`), `route` (the route template, never the raw path, which can hold user names),
//!   `status`, `latency_ms`, and `caller`: the authenticated subject, or `-`. Written by
//!   [`crate::metrics::track`]; [`crate::auth::authenticate`] tells it the caller through
//!   [`note_caller`].
//! - `tollgate::security`: every audit event as it is written ([`security_event`], called by
//!   [`crate::store::audit::append`]): logins, throttled logins, token changes and revocations,
//!   user changes (roles, deactivation), settings. Successes at INFO; refusals and failures
//!   (wrong password, too many attempts, a forbidden change) at WARN. Fields: `action`,
//!   `outcome`, `actor` and `audit_target` (`-` when none; a token id or a user name), `subject`, `detail`.
//!
//! No line carries a token text, a password or a request's raw path or query.
//! `TOLLGATE_LOG_FORMAT=json` writes one JSON object per line with the fields at the top
//! level; `TOLLGATE_LOG` (or `RUST_LOG`) filters, default `info,sqlx=warn`.

use std::future::Future;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use tracing_subscriber::EnvFilter;

use crate::store::audit::{NewEvent, Outcome};

/// How log lines are written (`TOLLGATE_LOG_FORMAT`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogFormat {
    /// Human-readable lines (the default).
    #[default]
    Text,
    /// One JSON object per line, for machines.
    Json,
}

impl LogFormat {
    /// `text` or `json` (any case).
    pub fn parse(value: &str) -> Option<LogFormat> {
        match value.trim().to_ascii_lowercase().as_str() {
            "text" => Some(LogFormat::Text),
            "json" => Some(LogFormat::Json),
            _ => None,
        }
    }
}

/// Starts logging to stderr in `format`, filtered by `filter` (`--log`), else `TOLLGATE_LOG`,
/// else `RUST_LOG`, else `info,sqlx=warn`.
pub fn init(format: LogFormat, filter: Option<&str>) {
    let filter = filter
        .and_then(|f| EnvFilter::try_new(f).ok())
        .or_else(|| EnvFilter::try_from_env("TOLLGATE_LOG").ok())
        .or_else(|| EnvFilter::try_from_default_env().ok())
        .unwrap_or_else(|| EnvFilter::new("info,sqlx=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Text => builder
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .try_init(),
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .try_init(),
    };
}

tokio::task_local! {
    /// Who the request being answered authenticated as, once known.
    static CALLER: Arc<OnceLock<String>>;
}

/// Runs `answer` (a request's handling) so that [`note_caller`] within it fills `slot`.
pub async fn with_caller<F: Future>(slot: Arc<OnceLock<String>>, answer: F) -> F::Output {
    CALLER.scope(slot, answer).await
}

/// Records the authenticated subject of the request being answered, for its request line.
/// The first one counts; outside a request it does nothing.
pub fn note_caller(subject: &str) {
    let _ = CALLER.try_with(|slot| slot.set(subject.to_owned()));
}

/// What a request line says.
#[derive(Debug, Clone, Copy)]
pub struct RequestLine<'a> {
    /// The method's bounded label ([`crate::metrics::method_label`]).
    pub method: &'a str,
    /// The matched route template, or `unmatched`.
    pub route: &'a str,
    /// The answer's status code.
    pub status: u16,
    /// Time from the request reaching the router to the answer.
    pub elapsed: Duration,
    /// The authenticated subject, if any.
    pub caller: Option<&'a str>,
}

/// Writes the request line at INFO.
pub fn request_line(line: &RequestLine<'_>) {
    let latency_ms = (line.elapsed.as_secs_f64() * 1_000_000.0).round() / 1000.0;
    tracing::info!(
        target: "tollgate::request",
        method = line.method,
        route = line.route,
        status = line.status,
        latency_ms,
        caller = line.caller.unwrap_or("-"),
        "request"
    );
}

/// Writes an audit event as a security event: INFO if it succeeded, WARN otherwise.
pub fn security_event(e: &NewEvent<'_>) {
    let action = e.action.as_str();
    let outcome = e.outcome.as_str();
    let actor = e.actor.unwrap_or("-");
    let audit_target = e.target.unwrap_or("-");
    let subject = e.subject.unwrap_or("-");
    let detail = e.detail.as_deref().unwrap_or("");
    match e.outcome {
        Outcome::Success => tracing::info!(
            target: "tollgate::security",
            action, outcome, actor, audit_target, subject, detail,
            "security event"
        ),
        Outcome::Denied | Outcome::Failure => tracing::warn!(
            target: "tollgate::security",
            action, outcome, actor, audit_target, subject, detail,
            "security event"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(LogFormat::parse("json"), Some(LogFormat::Json));
        assert_eq!(LogFormat::parse(" Text "), Some(LogFormat::Text));
        assert_eq!(LogFormat::parse("xml"), None);
        assert_eq!(LogFormat::default(), LogFormat::Text);
    }

    #[tokio::test]
    async fn the_caller_reaches_its_own_request_only() {
        let slot = Arc::new(OnceLock::new());
        with_caller(slot.clone(), async {
            note_caller("alice");
            note_caller("mallory");
        })
        .await;
        assert_eq!(slot.get().map(String::as_str), Some("alice"));
        note_caller("bob"); // outside any request: no slot, no effect
        let other = Arc::new(OnceLock::new());
        with_caller(other.clone(), async {}).await;
        assert_eq!(other.get(), None);
    }
}
