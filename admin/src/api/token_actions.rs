//! Changes to one token: `PATCH`, `POST .../revoke`, `POST .../regenerate`, `DELETE`.
//! Each runs in one transaction that also bumps the revocation list when the token's entry
//! changes, and appends to the audit log.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use tollgate_shared::Kind;
use utoipa::ToSchema;

use super::extract::{Body, OptionalBody, present, present_count};
use super::records::TokenRecord;
use super::schema::{Expiry, TokenPath};
use super::token_rules::{
    check_description, grantable_roles, may_manage, mint, name_clash, parse_id, requested_expiry,
};
use super::{audited, with_sequence};
use crate::auth::Caller;
use crate::errors::ApiError;
use crate::revocation::entries::{ListColumns, refresh};
use crate::revocation::subjects;
use crate::roles;
use crate::state::AppState;
use crate::store::audit::{self, NewEvent};
use crate::store::list::{self, Change};
use crate::store::tokens::{self, TokenRow};
use crate::store::{Tx, users};
use crate::times::{now, rfc3339};

/// Longest grace period for a regenerated token's predecessor.
pub const MAX_GRACE_SECONDS: u64 = 7 * 86_400;

/// Reads and locks a token `caller` may manage; 404 if missing, deleted or not theirs.
async fn load(tx: &mut Tx, caller: &Caller, id: &str) -> Result<TokenRow, ApiError> {
    let id = parse_id(id)?;
    let row = tokens::get_for_update(tx, &id)
        .await?
        .filter(|r| r.deleted_at.is_none());
    let row = row.ok_or_else(|| ApiError::not_found("no such token"))?;
    if row.owner != caller.user && !caller.is_admin() {
        let owner = users::get(tx, &row.owner).await?;
        if !owner.is_some_and(|o| may_manage(caller, &o)) {
            return Err(ApiError::not_found("no such token"));
        }
    }
    Ok(row)
}

/// Bumps the list if `old` (the entry before the change) differs from the row's entry now.
async fn publish(
    tx: &mut Tx,
    row: &TokenRow,
    old: Option<ListColumns>,
    now: i64,
) -> Result<Option<i64>, ApiError> {
    let Some(old) = old else { return Ok(None) };
    let expires_at = old.expires.max(row.list_expires);
    Ok(Some(
        list::bump(
            tx,
            now,
            &[Change::Token {
                id: &row.id,
                expires_at,
            }],
        )
        .await?,
    ))
}

fn event<'a>(
    caller: &'a Caller,
    action: &'a str,
    row: &'a TokenRow,
    now: i64,
    detail: String,
) -> NewEvent<'a> {
    NewEvent {
        at: now,
        actor: Some(&caller.user),
        action,
        target: Some(&row.id),
        subject: Some(&row.owner),
        outcome: "success",
        detail: Some(detail),
    }
}

/// Body of `PATCH /api/v1/tokens/{id}`: at least one field; `expires_at` and `ttl_seconds`
/// exclude each other.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchToken {
    /// No control characters but newlines and tabs.
    #[serde(default, deserialize_with = "present")]
    #[schema(nullable = false, max_length = 256, pattern = "^[^\\u0000]*$")]
    pub description: Option<String>,
    /// New expiry; owners may only bring it forward, admins may also extend it. Not with
    /// `ttl_seconds`.
    #[serde(default, deserialize_with = "present")]
    #[schema(nullable = false, value_type = Option<Expiry>)]
    pub expires_at: Option<String>,
    /// New lifetime from now. Not with `expires_at`.
    #[serde(default, deserialize_with = "present_count")]
    #[schema(nullable = false, minimum = 1)]
    pub ttl_seconds: Option<u64>,
    #[serde(default, deserialize_with = "present")]
    #[schema(nullable = false)]
    pub enabled: Option<bool>,
}

