//! `DELETE /api/v1/users/{name}`: deleting an account, irreversibly, with every token it holds.
//!
//! In one transaction the account is tombstoned (its row stays, so the name stays reserved and
//! no later account of that name can pass for it), every live token of it is revoked, and a
//! subject cut-off voiding everything issued to the name so far goes into the revocation list,
//! lasting until the last of those tokens has expired. One audit row records the deletion and
//! one each revoked token.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::changes::ListChanges;
use super::schema::UserPath;
use super::users::record;
use super::{audited, with_sequence};
use crate::auth::Caller;
use crate::errors::ApiError;
use crate::revocation::subjects::{self, CutOff};
use crate::rules::roles::ADMIN;
use crate::rules::users::{self as rules, may_see};
use crate::state::AppState;
use crate::store::Tx;
use crate::store::audit::{self, Action, NewEvent, Outcome};
use crate::store::users;
use crate::times::UnixTime;

/// `DELETE /api/v1/users/{name}`: deletes a user or service account and revokes all its tokens,
/// at the admin and at the edge (a cut-off for the name in the revocation list). Irreversible;
/// the name stays reserved, since tokens are signed for a name.
///
/// Admins delete any account but their own and the last active admin; a token creator deletes
/// the service accounts it manages, unless an admin deactivated one. An account that still
/// manages service accounts is not deleted (409 `manages_service_accounts`): an admin hands them
/// to another manager (`PATCH` with `manager`) or they are deleted first, so no account is ever
/// left managed by nobody, nor deleted as a side effect.
pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path(UserPath { name }): Path<UserPath>,
) -> Result<Response, ApiError> {
    let result = delete_user(&state, &caller, &name).await;
    let sequence = audited(&state, &caller, Action::UserDelete, Some(&name), result).await?;
    Ok(with_sequence(
        StatusCode::NO_CONTENT.into_response(),
        sequence,
    ))
}

/// Deletes an account (the body of `DELETE /api/v1/users/{name}`); returns the list version
/// that carries the cut-off.
pub(crate) async fn delete_user(
    state: &AppState,
    caller: &Caller,
    name: &str,
) -> Result<Option<i64>, ApiError> {
    let now = UnixTime::now();
    let mut tx = state.store.write().await?;
    let user = users::get_for_update(&mut tx, name)
        .await?
        .filter(|u| may_see(caller, u))
        .ok_or_else(|| ApiError::not_found("no such user"))?;
    let manages = users::managed_count(&mut tx, &user.name).await?;
    let other_admins = if user.roles.contains(ADMIN) {
        users::other_active_admins(&mut tx, &user.name).await?
    } else {
        0
    };
    let count = |n: i64| u64::try_from(n).unwrap_or(0);
    let gone = rules::decide_delete(caller, &user, count(manages), count(other_admins), now)?;
    users::update(&mut tx, &gone).await?;
    users::mark_deleted(&mut tx, &gone.name, now).await?;
    let mut changes = ListChanges::default();
    let revoked = revoke_all(&mut tx, &mut changes, caller, &gone.name, now).await?;
    let expires_at = subjects::cut_off(
        &mut tx,
        &gone.name,
        now,
        state.settings.max_ttl,
        &[CutOff::All],
    )
    .await?;
    changes.subject(&gone.name, expires_at);
    let sequence = changes.publish(&mut tx, now).await?;
    let kind = if gone.service_account {
        "service account"
    } else {
        "user"
    };
    let detail = format!(
        "{kind} deleted, roles [{}], {revoked} token(s) revoked",
        gone.roles.to_stored()
    );
    record(&mut tx, caller, Action::UserDelete, &gone.name, now, detail).await?;
    tx.commit().await?;
    Ok(sequence)
}

/// Revokes every live token of `owner`, auditing each; returns how many. Tokens void since an
/// earlier deactivation are revoked too: once the account is gone their records no longer show
/// it.
async fn revoke_all(
    tx: &mut Tx,
    changes: &mut ListChanges,
    caller: &Caller,
    owner: &str,
    now: UnixTime,
) -> Result<usize, ApiError> {
    let revoked = changes
        .revoke_owned(tx, caller, owner, now, |_| true)
        .await?;
    for row in &revoked {
        let event = NewEvent {
            at: now,
            actor: Some(&caller.user),
            action: Action::TokenRevoke,
            target: Some(&row.id),
            subject: Some(&row.owner),
            outcome: Outcome::Success,
            detail: Some("revoked: its account was deleted".to_owned()),
        };
        audit::append(tx, &event).await?;
    }
    Ok(revoked.len())
}
