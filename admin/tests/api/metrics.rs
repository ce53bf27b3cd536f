//! `GET /metrics` beyond the counters (`bad_input::health_and_metrics`): the latency
//! histogram, the process series and the build's version.

use crate::harness::{Admin, Db, both_backends};

/// The value of the one sample line starting with `series` (name and labels), if any.
pub fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

/// `/metrics` also has the latency histogram by route and status class, the process series and
/// the build's version.
async fn metrics_have_latency_process_and_build(db: Db) {
    let a = Admin::start(&db).await;
    let alice = a.user("alice", &["user"]).await;
    a.get("/api/v1/me", &alice).await.expect(200);
    a.raw("GET", "/api/v1/me", None, None, &[]).await;
    let r = a.raw("GET", "/metrics", None, None, &[]).await;
    assert_eq!(
        r.header("content-type").as_deref(),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );
    let text = String::from_utf8(r.body).unwrap();
    let me = r#"method="GET",route="/api/v1/me""#;
    assert_eq!(
        sample(
            &text,
            &format!(r#"tollgate_http_request_duration_seconds_count{{{me},status="2xx"}}"#)
        ),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        sample(
            &text,
            &format!(
                r#"tollgate_http_request_duration_seconds_bucket{{{me},status="4xx",le="+Inf"}}"#
            )
        ),
        Some(1.0),
        "{text}"
    );
    assert!(text.contains("# TYPE tollgate_http_request_duration_seconds histogram"));
    let sum = sample(
        &text,
        &format!(r#"tollgate_http_request_duration_seconds_sum{{{me},status="2xx"}}"#),
    );
    assert!(sum.is_some_and(|s| s > 0.0 && s < 30.0), "{sum:?}");
    let build = format!(
        r#"tollgate_build_info{{version="{}"}}"#,
        env!("CARGO_PKG_VERSION")
    );
    assert_eq!(sample(&text, &build), Some(1.0), "{text}");
    if cfg!(target_os = "linux") {
        let rss = sample(&text, "process_resident_memory_bytes").unwrap_or(0.0);
        assert!(rss > 1e6, "resident memory {rss}\n{text}");
        assert!(
            sample(&text, "process_open_fds").unwrap_or(0.0) >= 3.0,
            "{text}"
        );
        assert!(
            sample(&text, "process_cpu_seconds_total").is_some(),
            "{text}"
        );
        let started = sample(&text, "process_start_time_seconds").unwrap_or(0.0);
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs_f64();
        assert!(
            started > now - 86_400.0 && started <= now + 1.0,
            "{started} vs {now}"
        );
    }
}

both_backends!(metrics_have_latency_process_and_build);
