//! Prometheus metrics, served as text at `GET /metrics`.
//!
//! Built on the `prometheus` crate rather than `prometheus-client`: it writes the classic text
//! format (`text/plain; version=0.0.4`) that every scraper reads, so the names and the content
//! type `/metrics` always had stay as they were, and its `process` feature brings the standard
//! process collector (resident memory, CPU seconds, open file descriptors, start time) instead of
//! a `/proc` reader of our own. Each [`Metrics`] owns its registry (no global one), so servers
//! started side by side in one test process count apart.
//!
//! Every label value comes from a closed set: methods from [`method_label`] (anything
//! non-standard is `other`), routes from the router's templates (or `unmatched`), statuses from
//! the server's own answers, kinds from [`Kind`]. A caller cannot add a series.

use std::sync::Arc;
use std::sync::OnceLock;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use prometheus::{
    Encoder as _, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, IntGaugeVec,
    Opts, Registry, TextEncoder,
};
use tollgate_shared::Kind;

use crate::state::AppState;

/// The content type of [`Metrics::render`]'s text.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Upper bounds (seconds) of the request latency histogram: from a cached read to the 30 s
/// request timeout; a password login (Argon2) lands near 0.05–0.25.
const LATENCY_BUCKETS: [f64; 11] = [
    0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0, 30.0,
];

/// The series, once registered.
struct Families {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    tokens_issued: IntCounterVec,
    revocations: IntCounter,
    logins_ok: IntCounter,
    logins_failed: IntCounter,
    list_sequence: IntGauge,
    list_entries: IntGauge,
    list_bytes: IntGauge,
    edge: EdgeFamilies,
}

/// What edge isolates report with their usage reports, summed over the reports this server took.
struct EdgeFamilies {
    requests: IntCounterVec,
    verified: IntCounter,
    refused: IntCounterVec,
    rate_limited: IntCounter,
    reports: IntCounterVec,
}

impl EdgeFamilies {
    fn new(r: &Registry) -> prometheus::Result<EdgeFamilies> {
        let requests = register(
            r,
            IntCounterVec::new(
                Opts::new(
                    "tollgate_edge_token_requests_total",
                    "Requests the edge let through, by token kind (from usage reports).",
                ),
                &["kind"],
            )?,
        )?;
        for kind in [Kind::Session, Kind::Personal, Kind::Service] {
            requests.get_metric_with_label_values(&[kind.as_str()])?;
        }
        let refused = register(
            r,
            IntCounterVec::new(
                Opts::new(
                    "tollgate_edge_refused_total",
                    "Requests the edge refused, by error code (from usage reports).",
                ),
                &["reason"],
            )?,
        )?;
        let reports = register(
            r,
            IntCounterVec::new(
                Opts::new(
                    "tollgate_usage_reports_total",
                    "Usage reports received from the edge, by outcome (taken, refused).",
                ),
                &["outcome"],
            )?,
        )?;
        for outcome in ["taken", "refused"] {
            reports.get_metric_with_label_values(&[outcome])?;
        }
        Ok(EdgeFamilies {
            requests,
            verified: counter(
                r,
                "tollgate_edge_verified_total",
                "Requests whose token the edge verified and allowed (from usage reports).",
            )?,
            refused,
            rate_limited: counter(
                r,
                "tollgate_edge_rate_limited_total",
                "Requests the edge refused because their token was over a limit (from usage reports).",
            )?,
            reports,
        })
    }
}

/// Counters, gauges and histograms kept by the server.
pub struct Metrics {
    /// `None` only if the fixed definitions below were refused (a unit test holds them valid);
    /// then nothing is counted and `/metrics` says so, rather than the server failing.
    families: Option<Families>,
}

impl Default for Metrics {
    fn default() -> Self {
        match Families::new() {
            Ok(families) => Metrics {
                families: Some(families),
            },
            Err(e) => {
                tracing::error!(error = %e, "metrics unavailable");
                Metrics { families: None }
            }
        }
    }
}

fn register<C: prometheus::core::Collector + Clone + 'static>(
    registry: &Registry,
    collector: C,
) -> prometheus::Result<C> {
    registry.register(Box::new(collector.clone()))?;
    Ok(collector)
}

fn counter(registry: &Registry, name: &str, help: &str) -> prometheus::Result<IntCounter> {
    register(registry, IntCounter::new(name, help)?)
}

fn gauge(registry: &Registry, name: &str, help: &str) -> prometheus::Result<IntGauge> {
    register(registry, IntGauge::new(name, help)?)
}

