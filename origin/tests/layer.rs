//! The layer in front of an axum router and a plain `tower` service: only a good assertion for
//! this very request reaches the handler, which then sees the identity and no `X-Tollgate-*`
//! header.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test and benchmark code: a failure should stop loudly"
)]

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode};
use axum::routing::any;
use axum::{Extension, Json, Router};
use serde_json::{Value, json};
use tollgate_origin::{
    AssertionError, AssertionKeys, AssertionLayer, HEADER, Identity, Kind, TokenId, verify_request,
};
use tollgate_shared::Keyring;
use tollgate_shared::assertion::Parts;
use tower::ServiceExt;

/// The keyring the edge holds.
const KEYRING: &str = "k1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
/// Another keyring under the same key id.
const OTHER_KEY: &str = "k1:ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=";
/// Another keyring under another key id.
const OTHER_ID: &str = "k2:ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=";

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// An assertion as the edge makes it, for `method` and `path`, issued at `issued_at`.
fn assertion_by(keyring: &str, method: &str, path: &str, issued_at: u64) -> String {
    AssertionKeys::from_keyring(&Keyring::parse(keyring).unwrap()).sign(&Parts {
        token_id: TokenId([7; 16]),
        subject: "alice",
        kind: Kind::Service,
        roles: &["deploy", "read"],
        method,
        path,
        issued_at,
        lifetime: 60,
    })
}

fn assertion(method: &str, path: &str) -> String {
    assertion_by(KEYRING, method, path, now())
}

/// What the origin holds: only the exported assertion keys.
fn origin_keys() -> AssertionKeys {
    AssertionKeys::parse(&AssertionKeys::export(&Keyring::parse(KEYRING).unwrap())).unwrap()
}

async fn echo(
    State(calls): State<Arc<AtomicUsize>>,
    Extension(caller): Extension<Identity>,
    headers: HeaderMap,
) -> Json<Value> {
    calls.fetch_add(1, Ordering::SeqCst);
    let tollgate_headers: Vec<&str> = headers
        .keys()
        .map(|n| n.as_str())
        .filter(|n| n.starts_with("x-tollgate"))
        .collect();
    Json(json!({
        "subject": caller.subject,
        "roles": caller.roles,
        "kind": caller.kind.as_str(),
        "token_id": caller.token_id.to_string(),
        "lifetime": caller.expires_at - caller.issued_at,
        "tollgate_headers": tollgate_headers,
    }))
}

/// An origin locked to the edge; counts the requests its handler sees.
struct Origin {
    calls: Arc<AtomicUsize>,
    layer: AssertionLayer,
}

impl Origin {
    fn new() -> Self {
        Origin {
            calls: Arc::default(),
            layer: AssertionLayer::new(origin_keys()),
        }
    }

    fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }

    async fn send(&self, request: Request<Body>) -> (StatusCode, HeaderMap, Value) {
        let app = Router::new()
            .route("/deploy/{app}", any(echo))
            .fallback(echo)
            .with_state(Arc::clone(&self.calls))
            .layer(self.layer.clone());
        let response = app.oneshot(request).await.unwrap();
        let (parts, body) = response.into_parts();
        (parts.status, parts.headers, body_json(body).await)
    }

    /// Sends `request`; asserts the layer answered 401 for `error` without calling the handler.
    async fn refuses(&self, request: Request<Body>, error: AssertionError) {
        let before = self.calls();
        let (status, headers, body) = self.send(request).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
        assert_eq!(headers["content-type"], "application/json");
        assert_eq!(headers["cache-control"], "no-store");
        assert_eq!(
            body,
            json!({"error": {"code": error.code().as_str(), "message": error.to_string()}})
        );
        assert_eq!(self.calls(), before, "the handler was not called");
    }
}

