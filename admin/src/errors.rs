//! The API's error type and its JSON form, `{"error": {"code": "...", "message": "..."}}`.
//!
//! Codes are stable snake_case strings; messages are for people and never hold
//! token text, keys or passwords.

use std::borrow::Cow;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::store::StoreError;

/// An error answered to the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: Cow<'static, str>,
}

impl ApiError {
    /// An error with any status.
    pub fn new(
        status: StatusCode,
        code: &'static str,
        message: impl Into<Cow<'static, str>>,
    ) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
        }
    }

    /// 400: the request itself is malformed.
    pub fn bad_request(code: &'static str, message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    /// 401: no usable credentials.
    pub fn unauthorized(code: &'static str, message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, code, message)
    }

    /// 403: authenticated, but not allowed.
    pub fn forbidden(code: &'static str, message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::FORBIDDEN, code, message)
    }

    /// 404 with code `not_found`.
    pub fn not_found(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    /// 409: conflicts with the current state.
    pub fn conflict(code: &'static str, message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::CONFLICT, code, message)
    }

    /// 422: well-formed, but a value is not acceptable.
    pub fn invalid(code: &'static str, message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, code, message)
    }

    /// 500: our fault; details go to the log, not the caller.
    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "internal error; see the server log",
        )
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {}: {}",
            self.status.as_u16(),
            self.code,
            self.message
        )
    }
}

impl std::error::Error for ApiError {}

/// The JSON form of every error.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Error)]
pub struct ErrorBody<'a> {
    pub error: ErrorDetail<'a>,
}

/// What went wrong.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail<'a> {
    /// Stable, snake_case.
    #[schema(pattern = "^[a-z][a-z0-9_]*$")]
    pub code: &'a str,
    /// For people.
    pub message: &'a str,
}

/// The JSON error body for `status`, `code` and `message`.
pub fn error_response(status: StatusCode, code: &str, message: &str) -> Response {
    let body = ErrorBody {
        error: ErrorDetail { code, message },
    };
    let mut response = (status, axum::Json(body)).into_response();
    if let Some(challenge) = challenge(status, code) {
        if let Ok(v) = HeaderValue::from_str(&challenge) {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, v);
        }
    }
    response
}

/// The RFC 6750 challenge for an answer, as the edge gives it: no `error` when no credentials
/// came (or a password login failed, which is not a bearer token), `invalid_token` for a token
/// that failed a check, `invalid_request` for a malformed `Authorization` header, and
/// `insufficient_scope` for a caller who may not do this.
fn challenge(status: StatusCode, code: &str) -> Option<String> {
    const REALM: &str = "Bearer realm=\"tollgate\"";
    match status {
        StatusCode::UNAUTHORIZED if matches!(code, "unauthenticated" | "invalid_credentials") => {
            Some(REALM.to_owned())
        }
        StatusCode::UNAUTHORIZED => Some(format!(
            "{REALM}, error=\"invalid_token\", error_description=\"{code}\""
        )),
        StatusCode::BAD_REQUEST if code == "invalid_request" => {
            Some(format!("{REALM}, error=\"invalid_request\""))
        }
        StatusCode::FORBIDDEN => Some(format!(
            "{REALM}, error=\"insufficient_scope\", error_description=\"{code}\""
        )),
        _ => None,
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        error_response(self.status, self.code, &self.message)
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        tracing::error!(error = %e, "store error");
        ApiError::internal()
    }
}

/// The error code used for a bare status produced outside the handlers (routing, limits, timeouts).
pub fn code_for_status(status: StatusCode) -> &'static str {
    match status {
        StatusCode::BAD_REQUEST => "bad_request",
        StatusCode::UNAUTHORIZED => "unauthenticated",
        StatusCode::FORBIDDEN => "forbidden",
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::REQUEST_TIMEOUT => "timeout",
        StatusCode::PAYLOAD_TOO_LARGE => "body_too_large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        StatusCode::UNPROCESSABLE_ENTITY => "invalid",
        StatusCode::TOO_MANY_REQUESTS => "too_many_requests",
        StatusCode::SERVICE_UNAVAILABLE => "unavailable",
        s if s.is_client_error() => "bad_request",
        _ => "internal",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn renders_the_conventional_body() {
        let response =
            ApiError::conflict("name_taken", "a token with this name exists").into_response();
        assert_eq!(response.status(), StatusCode::CONFLICT);
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 16)
            .await
            .unwrap();
        let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(v["error"]["code"], "name_taken");
        assert_eq!(v["error"]["message"], "a token with this name exists");
    }

    #[test]
    fn unauthorized_carries_a_bearer_challenge() {
        let r = ApiError::unauthorized("expired", "the token has expired").into_response();
        let h = r.headers()[header::WWW_AUTHENTICATE].to_str().unwrap();
        assert!(h.starts_with("Bearer ") && h.contains("invalid_token"));
        for code in ["unauthenticated", "invalid_credentials"] {
            let r = ApiError::unauthorized(code, "no token").into_response();
            assert!(
                !r.headers()[header::WWW_AUTHENTICATE]
                    .to_str()
                    .unwrap()
                    .contains("error="),
                "{code}"
            );
        }
        let r = ApiError::forbidden("forbidden", "admins only").into_response();
        assert!(
            r.headers()[header::WWW_AUTHENTICATE]
                .to_str()
                .unwrap()
                .contains("error=\"insufficient_scope\"")
        );
        let r = ApiError::bad_request("invalid_request", "two words").into_response();
        assert!(
            r.headers()[header::WWW_AUTHENTICATE]
                .to_str()
                .unwrap()
                .contains("error=\"invalid_request\"")
        );
        let r = ApiError::bad_request("invalid_body", "x").into_response();
        assert!(!r.headers().contains_key(header::WWW_AUTHENTICATE));
    }
}
