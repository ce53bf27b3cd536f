//! System tests: the real admin (in process, SQLite), the real worker under `wrangler dev`
//! (workerd) fetching the admin's revocation list, and a recording origin. Tokens are minted and
//! changed through the admin's HTTP API, and used through the edge, as users would.

use std::time::{Duration, Instant};

use serde_json::json;
use tollgate_e2e::stack::TEST_POLICY;
use tollgate_e2e::{Admin, AdminClient, Keys, Origin, Worker, WorkerConfig, client, header};
use tollgate_shared::Kind;

/// The refresh period the worker runs with in these tests (the default).
const REFRESH: Duration = Duration::from_secs(1);
/// How long a change may take to reach the edge: a refresh period, a fetch, and slack for a loaded machine.
const PROPAGATION_BOUND: Duration = Duration::from_secs(4);

struct System {
    /// The keyring text the admin and the worker share.
    keys: String,
    admin: Admin,
    origin: Origin,
    worker: Worker,
    http: reqwest::Client,
    root: AdminClient,
}

impl System {
    async fn start() -> System {
        Self::start_with(&Keys::generate("k1").text, |c| c).await
    }

    async fn start_with(keys: &str, tune: impl FnOnce(WorkerConfig) -> WorkerConfig) -> System {
        let admin = Admin::start(keys).await;
        let origin = Origin::start().await.expect("origin starts");
        let worker = Worker::start(&tune(worker_config(&admin, &origin, keys)))
            .await
            .expect("wrangler dev starts");
        let root = admin.login_admin().await;
        System {
            keys: keys.to_owned(),
            admin,
            origin,
            worker,
            http: client(),
            root,
        }
    }

    async fn get(&self, path: &str, token: Option<&str>) -> reqwest::Response {
        let bearer = token.map(|t| format!("Bearer {t}"));
        self.worker.get(&self.http, path, bearer.as_deref()).await
    }

    async fn status(&self, path: &str, token: &str) -> u16 {
        self.get(path, Some(token)).await.status().as_u16()
    }

