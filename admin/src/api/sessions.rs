//! `POST /api/v1/sessions`: a personal or service token exchanged for a short-lived session, so
//! that a client need not send its long-lived token on every call.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use tollgate_shared::{ErrorCode, Kind};

use super::extract::OptionalBody;
use super::login::Session;
use super::minting::{cut_this_second, in_a_settled_second, mint};
use super::records::token_record;
use super::token_actions::Empty;
use crate::auth::Caller;
use crate::errors::ApiError;
use crate::rules::sessions;
use crate::state::AppState;
use crate::store::audit::{self, Action, NewEvent, Outcome};
use crate::store::tokens;
use crate::times::UnixTime;

/// `POST /api/v1/sessions`.
pub async fn exchange(
    State(state): State<AppState>,
    caller: Caller,
    OptionalBody(_): OptionalBody<Empty>,
) -> Result<Response, ApiError> {
    sessions::exchange(&caller, state.settings.session_ttl, UnixTime::now())?;
    let session = in_a_settled_second(|| start(&state, &caller)).await?;
    Ok((StatusCode::OK, Json(session)).into_response())
}

/// Mints and stores a session for the token `caller` presents, linked to that token; `None` if
/// its owner was cut off within this second (try in the next).
async fn start(state: &AppState, caller: &Caller) -> Result<Option<Session>, ApiError> {
    let now = UnixTime::now();
    let plan = sessions::exchange(caller, state.settings.session_ttl, now)?;
    let mut tx = state.store.write().await?;
    // The token is read again under the write lock: a revocation that came in since it was
    // checked is seen here, and one that comes later finds the session linked to it.
    let parent = tokens::get_for_update(&mut tx, &caller.token_id)
        .await?
        .ok_or_else(gone)?;
    if parent.revoked_at.is_some()
        || parent.deleted_at.is_some()
        || !parent.enabled
        || now >= parent.expires_at
    {
        return Err(gone());
    }
    if cut_this_second(&mut tx, &caller.user, now).await? {
        return Ok(None);
    }
    let (text, row) = mint(state, &plan, now, &caller.user)?;
    tokens::insert(&mut tx, &row).await?;
    tokens::set_derived_from(&mut tx, &row.id, &parent.id).await?;
    let detail = format!("exchanged for token {}", parent.id);
    let e = NewEvent {
        at: now,
        actor: Some(&caller.user),
        action: Action::Login,
        target: Some(&row.id),
        subject: Some(&caller.user),
        outcome: Outcome::Success,
        detail: Some(detail),
    };
    audit::append(&mut tx, &e).await?;
    tx.commit().await?;
    state.metrics.token_issued(Kind::Session);
    Ok(Some(Session {
        token: text,
        record: token_record(&row, now),
    }))
}

fn gone() -> ApiError {
    ApiError::new(ErrorCode::Revoked, "the token has been revoked")
}
