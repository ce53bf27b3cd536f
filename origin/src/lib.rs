//! Locks an origin to the Tollgate edge.
//!
//! The edge adds to every request it forwards an `X-Tollgate-Assertion` header: a short-lived
//! statement of who called (subject, roles, kind, token id), bound to the request's method and
//! path and signed with a key derived for this purpose only (see [`tollgate_shared::assertion`]).
//! Plain `X-Tollgate-Subject`-style headers prove nothing to an origin that can also be reached
//! around the edge; the assertion does. The origin holds only the derived assertion keys, the
//! output of `tollgate keys derive-origin`, read from `TOLLGATE_ORIGIN_KEYS`: they check
//! assertions but can neither mint tokens nor sign revocation lists.
//!
//! - [`verify_request`] checks one request's headers, whatever the HTTP stack.
//! - [`AssertionLayer`] is a `tower` layer for origins built on `http` 1.x types (axum, hyper):
//!   it checks every request against the system clock, hands the verified [`Identity`] to the
//!   inner service as a request extension, removes every incoming `X-Tollgate-*` header (so the
//!   extension is the only source of identity), and answers anything else with 401 without
//!   calling the inner service:
//!
//!   ```text
//!   401 Unauthorized
//!   Content-Type: application/json
//!   Cache-Control: no-store
//!
//!   {"error":{"code":"missing_assertion","message":"the request carries no identity assertion"}}
//!   ```
//!   The codes are [`AssertionError::code`]'s: `missing_assertion`, `malformed`, `unknown_key`,
//!   `bad_signature`, `wrong_request`, `expired`, `not_yet_valid`.
//!
//! # Locking an axum origin to the edge
//!
//! ```no_run
//! use axum::routing::get;
//! use axum::{Extension, Router};
//! use tollgate_origin::{AssertionLayer, Identity};
//!
//! async fn hello(Extension(caller): Extension<Identity>) -> String {
//!     let admin = if caller.has_role("admin") { " (admin)" } else { "" };
//!     format!("hello, {}{admin}\n", caller.subject)
//! }
//!
//! #[tokio::main]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     // TOLLGATE_ORIGIN_KEYS=$(TOLLGATE_KEYS=... tollgate keys derive-origin)
//!     let gate = AssertionLayer::from_env()?;
//!     let app = Router::new()
//!         .route("/hello", get(hello))
//!         .fallback(|| async { "nothing here\n" })
//!         // Last, on the outermost router: every route and the fallback sit behind the gate.
//!         .layer(gate);
//!     let listener = tokio::net::TcpListener::bind("127.0.0.1:8081").await?;
//!     axum::serve(listener, app).await?;
//!     Ok(())
//! }
//! ```
//!
//! The assertion is bound to the path exactly as the origin receives it (`uri.path()`, without
//! the query). Apply the layer where the request still has that path: on the outermost router,
//! not inside a `Router::nest` (which strips the prefix from the path its routes see), and not
//! behind a proxy that rewrites paths. The edge includes the origin URL's base path in what it
//! signs, so an origin mounted under a prefix needs nothing special.
//!
//! Keep the origin's clock synchronised: an assertion lives about a minute, and the layer
//! tolerates [`DEFAULT_LEEWAY_SECONDS`] of difference unless told otherwise
//! ([`AssertionLayer::leeway`]).

use std::ffi::OsString;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http::header::{CACHE_CONTROL, CONTENT_TYPE};
use http::{HeaderMap, HeaderName, HeaderValue, Method, Request, Response, StatusCode};
use pin_project_lite::pin_project;
use tollgate_shared::KeyringError;
use tower_layer::Layer;
use tower_service::Service;

pub use tollgate_shared::assertion::{
    AssertionError, AssertionKeys, DEFAULT_LEEWAY_SECONDS, HEADER, Identity,
};
pub use tollgate_shared::{Kind, TokenId};

/// The environment variable [`AssertionLayer::from_env`] reads: the output of
/// `tollgate keys derive-origin`, `id:base64key,...`.
pub const KEYS_VAR: &str = "TOLLGATE_ORIGIN_KEYS";

/// [`HEADER`] as a header name.
const ASSERTION: HeaderName = HeaderName::from_static("x-tollgate-assertion");
/// Every header with this prefix is removed from a verified request.
const TOLLGATE_PREFIX: &str = "x-tollgate-";

