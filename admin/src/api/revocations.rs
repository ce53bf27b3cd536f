//! `GET /api/v1/revocations`: the signed revocation list. No user token needed: it is signed
//! and holds only token ids and user names.
//!
//! Answers the full document with `ETag: "<sequence>"` and `Cache-Control: no-cache`;
//! `If-None-Match` with the current ETag, or `?since=` the current sequence, answers 304;
//! `?since=N` for an older version on record answers a delta from N (the full document when
//! N is not a version on record). Every answer, 304 included, carries `X-Tollgate-Freshness`:
//! a signed statement that its sequence is current now, without which the edge accepts
//! neither a document nor a 304 (so a replayed list or an endless 304 cannot hold it back).

use axum::body::Body as HttpBody;
use axum::extract::State;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, ETAG, IF_NONE_MATCH};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use serde::Deserialize;
use tollgate_shared::ErrorCode;
use utoipa::IntoParams;

use super::extract::Params;
use crate::errors::ApiError;
use crate::state::AppState;
use crate::store::list;
use tollgate_shared::Freshness;

/// Content type of list documents.
pub const CONTENT_TYPE_LIST: &str = "application/vnd.tollgate.revocations";
/// Response header naming the document kind: `full` or `delta`.
pub const DOCUMENT_HEADER: &str = "x-tollgate-document";

/// Query of `GET /api/v1/revocations`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// The sequence number the client holds: answers a delta from it when possible, 304 if
    /// current.
    #[param(nullable = false, minimum = 0)]
    pub since: Option<i64>,
}

fn etag_matches(headers: &HeaderMap, sequence: i64) -> bool {
    let tag = format!("\"{sequence}\"");
    headers
        .get_all(IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| {
            v.split(',')
                .map(str::trim)
                .any(|t| t == "*" || t.strip_prefix("W/").unwrap_or(t) == tag)
        })
}

fn response(
    state: &AppState,
    status: StatusCode,
    sequence: i64,
    body: HttpBody,
    kind: Option<&'static str>,
) -> Response {
    let mut r = Response::new(body);
    *r.status_mut() = status;
    let h = r.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&format!("\"{sequence}\"")) {
        h.insert(ETAG, v);
    }
    let statement = Freshness {
        sequence: u64::try_from(sequence).unwrap_or_default(),
        as_of: u64::try_from(crate::times::now()).unwrap_or_default(),
    }
    .sign(&state.settings.keyring);
    if let Ok(v) = HeaderValue::from_str(&statement) {
        h.insert(tollgate_shared::freshness::HEADER, v);
    }
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    if let Some(kind) = kind {
        h.insert(CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE_LIST));
        h.insert(DOCUMENT_HEADER, HeaderValue::from_static(kind));
    }
    r
}

/// `GET /api/v1/revocations`.
pub async fn get(
    State(state): State<AppState>,
    headers: HeaderMap,
    Params(q): Params<ListQuery>,
) -> Result<Response, ApiError> {
    let since = q.since;
    if since.is_some_and(|n| n < 0) {
        return Err(ApiError::new(
            ErrorCode::InvalidQuery,
            "since is a sequence number: 0 or more",
        ));
    }
    let current = list::current(&state.store).await?;
    if etag_matches(&headers, current) || since == Some(current) {
        return Ok(response(
            &state,
            StatusCode::NOT_MODIFIED,
            current,
            HttpBody::empty(),
            None,
        ));
    }
    let snap = state.publisher.at_least(&state.store, current).await?;
    if etag_matches(&headers, snap.sequence) || since == Some(snap.sequence) {
        return Ok(response(
            &state,
            StatusCode::NOT_MODIFIED,
            snap.sequence,
            HttpBody::empty(),
            None,
        ));
    }
    state
        .metrics
        .list_served(snap.sequence, snap.list.len(), snap.body.len());
    if let Some(n) = since.filter(|n| *n < snap.sequence) {
        if let Some(delta) = state.publisher.delta(&state.store, &snap, n).await? {
            return Ok(response(
                &state,
                StatusCode::OK,
                snap.sequence,
                HttpBody::from(delta),
                Some("delta"),
            ));
        }
    }
    Ok(response(
        &state,
        StatusCode::OK,
        snap.sequence,
        HttpBody::from(snap.body.clone()),
        Some("full"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_none_match_forms() {
        let mut h = HeaderMap::new();
        assert!(!etag_matches(&h, 7));
        h.insert(IF_NONE_MATCH, HeaderValue::from_static("\"6\", W/\"7\""));
        assert!(etag_matches(&h, 7));
        assert!(etag_matches(&h, 6));
        assert!(!etag_matches(&h, 8));
        h.insert(IF_NONE_MATCH, HeaderValue::from_static("*"));
        assert!(etag_matches(&h, 8));
    }
}
