//! The edge under attack, through the real worker under `wrangler dev`: route bypasses with
//! encoded separators and dot segments (against an origin that decodes the way WSGI and nginx
//! do), tokens leaking to the origin, rerouting headers, and the identity assertion.
//!
//! Requests are sent on raw connections, so the path arrives exactly as an attacker writes it.

use tollgate_e2e::now;
use tollgate_e2e::origin::ROUTE_HEADER;
use tollgate_e2e::{EdgeStack, Minted, RawResponse, raw_request};
use tollgate_shared::Kind;
use tollgate_shared::assertion::{AssertionKeys, HEADER as ASSERTION};

const POLICY: &str = r#"[
    {"route": "GET /healthz", "public": true},
    {"route": "GET /public/**", "public": true},
    {"route": "* /admin/**", "roles": ["admin"]},
    {"route": "GET /reports/**", "roles": ["reports:read"]}
]"#;

async fn stack(case_insensitive: bool) -> EdgeStack {
    EdgeStack::start(|c| {
        c.var("TOLLGATE_POLICY", POLICY).var(
            "TOLLGATE_CASE_INSENSITIVE_ROUTES",
            if case_insensitive { "true" } else { "false" },
        )
    })
    .await
}

async fn send(s: &EdgeStack, target: &str, token: Option<&Minted>) -> RawResponse {
    send_with(s, "GET", target, token, &[]).await
}

async fn send_with(
    s: &EdgeStack,
    method: &str,
    target: &str,
    token: Option<&Minted>,
    extra: &[(&str, &str)],
) -> RawResponse {
    let bearer = token.map(Minted::bearer);
    let mut headers: Vec<(&str, &str)> = extra.to_vec();
    if let Some(b) = &bearer {
        headers.push(("Authorization", b));
    }
    let addr = format!("127.0.0.1:{}", s.worker.port());
    raw_request(&addr, method, target, &headers)
        .await
        .expect("the worker answers")
}

