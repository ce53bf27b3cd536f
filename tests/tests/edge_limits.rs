//! Per-token rate limits and usage reports at the edge, against a list server the test
//! controls: the worker under `wrangler dev` counts limits in its Durable Object (run locally by
//! workerd) and sends its usage reports in the background.

use std::time::{Duration, Instant};

use tollgate_e2e::{EdgeStack, Minted, WorkerConfig, header};
use tollgate_shared::Kind;

/// The test policy with a limit of 5 requests per 10 seconds on `/limited/**`.
const POLICY: &str = r#"[
    {"route": "GET /healthz", "public": true},
    {"route": "GET /limited/**", "roles": [], "limit": {"requests": 5, "period_seconds": 10}},
    {"route": "* /admin/**", "roles": ["admin"]}
]"#;

async fn start() -> EdgeStack {
    EdgeStack::start(|c: WorkerConfig| {
        c.var("TOLLGATE_POLICY", POLICY)
            .var("TOLLGATE_USAGE_SECONDS", "1")
    })
    .await
}

fn mint(s: &EdgeStack, name: &str) -> Minted {
    s.keys.mint(name, Kind::Personal, &["user"], 3600)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sixth_request_in_a_window_gets_429_until_the_window_ends() {
    let s = start().await;
    let (a, b) = (mint(&s, "alice"), mint(&s, "bob"));
    for i in 0..5 {
        assert_eq!(s.status("/limited/x", &a).await, 200, "request {}", i + 1);
    }
    let before = s.origin.count();
    let resp = s.get("/limited/x", Some(&a.bearer())).await;
    assert_eq!(resp.status(), 429);
    let retry: u64 = header(&resp, "retry-after")
        .and_then(|v| v.parse().ok())
        .expect("Retry-After in seconds");
    assert!((1..=10).contains(&retry), "Retry-After {retry}");
    assert_eq!(
        header(&resp, "ratelimit-policy").as_deref(),
        Some("\"token\";q=5;w=10")
    );
    assert_eq!(
        header(&resp, "ratelimit"),
        Some(format!("\"token\";r=0;t={retry}"))
    );
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["code"], "rate_limited", "{body}");
    assert_eq!(s.origin.count(), before, "nothing reached the origin");

    // Another token, and the same token on a route without a limit, are unaffected.
    assert_eq!(s.status("/limited/x", &b).await, 200);
    assert_eq!(s.status("/other", &a).await, 200);
    assert_eq!(
        s.status("/limited/y", &a).await,
        429,
        "the rule's routes share the count"
    );

    // Once the window has ended the token passes again.
    tokio::time::sleep(Duration::from_millis(retry * 1000 + 300)).await;
    assert_eq!(s.status("/limited/x", &a).await, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn usage_reports_carry_counts_and_the_edge_answers_when_they_are_refused() {
    let mut s = start().await;
    let a = mint(&s, "alice");
    let id = a.claims.token_id;

    // While the admin refuses reports, and while it is down, requests are answered as ever.
    // (The worker may already have reported the requests that checked it was up.)
    s.list.refuse_reports(true);
    let earlier = s.list.reports();
    let last_taken = earlier.iter().map(|r| r.sequence).max().unwrap_or(0);
    let until = Instant::now() + Duration::from_secs(3);
    while Instant::now() < until {
        assert_eq!(s.status("/data", &a).await, 200);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        s.list.reports().len(),
        earlier.len(),
        "refused reports are not kept"
    );
    s.list.stop();
    let until = Instant::now() + Duration::from_secs(3);
    while Instant::now() < until {
        assert_eq!(
            s.status("/data", &a).await,
            200,
            "the last good list is in use"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    s.list.restart().await.expect("list server restarts");
    s.list.refuse_reports(false);

    // Reports reach it again, signed and in sequence, with this isolate's counts since then.
    for _ in 0..4 {
        assert_eq!(s.status("/data", &a).await, 200);
    }
    let resp = s.get("/data", Some("Bearer not-a-token")).await;
    assert_eq!(resp.status(), 401);
    let deadline = Instant::now() + Duration::from_secs(10);
    let counted = loop {
        let reports = s.list.reports().split_off(earlier.len());
        let count: u64 = reports
            .iter()
            .flat_map(|r| &r.uses)
            .filter(|u| u.token_id == id)
            .map(|u| u.count)
            .sum();
        let malformed: u64 = reports
            .iter()
            .flat_map(|r| &r.counters.refused)
            .filter(|(reason, _)| reason.as_str() == "malformed")
            .map(|(_, n)| n)
            .sum();
        if count >= 4 && malformed >= 1 {
            break reports;
        }
        assert!(
            Instant::now() < deadline,
            "no report with the uses: {reports:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let sequences: Vec<u64> = counted.iter().map(|r| r.sequence).collect();
    assert!(
        sequences.windows(2).all(|w| w[0] < w[1]) && sequences[0] > last_taken + 1,
        "reports lost while refused are skipped, not resent: {last_taken} then {sequences:?}"
    );
    let last_seen = counted
        .iter()
        .flat_map(|r| &r.uses)
        .filter(|u| u.token_id == id)
        .map(|u| u.last_seen)
        .max()
        .unwrap();
    assert!(tollgate_e2e::now().abs_diff(last_seen) <= 12, "{last_seen}");
}
