//! The console's session: a login session token in an `HttpOnly`, `SameSite=Strict` cookie, and
//! the CSRF token every form carries, derived from the session token so it needs no storage.
//!
//! The session is the same token `POST /api/v1/login` hands out, checked by the same
//! [`authenticate`] every API call goes through: revoking it (sign-out, a password reset, an
//! admin) ends the console session as well.

use axum::extract::FromRequestParts;
use axum::http::header::COOKIE;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Uri};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use tollgate_shared::Kind;
use tollgate_shared::token::is_b64token;

use super::Refused;
use crate::auth::{Caller, authenticate};
use crate::state::AppState;

/// The cookie holding the session token.
pub const SESSION_COOKIE: &str = "tollgate_session";
/// The cookie holding the sign-in form's CSRF secret (before there is a session).
pub const LOGIN_COOKIE: &str = "tollgate_login";
/// The form field carrying the CSRF token.
pub const CSRF_FIELD: &str = "csrf";

/// The value of cookie `name` in `headers`.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim())
}

/// True if the request reached us over https: directly, or through a proxy that says so.
pub fn is_https(headers: &HeaderMap, uri: &Uri) -> bool {
    if uri.scheme_str() == Some("https") {
        return true;
    }
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_ascii_lowercase)
    };
    if let Some(proto) = header("x-forwarded-proto") {
        if proto.split(',').next().map(str::trim) == Some("https") {
            return true;
        }
    }
    header("forwarded").is_some_and(|f| {
        f.split([';', ','])
            .any(|p| p.trim().trim_matches('"') == "proto=https")
    })
}

/// A `Set-Cookie` value: `HttpOnly`, `SameSite=Strict`, `Secure` over https.
pub fn set_cookie(name: &str, value: &str, path: &str, max_age: i64, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    let text = format!(
        "{name}={value}; Path={path}; Max-Age={}; HttpOnly; SameSite=Strict{secure}",
        max_age.max(0)
    );
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// The CSRF token of a session (or of the sign-in form's secret): a hash of the secret under a
/// label of its own, so it reveals nothing of the secret and is worthless without the cookie.
pub fn csrf_token(secret: &str) -> String {
    let mut hash = Sha256::new();
    hash.update(b"tollgate/console-csrf/v1\0");
    hash.update(secret.as_bytes());
    URL_SAFE_NO_PAD.encode(hash.finalize())
}

/// True if `given` is the CSRF token of `secret` (compared in constant time).
pub fn csrf_matches(secret: &str, given: Option<&str>) -> bool {
    let expected = csrf_token(secret);
    given.is_some_and(|g| bool::from(g.as_bytes().ct_eq(expected.as_bytes())))
}

/// A random secret for the sign-in form (128 bits).
pub fn random_secret() -> String {
    let mut bytes = [0u8; 16];
    if getrandom::fill(&mut bytes).is_err() {
        // Without randomness the form cannot be protected; an empty secret never matches.
        return String::new();
    }
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The signed-in person of a console request: the caller the session token authenticates as.
#[derive(Clone)]
pub struct Viewer {
    pub caller: Caller,
    /// The CSRF token the pages put in every form.
    pub csrf: String,
    /// The console is served over https (cookies get `Secure`).
    pub secure: bool,
    /// `http(s)://host` as the browser reached us, for the `curl` lines.
    pub base_url: String,
    session: String,
}

impl Viewer {
    /// Refuses (403) a form without this session's CSRF token.
    pub fn check_csrf(&self, given: Option<&str>) -> Result<(), Refused> {
        if csrf_matches(&self.session, given) {
            Ok(())
        } else {
            Err(Refused::csrf())
        }
    }

    /// True if the signed-in session carries `admin`.
    pub fn is_admin(&self) -> bool {
        self.caller.is_admin()
    }
}

/// `http(s)://host` of a request.
pub fn base_url(headers: &HeaderMap, uri: &Uri) -> String {
    let scheme = if is_https(headers, uri) {
        "https"
    } else {
        "http"
    };
    let host = headers
        .get(axum::http::header::HOST)
        .and_then(|v| v.to_str().ok())
        .or_else(|| uri.authority().map(|a| a.as_str()))
        .unwrap_or("127.0.0.1");
    format!("{scheme}://{host}")
}

impl FromRequestParts<AppState> for Viewer {
    type Rejection = Refused;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Refused> {
        let token = cookie(&parts.headers, SESSION_COOKIE)
            .filter(|t| is_b64token(t))
            .ok_or(Refused::SignIn)?
            .to_owned();
        let caller = authenticate(state, &token)
            .await
            .map_err(|_| Refused::SignIn)?;
        if caller.kind != Kind::Session {
            return Err(Refused::SignIn);
        }
        Ok(Viewer {
            csrf: csrf_token(&token),
            secure: is_https(&parts.headers, &parts.uri),
            base_url: base_url(&parts.headers, &parts.uri),
            caller,
            session: token,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csrf_tokens_are_bound_to_their_secret() {
        let a = csrf_token("tg_session_a");
        assert_eq!(a, csrf_token("tg_session_a"));
        assert_ne!(a, csrf_token("tg_session_b"));
        assert!(csrf_matches("tg_session_a", Some(&a)));
        assert!(!csrf_matches("tg_session_b", Some(&a)));
        assert!(!csrf_matches("tg_session_a", None));
        assert!(!csrf_matches("tg_session_a", Some("")));
    }

    #[test]
    fn cookies_are_read_by_name() {
        let mut h = HeaderMap::new();
        h.insert(
            COOKIE,
            HeaderValue::from_static("a=1; tollgate_session=xyz; b=2"),
        );
        assert_eq!(cookie(&h, SESSION_COOKIE), Some("xyz"));
        assert_eq!(cookie(&h, "c"), None);
    }

    #[test]
    fn https_is_recognised_through_proxies() {
        let uri: Uri = "/tokens".parse().unwrap();
        let mut h = HeaderMap::new();
        assert!(!is_https(&h, &uri));
        h.insert("x-forwarded-proto", HeaderValue::from_static("https"));
        assert!(is_https(&h, &uri));
        let mut h = HeaderMap::new();
        h.insert(
            "forwarded",
            HeaderValue::from_static("for=1.2.3.4;proto=https"),
        );
        assert!(is_https(&h, &uri));
        let v = set_cookie(SESSION_COOKIE, "t", "/", 60, true);
        let v = v.to_str().unwrap();
        assert!(v.contains("HttpOnly") && v.contains("SameSite=Strict") && v.contains("Secure"));
    }
}
