//! `POST/GET/PATCH /api/v1/users[/{name}]`: users, their roles, active flag and service accounts.
//!
//! Admins manage everyone. A token creator may create service accounts holding only roles it
//! holds itself; it then manages them (roles it holds, active flag) and their tokens. Only admins
//! hand a service account to another manager. Deleting an account is in `user_actions.rs`.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use tollgate_shared::{ErrorCode, Kind};
use utoipa::IntoParams;

use super::changes::ListChanges;
use super::extract::{Body, Params};
use super::records::{UserRecord, cursor, page_limit, parse_cursor};
use super::schema::UserPath;
use super::{audited, with_sequence};
use crate::auth::{Caller, hash_password};
use crate::errors::ApiError;
use crate::revocation::subjects::{self, CutOff};
use crate::rules::roles::ADMIN;
use crate::rules::roles::Roles;
use crate::rules::users::{self as rules, Loss, NewUser, UserEdit, UserPlan, may_see};
use crate::state::AppState;
use crate::store::audit::{self, Action, NewEvent, Outcome};
use crate::store::users::{self, UserRow};
use crate::store::{StoreError, Tx, tokens};
use crate::times::UnixTime;
pub use tollgate_api::users::{CreateUser, PatchUser, UserPage};

async fn hash(password: String) -> Result<String, ApiError> {
    tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .map_err(|_| ApiError::internal())?
}

/// `POST /api/v1/users`.
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Body(req): Body<CreateUser>,
) -> Result<Response, ApiError> {
    let target = req.name.clone();
    let result = create_user(&state, &caller, req).await;
    let record = audited(&state, &caller, Action::UserCreate, Some(&target), result).await?;
    Ok((StatusCode::CREATED, Json(record)).into_response())
}

/// Creates a user or service account (the body of `POST /api/v1/users`, also used by the console).
pub(crate) async fn create_user(
    state: &AppState,
    caller: &Caller,
    req: CreateUser,
) -> Result<UserRecord, ApiError> {
    let now = UnixTime::now();
    let asked = NewUser {
        name: &req.name,
        password: req.password.as_deref(),
        roles: req.roles.as_deref(),
        service_account: req.service_account.unwrap_or(false),
        active: req.active,
    };
    let plan = rules::decide_create(caller, &asked)?;
    let service_account = asked.service_account;
    let password_hash = match req.password {
        Some(p) => Some(hash(p).await?),
        None => None,
    };
    let row = new_row(req.name, plan, service_account, password_hash, now);
    let mut tx = state.store.write().await?;
    insert_account(&mut tx, caller, &row, now).await?;
    tx.commit().await?;
    Ok(UserRecord::from(&row))
}

/// The record of a new account as `plan` decided it.
pub(crate) fn new_row(
    name: String,
    plan: UserPlan,
    service_account: bool,
    password_hash: Option<String>,
    now: UnixTime,
) -> UserRow {
    UserRow {
        name,
        password_hash,
        roles: plan.roles,
        active: plan.active,
        service_account,
        manager: plan.manager,
        void_before: UnixTime::EPOCH,
        created_at: now,
        updated_at: now,
        deactivated_by_admin: false,
    }
}

/// Stores the new account `row` and audits its creation by `caller`. The name must not be
/// taken, in any case, nor have been a deleted account's (tokens are signed for a name).
pub(crate) async fn insert_account(
    tx: &mut Tx,
    caller: &Caller,
    row: &UserRow,
    now: UnixTime,
) -> Result<(), ApiError> {
    // `ADMIN` beside `admin` would read as the same person in every list and log.
    if let Some(taken) = users::same_name_any_case(tx, &row.name).await? {
        let message = if taken.deleted {
            format!(
                "{:?} was the name of a deleted account; it stays reserved",
                taken.name
            )
        } else {
            format!(
                "a user named {:?} exists; names may not differ only in case",
                taken.name
            )
        };
        return Err(ApiError::new(ErrorCode::UserExists, message));
    }
    users::insert(tx, row).await.map_err(|e| match e {
        StoreError::Duplicate => {
            ApiError::new(ErrorCode::UserExists, "a user with this name exists")
        }
        other => other.into(),
    })?;
    let kind = if row.service_account {
        "service account"
    } else {
        "user"
    };
    let detail = format!("{kind}, roles [{}]", row.roles.to_stored());
    record(tx, caller, Action::UserCreate, &row.name, now, detail).await
}