fn code(r: &RawResponse) -> String {
    serde_json::from_str::<serde_json::Value>(&r.body)
        .ok()
        .and_then(|v| v["error"]["code"].as_str().map(str::to_owned))
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn encoded_separators_and_dot_segments_never_bypass_a_rule() {
    let s = stack(false).await;
    let user = s.keys.mint("mallory", Kind::Personal, &["user"], 3600);
    let admin = s.keys.mint("root", Kind::Personal, &["admin"], 3600);
    let reader = s.keys.mint("rita", Kind::Personal, &["reports:read"], 3600);

    // Each bypass that reached a real decoding origin before: refused, never forwarded.
    let bypasses: [(&str, Option<&Minted>); 9] = [
        ("/admin%2Fusers", Some(&user)),
        ("/admin%2fusers", None),
        ("/reports%2Fq1", Some(&user)),
        ("/public/..%2Fadmin/users", None),
        ("/public/..%2Fadmin/users", Some(&user)),
        ("/public/%2e%2e%2Fadmin/users", None),
        ("/admin;jsessionid=x/users", Some(&user)),
        ("/admin%252Fusers", Some(&user)),
        ("/public/x%00", None),
    ];
    for (target, token) in bypasses {
        let before = s.origin.count();
        let r = send(&s, target, token).await;
        assert_eq!(r.status, 400, "{target}: {}", r.body);
        assert_eq!(code(&r), "ambiguous_path", "{target}");
        assert_eq!(s.origin.count(), before, "{target} was forwarded");
    }
    // Forms the runtime itself normalises land on the canonical path, where the rule applies.
    for (target, token, status) in [
        ("/public/%2e%2e/admin/users", None, 401),
        ("/public/../admin/users", Some(&user), 403),
        ("/admin\\users", Some(&user), 403),
        ("/%61dmin/users", Some(&user), 403),
    ] {
        let before = s.origin.count();
        let r = send(&s, target, token).await;
        assert!(
            r.status == status || r.status == 400,
            "{target}: {} {}",
            r.status,
            r.body
        );
        assert_eq!(s.origin.count(), before, "{target} was forwarded");
    }
    // The same requests without encoding are decided on their rule and forwarded.
    assert_eq!(send(&s, "/admin/users", Some(&user)).await.status, 403);
    let r = send(&s, "/admin/users", Some(&admin)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.header(ROUTE_HEADER), Some("/admin/users"));
    let r = send(&s, "//%61dmin//users/", Some(&admin)).await;
    assert_eq!(r.status, 200);
    assert_eq!(
        s.origin.last().unwrap().target,
        "/admin/users/",
        "the origin receives the canonical path the policy decided on"
    );
    assert_eq!(send(&s, "/reports/q1", Some(&reader)).await.status, 200);
    assert_eq!(send(&s, "/reports/q1", Some(&user)).await.status, 403);
    let r = send(&s, "/public/a%20b", None).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header(ROUTE_HEADER), Some("/public/a b"));

    // Nothing forwarded for the user or without a token lands on a guarded route.
    for got in s.origin.received() {
        let route = tollgate_e2e::origin::wsgi_route(got.target.split('?').next().unwrap_or(""));
        let subject = got.header("x-tollgate-subject").unwrap_or("");
        if route.starts_with("/admin") {
            assert_eq!(subject, "root", "{route} reached by {subject:?}");
        }
        if route.starts_with("/reports") {
            assert_eq!(subject, "rita", "{route} reached by {subject:?}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rerouting_headers_are_dropped_and_case_insensitive_routing_is_a_setting() {
    let s = stack(false).await;
    let user = s.keys.mint("mallory", Kind::Personal, &["user"], 3600);
    let extra = [
        ("X-HTTP-Method-Override", "DELETE"),
        ("X-HTTP-Method", "DELETE"),
        ("X-Method-Override", "DELETE"),
        ("X-Original-URL", "/admin/users"),
        ("X-Rewrite-URL", "/admin/users"),
    ];
    let r = send_with(&s, "GET", "/public/x", None, &extra).await;
    assert_eq!(r.status, 200);
    let got = s.origin.last().unwrap();
    for (name, _) in extra {
        assert_eq!(got.header(name), None, "{name} reached the origin");
    }
    // Case-sensitive by default: /ADMIN is not /admin (an origin routing that way is safe).
    assert_eq!(send(&s, "/ADMIN/users", Some(&user)).await.status, 200);
    drop(s);

    let s = stack(true).await;
    let user = s.keys.mint("mallory", Kind::Personal, &["user"], 3600);
    let before = s.origin.count();
    for target in ["/ADMIN/users", "/Admin/Users", "/%41dmin/x"] {
        assert_eq!(send(&s, target, Some(&user)).await.status, 403, "{target}");
    }
    assert_eq!(send(&s, "/PUBLIC/x", None).await.status, 200);
    assert_eq!(s.origin.count(), before + 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_never_reach_the_origin() {
    let s = stack(false).await;
    let token = s.keys.mint("alice", Kind::Personal, &["user"], 3600);
    let basic = |user_pass: &str| {
        use base64::Engine as _;
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(user_pass)
        )
    };
    let combined = format!("Basic YWxpY2U6cHc=, Bearer {}", token.token);
    let as_password = basic(&format!("alice:{}", token.token));
    for value in [combined.as_str(), as_password.as_str()] {
        let r = send_with(&s, "GET", "/public/x", None, &[("Authorization", value)]).await;
        assert_eq!(r.status, 200);
        assert_eq!(
            s.origin.last().unwrap().header("authorization"),
            None,
            "{value} reached the origin"
        );
    }
    let plain = basic("alice:pw");
    send_with(&s, "GET", "/public/x", None, &[("Authorization", &plain)]).await;
    assert_eq!(
        s.origin.last().unwrap().header("authorization"),
        Some(plain.as_str()),
        "credentials without a token still pass to public routes"
    );
    let before = s.origin.count();
    for target in [
        format!("/public/{}", token.token),
        format!("/files/{}.json", token.token),
        format!("/x?q={}", token.token),
    ] {
        let r = send(&s, &target, Some(&token)).await;
        assert_eq!(r.status, 400, "{target}");
        assert!(code(&r).starts_with("token_in_"), "{target}: {}", r.body);
    }
    assert_eq!(s.origin.count(), before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_origin_receives_an_assertion_it_can_verify() {
    let s = stack(false).await;
    let token = s
        .keys
        .mint("svc:ci", Kind::Service, &["admin", "deploy"], 3600);
    let origin_keys = AssertionKeys::parse(&AssertionKeys::export(&s.keys.keyring)).unwrap();
    let forged = [(ASSERTION, "forged"), ("X-Tollgate-Subject", "root")];
    let r = send_with(&s, "POST", "/admin/deploy?x=1", Some(&token), &forged).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let got = s.origin.last().unwrap();
    let text = got.header(ASSERTION).expect("an assertion");
    assert_ne!(text, "forged");
    assert_eq!(got.header("x-tollgate-subject"), Some("svc:ci"));
    let identity = origin_keys
        .verify(text, "POST", "/admin/deploy", now(), 5)
        .expect("the origin verifies it");
    assert_eq!(identity.subject, "svc:ci");
    assert_eq!(identity.roles, ["admin", "deploy"]);
    assert_eq!(identity.token_id, token.id());
    assert!(identity.expires_at <= now() + 61);
    assert!(
        origin_keys
            .verify(text, "POST", "/admin/other", now(), 5)
            .is_err(),
        "bound to its path"
    );
    assert!(
        origin_keys
            .verify(text, "GET", "/admin/deploy", now(), 5)
            .is_err()
    );
    // Public routes carry no identity at all.
    send_with(&s, "GET", "/public/x", None, &forged).await;
    let got = s.origin.last().unwrap();
    assert!(got.headers_starting_with("x-tollgate-").is_empty());
}
