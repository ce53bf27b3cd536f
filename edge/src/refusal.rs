//! Every answer the edge gives itself instead of the origin's, as plain data.
//!
//! Refusals follow RFC 6750: 401 with `WWW-Authenticate: Bearer realm="tollgate", error="invalid_token",
//! error_description="<why>"`, 403 `insufficient_scope` with the `scope` the route needs, 400
//! `invalid_request`. Bodies are JSON, `{"error":{"code":"...","message":"..."}}`, and never echo the token.

use serde_json::json;
use tollgate_shared::{ErrorCode, VerifyError};

use crate::bearer::InvalidRequest;
use crate::limit::{Limit, Verdict};
use crate::path::AmbiguousPath;

/// The realm named in `WWW-Authenticate`.
pub const REALM: &str = "tollgate";

/// Why the edge answers itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// No bearer token on a route that needs one (401, no `error` attribute, RFC 6750 §3.1).
    MissingToken,
    /// The token failed verification (401 `invalid_token`).
    InvalidToken(VerifyError),
    /// The token lacks roles the route requires (403 `insufficient_scope`); the roles, ascending.
    InsufficientScope(Vec<String>),
    /// A malformed request (400 `invalid_request`).
    InvalidRequest(InvalidRequest),
    /// A path that could mean two things once decoded (400 `ambiguous_path`); never forwarded.
    AmbiguousPath(AmbiguousPath),
    /// No revocation list fresh enough to verify against (503, fail closed).
    ListUnavailable {
        /// Seconds for `Retry-After`.
        retry_after: u64,
    },
    /// The worker's configuration is wrong (500); the message names the setting.
    BadConfiguration(String),
    /// The origin could not be reached (502).
    OriginUnreachable,
    /// The token is over the route's limit (429, with `Retry-After` and the `RateLimit` headers).
    RateLimited {
        /// The limit.
        limit: Limit,
        /// The limiter's answer.
        verdict: Verdict,
    },
    /// A method the endpoint does not serve (405); the allowed methods.
    MethodNotAllowed(&'static str),
    /// The runtime failed to build a request or response (500); details go to the log only.
    Internal,
}

/// A complete response the edge produces itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// Headers, in order.
    pub headers: Vec<(&'static str, String)>,
    /// JSON body.
    pub body: String,
}

impl Reply {
    /// A JSON reply that is never cached.
    pub fn json(status: u16, body: String) -> Reply {
        Reply {
            status,
            headers: vec![
                ("Content-Type", "application/json".into()),
                ("Cache-Control", "no-store".into()),
            ],
            body,
        }
    }

    /// The value of header `name` (case-insensitive), if present.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

impl Refusal {
    /// The HTTP status.
    pub fn status(&self) -> u16 {
        self.code().status()
    }

    /// The stable `code` of the JSON body.
    pub fn code(&self) -> ErrorCode {
        match self {
            Refusal::MissingToken => ErrorCode::MissingToken,
            Refusal::InvalidToken(e) => e.code(),
            Refusal::InsufficientScope(_) => ErrorCode::InsufficientScope,
            Refusal::InvalidRequest(e) => e.code(),
            Refusal::AmbiguousPath(_) => ErrorCode::AmbiguousPath,
            Refusal::ListUnavailable { .. } => ErrorCode::RevocationListUnavailable,
            Refusal::BadConfiguration(_) => ErrorCode::BadConfiguration,
            Refusal::OriginUnreachable => ErrorCode::OriginUnreachable,
            Refusal::MethodNotAllowed(_) => ErrorCode::MethodNotAllowed,
            Refusal::RateLimited { .. } => ErrorCode::RateLimited,
            Refusal::Internal => ErrorCode::Internal,
        }
    }

    /// The human-readable `message` of the JSON body.
    pub fn message(&self) -> String {
        match self {
            Refusal::MissingToken => "this route needs a bearer token in the Authorization header".into(),
            Refusal::InvalidToken(e) => e.to_string(),
            Refusal::InsufficientScope(roles) => format!("this route needs the role(s): {}", roles.join(", ")),
            Refusal::InvalidRequest(e) => e.to_string(),
            Refusal::AmbiguousPath(e) => e.to_string(),
            Refusal::ListUnavailable { .. } => {
                "the revocation list could not be refreshed recently enough to verify tokens; retry later".into()
            }
            Refusal::BadConfiguration(problem) => format!("the gateway is misconfigured: {problem}"),
            Refusal::OriginUnreachable => "the origin could not be reached".into(),
            Refusal::MethodNotAllowed(allow) => format!("this endpoint only serves {allow}"),
            Refusal::RateLimited { limit, verdict } => format!(
                "this token is over its limit of {} requests per {} seconds on this route; retry in {} seconds",
                limit.requests,
                limit.period_s,
                verdict.reset_s()
            ),
            Refusal::Internal => "the gateway failed to handle the request".into(),
        }
    }

    /// The `WWW-Authenticate` challenge, for 400, 401 and 403.
    pub fn challenge(&self) -> Option<String> {
        let realm = format!("Bearer realm=\"{REALM}\"");
        match self {
            Refusal::MissingToken => Some(realm),
            Refusal::InvalidToken(e) => Some(format!(
                "{realm}, error=\"invalid_token\", error_description=\"{}\"",
                e.code()
            )),
            Refusal::InsufficientScope(roles) => Some(format!(
                "{realm}, error=\"insufficient_scope\", scope=\"{}\"",
                roles.join(" ")
            )),
            Refusal::InvalidRequest(e) => Some(format!(
                "{realm}, error=\"invalid_request\", error_description=\"{}\"",
                e.code()
            )),
            _ => None,
        }
    }