impl Families {
    fn new() -> prometheus::Result<Families> {
        let registry = Registry::new();
        let r = &registry;
        let requests = register(
            r,
            IntCounterVec::new(
                Opts::new(
                    "tollgate_http_requests_total",
                    "HTTP requests answered, by method, route and status.",
                ),
                &["method", "route", "status"],
            )?,
        )?;
        let latency = register(
            r,
            HistogramVec::new(
                HistogramOpts::new(
                    "tollgate_http_request_duration_seconds",
                    "Time spent answering, by method, route and status class.",
                )
                .buckets(LATENCY_BUCKETS.to_vec()),
                &["method", "route", "status"],
            )?,
        )?;
        let tokens_issued = register(
            r,
            IntCounterVec::new(
                Opts::new("tollgate_tokens_issued_total", "Tokens minted, by kind."),
                &["kind"],
            )?,
        )?;
        for kind in [Kind::Session, Kind::Personal, Kind::Service] {
            tokens_issued.get_metric_with_label_values(&[kind.as_str()])?;
        }
        register_process(r)?;
        register_build_info(r)?;
        Ok(Families {
            requests,
            latency,
            tokens_issued,
            revocations: counter(
                r,
                "tollgate_revocations_total",
                "Tokens revoked (revoke, delete, regenerate, logout).",
            )?,
            logins_ok: counter(
                r,
                "tollgate_logins_succeeded_total",
                "Password logins accepted.",
            )?,
            logins_failed: counter(
                r,
                "tollgate_logins_failed_total",
                "Password logins refused.",
            )?,
            list_sequence: gauge(
                r,
                "tollgate_revocation_list_sequence",
                "Sequence number of the list last served.",
            )?,
            list_entries: gauge(
                r,
                "tollgate_revocation_list_entries",
                "Token entries in the list last served.",
            )?,
            list_bytes: gauge(
                r,
                "tollgate_revocation_list_bytes",
                "Size of the full list last served.",
            )?,
            edge: EdgeFamilies::new(r)?,
            registry,
        })
    }
}

/// `tollgate_build_info{version="..."} 1`: which build answers, for dashboards and alerts.
fn register_build_info(registry: &Registry) -> prometheus::Result<()> {
    let info = register(
        registry,
        IntGaugeVec::new(
            Opts::new(
                "tollgate_build_info",
                "The running build: always 1, its version as a label.",
            ),
            &["version"],
        )?,
    )?;
    info.get_metric_with_label_values(&[env!("CARGO_PKG_VERSION")])?
        .set(1);
    Ok(())
}

/// The standard `process_*` series (read from `/proc/self` at each scrape; Linux only).
#[cfg(target_os = "linux")]
fn register_process(registry: &Registry) -> prometheus::Result<()> {
    registry.register(Box::new(
        prometheus::process_collector::ProcessCollector::for_self(),
    ))
}

/// Other systems have no `/proc`: no process series there.
#[cfg(not(target_os = "linux"))]
fn register_process(_registry: &Registry) -> prometheus::Result<()> {
    Ok(())
}

/// `2xx`, `4xx`...: the histogram's status label, so a route has at most five latency series
/// per method.
fn status_class(status: u16) -> &'static str {
    match status / 100 {
        1 => "1xx",
        2 => "2xx",
        3 => "3xx",
        4 => "4xx",
        _ => "5xx",
    }
}

impl Metrics {
    /// Counts one answered request and its latency.
    pub fn request(&self, method: &str, route: &str, status: u16, seconds: f64) {
        if let Some(f) = &self.families {
            let code = status.to_string();
            if let Ok(c) = f
                .requests
                .get_metric_with_label_values(&[method, route, code.as_str()])
            {
                c.inc();
            }
            if let Ok(h) =
                f.latency
                    .get_metric_with_label_values(&[method, route, status_class(status)])
            {
                h.observe(seconds);
            }
        }
    }

    /// Counts a minted token.
    pub fn token_issued(&self, kind: Kind) {
        if let Some(f) = &self.families {
            if let Ok(c) = f
                .tokens_issued
                .get_metric_with_label_values(&[kind.as_str()])
            {
                c.inc();
            }
        }
    }

    /// Counts a token revoked (by revoke, delete, regenerate or logout).
    pub fn token_revoked(&self) {
        if let Some(f) = &self.families {
            f.revocations.inc();
        }
    }

    /// Counts a login attempt.
    pub fn login(&self, ok: bool) {
        if let Some(f) = &self.families {
            if ok { &f.logins_ok } else { &f.logins_failed }.inc();
        }
    }

