//! Prometheus metrics, rendered as text at `GET /metrics`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use tollgate_shared::Kind;

use crate::state::AppState;

#[derive(Default)]
struct RouteStats {
    count: u64,
    seconds: f64,
}

/// Counters and gauges kept by the server.
#[derive(Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(String, String, u16), RouteStats>>,
    tokens_issued: [AtomicU64; 3],
    revocations: AtomicU64,
    logins_ok: AtomicU64,
    logins_failed: AtomicU64,
    list_sequence: AtomicI64,
    list_entries: AtomicI64,
    list_bytes: AtomicI64,
}

fn kind_index(kind: Kind) -> usize {
    match kind {
        Kind::Session => 0,
        Kind::Personal => 1,
        Kind::Service => 2,
    }
}

impl Metrics {
    /// Counts one answered request.
    pub fn request(&self, method: &str, route: &str, status: u16, seconds: f64) {
        let mut map = self.requests.lock().unwrap_or_else(|e| e.into_inner());
        let stats = map
            .entry((method.to_owned(), route.to_owned(), status))
            .or_default();
        stats.count += 1;
        stats.seconds += seconds;
    }

    /// Counts a minted token.
    pub fn token_issued(&self, kind: Kind) {
        self.tokens_issued[kind_index(kind)].fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a token revoked (by revoke, delete, regenerate or logout).
    pub fn token_revoked(&self) {
        self.revocations.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a login attempt.
    pub fn login(&self, ok: bool) {
        if ok {
            &self.logins_ok
        } else {
            &self.logins_failed
        }
        .fetch_add(1, Ordering::Relaxed);
    }

    /// Records the revocation list last served.
    pub fn list_served(&self, sequence: i64, entries: usize, bytes: usize) {
        self.list_sequence.store(sequence, Ordering::Relaxed);
        self.list_entries.store(entries as i64, Ordering::Relaxed);
        self.list_bytes.store(bytes as i64, Ordering::Relaxed);
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        out.push_str(
            "# HELP tollgate_http_requests_total HTTP requests answered, by route and status.\n",
        );
        out.push_str("# TYPE tollgate_http_requests_total counter\n");
        let map = self.requests.lock().unwrap_or_else(|e| e.into_inner());
        for ((method, route, status), s) in map.iter() {
            let _ = writeln!(
                out,
                "tollgate_http_requests_total{{method=\"{method}\",route=\"{}\",status=\"{status}\"}} {}",
                escape(route),
                s.count
            );
        }
        out.push_str("# HELP tollgate_http_request_duration_seconds_sum Time spent answering, by route and status.\n");
        out.push_str("# TYPE tollgate_http_request_duration_seconds_sum counter\n");
        for ((method, route, status), s) in map.iter() {
            let _ = writeln!(
                out,
                "tollgate_http_request_duration_seconds_sum{{method=\"{method}\",route=\"{}\",status=\"{status}\"}} {:.6}",
                escape(route),
                s.seconds
            );
        }
        drop(map);
        out.push_str("# HELP tollgate_tokens_issued_total Tokens minted, by kind.\n");
        out.push_str("# TYPE tollgate_tokens_issued_total counter\n");
        for kind in [Kind::Session, Kind::Personal, Kind::Service] {
            let n = self.tokens_issued[kind_index(kind)].load(Ordering::Relaxed);
            let _ = writeln!(
                out,
                "tollgate_tokens_issued_total{{kind=\"{}\"}} {n}",
                kind.as_str()
            );
        }
        let gauges: [(&str, &str, &str, i64); 6] = [
            (
                "tollgate_revocations_total",
                "counter",
                "Tokens revoked (revoke, delete, regenerate, logout).",
                self.revocations.load(Ordering::Relaxed) as i64,
            ),
            (
                "tollgate_logins_succeeded_total",
                "counter",
                "Password logins accepted.",
                self.logins_ok.load(Ordering::Relaxed) as i64,
            ),
            (
                "tollgate_logins_failed_total",
                "counter",
                "Password logins refused.",
                self.logins_failed.load(Ordering::Relaxed) as i64,
            ),
            (
                "tollgate_revocation_list_sequence",
                "gauge",
                "Sequence number of the list last served.",
                self.list_sequence.load(Ordering::Relaxed),
            ),
            (
                "tollgate_revocation_list_entries",
                "gauge",
                "Token entries in the list last served.",
                self.list_entries.load(Ordering::Relaxed),
            ),
            (
                "tollgate_revocation_list_bytes",
                "gauge",
                "Size of the full list last served.",
                self.list_bytes.load(Ordering::Relaxed),
            ),
        ];
        for (name, kind, help, value) in gauges {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}"
            );
        }
        out
    }
}

fn escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

/// The method as a metrics label: the standard methods by name, anything else `other`, so a
/// caller cannot grow the label set (and `/metrics`) with made-up methods.
fn method_label(method: &axum::http::Method) -> &'static str {
    use axum::http::Method;
    const KNOWN: [(Method, &str); 9] = [
        (Method::GET, "GET"),
        (Method::HEAD, "HEAD"),
        (Method::POST, "POST"),
        (Method::PUT, "PUT"),
        (Method::PATCH, "PATCH"),
        (Method::DELETE, "DELETE"),
        (Method::OPTIONS, "OPTIONS"),
        (Method::CONNECT, "CONNECT"),
        (Method::TRACE, "TRACE"),
    ];
    KNOWN
        .iter()
        .find(|(m, _)| m == method)
        .map_or("other", |(_, name)| name)
}

/// Middleware counting every request by its route template (never the raw path).
pub async fn track(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = method_label(request.method()).to_owned();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", |m| m.as_str())
        .to_owned();
    let response = next.run(request).await;
    state.metrics.request(
        &method,
        &route,
        response.status().as_u16(),
        started.elapsed().as_secs_f64(),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn made_up_methods_share_one_label() {
        use axum::http::Method;
        assert_eq!(method_label(&Method::PATCH), "PATCH");
        let odd = Method::from_bytes(&b"X".repeat(1000)).unwrap();
        assert_eq!(method_label(&odd), "other");
        assert_eq!(method_label(&Method::from_bytes(b"get").unwrap()), "other");
    }

    #[test]
    fn renders_counters() {
        let m = Metrics::default();
        m.request("GET", "/api/v1/tokens/{id}", 404, 0.01);
        m.request("GET", "/api/v1/tokens/{id}", 404, 0.01);
        m.token_issued(Kind::Personal);
        m.token_revoked();
        let text = m.render();
        assert!(text.contains("tollgate_http_requests_total{method=\"GET\",route=\"/api/v1/tokens/{id}\",status=\"404\"} 2"));
        assert!(text.contains("tollgate_tokens_issued_total{kind=\"personal\"} 1"));
        assert!(text.contains("tollgate_revocations_total 1"));
    }
}