/// `PATCH /api/v1/tokens/{id}`.
pub async fn patch(
    State(state): State<AppState>,
    caller: Caller,
    Path(TokenPath { id }): Path<TokenPath>,
    Body(req): Body<PatchToken>,
) -> Result<Response, ApiError> {
    let result = patch_token(&state, &caller, &id, req).await;
    audited(&state, &caller, "token.update", Some(&id), result).await
}

async fn patch_token(
    state: &AppState,
    caller: &Caller,
    id: &str,
    req: PatchToken,
) -> Result<Response, ApiError> {
    let now = now();
    let new_expiry = req.expires_at.is_some() || req.ttl_seconds.is_some();
    if req.description.is_none() && !new_expiry && req.enabled.is_none() {
        return Err(ApiError::invalid(
            "nothing_to_change",
            "give description, expires_at, ttl_seconds or enabled",
        ));
    }
    let description = req
        .description
        .as_deref()
        .map(check_description)
        .transpose()?;
    let mut tx = state.store.write().await?;
    let mut row = load(&mut tx, caller, id).await?;
    if row.revoked_at.is_some() {
        return Err(ApiError::conflict(
            "token_revoked",
            "a revoked token cannot be changed",
        ));
    }
    let mut changed = Vec::new();
    let mut extended_to = None;
    if new_expiry {
        let latest = row.issued_at + state.settings.max_ttl as i64;
        let at = requested_expiry(req.expires_at.as_deref(), req.ttl_seconds, now, 0, i64::MAX)?;
        if at > row.expires_at && !caller.is_admin() {
            return Err(ApiError::forbidden(
                "cannot_extend",
                "only admins may extend a token's expiry",
            ));
        }
        if at > latest {
            return Err(ApiError::invalid(
                "expiry_too_far",
                format!(
                    "the expiry is beyond the maximum lifetime (latest allowed: {})",
                    rfc3339(latest)
                ),
            ));
        }
        if at > row.expires_at {
            extended_to = Some(at);
        }
        row.expires_at = at;
        changed.push(format!("expires_at {}", rfc3339(at)));
    }
    if let Some(d) = description {
        row.description = d;
        changed.push("description".to_owned());
    }
    if let Some(enabled) = req.enabled {
        if enabled && !row.enabled && row.disabled_by_admin && !caller.is_admin() {
            return Err(ApiError::forbidden(
                "disabled_by_admin",
                "an admin disabled this token; only an admin may enable it",
            ));
        }
        if !enabled && row.enabled {
            row.disabled_by_admin = caller.is_admin();
        }
        if enabled {
            row.disabled_by_admin = false;
        }
        row.enabled = enabled;
        changed.push(format!("enabled {enabled}"));
    }
    let old = refresh(&mut row);
    tokens::update(&mut tx, &row).await?;
    let mut sequence = None;
    let mut changes = Vec::new();
    if let Some(old) = old {
        changes.push(Change::Token {
            id: &row.id,
            expires_at: old.expires.max(row.list_expires),
        });
    }
    if let Some(until) = extended_to {
        if let Some(expires_at) = subjects::cover(&mut tx, &row.owner, row.issued_at, until).await?
        {
            changes.push(subjects::change(&row.owner, expires_at));
        }
    }
    if !changes.is_empty() {
        sequence = Some(list::bump(&mut tx, now, &changes).await?);
    }
    audit::append(
        &mut tx,
        &event(caller, "token.update", &row, now, changed.join(", ")),
    )
    .await?;
    tx.commit().await?;
    Ok(with_sequence(
        Json(TokenRecord::of(&row, now)).into_response(),
        sequence,
    ))
}

/// A body that must be empty or `{}`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Empty {}

/// `POST /api/v1/tokens/{id}/revoke`.
pub async fn revoke(
    State(state): State<AppState>,
    caller: Caller,
    Path(TokenPath { id }): Path<TokenPath>,
    OptionalBody(_): OptionalBody<Empty>,
) -> Result<Response, ApiError> {
    let result = revoke_token(&state, &caller, &id).await;
    audited(&state, &caller, "token.revoke", Some(&id), result).await
}

