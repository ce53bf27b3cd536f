//! Changes to one token: `PATCH`, `POST .../revoke`, `POST .../regenerate`, `DELETE`.
//! Each loads the token, lets [`crate::rules::tokens`] decide, then writes the result, moves the
//! revocation list on ([`ListChanges`]) and appends to the audit log, in one transaction.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::changes::ListChanges;
use super::extract::{Body, OptionalBody};
use super::minting::{cut_this_second, in_a_settled_second, mint, name_clash};
use super::records::{TokenRecord, token_record};
use super::schema::TokenPath;
use super::settings::token_api;
use super::{audited, with_sequence};
use crate::auth::Caller;
use crate::errors::ApiError;
use crate::revocation::subjects;
use crate::rules::expiry::Requested;
use crate::rules::text::parse_id;
use crate::rules::tokens::{self as rules, Limits, TokenEdit, may_manage};
use crate::state::AppState;
use crate::store::Tx;
use crate::store::audit::{self, Action, NewEvent, Outcome};
use crate::store::tokens::{self, TokenRow};
use crate::store::users::{self, UserRow};
use crate::times::UnixTime;
pub use tollgate_api::tokens::{Empty, PatchToken, Regenerate, Regenerated};

/// Reads and locks a token `caller` may manage, with its owner; 404 if missing, deleted or not
/// theirs.
async fn load(
    tx: &mut Tx,
    caller: &Caller,
    id: &str,
) -> Result<(TokenRow, Option<UserRow>), ApiError> {
    let id = parse_id(id)?;
    let row = tokens::get_for_update(tx, &id)
        .await?
        .filter(|r| r.deleted_at.is_none());
    let row = row.ok_or_else(|| ApiError::not_found("no such token"))?;
    let owner = users::get(tx, &row.owner).await?;
    let visible = row.owner == caller.user
        || caller.is_admin()
        || owner.as_ref().is_some_and(|o| may_manage(caller, o));
    if !visible {
        return Err(ApiError::not_found("no such token"));
    }
    Ok((row, owner))
}

/// Appends the successful `action` on `row` by `caller`.
async fn record(
    tx: &mut Tx,
    caller: &Caller,
    action: Action,
    row: &TokenRow,
    now: UnixTime,
    detail: String,
) -> Result<(), ApiError> {
    let event = NewEvent {
        at: now,
        actor: Some(&caller.user),
        action,
        target: Some(&row.id),
        subject: Some(&row.owner),
        outcome: Outcome::Success,
        detail: Some(detail),
    };
    Ok(audit::append(tx, &event).await?)
}

/// `PATCH /api/v1/tokens/{id}`.
pub async fn patch(
    State(state): State<AppState>,
    caller: Caller,
    Path(TokenPath { id }): Path<TokenPath>,
    Body(req): Body<PatchToken>,
) -> Result<Response, ApiError> {
    let result = patch_token(&state, &caller, &id, req).await;
    let (record, sequence) =
        audited(&state, &caller, Action::TokenUpdate, Some(&id), result).await?;
    Ok(with_sequence(Json(record).into_response(), sequence))
}

/// Edits a token (the body of `PATCH /api/v1/tokens/{id}`, also used by the console): its new
/// record and the list version that carries the change, if any.
pub(crate) async fn patch_token(
    state: &AppState,
    caller: &Caller,
    id: &str,
    req: PatchToken,
) -> Result<(TokenRecord, Option<i64>), ApiError> {
    token_api(state, caller).await?;
    let now = UnixTime::now();
    let limits = Limits::of(&state.settings);
    let edit = TokenEdit {
        description: req.description.as_deref(),
        expiry: Requested {
            expires_at: req.expires_at.as_deref(),
            ttl_seconds: req.ttl_seconds,
        },
        enabled: req.enabled,
    };
    let description = rules::check_edit(&edit)?;
    let mut tx = state.store.write().await?;
    let (row, owner) = load(&mut tx, caller, id).await?;
    let mut edited = rules::decide_edit(
        caller,
        &row,
        owner.as_ref(),
        &edit,
        description,
        now,
        &limits,
    )?;
    let mut changes = ListChanges::default();
    changes.token(&mut tx, &mut edited.row).await?;
    let row = edited.row;
    if let Some(until) = edited.extended_to {
        // An extended token must stay covered by any cut-off of its owner's that reaches it.
        if let Some(expires_at) = subjects::cover(&mut tx, &row.owner, row.issued_at, until).await?
        {
            changes.subject(&row.owner, expires_at);
        }
    }
    let sequence = changes.publish(&mut tx, now).await?;
    let detail = edited.changes.join(", ");
    record(&mut tx, caller, Action::TokenUpdate, &row, now, detail).await?;
    tx.commit().await?;
    Ok((token_record(&row, now), sequence))
}

/// `POST /api/v1/tokens/{id}/revoke`.
pub async fn revoke(
    State(state): State<AppState>,
    caller: Caller,
    Path(TokenPath { id }): Path<TokenPath>,
    OptionalBody(_): OptionalBody<Empty>,
) -> Result<Response, ApiError> {
    let result = revoke_token(&state, &caller, &id).await;
    let (record, sequence) =
        audited(&state, &caller, Action::TokenRevoke, Some(&id), result).await?;
    Ok(with_sequence(Json(record).into_response(), sequence))
}

