//! Request extractors that answer the conventions' JSON errors: bodies (strict JSON objects,
//! unknown fields refused) and query strings.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Query, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use tollgate_shared::ErrorCode;

use crate::errors::ApiError;

/// A JSON request body.
pub struct Body<T>(pub T);

/// A JSON request body that may be empty (then `T::default()`).
pub struct OptionalBody<T>(pub T);

pub use tollgate_api::fields::{present, present_count};

/// Reads the body. The content type is not checked: the body must be JSON whatever it says,
/// so `curl -d '{...}'` works as people expect.
async fn read(req: Request) -> Result<Bytes, ApiError> {
    Bytes::from_request(req, &()).await.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(ErrorCode::BodyTooLarge, "the request body is too large")
        } else {
            ApiError::new(
                ErrorCode::UnreadableBody,
                "the request body could not be read",
            )
        }
    })
}

/// Parses a JSON body, sorting syntax errors from mismatched fields. Strings holding U+0000
/// are refused (`invalid_character`): PostgreSQL cannot store them, and no field needs one.
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if let Ok(value) = serde_json::from_slice::<serde_json::Value>(bytes) {
        if holds_nul(&value) {
            return Err(nul_refused());
        }
    }
    parse_unchecked(bytes)
}

/// The answer to a U+0000 in a string, a path or a query.
pub fn nul_refused() -> ApiError {
    ApiError::new(
        ErrorCode::InvalidCharacter,
        "text may not contain the NUL character (U+0000)",
    )
}

fn holds_nul(value: &serde_json::Value) -> bool {
    use serde_json::Value;
    match value {
        Value::String(s) => s.contains('\0'),
        Value::Array(items) => items.iter().any(holds_nul),
        Value::Object(map) => map.iter().any(|(k, v)| k.contains('\0') || holds_nul(v)),
        _ => false,
    }
}

/// [`parse`] without the U+0000 check, for a handler that keeps such strings away from the store.
pub fn parse_unchecked<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(bytes).map_err(|e| {
        use serde_json::error::Category;
        match e.classify() {
            Category::Data => {
                let code = if e.to_string().starts_with("unknown field") {
                    ErrorCode::UnknownField
                } else {
                    ErrorCode::InvalidBody
                };
                ApiError::new(code, e.to_string())
            }
            Category::Syntax | Category::Eof | Category::Io => ApiError::new(
                ErrorCode::MalformedJson,
                format!("the body is not valid JSON: {e}"),
            ),
        }
    })
}

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, _state: &S) -> Result<Self, ApiError> {
        let bytes = read(req).await?;
        parse(&bytes).map(Body)
    }
}

impl<T: DeserializeOwned + Default, S: Send + Sync> FromRequest<S> for OptionalBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, _state: &S) -> Result<Self, ApiError> {
        let bytes = read(req).await?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(OptionalBody(T::default()));
        }
        parse(&bytes).map(OptionalBody)
    }
}

/// A JSON body whose strings may hold U+0000 (login: such a name is an unknown user, refused,
/// counted and audited like any other, and never looked up).
pub struct UncheckedBody<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for UncheckedBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, _state: &S) -> Result<Self, ApiError> {
        let bytes = read(req).await?;
        parse_unchecked(&bytes).map(UncheckedBody)
    }
}

/// True if a URI's path or query decodes to something holding U+0000 (`%00`).
pub fn uri_holds_nul(uri: &axum::http::Uri) -> bool {
    let has = |s: &str| s.as_bytes().windows(3).any(|w| w == b"%00");
    has(uri.path()) || uri.query().is_some_and(has)
}

/// The peer's address, when the server was started with connection info (it always is, except
/// when a test drives the router directly).
pub struct Source(pub Option<std::net::IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for Source {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(Source(
            parts
                .extensions
                .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
                .map(|c| c.0.ip()),
        ))
    }
}

/// Query-string parameters; unknown or malformed ones answer 400.
pub struct Params<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Params<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        Query::<T>::try_from_uri(&parts.uri)
            .map(|Query(v)| Params(v))
            .map_err(|e| ApiError::new(ErrorCode::InvalidQuery, e.body_text()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Named {
        #[allow(dead_code)]
        name: String,
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Counted {
        #[serde(default, deserialize_with = "present_count")]
        n: Option<u64>,
    }

    #[test]
    fn counts_are_whole_numbers_however_written() {
        let n = |body: &[u8]| parse::<Counted>(body).map(|c| c.n);
        assert_eq!(n(b"{}"), Ok(None));
        assert_eq!(n(br#"{"n": 60}"#), Ok(Some(60)));
        assert_eq!(n(br#"{"n": 60.0}"#), Ok(Some(60)));
        assert_eq!(n(br#"{"n": 6e1}"#), Ok(Some(60)));
        assert_eq!(n(br#"{"n": 1e300}"#), Ok(Some(u64::MAX)));
        assert_eq!(
            n(br#"{"n": 4161990005503490.0}"#),
            Ok(Some(4_161_990_005_503_490))
        );
        for bad in [
            &br#"{"n": 1.5}"#[..],
            br#"{"n": -1}"#,
            br#"{"n": -1.0}"#,
            br#"{"n": null}"#,
            br#"{"n": "60"}"#,
        ] {
            assert_eq!(
                n(bad).unwrap_err().code,
                "invalid_body",
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn sorts_errors() {
        assert_eq!(parse::<Named>(b"{").unwrap_err().code, "malformed_json");
        assert_eq!(
            parse::<Named>(b"{\"name\": 1}").unwrap_err().code,
            "invalid_body"
        );
        assert_eq!(
            parse::<Named>(b"{\"name\": \"a\", \"x\": 1}")
                .unwrap_err()
                .code,
            "unknown_field"
        );
        assert_eq!(parse::<Named>(b"[]").unwrap_err().code, "invalid_body");
        assert!(parse::<Named>(b"{\"name\": \"a\"}").is_ok());
        assert_eq!(
            parse::<Named>(b"{\"name\": \"a\\u0000b\"}")
                .unwrap_err()
                .code,
            "invalid_character"
        );
        assert!(
            parse::<Named>(b"{\"name\": \"a\\\\u0000b\"}").is_ok(),
            "an escaped backslash"
        );
        assert!(parse_unchecked::<Named>(b"{\"name\": \"a\\u0000b\"}").is_ok());
    }
}