async fn body_json(body: Body) -> Value {
    let bytes = axum::body::to_bytes(body, 64 * 1024).await.unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

fn request(method: &str, uri: &str, headers: &[(&str, &str)]) -> Request<Body> {
    let mut builder = Request::builder().method(method).uri(uri);
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    builder.body(Body::empty()).unwrap()
}

#[tokio::test]
async fn a_good_assertion_reaches_the_handler_as_an_identity() {
    let origin = Origin::new();
    let good = assertion("GET", "/deploy/web");
    let (status, headers, body) = origin
        .send(request(
            "GET",
            "/deploy/web?verbose=1",
            &[
                (HEADER, &good),
                ("x-tollgate-subject", "mallory"),
                ("X-Tollgate-Roles", "admin"),
                ("x-tollgate-token-id", "00"),
            ],
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(headers["content-type"], "application/json");
    assert_eq!(
        body,
        json!({
            "subject": "alice",
            "roles": ["deploy", "read"],
            "kind": "service",
            "token_id": TokenId([7; 16]).to_string(),
            "lifetime": 60,
            "tollgate_headers": [],
        })
    );
    assert_eq!(origin.calls(), 1);

    // The fallback is behind the layer too.
    let good = assertion("POST", "/elsewhere");
    let (status, _, body) = origin
        .send(request("POST", "/elsewhere", &[(HEADER, &good)]))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["subject"], "alice");
    assert_eq!(origin.calls(), 2);
}

#[tokio::test]
async fn a_request_without_an_assertion_is_refused() {
    let origin = Origin::new();
    origin
        .refuses(request("GET", "/deploy/web", &[]), AssertionError::Missing)
        .await;
    origin
        .refuses(request("GET", "/nowhere", &[]), AssertionError::Missing)
        .await;
}

#[tokio::test]
async fn forged_identity_headers_alone_are_refused() {
    let origin = Origin::new();
    origin
        .refuses(
            request(
                "GET",
                "/deploy/web",
                &[
                    ("X-Tollgate-Subject", "admin"),
                    ("X-Tollgate-Roles", "admin,deploy"),
                    ("X-Tollgate-Kind", "service"),
                    ("X-Tollgate-Token-Id", "00000000000000000000000000000000"),
                ],
            ),
            AssertionError::Missing,
        )
        .await;
}

#[tokio::test]
async fn an_expired_assertion_is_refused() {
    let origin = Origin::new();
    let old = assertion_by(KEYRING, "GET", "/deploy/web", now() - 3600);
    origin
        .refuses(
            request("GET", "/deploy/web", &[(HEADER, &old)]),
            AssertionError::Expired,
        )
        .await;
}

#[tokio::test]
async fn an_assertion_from_the_future_is_refused_beyond_the_leeway() {
    let early = assertion_by(KEYRING, "GET", "/deploy/web", now() + 30);
    Origin::new()
        .refuses(
            request("GET", "/deploy/web", &[(HEADER, &early)]),
            AssertionError::NotYetValid,
        )
        .await;
    let mut tolerant = Origin::new();
    tolerant.layer = tolerant.layer.leeway(120);
    let (status, _, body) = tolerant
        .send(request("GET", "/deploy/web", &[(HEADER, &early)]))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn an_assertion_made_for_another_request_is_refused() {
    let origin = Origin::new();
    let for_api = assertion("GET", "/deploy/api");
    origin
        .refuses(
            request("GET", "/deploy/web", &[(HEADER, &for_api)]),
            AssertionError::WrongRequest,
        )
        .await;
    let for_get = assertion("GET", "/deploy/web");
    origin
        .refuses(
            request("DELETE", "/deploy/web", &[(HEADER, &for_get)]),
            AssertionError::WrongRequest,
        )
        .await;
    // The path is bound exactly as received: no decoding, no trailing slash.
    for path in ["/deploy/web/", "/deploy/%77eb", "/Deploy/web"] {
        origin
            .refuses(
                request("GET", path, &[(HEADER, &for_get)]),
                AssertionError::WrongRequest,
            )
            .await;
    }
}

#[tokio::test]
async fn a_tampered_assertion_is_refused() {
    let origin = Origin::new();
    let good = assertion("GET", "/deploy/web");
    // A character inside the tag, away from the last (partial) base64 group.
    let at = good.len() - 6;
    let mut tampered = good.clone().into_bytes();
    tampered[at] = if tampered[at] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap();
    origin
        .refuses(
            request("GET", "/deploy/web", &[(HEADER, &tampered)]),
            AssertionError::BadSignature,
        )
        .await;
    for garbage in ["", "x", "not an assertion", "VEdB"] {
        origin
            .refuses(
                request("GET", "/deploy/web", &[(HEADER, garbage)]),
                AssertionError::Malformed,
            )
            .await;
    }
}

#[tokio::test]
async fn an_assertion_signed_with_another_key_is_refused() {
    let origin = Origin::new();
    let forged = assertion_by(OTHER_KEY, "GET", "/deploy/web", now());
    origin
        .refuses(
            request("GET", "/deploy/web", &[(HEADER, &forged)]),
            AssertionError::BadSignature,
        )
        .await;
    let unknown = assertion_by(OTHER_ID, "GET", "/deploy/web", now());
    origin
        .refuses(
            request("GET", "/deploy/web", &[(HEADER, &unknown)]),
            AssertionError::UnknownKey,
        )
        .await;
}

#[tokio::test]
async fn two_assertions_or_one_that_is_not_utf8_count_as_none() {
    let origin = Origin::new();
    let good = assertion("GET", "/deploy/web");
    origin
        .refuses(
            request("GET", "/deploy/web", &[(HEADER, &good), (HEADER, &good)]),
            AssertionError::Missing,
        )
        .await;
    let mut binary = request("GET", "/deploy/web", &[]);
    binary
        .headers_mut()
        .insert(HEADER, HeaderValue::from_bytes(b"\xffTGA\xfe").unwrap());
    origin.refuses(binary, AssertionError::Missing).await;
}

#[test]
fn verify_request_checks_headers_for_any_stack() {
    let keys = origin_keys();
    let mut headers = HeaderMap::new();
    let check = |headers: &HeaderMap, method: &Method, path: &str| {
        verify_request(&keys, headers, method, path, now(), 5)
    };
    assert_eq!(
        check(&headers, &Method::PUT, "/a"),
        Err(AssertionError::Missing)
    );
    headers.insert(
        "x-TOLLGATE-assertion",
        assertion("PUT", "/a").parse().unwrap(),
    );
    let caller = check(&headers, &Method::PUT, "/a").unwrap();
    assert_eq!(
        (caller.subject.as_str(), caller.kind),
        ("alice", Kind::Service)
    );
    assert!(caller.has_role("deploy") && !caller.has_role("admin"));
    assert_eq!(
        check(&headers, &Method::GET, "/a"),
        Err(AssertionError::WrongRequest)
    );
}

/// The layer over a plain `tower` service with `http` types, as a hyper origin would have it.
#[tokio::test]
async fn the_layer_wraps_any_http_service() {
    use bytes::Bytes;
    use tower::{Layer, service_fn};

    let inner = service_fn(|request: Request<()>| async move {
        let who = request
            .extensions()
            .get::<Identity>()
            .map_or("nobody".to_owned(), |i| i.subject.clone());
        Ok::<_, Infallible>(Response::new(Bytes::from(who)))
    });
    let service = AssertionLayer::new(origin_keys()).layer(inner);

    let good = assertion("GET", "/svc");
    let mut ok = Request::builder().uri("http://origin.test/svc?q=1");
    ok = ok.header(HEADER, good);
    let response = service.clone().oneshot(ok.body(()).unwrap()).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.body(), "alice");

    let forged = Request::builder()
        .uri("/svc")
        .header("x-tollgate-subject", "alice")
        .body(())
        .unwrap();
    let response = service.oneshot(forged).await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let body: Value = serde_json::from_slice(response.body()).unwrap();
    assert_eq!(body["error"]["code"], "missing_assertion");
}
