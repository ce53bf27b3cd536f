//! `GET /api/v1/audit`: the audit log, newest first. Admins see everything; others see the
//! events they caused and those about them or their tokens.

use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use utoipa::IntoParams;

use super::extract::Params;
use super::records::{AuditRecord, cursor, page_limit, parse_number_cursor};
use crate::auth::Caller;
use crate::errors::ApiError;
use crate::state::AppState;
use crate::store::audit::{self, AuditFilter};
pub use tollgate_api::audit::AuditPage;

/// Query of `GET /api/v1/audit`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    /// Only events by this user.
    #[param(nullable = false, pattern = "^[^\\u0000]*$")]
    pub actor: Option<String>,
    /// Only this action, e.g. `token.create`.
    #[param(nullable = false, pattern = "^[^\\u0000]*$")]
    pub action: Option<String>,
    /// Only events on this token id or user.
    #[param(nullable = false, pattern = "^[^\\u0000]*$")]
    pub target: Option<String>,
    /// Page size (default 100).
    #[param(nullable = false, minimum = 1, maximum = 1000)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    #[param(nullable = false, pattern = "^djE6[A-Za-z0-9_-]+$")]
    pub cursor: Option<String>,
}

/// `GET /api/v1/audit`.
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Params(q): Params<AuditQuery>,
) -> Result<Json<AuditPage>, ApiError> {
    list_events(&state, &caller, q, None).await.map(Json)
}

/// A page of the events `caller` may see (the body of `GET /api/v1/audit`); the console also
/// narrows it to a time range.
pub(crate) async fn list_events(
    state: &AppState,
    caller: &Caller,
    q: AuditQuery,
    during: Option<(Option<i64>, Option<i64>)>,
) -> Result<AuditPage, ApiError> {
    let (since, until) = during.unwrap_or_default();
    let limit = page_limit(q.limit, 100, 1000)?;
    let before = q
        .cursor
        .as_deref()
        .map(parse_number_cursor)
        .transpose()?
        .unwrap_or(0);
    let filter = AuditFilter {
        visible_to: (!caller.is_admin()).then(|| caller.user.clone()),
        actor: q.actor,
        action: q.action,
        target: q.target,
        before,
        since,
        until,
        limit: limit + 1,
    };
    let mut rows = audit::list(&state.store, &filter).await?;
    let next_cursor = if rows.len() as i64 > limit {
        rows.truncate(limit as usize);
        rows.last().map(|r| cursor(&r.id.to_string()))
    } else {
        None
    };
    Ok(AuditPage {
        events: rows.into_iter().map(AuditRecord::from).collect(),
        next_cursor,
    })
}