/// Appends the successful `action` on user `name` by `caller`.
pub(crate) async fn record(
    tx: &mut Tx,
    caller: &Caller,
    action: Action,
    name: &str,
    now: UnixTime,
    detail: String,
) -> Result<(), ApiError> {
    let event = NewEvent {
        at: now,
        actor: Some(&caller.user),
        action,
        target: Some(name),
        subject: Some(name),
        outcome: Outcome::Success,
        detail: Some(detail),
    };
    Ok(audit::append(tx, &event).await?)
}

/// Query of `GET /api/v1/users`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct UserQuery {
    /// Page size (default 50).
    #[param(nullable = false, minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    #[param(nullable = false, pattern = "^djE6[A-Za-z0-9_-]+$")]
    pub cursor: Option<String>,
}

/// `GET /api/v1/users`: everyone for admins; oneself and one's service accounts otherwise.
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Params(q): Params<UserQuery>,
) -> Result<Json<UserPage>, ApiError> {
    list_users(&state, &caller, q).await.map(Json)
}

/// A page of the users `caller` may see (the body of `GET /api/v1/users`).
pub(crate) async fn list_users(
    state: &AppState,
    caller: &Caller,
    q: UserQuery,
) -> Result<UserPage, ApiError> {
    let limit = page_limit(q.limit, 50, 500)?;
    let after = q
        .cursor
        .as_deref()
        .map(parse_cursor)
        .transpose()?
        .unwrap_or_default();
    let manager = (!caller.is_admin()).then_some(caller.user.as_str());
    let mut rows = users::list(&state.store, &after, limit + 1, manager).await?;
    let next_cursor = if rows.len() as i64 > limit {
        rows.truncate(limit as usize);
        rows.last().map(|r| cursor(&r.name))
    } else {
        None
    };
    Ok(UserPage {
        users: rows.iter().map(UserRecord::from).collect(),
        next_cursor,
    })
}

/// `GET /api/v1/users/{name}`.
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(UserPath { name }): Path<UserPath>,
) -> Result<Json<UserRecord>, ApiError> {
    let user = users::find(&state.store, &name)
        .await?
        .filter(|u| may_see(&caller, u));
    user.map(|u| Json(UserRecord::from(&u)))
        .ok_or_else(|| ApiError::not_found("no such user"))
}

/// `PATCH /api/v1/users/{name}`.
pub async fn patch(
    State(state): State<AppState>,
    caller: Caller,
    Path(UserPath { name }): Path<UserPath>,
    Body(req): Body<PatchUser>,
) -> Result<Response, ApiError> {
    let result = patch_user(&state, &caller, &name, req).await;
    let (record, sequence) =
        audited(&state, &caller, Action::UserUpdate, Some(&name), result).await?;
    Ok(with_sequence(Json(record).into_response(), sequence))
}