async fn revoke_token(state: &AppState, caller: &Caller, id: &str) -> Result<Response, ApiError> {
    let now = now();
    let mut tx = state.store.write().await?;
    let mut row = load(&mut tx, caller, id).await?;
    if row.revoked_by_now(now) {
        return Err(ApiError::conflict(
            "already_revoked",
            "the token is already revoked",
        ));
    }
    let in_grace = row.revoked_at.is_some();
    row.revoked_at = Some(now);
    row.revoked_by = Some(caller.user.clone());
    row.revoked_from = None;
    let old = refresh(&mut row);
    tokens::update(&mut tx, &row).await?;
    let sequence = publish(&mut tx, &row, old, now).await?;
    let detail = if in_grace {
        "ended its grace period"
    } else {
        "revoked"
    };
    audit::append(
        &mut tx,
        &event(caller, "token.revoke", &row, now, detail.to_owned()),
    )
    .await?;
    tx.commit().await?;
    state.metrics.token_revoked();
    Ok(with_sequence(
        Json(TokenRecord::of(&row, now)).into_response(),
        sequence,
    ))
}

/// Body of `POST /api/v1/tokens/{id}/regenerate`; may be left out (all defaults).
/// `expires_at` and `ttl_seconds` exclude each other.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Regenerate {
    /// How long the old token keeps working (default 0: it stops now).
    #[serde(default, deserialize_with = "present_count")]
    #[schema(nullable = false, minimum = 0, maximum = 604800)]
    pub grace_seconds: Option<u64>,
    /// Expiry of the new token; default: the old token's lifetime, from now. Not with
    /// `ttl_seconds`.
    #[serde(default, deserialize_with = "present")]
    #[schema(nullable = false, value_type = Option<Expiry>)]
    pub expires_at: Option<String>,
    /// Lifetime of the new token from now. Not with `expires_at`.
    #[serde(default, deserialize_with = "present_count")]
    #[schema(nullable = false, minimum = 1)]
    pub ttl_seconds: Option<u64>,
}

/// Answer of a regeneration: the new token and the record of the one it replaces.
#[derive(Debug, Serialize, ToSchema)]
pub struct Regenerated {
    /// The new token's text.
    pub token: String,
    /// The new token.
    pub record: TokenRecord,
    /// The token it replaces.
    pub previous: TokenRecord,
}

/// `POST /api/v1/tokens/{id}/regenerate`.
pub async fn regenerate(
    State(state): State<AppState>,
    caller: Caller,
    Path(TokenPath { id }): Path<TokenPath>,
    OptionalBody(req): OptionalBody<Regenerate>,
) -> Result<Response, ApiError> {
    let result = regenerate_token(&state, &caller, &id, req).await;
    audited(&state, &caller, "token.regenerate", Some(&id), result).await
}

