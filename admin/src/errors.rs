//! The API's error type and its JSON form, `{"error": {"code": "...", "message": "..."}}`.
//!
//! Codes come from the shared [`tollgate_shared::ErrorCode`], each with its one status; messages
//! are for people and never hold token text, keys or passwords.

use std::borrow::Cow;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use tollgate_shared::ErrorCode;

use crate::rules::Refusal;
use crate::store::StoreError;

/// An error answered to the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: ErrorCode,
    pub message: Cow<'static, str>,
}

impl ApiError {
    /// An error with `code`, answered with the code's status.
    pub fn new(code: ErrorCode, message: impl Into<Cow<'static, str>>) -> Self {
        ApiError {
            status: status_of(code),
            code,
            message: message.into(),
        }
    }

    /// 404 with code `not_found`.
    pub fn not_found(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::NotFound, message)
    }

    /// 500: our fault; details go to the log, not the caller.
    pub fn internal() -> Self {
        Self::new(ErrorCode::Internal, "internal error; see the server log")
    }
}

/// The HTTP status of `code`.
pub fn status_of(code: ErrorCode) -> StatusCode {
    StatusCode::from_u16(code.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
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
pub fn error_response(status: StatusCode, code: ErrorCode, message: &str) -> Response {
    let body = ErrorBody {
        error: ErrorDetail {
            code: code.as_str(),
            message,
        },
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
fn challenge(status: StatusCode, code: ErrorCode) -> Option<String> {
    const REALM: &str = "Bearer realm=\"tollgate\"";
    match status {
        StatusCode::UNAUTHORIZED
            if matches!(
                code,
                ErrorCode::MissingToken | ErrorCode::InvalidCredentials
            ) =>
        {
            Some(REALM.to_owned())
        }
        StatusCode::UNAUTHORIZED => Some(format!(
            "{REALM}, error=\"invalid_token\", error_description=\"{code}\""
        )),
        StatusCode::BAD_REQUEST if code == ErrorCode::InvalidRequest => {
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

impl From<Refusal> for ApiError {
    fn from(r: Refusal) -> Self {
        ApiError {
            status: status_of(r.code),
            code: r.code,
            message: r.message,
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        tracing::error!(error = %e, "store error");
        ApiError::internal()
    }
}

/// The error code used for a bare status produced outside the handlers (routing, limits, timeouts).
pub fn code_for_status(status: StatusCode) -> ErrorCode {
    match status {
        StatusCode::BAD_REQUEST => ErrorCode::BadRequest,
        StatusCode::UNAUTHORIZED => ErrorCode::MissingToken,
        StatusCode::FORBIDDEN => ErrorCode::Forbidden,
        StatusCode::NOT_FOUND => ErrorCode::NotFound,
        StatusCode::METHOD_NOT_ALLOWED => ErrorCode::MethodNotAllowed,
        StatusCode::REQUEST_TIMEOUT => ErrorCode::Timeout,
        StatusCode::PAYLOAD_TOO_LARGE => ErrorCode::BodyTooLarge,
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ErrorCode::UnsupportedMediaType,
        StatusCode::UNPROCESSABLE_ENTITY => ErrorCode::Invalid,
        StatusCode::TOO_MANY_REQUESTS => ErrorCode::TooManyRequests,
        StatusCode::SERVICE_UNAVAILABLE => ErrorCode::Unavailable,
        s if s.is_client_error() => ErrorCode::BadRequest,
        _ => ErrorCode::Internal,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn renders_the_conventional_body() {
        let response =
            ApiError::new(ErrorCode::NameTaken, "a token with this name exists").into_response();
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
        let r = ApiError::new(ErrorCode::Expired, "the token has expired").into_response();
        let h = r.headers()[header::WWW_AUTHENTICATE].to_str().unwrap();
        assert!(h.starts_with("Bearer ") && h.contains("invalid_token"));
        for code in [ErrorCode::MissingToken, ErrorCode::InvalidCredentials] {
            let r = ApiError::new(code, "no token").into_response();
            assert!(
                !r.headers()[header::WWW_AUTHENTICATE]
                    .to_str()
                    .unwrap()
                    .contains("error="),
                "{code}"
            );
        }
        let r = ApiError::new(ErrorCode::Forbidden, "admins only").into_response();
        assert!(
            r.headers()[header::WWW_AUTHENTICATE]
                .to_str()
                .unwrap()
                .contains("error=\"insufficient_scope\"")
        );
        let r = ApiError::new(ErrorCode::InvalidRequest, "two words").into_response();
        assert!(
            r.headers()[header::WWW_AUTHENTICATE]
                .to_str()
                .unwrap()
                .contains("error=\"invalid_request\"")
        );
        let r = ApiError::new(ErrorCode::InvalidBody, "x").into_response();
        assert!(!r.headers().contains_key(header::WWW_AUTHENTICATE));
    }
}