    /// Records the revocation list last served.
    pub fn list_served(&self, sequence: i64, entries: usize, bytes: usize) {
        if let Some(f) = &self.families {
            f.list_sequence.set(sequence);
            f.list_entries
                .set(i64::try_from(entries).unwrap_or(i64::MAX));
            f.list_bytes.set(i64::try_from(bytes).unwrap_or(i64::MAX));
        }
    }

    /// Adds what a taken usage report says to the edge's series.
    pub fn usage_report(&self, report: &tollgate_shared::usage::Report) {
        let Some(f) = &self.families else { return };
        let e = &f.edge;
        for u in &report.uses {
            if let Ok(c) = e.requests.get_metric_with_label_values(&[u.kind.as_str()]) {
                c.inc_by(u.count);
            }
        }
        let counters = &report.counters;
        e.verified.inc_by(counters.verified);
        e.rate_limited.inc_by(counters.rate_limited);
        // Reasons are error codes or `other`: a closed set.
        for (reason, n) in &counters.refused {
            if let Ok(c) = e.refused.get_metric_with_label_values(&[reason.as_str()]) {
                c.inc_by(*n);
            }
        }
    }

    /// Counts a usage report received, taken or refused.
    pub fn usage_batch(&self, taken: bool) {
        if let Some(f) = &self.families {
            let outcome = if taken { "taken" } else { "refused" };
            if let Ok(c) = f.edge.reports.get_metric_with_label_values(&[outcome]) {
                c.inc();
            }
        }
    }

    /// The Prometheus text exposition (of type [`CONTENT_TYPE`]).
    pub fn render(&self) -> String {
        let Some(f) = &self.families else {
            return "# metrics unavailable: see the server's log\n".to_owned();
        };
        let mut out = Vec::new();
        if let Err(e) = TextEncoder::new().encode(&f.registry.gather(), &mut out) {
            tracing::warn!(error = %e, "encoding the metrics failed");
        }
        String::from_utf8(out).unwrap_or_default()
    }
}

/// The method as a metrics label: the standard methods by name, anything else `other`, so a
/// caller cannot grow the label set (and `/metrics`) with made-up methods.
pub fn method_label(method: &axum::http::Method) -> &'static str {
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

/// Middleware measuring every request by its route template (never the raw path): counts it,
/// times it, and writes its request line (with the caller [`crate::logging`] learns of).
pub async fn track(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = method_label(request.method());
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", |m| m.as_str())
        .to_owned();
    let caller = Arc::new(OnceLock::new());
    let response = crate::logging::with_caller(caller.clone(), next.run(request)).await;
    let elapsed = started.elapsed();
    let status = response.status().as_u16();
    state
        .metrics
        .request(method, &route, status, elapsed.as_secs_f64());
    crate::logging::request_line(&crate::logging::RequestLine {
        method,
        route: &route,
        status,
        elapsed,
        caller: caller.get().map(String::as_str),
    });
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
    fn the_definitions_are_accepted() {
        assert!(Families::new().is_ok());
        assert!(Metrics::default().families.is_some());
    }

    #[test]
    fn renders_counters_histograms_and_build_info() {
        let m = Metrics::default();
        m.request("GET", "/api/v1/tokens/{id}", 404, 0.01);
        m.request("GET", "/api/v1/tokens/{id}", 404, 0.003);
        m.token_issued(Kind::Personal);
        m.token_revoked();
        let text = m.render();
        assert!(text.contains("tollgate_http_requests_total{method=\"GET\",route=\"/api/v1/tokens/{id}\",status=\"404\"} 2"), "{text}");
        assert!(text.contains("tollgate_http_request_duration_seconds_bucket{method=\"GET\",route=\"/api/v1/tokens/{id}\",status=\"4xx\",le=\"0.005\"} 1"), "{text}");
        assert!(text.contains("tollgate_http_request_duration_seconds_count{method=\"GET\",route=\"/api/v1/tokens/{id}\",status=\"4xx\"} 2"), "{text}");
        assert!(text.contains("tollgate_tokens_issued_total{kind=\"personal\"} 1"));
        assert!(text.contains("tollgate_tokens_issued_total{kind=\"service\"} 0"));
        assert!(text.contains("tollgate_revocations_total 1"));
        let build = format!(
            "tollgate_build_info{{version=\"{}\"}} 1",
            env!("CARGO_PKG_VERSION")
        );
        assert!(text.contains(&build), "{text}");
    }

    #[test]
    fn status_classes() {
        assert_eq!(
            [101, 200, 304, 429, 503, 999].map(status_class),
            ["1xx", "2xx", "3xx", "4xx", "5xx", "5xx"]
        );
    }
}