    /// Polls until `path` with `token` answers `want`; returns how long it took.
    async fn until(&self, path: &str, token: &str, want: u16) -> Duration {
        let start = Instant::now();
        loop {
            let got = self.status(path, token).await;
            if got == want {
                return start.elapsed();
            }
            assert!(
                start.elapsed() < PROPAGATION_BOUND,
                "{path}: still {got}, wanted {want} after {:?}",
                start.elapsed()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// A user with a password and roles, logged in.
    async fn user(&self, name: &str, roles: &[&str]) -> AdminClient {
        self.root
            .create_user(name, "a long enough password", roles)
            .await;
        self.admin.login(name, "a long enough password").await
    }
}

fn worker_config(admin: &Admin, origin: &Origin, keys: &str) -> WorkerConfig {
    WorkerConfig::new(&admin.url(), &origin.url(), keys)
        .var("TOLLGATE_POLICY", TEST_POLICY)
        .var("TOLLGATE_REFRESH_SECONDS", &REFRESH.as_secs().to_string())
        .var("TOLLGATE_LEEWAY_SECONDS", "0")
}

fn challenge(resp: &reqwest::Response) -> String {
    header(resp, "www-authenticate").unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn identity_reaches_the_origin_and_bad_tokens_are_refused() {
    let s = System::start().await;
    let alice = s.user("alice", &["user", "token_creator"]).await;
    let (token, id) = alice
        .create_token("laptop", json!({"roles": ["user"]}))
        .await;

    // A valid token: the origin sees the verified identity, never the spoofed one or the token.
    let resp = s
        .http
        .get(s.worker.url("/data?x=1"))
        .bearer_auth(&token)
        .header("x-tollgate-subject", "mallory")
        .header("x-tollgate-roles", "admin")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let seen = s.origin.last().expect("the origin got the request");
    assert_eq!(seen.header("x-tollgate-subject"), Some("alice"));
    assert_eq!(seen.header("x-tollgate-token-id"), Some(id.as_str()));
    assert_eq!(seen.header("x-tollgate-roles"), Some("user"));
    assert_eq!(seen.header("x-tollgate-kind"), Some("personal"));
    assert_eq!(
        seen.headers_starting_with("x-tollgate-").len(),
        5,
        "only the edge's own identity headers and its assertion"
    );
    let text = seen.header("x-tollgate-assertion").expect("an assertion");
    let origin_keys = tollgate_shared::assertion::AssertionKeys::parse(
        &tollgate_shared::assertion::AssertionKeys::export(
            &tollgate_shared::Keyring::parse(&s.keys).unwrap(),
        ),
    )
    .unwrap();
    let asserted = origin_keys
        .verify(text, "GET", "/data", tollgate_e2e::now(), 5)
        .expect("an origin holding only the derived key verifies the admin's token holder");
    assert_eq!(asserted.subject, "alice");
    assert!(seen.header("authorization").is_none());

    // No token at all.
    let before = s.origin.count();
    let resp = s.get("/data", None).await;
    assert_eq!(resp.status(), 401);
    assert!(
        challenge(&resp).starts_with("Bearer realm=\"tollgate\""),
        "{}",
        challenge(&resp)
    );

    // Each broken token: 401 with its own error_description.
    let mut tampered: Vec<char> = token.chars().collect();
    tampered[12] = if tampered[12] == 'A' { 'B' } else { 'A' };
    let foreign = Keys::generate("k9").mint("alice", Kind::Personal, &["user"], 3600);
    let cases = [
        ("not-a-token".to_owned(), "malformed"),
        (tampered.iter().collect::<String>(), "bad_checksum"),
        (token.replacen("tg_", "xx_", 1), "malformed"),
        (foreign.token.clone(), "unknown_key"),
    ];
    for (bad, description) in &cases {
        let resp = s.get("/data", Some(bad)).await;
        assert_eq!(resp.status(), 401, "{description}");
        let c = challenge(&resp);
        assert!(c.contains("error=\"invalid_token\""), "{c}");
        assert!(
            c.contains(&format!("error_description=\"{description}\"")),
            "{c}"
        );
        let body = resp.text().await.unwrap();
        assert!(!body.contains(bad.as_str()), "the token is never echoed");
    }

    // An expired token (one-second lifetime, no leeway).
    let (short, _) = alice.create_token("short", json!({"ttl_seconds": 1})).await;
    tokio::time::sleep(Duration::from_millis(2_100)).await;
    let resp = s.get("/data", Some(&short)).await;
    assert_eq!(resp.status(), 401);
    assert!(
        challenge(&resp).contains("error_description=\"expired\""),
        "{}",
        challenge(&resp)
    );

    // A route that needs a role the token lacks.
    let resp = s.get("/admin/settings", Some(&token)).await;
    assert_eq!(resp.status(), 403);
    let c = challenge(&resp);
    assert!(
        c.contains("error=\"insufficient_scope\"") && c.contains("scope=\"admin\""),
        "{c}"
    );
    assert_eq!(
        s.origin.count(),
        before,
        "no refused request reached the origin"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_change_at_the_admin_reaches_the_edge() {
    let s = System::start().await;
    let bob = s
        .user("bob", &["user", "token_creator", "reports:read", "staff"])
        .await;
    let token = |name: &'static str| bob.create_token(name, json!({}));

    // revoke
    let (t, id) = token("revoke-me").await;
    assert_eq!(s.status("/data", &t).await, 200);
    bob.call(
        "POST",
        &format!("/api/v1/tokens/{id}/revoke"),
        Some(json!({})),
    )
    .await;
    let took = s.until("/data", &t, 401).await;
    assert!(challenge(&s.get("/data", Some(&t)).await).contains("\"revoked\""));
    println!("revoke reached the edge in {} ms", took.as_millis());

    // disable, then enable again
    let (t, id) = token("toggle-me").await;
    assert_eq!(s.status("/data", &t).await, 200);
    bob.call(
        "PATCH",
        &format!("/api/v1/tokens/{id}"),
        Some(json!({"enabled": false})),
    )
    .await;
    s.until("/data", &t, 401).await;
    assert!(challenge(&s.get("/data", Some(&t)).await).contains("\"disabled\""));
    bob.call(
        "PATCH",
        &format!("/api/v1/tokens/{id}"),
        Some(json!({"enabled": true})),
    )
    .await;
    s.until("/data", &t, 200).await;

    // delete
    let (t, id) = token("delete-me").await;
    assert_eq!(s.status("/data", &t).await, 200);
    bob.call("DELETE", &format!("/api/v1/tokens/{id}"), None)
        .await;
    s.until("/data", &t, 401).await;

    // regenerate without grace: the old token dies at once, the new one works
    let (old, id) = token("rotate-now").await;
    let regenerated = bob
        .call(
            "POST",
            &format!("/api/v1/tokens/{id}/regenerate"),
            Some(json!({})),
        )
        .await;
    let new = regenerated["token"].as_str().unwrap().to_owned();
    s.until("/data", &old, 401).await;
    assert_eq!(s.status("/data", &new).await, 200);

    // regenerate with grace: the old token lives until the grace time, then dies
    let (old, id) = token("rotate-later").await;
    let grace = 6;
    let regenerated_at = Instant::now();
    let regenerated = bob
        .call(
            "POST",
            &format!("/api/v1/tokens/{id}/regenerate"),
            Some(json!({"grace_seconds": grace})),
        )
        .await;
    let new = regenerated["token"].as_str().unwrap().to_owned();
    tokio::time::sleep(REFRESH * 2).await;
    assert_eq!(
        s.status("/data", &old).await,
        200,
        "still inside the grace period"
    );
    assert_eq!(s.status("/data", &new).await, 200);
    let remaining = Duration::from_secs(grace).saturating_sub(regenerated_at.elapsed());
    tokio::time::sleep(remaining).await;
    s.until("/data", &old, 401).await;
    assert!(
        regenerated_at.elapsed() >= Duration::from_secs(grace - 1),
        "not before the grace time"
    );

    // a role removed from the user leaves every token of theirs that carried it
    let (t, _) = token("reports").await;
    assert_eq!(s.status("/reports/q3", &t).await, 200);
    s.root
        .call(
            "PATCH",
            "/api/v1/users/bob",
            Some(json!({"remove_roles": ["reports:read"]})),
        )
        .await;
    s.until("/reports/q3", &t, 403).await;
    assert_eq!(
        s.status("/data", &t).await,
        200,
        "the token itself stays valid"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_keys_rotate_without_breaking_tokens() {
    let k1 = Keys::generate("k1").text;
    let k2 = Keys::generate("k2").text;
    let mut s = System::start_with(&k1, |c| c).await;
    let (old, _) = s.root.create_token("before-rotation", json!({})).await;
    assert_eq!(s.status("/data", &old).await, 200);

    // 1. The edge learns the new key first (verify-only), then the admin signs with it.
    let both_new_first = format!("{k2},{k1}");
    let origin_url = s.origin.url();
    s.worker = Worker::start(&worker_config(&s.admin, &s.origin, &format!("{k1},{k2}")))
        .await
        .unwrap();
    s.admin.restart_with_keys(&both_new_first).await;
    let root = s.admin.login_admin().await;
    let (new, _) = root.create_token("after-rotation", json!({})).await;
    assert!(s.until("/data", &new, 200).await < PROPAGATION_BOUND);
    assert_eq!(
        s.status("/data", &old).await,
        200,
        "tokens of the old key still verify"
    );
    assert!(s.origin.url() == origin_url);

    // 2. The old key is retired everywhere: its tokens stop, the new ones go on.
    s.admin.restart_with_keys(&k2).await;
    s.worker = Worker::start(&worker_config(&s.admin, &s.origin, &k2))
        .await
        .unwrap();
    let resp = s.get("/data", Some(&old)).await;
    assert_eq!(resp.status(), 401);
    assert!(
        challenge(&resp).contains("\"unknown_key\""),
        "{}",
        challenge(&resp)
    );
    assert_eq!(s.status("/data", &new).await, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_down_serves_the_last_good_list_then_fails_closed() {
    let keys = Keys::generate("k1").text;
    let mut s = System::start_with(&keys, |c| c.var("TOLLGATE_MAX_STALE_SECONDS", "5")).await;
    let (good, _) = s.root.create_token("good", json!({})).await;
    let (revoked, id) = s.root.create_token("revoked", json!({})).await;
    s.root
        .call(
            "POST",
            &format!("/api/v1/tokens/{id}/revoke"),
            Some(json!({})),
        )
        .await;
    s.until("/data", &revoked, 401).await;
    assert_eq!(s.status("/data", &good).await, 200);

    s.admin.stop().await;
    let down = Instant::now();
    // Within the stale bound the last good list still applies, both ways.
    assert_eq!(s.status("/data", &good).await, 200);
    assert_eq!(s.status("/data", &revoked).await, 401);
    // Past it, the edge fails closed.
    let resp = loop {
        let resp = s.get("/data", Some(&good)).await;
        if resp.status() == 503 {
            break resp;
        }
        assert_eq!(resp.status(), 200);
        assert!(
            down.elapsed() < Duration::from_secs(12),
            "never failed closed"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert!(
        down.elapsed() >= Duration::from_secs(4),
        "failed closed too early: {:?}",
        down.elapsed()
    );
    assert!(header(&resp, "retry-after").is_some());

    // The admin comes back: service resumes.
    s.admin.restart().await;
    s.until("/data", &good, 200).await;
}

/// Seconds between the worker's usage reports in the usage tests.
const USAGE_SECONDS: u64 = 1;

/// The admin's `/metrics` sample for `series`, if any.
async fn metric(s: &System, series: &str) -> Option<f64> {
    let text = s
        .http
        .get(format!("{}/metrics", s.admin.url()))
        .send()
        .await
        .expect("the admin answers")
        .text()
        .await
        .unwrap_or_default();
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn use_through_the_edge_reaches_the_admin_within_the_report_interval() {
    let keys = Keys::generate("k1").text;
    let s = System::start_with(&keys, |c| {
        c.var("TOLLGATE_USAGE_SECONDS", &USAGE_SECONDS.to_string())
    })
    .await;
    let alice = s.user("alice", &["user", "token_creator"]).await;
    let (token, id) = alice.create_token("ci", json!({})).await;
    const N: u64 = 6;
    let first = tollgate_e2e::now();
    for _ in 0..N {
        assert_eq!(s.status("/data", &token).await, 200);
    }
    let last = tollgate_e2e::now();
    let sent = Instant::now();
    let usage = loop {
        let usage = alice
            .call("GET", &format!("/api/v1/tokens/{id}/usage"), None)
            .await;
        if usage["total"] == N {
            break usage;
        }
        assert!(
            usage["total"].as_u64().unwrap_or(0) < N,
            "counted more than was used: {usage}"
        );
        assert!(
            sent.elapsed() < Duration::from_secs(USAGE_SECONDS + 4),
            "the uses did not reach the admin within the report interval and slack: {usage}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let days = usage["days"].as_array().unwrap();
    assert_eq!(days.last().unwrap()["requests"], N, "all of them today");
    let at = |v: &serde_json::Value| {
        tollgate_admin::times::UnixTime::parse(v.as_str().expect("a time"))
            .expect("RFC 3339")
            .as_unsigned()
    };
    let last_used = at(&usage["last_used_at"]);
    assert!(
        (first..=last).contains(&last_used),
        "last used {last_used} outside {first}..={last}"
    );
    let record = alice
        .call("GET", &format!("/api/v1/tokens/{id}"), None)
        .await;
    assert_eq!(at(&record["last_used_at"]), last_used);
    assert!(
        metric(&s, r#"tollgate_edge_token_requests_total{kind="personal"}"#).await
            >= Some(N as f64)
    );
    assert!(metric(&s, r#"tollgate_usage_reports_total{outcome="taken"}"#).await >= Some(1.0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_edge_answers_while_the_admin_refuses_its_reports() {
    // A rotation half done: the edge already signs with a key the admin does not hold yet, so
    // the admin refuses every report (unknown key), while tokens and lists still verify.
    let old = Keys::generate("k1").text;
    let new = Keys::generate("k2").text;
    let admin = Admin::start(&old).await;
    let origin = Origin::start().await.expect("origin starts");
    let worker = Worker::start(
        &worker_config(&admin, &origin, &format!("{new},{old}"))
            .var("TOLLGATE_USAGE_SECONDS", &USAGE_SECONDS.to_string()),
    )
    .await
    .expect("wrangler dev starts");
    let root = admin.login_admin().await;
    let s = System {
        keys: old,
        admin,
        origin,
        worker,
        http: client(),
        root,
    };
    let (token, id) = s.root.create_token("ci", json!({})).await;
    let until = Instant::now() + Duration::from_secs(3 * USAGE_SECONDS + 1);
    let mut answered = 0;
    while Instant::now() < until {
        assert_eq!(s.status("/data", &token).await, 200);
        answered += 1;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let deadline = Instant::now() + Duration::from_secs(5);
    while metric(&s, r#"tollgate_usage_reports_total{outcome="refused"}"#).await < Some(2.0) {
        assert!(
            Instant::now() < deadline,
            "the admin saw no refused reports"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        metric(&s, r#"tollgate_usage_reports_total{outcome="taken"}"#).await,
        Some(0.0)
    );
    let usage = s
        .root
        .call("GET", &format!("/api/v1/tokens/{id}/usage"), None)
        .await;
    assert_eq!(
        usage["total"], 0,
        "after {answered} answered requests: {usage}"
    );
}
