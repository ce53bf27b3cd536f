//! Requests through the edge worker under `wrangler dev` (workerd): refusals, forwarding with
//! identity, streaming, introspection and bad configuration.

use std::time::{Duration, Instant};

use tollgate_e2e::{
    EdgeStack, Keys, ListServer, Origin, Worker, WorkerConfig, client, header, now,
};
use tollgate_shared::{Claims, Entry, EntryState, Kind, TokenId};

/// A token whose text differs from `token` in one character of the payload: the checksum no longer matches.
fn typo(token: &str) -> String {
    let mut chars: Vec<char> = token.chars().collect();
    let i = 12;
    chars[i] = if chars[i] == 'A' { 'B' } else { 'A' };
    chars.into_iter().collect()
}

/// One refusal case: label, path, Authorization header, status, WWW-Authenticate, JSON error code.
type Case = (
    &'static str,
    String,
    Option<String>,
    u16,
    String,
    &'static str,
);

fn claims(subject: &str, roles: &[&str], issued_at: u64, expires_at: u64) -> Claims {
    Claims {
        token_id: TokenId::random().unwrap(),
        subject: subject.into(),
        kind: Kind::Personal,
        roles: roles.iter().map(|r| (*r).to_owned()).collect(),
        issued_at,
        expires_at,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_refusal_has_its_status_challenge_and_json_body() {
    let s = EdgeStack::start(|c| c).await;
    let now = now();
    let good = s
        .keys
        .mint("alice", Kind::Personal, &["reports:read", "user"], 3600);
    let expired = s
        .keys
        .mint_claims(claims("alice", &[], now - 7200, now - 3600));
    let early = s
        .keys
        .mint_claims(claims("alice", &[], now + 3600, now + 7200));
    let revoked = s.keys.mint("bob", Kind::Session, &[], 3600);
    let disabled = s.keys.mint("carol", Kind::Service, &[], 3600);
    let forged = Keys::generate("k1").mint("alice", Kind::Personal, &["admin"], 3600);
    let unknown = Keys::generate("k9").mint("alice", Kind::Personal, &["admin"], 3600);
    s.list.revoke(revoked.id(), now + 3600);
    s.list.update(|l| {
        l.insert(
            disabled.id(),
            Entry {
                state: EntryState::Disabled,
                expires_at: now + 3600,
            },
        )
    });

    let challenge = |error: &str, description: &str| {
        format!("Bearer realm=\"tollgate\", error=\"{error}\", error_description=\"{description}\"")
    };
    let bare = "Bearer realm=\"tollgate\"".to_owned();
    let invalid = |kind: &str| challenge("invalid_token", kind);
    let typo_token = typo(&good.token);
    let query_path = format!("/data?access_token={}", good.token);
    let shaped_query = format!("/data?key={}", good.token);
    let cases: Vec<Case> = vec![
        (
            "no header",
            "/data".into(),
            None,
            401,
            bare.clone(),
            "missing_token",
        ),
        (
            "other scheme",
            "/data".into(),
            Some("Basic YWxpY2U6cHc=".into()),
            401,
            bare.clone(),
            "missing_token",
        ),
        (
            "empty bearer",
            "/data".into(),
            Some("Bearer".into()),
            400,
            challenge("invalid_request", "malformed_authorization"),
            "malformed_authorization",
        ),
        (
            "two tokens",
            "/data".into(),
            Some(format!("Bearer {} {}", good.token, good.token)),
            400,
            challenge("invalid_request", "malformed_authorization"),
            "malformed_authorization",
        ),
        (
            "access_token in query",
            query_path,
            Some(good.bearer()),
            400,
            challenge("invalid_request", "token_in_query"),
            "token_in_query",
        ),
        (
            "token-shaped query value",
            shaped_query,
            None,
            400,
            challenge("invalid_request", "token_in_query"),
            "token_in_query",
        ),
        (
            "malformed",
            "/data".into(),
            Some("Bearer tg_short".into()),
            401,
            invalid("malformed"),
            "malformed",
        ),
        (
            "typo",
            "/data".into(),
            Some(format!("Bearer {typo_token}")),
            401,
            invalid("bad_checksum"),
            "bad_checksum",
        ),
        (
            "unknown key",
            "/data".into(),
            Some(unknown.bearer()),
            401,
            invalid("unknown_key"),
            "unknown_key",
        ),
        (
            "forged",
            "/data".into(),
            Some(forged.bearer()),
            401,
            invalid("bad_signature"),
            "bad_signature",
        ),
        (
            "expired",
            "/data".into(),
            Some(expired.bearer()),
            401,
            invalid("expired"),
            "expired",
        ),
        (
            "not yet valid",
            "/data".into(),
            Some(early.bearer()),
            401,
            invalid("not_yet_valid"),
            "not_yet_valid",
        ),
        (
            "revoked",
            "/data".into(),
            Some(revoked.bearer()),
            401,
            invalid("revoked"),
            "revoked",
        ),
        (
            "disabled",
            "/data".into(),
            Some(disabled.bearer()),
            401,
            invalid("disabled"),
            "disabled",
        ),
        (
            "missing role",
            "/admin/users".into(),
            Some(good.bearer()),
            403,
            "Bearer realm=\"tollgate\", error=\"insufficient_scope\", scope=\"admin\"".into(),
            "insufficient_scope",
        ),
        (
            "missing one of two roles",
            "/reports/2026".into(),
            Some(good.bearer()),
            403,
            "Bearer realm=\"tollgate\", error=\"insufficient_scope\", scope=\"reports:read staff\""
                .into(),
            "insufficient_scope",
        ),
    ];
    let secrets = [
        &good, &expired, &early, &revoked, &disabled, &forged, &unknown,
    ]
    .map(|m| m.token.clone());
    for (label, path, auth, status, www, code) in cases {
        let resp = s.get(&path, auth.as_deref()).await;
        assert_eq!(resp.status().as_u16(), status, "{label}");
        assert_eq!(
            header(&resp, "www-authenticate").as_deref(),
            Some(www.as_str()),
            "{label}"
        );
        assert_eq!(
            header(&resp, "content-type").as_deref(),
            Some("application/json"),
            "{label}"
        );
        let headers = format!("{:?}", resp.headers());
        let body = resp.text().await.unwrap();
        let json: serde_json::Value =
            serde_json::from_str(&body).unwrap_or_else(|_| panic!("{label}: {body}"));
        assert_eq!(json["error"]["code"], code, "{label}");
        assert!(
            json["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "{label}"
        );
        for secret in secrets.iter().chain([&typo_token]) {
            assert!(
                !body.contains(secret.as_str()) && !headers.contains(secret.as_str()),
                "{label} echoed a token"
            );
        }
    }
    assert_eq!(s.origin.count(), 0, "no refused request reaches the origin");

    assert_eq!(s.status("/data", &good).await, 200);
    assert_eq!(s.origin.count(), 1);
    let logs = s.worker.logs();
    for secret in secrets.iter().chain([&typo_token]) {
        assert!(
            !logs.contains(secret.as_str()),
            "a token appeared in the worker's log"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn good_requests_reach_the_origin_with_identity_and_nothing_spoofed() {
    let s = EdgeStack::start(|c| c).await;
    let token = s.keys.mint(
        "svc:billing",
        Kind::Service,
        &["staff", "admin", "reports:read"],
        3600,
    );
    let resp = s
        .http
        .post(s.worker.url("/admin/items?x=1&y=two%20words"))
        .header("authorization", token.bearer())
        .header("x-tollgate-subject", "root")
        .header("X-Tollgate-Roles", "superuser")
        .header("x-tollgate-anything", "1")
        .header("x-custom", "kept")
        .header("content-type", "text/plain")
        .body("hello body")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(
        header(&resp, "x-origin").as_deref(),
        Some("tollgate-test-origin")
    );
    assert_eq!(
        resp.text().await.unwrap(),
        "origin saw POST /admin/items?x=1&y=two%20words"
    );

    let got = s.origin.last().expect("the origin got the request");
    assert_eq!(got.method, "POST");
    assert_eq!(got.target, "/admin/items?x=1&y=two%20words");
    assert_eq!(got.body, b"hello body");
    assert_eq!(got.header("x-custom"), Some("kept"));
    assert_eq!(got.header("content-type"), Some("text/plain"));
    assert_eq!(
        got.header("authorization"),
        None,
        "the token itself stays at the edge"
    );
    let mut identity = got.headers_starting_with("x-tollgate-");
    identity.sort();
    let assertion = identity.remove(0);
    assert_eq!(assertion.0, "x-tollgate-assertion");
    let origin_keys = tollgate_shared::assertion::AssertionKeys::parse(
        &tollgate_shared::assertion::AssertionKeys::export(&s.keys.keyring),
    )
    .unwrap();
    let asserted = origin_keys
        .verify(&assertion.1, &got.method, "/admin/items", now(), 5)
        .expect("the assertion verifies for the request the origin received");
    assert_eq!(asserted.subject, "svc:billing");
    let expected = [
        ("x-tollgate-kind", "service".to_owned()),
        ("x-tollgate-roles", "admin,reports:read,staff".to_owned()),
        ("x-tollgate-subject", "svc:billing".to_owned()),
        ("x-tollgate-token-id", token.id().to_string()),
    ]
    .map(|(n, v)| (n.to_owned(), v));
    assert_eq!(identity, expected);

    // Public routes: no token needed, and spoofed identity headers are still stripped.
    let resp = s
        .http
        .get(s.worker.url("/healthz"))
        .header("X-Tollgate-Subject", "root")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let got = s.origin.last().unwrap();
    assert_eq!(got.target, "/healthz");
    assert!(
        got.headers_starting_with("x-tollgate-").is_empty(),
        "{:?}",
        got.headers
    );

    // The origin's status, headers and redirects come back as they are.
    let resp = s.get("/status/418", Some(&token.bearer())).await;
    assert_eq!(resp.status().as_u16(), 418);
    assert_eq!(
        header(&resp, "x-origin").as_deref(),
        Some("tollgate-test-origin")
    );
    let resp = s.get("/redirect", Some(&token.bearer())).await;
    assert_eq!(resp.status().as_u16(), 302);
    assert_eq!(header(&resp, "location").as_deref(), Some("/elsewhere"));
    assert_eq!(s.origin.count(), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn origin_answers_stream_through() {
    let s = EdgeStack::start(|c| c).await;
    let token = s.keys.mint("alice", Kind::Personal, &[], 3600);
    let mut resp = s.get("/stream", Some(&token.bearer())).await;
    assert_eq!(resp.status().as_u16(), 200);
    let first = tokio::time::timeout(Duration::from_secs(10), resp.chunk())
        .await
        .expect("the first chunk arrives while the origin is still answering")
        .unwrap()
        .unwrap();
    assert_eq!(&first[..], b"first\n");
    s.origin.release_stream();
    let rest = tokio::time::timeout(Duration::from_secs(10), resp.text())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(rest, "second\n");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn introspection_answers_in_rfc_7662_shape() {
    let s = EdgeStack::start(|c| c).await;
    let token = s
        .keys
        .mint("alice", Kind::Personal, &["user", "reports:read"], 3600);
    let path = "/.well-known/tollgate/introspect";
    let resp = s.get(path, Some(&token.bearer())).await;
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(header(&resp, "cache-control").as_deref(), Some("no-store"));
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["active"], true);
    assert_eq!(body["sub"], "alice");
    assert_eq!(body["jti"], token.id().to_string());
    assert_eq!(body["exp"], token.claims.expires_at);
    assert_eq!(body["iat"], token.claims.issued_at);
    assert_eq!(body["scope"], "reports:read user");
    assert_eq!(body["kind"], "personal");

    s.list.revoke(token.id(), token.claims.expires_at);
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let body: serde_json::Value = s
            .get(path, Some(&token.bearer()))
            .await
            .json()
            .await
            .unwrap();
        if body == serde_json::json!({"active": false}) {
            break;
        }
        assert_eq!(body["active"], true);
        assert!(
            Instant::now() < deadline,
            "revocation not seen by introspection"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let forged = Keys::generate("k1").mint("alice", Kind::Personal, &[], 3600);
    let body: serde_json::Value = s
        .get(path, Some(&forged.bearer()))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body, serde_json::json!({"active": false}));
    assert_eq!(s.get(path, None).await.status().as_u16(), 401);
    let resp = s
        .http
        .post(s.worker.url(path))
        .header("authorization", token.bearer())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 405);
    assert_eq!(
        s.origin.count(),
        0,
        "introspection is answered by the edge itself"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_configuration_is_a_loud_500_and_lets_nothing_through() {
    let keys = Keys::generate("k1");
    let list = ListServer::start(keys.keyring.clone()).await.unwrap();
    let origin = Origin::start().await.unwrap();
    let token = keys.mint("alice", Kind::Personal, &["admin"], 3600);
    let http = client();
    let base = WorkerConfig::new(&list.url(), &origin.url(), &keys.text);
    let cases = [
        (
            base.clone().var(
                "TOLLGATE_POLICY",
                r#"[{"route": "GET /x", "roles": ["bad role"]}]"#,
            ),
            "TOLLGATE_POLICY",
        ),
        (base.clone().without("TOLLGATE_KEYS"), "TOLLGATE_KEYS"),
        (
            base.clone().var("TOLLGATE_MAX_STALE_SECONDS", "soon"),
            "TOLLGATE_MAX_STALE_SECONDS",
        ),
    ];
    for (config, setting) in cases {
        let worker = Worker::start(&config).await.unwrap();
        for path in ["/data", "/healthz", "/.well-known/tollgate/introspect"] {
            let resp = http
                .get(worker.url(path))
                .header("authorization", token.bearer())
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status().as_u16(), 500, "{setting} {path}");
            let body: serde_json::Value = resp.json().await.unwrap();
            assert_eq!(body["error"]["code"], "bad_configuration");
            assert!(
                body["error"]["message"].as_str().unwrap().contains(setting),
                "{body}"
            );
        }
        let logged = worker
            .wait_for_log(
                &format!("bad configuration: {setting}"),
                Duration::from_secs(5),
            )
            .await;
        let logs = worker.logs();
        assert!(logged, "{logs}");
        assert!(!logs.contains(&keys.text) && !logs.contains(&token.token));
    }
    assert_eq!(origin.count(), 0);
    assert!(
        list.seen().is_empty(),
        "a misconfigured worker does not even fetch the list"
    );
}