/// Checks the edge's assertion in `headers` for a request with `method` and `path` (the request
/// URI's path exactly as received, `uri.path()`) at `now` (Unix seconds), tolerating clocks
/// `leeway` seconds apart.
///
/// [`AssertionError::Missing`] when the header is absent, not UTF-8, or given more than once.
pub fn verify_request(
    keys: &AssertionKeys,
    headers: &HeaderMap,
    method: &Method,
    path: &str,
    now: u64,
    leeway: u64,
) -> Result<Identity, AssertionError> {
    let mut values = headers.get_all(&ASSERTION).iter();
    let (Some(value), None) = (values.next(), values.next()) else {
        return Err(AssertionError::Missing);
    };
    let text = value.to_str().map_err(|_| AssertionError::Missing)?;
    keys.verify(text, method.as_str(), path, now, leeway)
}

/// The 401 answer to a refused request: `Content-Type: application/json`,
/// `Cache-Control: no-store`, body `{"error":{"code":"...","message":"..."}}`.
pub fn refusal<B: From<Bytes>>(error: AssertionError) -> Response<B> {
    let body = format!(
        r#"{{"error":{{"code":"{}","message":"{}"}}}}"#,
        json_escape(error.code().as_str()),
        json_escape(&error.to_string())
    );
    let mut response = Response::new(B::from(Bytes::from(body)));
    *response.status_mut() = StatusCode::UNAUTHORIZED;
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn json_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if u32::from(c) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out
}

/// Removes every `X-Tollgate-*` header, the assertion included.
fn strip_tollgate_headers(headers: &mut HeaderMap) {
    let names: Vec<HeaderName> = headers
        .keys()
        .filter(|name| name.as_str().starts_with(TOLLGATE_PREFIX))
        .cloned()
        .collect();
    for name in names {
        headers.remove(&name);
    }
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Why [`AssertionLayer::from_env`] could not read the origin's keys. The messages name the
/// variable and never repeat its value.
#[derive(Debug, thiserror::Error)]
pub enum KeysError {
    /// The variable is unset or blank.
    #[error(
        "TOLLGATE_ORIGIN_KEYS is not set: give the origin the output of `tollgate keys derive-origin`"
    )]
    Missing,
    /// The variable is not UTF-8.
    #[error("TOLLGATE_ORIGIN_KEYS is not valid UTF-8")]
    NotUnicode,
    /// The variable does not parse as assertion keys.
    #[error(
        "TOLLGATE_ORIGIN_KEYS is invalid: {0} (expected the output of `tollgate keys derive-origin`)"
    )]
    Invalid(#[source] KeyringError),
}

/// A `tower` layer that admits only requests carrying a good edge assertion (see the
/// [crate documentation](crate)).
#[derive(Debug, Clone)]
pub struct AssertionLayer {
    keys: Arc<AssertionKeys>,
    leeway: u64,
}

impl AssertionLayer {
    /// A layer checking assertions with `keys`, tolerating [`DEFAULT_LEEWAY_SECONDS`] of clock
    /// difference.
    pub fn new(keys: AssertionKeys) -> Self {
        AssertionLayer {
            keys: Arc::new(keys),
            leeway: DEFAULT_LEEWAY_SECONDS,
        }
    }

    /// A layer with the keys in [`KEYS_VAR`] (`TOLLGATE_ORIGIN_KEYS`).
    pub fn from_env() -> Result<Self, KeysError> {
        Self::from_var(std::env::var_os(KEYS_VAR))
    }

    fn from_var(value: Option<OsString>) -> Result<Self, KeysError> {
        let value = value.ok_or(KeysError::Missing)?;
        let text = value.to_str().ok_or(KeysError::NotUnicode)?;
        if text.trim().is_empty() {
            return Err(KeysError::Missing);
        }
        AssertionKeys::parse(text)
            .map(Self::new)
            .map_err(KeysError::Invalid)
    }

    /// Tolerates clocks `seconds` apart (default [`DEFAULT_LEEWAY_SECONDS`]).
    pub fn leeway(mut self, seconds: u64) -> Self {
        self.leeway = seconds;
        self
    }
}

impl<S> Layer<S> for AssertionLayer {
    type Service = AssertionService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        AssertionService {
            inner,
            keys: Arc::clone(&self.keys),
            leeway: self.leeway,
        }
    }
}