/// Edits a user (the body of `PATCH /api/v1/users/{name}`, also used by the console): the new
/// record and the list version that carries the change, if any.
pub(crate) async fn patch_user(
    state: &AppState,
    caller: &Caller,
    name: &str,
    req: PatchUser,
) -> Result<(UserRecord, Option<i64>), ApiError> {
    let now = UnixTime::now();
    let edit = rules::check_edit(&UserEdit {
        roles: req.roles.as_deref(),
        add_roles: req.add_roles.as_deref(),
        remove_roles: req.remove_roles.as_deref(),
        active: req.active,
        service_account: req.service_account,
        password: req.password.as_deref(),
        manager: req.manager.as_deref(),
    })?;
    let password_hash = match req.password {
        Some(p) if caller.is_admin() => Some(hash(p).await?),
        _ => None,
    };
    let mut tx = state.store.write().await?;
    let user = users::get_for_update(&mut tx, name)
        .await?
        .filter(|u| may_see(caller, u))
        .ok_or_else(|| ApiError::not_found("no such user"))?;
    let other_admins = if user.roles.contains(ADMIN) {
        users::other_active_admins(&mut tx, &user.name).await?
    } else {
        0
    };
    let other_admins = u64::try_from(other_admins).unwrap_or(0);
    let manager = match user.manager.as_deref() {
        Some(m) if user.service_account => users::get(&mut tx, m).await?,
        _ => None,
    };
    let new_manager = match &edit.manager {
        Some(m) => users::get_for_share(&mut tx, m).await?,
        None => None,
    };
    let mut change = rules::decide_edit(
        caller,
        &user,
        new_manager.as_ref().or(manager.as_ref()),
        &edit,
        password_hash,
        other_admins,
        now,
    )?;
    if let Some(m) = &edit.manager {
        rules::decide_manager(caller, &mut change, m, new_manager.as_ref())?;
    }
    let user = &change.user;
    users::update(&mut tx, user).await?;
    strip_token_roles(&mut tx, &user.name, &change.removed).await?;
    let mut changes = ListChanges::default();
    if change.password_changed {
        // A new password ends every login session made with the old one, here and at the edge.
        let ended = end_sessions(&mut tx, &mut changes, caller, &user.name, now).await?;
        if ended > 0 {
            change.details.push(format!("{ended} session(s) ended"));
        }
    }
    let max_ttl = state.settings.max_ttl;
    let mut cuts: Vec<CutOff<'_>> = change.removed.iter().map(CutOff::Role).collect();
    if change.deactivated {
        cuts.push(CutOff::All);
    }
    if !cuts.is_empty() {
        let expires_at = subjects::cut_off(&mut tx, &user.name, now, max_ttl, &cuts).await?;
        changes.subject(&user.name, expires_at);
    }
    // Service accounts answer to their manager: what the manager loses, they lose, recursively.
    let loss = Loss {
        deactivated: change.deactivated,
        by_admin: caller.is_admin(),
        roles: change.removed.clone(),
    };
    let cascaded = cascade(&mut tx, &mut changes, &user.name, loss, now, max_ttl).await?;
    if cascaded > 0 {
        change
            .details
            .push(format!("{cascaded} managed service account(s) cut"));
    }
    let sequence = changes.publish(&mut tx, now).await?;
    let user = &change.user;
    if !change.added.is_empty() || !change.removed.is_empty() {
        let detail = format!(
            "added [{}], removed [{}]",
            change.added.to_stored(),
            change.removed.to_stored()
        );
        record(&mut tx, caller, Action::UserRoles, &user.name, now, detail).await?;
    }
    if !change.details.is_empty() {
        let detail = change.details.join(", ");
        record(&mut tx, caller, Action::UserUpdate, &user.name, now, detail).await?;
    }
    tx.commit().await?;
    Ok((UserRecord::from(user), sequence))
}

/// Revokes `owner`'s live login sessions; returns how many ended.
async fn end_sessions(
    tx: &mut Tx,
    changes: &mut ListChanges,
    caller: &Caller,
    owner: &str,
    now: UnixTime,
) -> Result<usize, ApiError> {
    let ended = changes
        .revoke_owned(tx, caller, owner, now, |t| t.kind == Kind::Session)
        .await?;
    Ok(ended.len())
}

/// Passes a manager's `loss` on to the service accounts it manages, and theirs in turn
/// ([`rules::pass_on`]), at the admin and through each account's cut-off at the edge. Returns how
/// many accounts it changed.
async fn cascade(
    tx: &mut Tx,
    changes: &mut ListChanges,
    manager: &str,
    loss: Loss,
    now: UnixTime,
    max_ttl: u64,
) -> Result<usize, ApiError> {
    let mut count = 0;
    let mut queue = vec![(manager.to_owned(), loss)];
    while let Some((manager, loss)) = queue.pop() {
        for account in users::managed_by_for_update(tx, &manager).await? {
            let Some((account, passed)) = rules::pass_on(&account, &loss, now) else {
                continue;
            };
            users::update(tx, &account).await?;
            strip_token_roles(tx, &account.name, &passed.roles).await?;
            let mut cuts: Vec<CutOff<'_>> = passed.roles.iter().map(CutOff::Role).collect();
            if passed.deactivated {
                cuts.push(CutOff::All);
            }
            let expires_at = subjects::cut_off(tx, &account.name, now, max_ttl, &cuts).await?;
            changes.subject(&account.name, expires_at);
            count += 1;
            queue.push((account.name, passed));
        }
    }
    Ok(count)
}

/// Takes `removed` roles off the records of every token of `owner` (the list's cut-offs are what
/// the edge acts on; this keeps the records saying the same).
async fn strip_token_roles(tx: &mut Tx, owner: &str, removed: &Roles) -> Result<(), ApiError> {
    if removed.is_empty() {
        return Ok(());
    }
    for mut t in tokens::of_owner_for_update(tx, owner).await? {
        let kept = t.roles.difference(removed);
        if kept.len() != t.roles.len() {
            t.roles = kept;
            tokens::update(tx, &t).await?;
        }
    }
    Ok(())
}