async fn regenerate_token(
    state: &AppState,
    caller: &Caller,
    id: &str,
    req: Regenerate,
) -> Result<Response, ApiError> {
    let now = now();
    if !state.settings.token_creation {
        return Err(ApiError::forbidden(
            "token_creation_disabled",
            "token creation is turned off on this server",
        ));
    }
    let grace = req.grace_seconds.unwrap_or(0);
    if grace > MAX_GRACE_SECONDS {
        return Err(ApiError::invalid(
            "grace_too_long",
            format!("grace_seconds is at most {MAX_GRACE_SECONDS}"),
        ));
    }
    if !caller.can_create_tokens() {
        return Err(ApiError::forbidden(
            "forbidden",
            "regenerating tokens needs the token_creator or admin role",
        ));
    }
    let mut tx = state.store.write().await?;
    let mut old = load(&mut tx, caller, id).await?;
    if old.revoked_at.is_some() {
        return Err(ApiError::conflict(
            "token_revoked",
            "a revoked token cannot be regenerated",
        ));
    }
    if now >= old.expires_at {
        return Err(ApiError::conflict(
            "token_expired",
            "an expired token cannot be regenerated",
        ));
    }
    if !old.enabled {
        return Err(ApiError::conflict(
            "token_disabled",
            "a disabled token cannot be regenerated; enable it first",
        ));
    }
    if old.kind == Kind::Session.as_str() {
        return Err(ApiError::conflict(
            "session_token",
            "a session cannot be regenerated; log in again",
        ));
    }
    // The new token ends when the old one would have (its current, possibly shortened, expiry);
    // only an admin may ask for more, as with an edit.
    let max_ttl = state.settings.max_ttl as i64;
    let latest = if caller.is_admin() {
        now + max_ttl
    } else {
        old.expires_at.min(now + max_ttl)
    };
    let remaining = (old.expires_at.min(now + max_ttl) - now).max(1) as u64;
    let expires_at = requested_expiry(
        req.expires_at.as_deref(),
        req.ttl_seconds,
        now,
        remaining,
        latest,
    )?;
    let owner = users::get(&mut tx, &old.owner)
        .await?
        .ok_or_else(|| ApiError::not_found("no such token"))?;
    if !owner.active {
        return Err(ApiError::conflict(
            "user_inactive",
            "the user is deactivated",
        ));
    }
    let roles = old.role_list();
    if let Some(missing) = roles::first_missing(&roles, &grantable_roles(caller, &owner)) {
        return Err(ApiError::forbidden(
            "role_not_held",
            format!("role {missing:?} cannot be granted by you to this token"),
        ));
    }
    let kind = old.kind.parse::<Kind>().unwrap_or(Kind::Personal);
    let (text, mut new) = mint(
        state,
        &old.owner,
        kind,
        roles,
        old.name.clone(),
        old.description.clone(),
        now,
        expires_at,
        &caller.user,
    )?;
    new.replaces = Some(old.id.clone());
    old.revoked_at = Some(now);
    old.revoked_by = Some(caller.user.clone());
    old.revoked_from = (grace > 0).then(|| now + grace as i64);
    old.replaced_by = Some(new.id.clone());
    let before = refresh(&mut old);
    tokens::update(&mut tx, &old).await?;
    tokens::insert(&mut tx, &new).await.map_err(name_clash)?;
    let sequence = publish(&mut tx, &old, before, now).await?;
    let detail = format!("replaced by {}, grace {grace}s", new.id);
    audit::append(
        &mut tx,
        &event(caller, "token.regenerate", &old, now, detail),
    )
    .await?;
    tx.commit().await?;
    state.metrics.token_issued(kind);
    state.metrics.token_revoked();
    let body = Regenerated {
        token: text,
        record: TokenRecord::of(&new, now),
        previous: TokenRecord::of(&old, now),
    };
    Ok(with_sequence(
        (StatusCode::CREATED, Json(body)).into_response(),
        sequence,
    ))
}

/// `DELETE /api/v1/tokens/{id}`: revokes the token at once and hides its record.
pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path(TokenPath { id }): Path<TokenPath>,
) -> Result<Response, ApiError> {
    let result = delete_token(&state, &caller, &id).await;
    audited(&state, &caller, "token.delete", Some(&id), result).await
}

async fn delete_token(state: &AppState, caller: &Caller, id: &str) -> Result<Response, ApiError> {
    let now = now();
    let mut tx = state.store.write().await?;
    let mut row = load(&mut tx, caller, id).await?;
    let was_valid = !row.revoked_by_now(now);
    row.deleted_at = Some(now);
    if row.revoked_at.is_none() {
        row.revoked_at = Some(now);
        row.revoked_by = Some(caller.user.clone());
    }
    row.revoked_from = None;
    let old = refresh(&mut row);
    tokens::update(&mut tx, &row).await?;
    let sequence = publish(&mut tx, &row, old, now).await?;
    audit::append(
        &mut tx,
        &event(
            caller,
            "token.delete",
            &row,
            now,
            format!("name {:?}", row.name),
        ),
    )
    .await?;
    tx.commit().await?;
    if was_valid {
        state.metrics.token_revoked();
    }
    Ok(with_sequence(
        StatusCode::NO_CONTENT.into_response(),
        sequence,
    ))
}