/// Revokes a token now (the body of `POST /api/v1/tokens/{id}/revoke`, also used by the console).
pub(crate) async fn revoke_token(
    state: &AppState,
    caller: &Caller,
    id: &str,
) -> Result<(TokenRecord, Option<i64>), ApiError> {
    token_api(state, caller).await?;
    let now = UnixTime::now();
    let mut tx = state.store.write().await?;
    let (row, owner) = load(&mut tx, caller, id).await?;
    let (mut row, detail) = rules::decide_revoke(caller, &row, owner.as_ref(), now)?;
    let mut changes = ListChanges::default();
    changes.token(&mut tx, &mut row).await?;
    let sequence = changes.publish(&mut tx, now).await?;
    record(
        &mut tx,
        caller,
        Action::TokenRevoke,
        &row,
        now,
        detail.to_owned(),
    )
    .await?;
    tx.commit().await?;
    state.metrics.token_revoked();
    Ok((token_record(&row, now), sequence))
}

/// `POST /api/v1/tokens/{id}/regenerate`.
pub async fn regenerate(
    State(state): State<AppState>,
    caller: Caller,
    Path(TokenPath { id }): Path<TokenPath>,
    OptionalBody(req): OptionalBody<Regenerate>,
) -> Result<Response, ApiError> {
    let result = regenerate_token(&state, &caller, &id, req).await;
    let (body, sequence) =
        audited(&state, &caller, Action::TokenRegenerate, Some(&id), result).await?;
    Ok(with_sequence(
        (StatusCode::CREATED, Json(body)).into_response(),
        sequence,
    ))
}

/// Regenerates a token (the body of `POST /api/v1/tokens/{id}/regenerate`, also used by the
/// console).
pub(crate) async fn regenerate_token(
    state: &AppState,
    caller: &Caller,
    id: &str,
    req: Regenerate,
) -> Result<(Regenerated, Option<i64>), ApiError> {
    token_api(state, caller).await?;
    in_a_settled_second(|| regenerate_once(state, caller, id, &req)).await
}

/// One attempt; `None` if the owner was cut off within this second (try in the next).
async fn regenerate_once(
    state: &AppState,
    caller: &Caller,
    id: &str,
    req: &Regenerate,
) -> Result<Option<(Regenerated, Option<i64>)>, ApiError> {
    let now = UnixTime::now();
    let limits = Limits::of(&state.settings);
    let grace = rules::check_regenerate(caller, req.grace_seconds, &limits)?;
    let mut tx = state.store.write().await?;
    let (old, owner) = load(&mut tx, caller, id).await?;
    let asked = Requested {
        expires_at: req.expires_at.as_deref(),
        ttl_seconds: req.ttl_seconds,
    };
    let plan = rules::decide_regenerate(caller, &old, owner.as_ref(), asked, now, &limits)?;
    if cut_this_second(&mut tx, &old.owner, now).await? {
        return Ok(None);
    }
    let (text, mut new) = mint(state, &plan, now, &caller.user)?;
    new.replaces = Some(old.id.clone());
    let mut old = rules::retire(caller, &old, &new.id, grace, now);
    let mut changes = ListChanges::default();
    changes.token(&mut tx, &mut old).await?;
    tokens::insert(&mut tx, &new).await.map_err(name_clash)?;
    let sequence = changes.publish(&mut tx, now).await?;
    let detail = format!("replaced by {}, grace {grace}s", new.id);
    record(&mut tx, caller, Action::TokenRegenerate, &old, now, detail).await?;
    tx.commit().await?;
    state.metrics.token_issued(plan.kind);
    state.metrics.token_revoked();
    let body = Regenerated {
        token: text,
        record: token_record(&new, now),
        previous: token_record(&old, now),
    };
    Ok(Some((body, sequence)))
}

/// `DELETE /api/v1/tokens/{id}`: revokes the token at once and hides its record.
pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path(TokenPath { id }): Path<TokenPath>,
) -> Result<Response, ApiError> {
    let result = delete_token(&state, &caller, &id).await;
    let sequence = audited(&state, &caller, Action::TokenDelete, Some(&id), result).await?;
    Ok(with_sequence(
        StatusCode::NO_CONTENT.into_response(),
        sequence,
    ))
}

/// Deletes a token (the body of `DELETE /api/v1/tokens/{id}`, also used by the console).
pub(crate) async fn delete_token(
    state: &AppState,
    caller: &Caller,
    id: &str,
) -> Result<Option<i64>, ApiError> {
    token_api(state, caller).await?;
    let now = UnixTime::now();
    let mut tx = state.store.write().await?;
    let (row, _) = load(&mut tx, caller, id).await?;
    let (mut row, was_valid) = rules::decide_delete(caller, &row, now);
    let mut changes = ListChanges::default();
    changes.token(&mut tx, &mut row).await?;
    let sequence = changes.publish(&mut tx, now).await?;
    let detail = format!("name {:?}", row.name);
    record(&mut tx, caller, Action::TokenDelete, &row, now, detail).await?;
    tx.commit().await?;
    if was_valid {
        state.metrics.token_revoked();
    }
    Ok(sequence)
}