    /// The whole response.
    pub fn reply(&self) -> Reply {
        let body =
            json!({"error": {"code": self.code().as_str(), "message": self.message()}}).to_string();
        let mut reply = Reply::json(self.status(), body);
        if let Some(challenge) = self.challenge() {
            reply.headers.push(("WWW-Authenticate", challenge));
        }
        match self {
            Refusal::ListUnavailable { retry_after } => {
                reply.headers.push(("Retry-After", retry_after.to_string()))
            }
            Refusal::MethodNotAllowed(allow) => reply.headers.push(("Allow", (*allow).to_owned())),
            Refusal::RateLimited { limit, verdict } => {
                reply
                    .headers
                    .push(("Retry-After", verdict.reset_s().to_string()));
                reply.headers.extend(verdict.headers(*limit));
            }
            _ => {}
        }
        reply
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    fn body(r: &Reply) -> serde_json::Value {
        serde_json::from_str(&r.body).unwrap()
    }

    #[test]
    fn missing_token_is_a_bare_challenge() {
        let r = Refusal::MissingToken.reply();
        assert_eq!(r.status, 401);
        assert_eq!(
            r.header("www-authenticate"),
            Some("Bearer realm=\"tollgate\"")
        );
        assert_eq!(body(&r)["error"]["code"], "missing_token");
        assert_eq!(r.header("content-type"), Some("application/json"));
        assert_eq!(r.header("cache-control"), Some("no-store"));
    }

    #[test]
    fn invalid_tokens_name_the_failed_check() {
        for e in VerifyError::ALL {
            let r = Refusal::InvalidToken(e).reply();
            assert_eq!(r.status, 401);
            assert_eq!(
                r.header("WWW-Authenticate").unwrap(),
                format!(
                    "Bearer realm=\"tollgate\", error=\"invalid_token\", error_description=\"{}\"",
                    e.code()
                )
            );
            assert_eq!(body(&r)["error"]["code"], e.code().as_str());
            assert_eq!(body(&r)["error"]["message"], e.to_string());
        }
    }

    #[test]
    fn insufficient_scope_lists_the_roles() {
        let r = Refusal::InsufficientScope(vec!["admin".into(), "reports:read".into()]).reply();
        assert_eq!(r.status, 403);
        assert_eq!(
            r.header("WWW-Authenticate"),
            Some(
                "Bearer realm=\"tollgate\", error=\"insufficient_scope\", scope=\"admin reports:read\""
            )
        );
        assert_eq!(body(&r)["error"]["code"], "insufficient_scope");
        assert!(
            body(&r)["error"]["message"]
                .as_str()
                .unwrap()
                .contains("reports:read")
        );
    }

    #[test]
    fn invalid_requests_are_400() {
        for e in [
            InvalidRequest::MalformedHeader,
            InvalidRequest::TokenInQuery,
        ] {
            let r = Refusal::InvalidRequest(e).reply();
            assert_eq!(r.status, 400);
            assert!(
                r.header("WWW-Authenticate")
                    .unwrap()
                    .contains("error=\"invalid_request\"")
            );
            assert_eq!(body(&r)["error"]["code"], e.code().as_str());
        }
    }

    #[test]
    fn unavailable_list_fails_closed_with_retry_after() {
        let r = Refusal::ListUnavailable { retry_after: 3 }.reply();
        assert_eq!(r.status, 503);
        assert_eq!(r.header("Retry-After"), Some("3"));
        assert_eq!(r.header("WWW-Authenticate"), None);
        assert_eq!(body(&r)["error"]["code"], "revocation_list_unavailable");
    }

    #[test]
    fn other_refusals() {
        let r = Refusal::BadConfiguration("TOLLGATE_POLICY: rule 2: bad".into()).reply();
        assert_eq!(
            (r.status, body(&r)["error"]["code"].as_str()),
            (500, Some("bad_configuration"))
        );
        assert!(
            body(&r)["error"]["message"]
                .as_str()
                .unwrap()
                .contains("TOLLGATE_POLICY")
        );
        let r = Refusal::OriginUnreachable.reply();
        assert_eq!(
            (r.status, body(&r)["error"]["code"].as_str()),
            (502, Some("origin_unreachable"))
        );
        let r = Refusal::MethodNotAllowed("GET, HEAD").reply();
        assert_eq!((r.status, r.header("Allow")), (405, Some("GET, HEAD")));
        let r = Refusal::Internal.reply();
        assert_eq!(
            (r.status, body(&r)["error"]["code"].as_str()),
            (500, Some("internal"))
        );
    }

    #[test]
    fn messages_with_quotes_stay_valid_json() {
        let r = Refusal::BadConfiguration("TOLLGATE_POLICY: \"quoted\" \\ text".into()).reply();
        assert!(
            body(&r)["error"]["message"]
                .as_str()
                .unwrap()
                .contains("\"quoted\"")
        );
    }

    #[test]
    fn over_the_limit_is_429_with_the_rate_limit_headers() {
        let r = Refusal::RateLimited {
            limit: Limit {
                requests: 5,
                period_s: 10,
            },
            verdict: Verdict {
                granted: 0,
                remaining: 0,
                reset_ms: 3_200,
            },
        }
        .reply();
        assert_eq!(r.status, 429);
        assert_eq!(body(&r)["error"]["code"], "rate_limited");
        assert_eq!(r.header("retry-after"), Some("4"));
        assert_eq!(r.header("ratelimit-policy"), Some("\"token\";q=5;w=10"));
        assert_eq!(r.header("ratelimit"), Some("\"token\";r=0;t=4"));
        assert_eq!(r.header("www-authenticate"), None);
    }
}