/// The service [`AssertionLayer`] makes: passes requests with a good assertion on to `S`, with
/// the [`Identity`] in their extensions and no `X-Tollgate-*` headers; answers the rest with
/// [`refusal`].
#[derive(Debug, Clone)]
pub struct AssertionService<S> {
    inner: S,
    keys: Arc<AssertionKeys>,
    leeway: u64,
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for AssertionService<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    ResBody: From<Bytes>,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<ReqBody>) -> Self::Future {
        let checked = verify_request(
            &self.keys,
            request.headers(),
            request.method(),
            request.uri().path(),
            unix_now(),
            self.leeway,
        );
        let state = match checked {
            Ok(identity) => {
                strip_tollgate_headers(request.headers_mut());
                request.extensions_mut().insert(identity);
                State::Inner {
                    future: self.inner.call(request),
                }
            }
            Err(error) => State::Refused { error },
        };
        ResponseFuture { state }
    }
}

pin_project! {
    #[project = StateProj]
    enum State<F> {
        Inner { #[pin] future: F },
        Refused { error: AssertionError },
    }
}

pin_project! {
    /// The response future of [`AssertionService`].
    pub struct ResponseFuture<F> {
        #[pin]
        state: State<F>,
    }
}

impl<F, B, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response<B>, E>>,
    B: From<Bytes>,
{
    type Output = Result<Response<B>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().state.project() {
            StateProj::Inner { future } => future.poll(cx),
            StateProj::Refused { error } => Poll::Ready(Ok(refusal(*error))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEYRING: &str = "k1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

    #[test]
    fn the_header_name_matches_the_shared_constant() {
        assert_eq!(ASSERTION.as_str(), HEADER.to_ascii_lowercase());
        assert!(ASSERTION.as_str().starts_with(TOLLGATE_PREFIX));
    }

    #[test]
    fn keys_come_from_the_variable() {
        let keyring = tollgate_shared::Keyring::parse(KEYRING).unwrap();
        let exported = AssertionKeys::export(&keyring);
        let layer = AssertionLayer::from_var(Some(exported.into())).unwrap();
        assert_eq!(layer.leeway, DEFAULT_LEEWAY_SECONDS);
        assert_eq!(layer.leeway(30).leeway, 30);

        for missing in [None, Some(""), Some("  \n")] {
            let err = AssertionLayer::from_var(missing.map(OsString::from)).unwrap_err();
            assert!(matches!(err, KeysError::Missing), "{missing:?}");
            assert!(err.to_string().contains(KEYS_VAR));
        }
        // A keyring entry of the wrong length, and garbage: named, never repeated.
        for bad in ["k1:c2VjcmV0LXNlY3JldC1zZWNyZXQ=", "k1:c2VjcmV0!!!"] {
            let err = AssertionLayer::from_var(Some(bad.into())).unwrap_err();
            let text = err.to_string();
            assert!(matches!(err, KeysError::Invalid(_)), "{text}");
            assert!(text.contains(KEYS_VAR), "{text}");
            assert!(!text.contains("c2Vj"), "{text}");
        }
    }

    #[cfg(unix)]
    #[test]
    fn a_variable_that_is_not_utf8_is_refused() {
        use std::os::unix::ffi::OsStringExt;
        let err = AssertionLayer::from_var(Some(OsString::from_vec(vec![0xff, b'k']))).unwrap_err();
        assert!(matches!(err, KeysError::NotUnicode));
        assert!(err.to_string().contains(KEYS_VAR));
    }

    #[test]
    fn refusals_are_json() {
        assert_eq!(json_escape("a\"b\\c\n"), "a\\\"b\\\\c\\u000a");
        let response: Response<Bytes> = refusal(AssertionError::Expired);
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(response.headers()[CONTENT_TYPE], "application/json");
        assert_eq!(response.headers()[CACHE_CONTROL], "no-store");
        assert_eq!(
            response.body(),
            r#"{"error":{"code":"expired","message":"the identity assertion has expired"}}"#
        );
    }

    #[test]
    fn only_tollgate_headers_are_stripped() {
        let mut headers = HeaderMap::new();
        headers.insert("x-tollgate-subject", HeaderValue::from_static("mallory"));
        headers.append("X-Tollgate-Roles", HeaderValue::from_static("admin"));
        headers.append("x-tollgate-roles", HeaderValue::from_static("root"));
        headers.insert("x-tollgatex", HeaderValue::from_static("kept"));
        headers.insert("accept", HeaderValue::from_static("*/*"));
        strip_tollgate_headers(&mut headers);
        let mut left: Vec<&str> = headers.keys().map(HeaderName::as_str).collect();
        left.sort_unstable();
        assert_eq!(left, ["accept", "x-tollgatex"]);
    }
}
