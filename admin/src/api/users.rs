//! `POST/GET/PATCH /api/v1/users[/{name}]`: users, their roles, active flag and service accounts.
//!
//! Admins manage everyone. A token creator may create service accounts holding only roles it
//! holds itself; it then manages them (roles it holds, active flag) and their tokens.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use tollgate_shared::valid_subject;
use utoipa::{IntoParams, ToSchema};

use super::extract::{Body, Params, present};
use super::records::{UserRecord, cursor, page_limit, parse_cursor};
use super::schema::{Role, UserName, UserPath};
use super::{audited, with_sequence};
use crate::auth::{Caller, acceptable_password, hash_password};
use crate::errors::ApiError;
use crate::revocation::entries::refresh;
use crate::revocation::subjects::{self, CutOff};
use crate::roles::{self, ADMIN, MAX_USER_ROLES, USER};
use crate::state::AppState;
use crate::store::audit::{self, NewEvent};
use crate::store::users::{self, UserRow};
use crate::store::{StoreError, join_roles, list, tokens};
use crate::times::now;

/// Body of `POST /api/v1/users`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUser {
    /// Unique, also ignoring case.
    #[schema(value_type = UserName)]
    pub name: String,
    /// Required for people, refused for service accounts.
    #[serde(default, deserialize_with = "present")]
    #[schema(
        nullable = false,
        min_length = 8,
        max_length = 256,
        pattern = "^[^\\u0000]*$"
    )]
    pub password: Option<String>,
    /// Default: `["user"]`.
    #[serde(default, deserialize_with = "present")]
    #[schema(nullable = false, value_type = Option<Vec<Role>>)]
    pub roles: Option<Vec<String>>,
    /// Default: false.
    #[serde(default, deserialize_with = "present")]
    #[schema(nullable = false)]
    pub service_account: Option<bool>,
    /// Default: true.
    #[serde(default, deserialize_with = "present")]
    #[schema(nullable = false)]
    pub active: Option<bool>,
}

fn check_password(password: &str) -> Result<(), ApiError> {
    if acceptable_password(password) {
        Ok(())
    } else {
        Err(ApiError::invalid(
            "invalid_password",
            "a password is 8 to 256 characters",
        ))
    }
}

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
    audited(&state, &caller, "user.create", Some(&target), result).await
}

async fn create_user(
    state: &AppState,
    caller: &Caller,
    req: CreateUser,
) -> Result<Response, ApiError> {
    let now = now();
    if !valid_subject(&req.name) {
        return Err(ApiError::invalid(
            "invalid_name",
            "a user name is 1-64 of A-Z a-z 0-9 . _ @ + : -",
        ));
    }
    let service_account = req.service_account.unwrap_or(false);
    let roles = roles::normalize(
        &req.roles.unwrap_or_else(|| vec![USER.to_owned()]),
        MAX_USER_ROLES,
    )?;
    roles::check_fits(&req.name, &roles)?;
    match (&req.password, service_account) {
        (Some(_), true) => {
            return Err(ApiError::invalid(
                "password_not_allowed",
                "service accounts cannot have a password",
            ));
        }
        (None, false) => {
            return Err(ApiError::invalid(
                "password_required",
                "a user needs a password",
            ));
        }
        (Some(p), false) => check_password(p)?,
        (None, true) => {}
    }
    let manager = if caller.is_admin() {
        None
    } else {
        if !service_account || !caller.can_create_tokens() {
            return Err(ApiError::forbidden(
                "forbidden",
                "only admins create users; token creators may create service accounts",
            ));
        }
        if let Some(missing) = roles::first_missing(&roles, &caller.roles) {
            return Err(ApiError::forbidden(
                "role_not_held",
                format!("you do not hold role {missing:?}"),
            ));
        }
        Some(caller.user.clone())
    };
    let password_hash = match req.password {
        Some(p) => Some(hash(p).await?),
        None => None,
    };
    let row = UserRow {
        name: req.name,
        password_hash,
        roles: join_roles(&roles),
        active: req.active.unwrap_or(true),
        service_account,
        manager,
        void_before: 0,
        created_at: now,
        updated_at: now,
        deactivated_by_admin: false,
    };
    let mut tx = state.store.write().await?;
    // `ADMIN` beside `admin` would read as the same person in every list and log.
    if let Some(existing) = users::same_name_any_case(&mut tx, &row.name).await? {
        return Err(ApiError::conflict(
            "user_exists",
            format!("a user named {existing:?} exists; names may not differ only in case"),
        ));
    }
    users::insert(&mut tx, &row).await.map_err(|e| match e {
        StoreError::Duplicate => ApiError::conflict("user_exists", "a user with this name exists"),
        other => other.into(),
    })?;
    let kind = if service_account {
        "service account"
    } else {
        "user"
    };
    let event = NewEvent {
        at: now,
        actor: Some(&caller.user),
        action: "user.create",
        target: Some(&row.name),
        subject: Some(&row.name),
        outcome: "success",
        detail: Some(format!("{kind}, roles [{}]", row.roles)),
    };
    audit::append(&mut tx, &event).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(UserRecord::from(&row))).into_response())
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

/// A page of users.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserPage {
    pub users: Vec<UserRecord>,
    /// Pass as `cursor` for the next page; none on the last.
    pub next_cursor: Option<String>,
}

/// `GET /api/v1/users`: everyone for admins; oneself and one's service accounts otherwise.
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Params(q): Params<UserQuery>,
) -> Result<Json<UserPage>, ApiError> {
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
    Ok(Json(UserPage {
        users: rows.iter().map(UserRecord::from).collect(),
        next_cursor,
    }))
}

fn may_see(caller: &Caller, user: &UserRow) -> bool {
    caller.is_admin()
        || user.name == caller.user
        || user.manager.as_deref() == Some(caller.user.as_str())
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

/// Body of `PATCH /api/v1/users/{name}`: at least one field; `roles` excludes `add_roles` and
/// `remove_roles`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchUser {
    /// The whole new role set.
    #[serde(default, deserialize_with = "present")]
    #[schema(nullable = false, value_type = Option<Vec<Role>>)]
    pub roles: Option<Vec<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(nullable = false, value_type = Option<Vec<Role>>)]
    pub add_roles: Option<Vec<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(nullable = false, value_type = Option<Vec<Role>>)]
    pub remove_roles: Option<Vec<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(nullable = false)]
    pub active: Option<bool>,
    /// Turning a service account into a person needs `password` too; a service account has none.
    #[serde(default, deserialize_with = "present")]
    #[schema(nullable = false)]
    pub service_account: Option<bool>,
    /// Admins only; ends the user's login sessions.
    #[serde(default, deserialize_with = "present")]
    #[schema(
        nullable = false,
        min_length = 8,
        max_length = 256,
        pattern = "^[^\\u0000]*$"
    )]
    pub password: Option<String>,
}

/// `PATCH /api/v1/users/{name}`.
pub async fn patch(
    State(state): State<AppState>,
    caller: Caller,
    Path(UserPath { name }): Path<UserPath>,
    Body(req): Body<PatchUser>,
) -> Result<Response, ApiError> {
    let result = patch_user(&state, &caller, &name, req).await;
    audited(&state, &caller, "user.update", Some(&name), result).await
}

async fn patch_user(
    state: &AppState,
    caller: &Caller,
    name: &str,
    req: PatchUser,
) -> Result<Response, ApiError> {
    let now = now();
    let role_edit = req.roles.is_some() || req.add_roles.is_some() || req.remove_roles.is_some();
    if !role_edit && req.active.is_none() && req.service_account.is_none() && req.password.is_none()
    {
        return Err(ApiError::invalid(
            "nothing_to_change",
            "give roles, add_roles, remove_roles, active, service_account or password",
        ));
    }
    if req.roles.is_some() && (req.add_roles.is_some() || req.remove_roles.is_some()) {
        return Err(ApiError::invalid(
            "conflicting_fields",
            "give roles, or add_roles/remove_roles, not both",
        ));
    }
    let norm = |r: &Option<Vec<String>>| {
        r.as_deref()
            .map(|r| roles::normalize(r, MAX_USER_ROLES))
            .transpose()
    };
    let (set, add, remove) = (
        norm(&req.roles)?,
        norm(&req.add_roles)?,
        norm(&req.remove_roles)?,
    );
    if let Some(p) = &req.password {
        check_password(p)?;
    }
    if req.service_account == Some(true) && req.password.is_some() {
        return Err(ApiError::invalid(
            "password_not_allowed",
            "service accounts cannot have a password",
        ));
    }
    let password_hash = match req.password.clone() {
        Some(p) if caller.is_admin() => Some(hash(p).await?),
        _ => None,
    };
    let mut tx = state.store.write().await?;
    let mut user = users::get_for_update(&mut tx, name)
        .await?
        .filter(|u| may_see(caller, u))
        .ok_or_else(|| ApiError::not_found("no such user"))?;
    let manages = user.manager.as_deref() == Some(caller.user.as_str()) && user.service_account;
    if !caller.is_admin() {
        if !manages {
            return Err(ApiError::forbidden("forbidden", "only admins change users"));
        }
        if req.password.is_some() || req.service_account.is_some() {
            return Err(ApiError::forbidden(
                "forbidden",
                "only admins change passwords and account types",
            ));
        }
    }
    let old_roles = user.role_list();
    let mut new_roles = match (set, add, remove) {
        (Some(set), _, _) => set,
        (None, add, remove) => {
            let mut r = old_roles.clone();
            r.extend(add.unwrap_or_default());
            let remove = remove.unwrap_or_default();
            r.retain(|x| !remove.contains(x));
            r
        }
    };
    new_roles.sort();
    new_roles.dedup();
    roles::check_fits(&user.name, &new_roles)?;
    let added: Vec<String> = new_roles
        .iter()
        .filter(|r| !old_roles.contains(r))
        .cloned()
        .collect();
    let removed: Vec<String> = old_roles
        .iter()
        .filter(|r| !new_roles.contains(r))
        .cloned()
        .collect();
    if !caller.is_admin() {
        if let Some(missing) = roles::first_missing(&added, &caller.roles) {
            return Err(ApiError::forbidden(
                "role_not_held",
                format!("you do not hold role {missing:?}"),
            ));
        }
    }
    let deactivating = user.active && req.active == Some(false);
    let loses_admin = user.has_role(ADMIN) && (removed.iter().any(|r| r == ADMIN) || deactivating);
    if loses_admin && users::other_active_admins(&mut tx, &user.name).await? == 0 {
        return Err(ApiError::conflict(
            "last_admin",
            "this would leave no active admin",
        ));
    }
    let mut details = Vec::new();
    match req.service_account {
        Some(true) if !user.service_account => {
            user.service_account = true;
            user.password_hash = None;
            details.push("now a service account".to_owned());
        }
        Some(false) if user.service_account => {
            if password_hash.is_none() {
                return Err(ApiError::invalid(
                    "password_required",
                    "a user who is not a service account needs a password",
                ));
            }
            user.service_account = false;
            // A person answers for themselves: no one else manages their tokens.
            user.manager = None;
            details.push("no longer a service account".to_owned());
        }
        _ => {}
    }
    let password_changed = password_hash.is_some();
    if let Some(h) = password_hash {
        user.password_hash = Some(h);
        details.push("password changed".to_owned());
    }
    let mut cuts: Vec<CutOff<'_>> = removed.iter().map(|r| CutOff::Role(r)).collect();
    if let Some(active) = req.active {
        if active && !user.active && user.deactivated_by_admin && !caller.is_admin() {
            return Err(ApiError::forbidden(
                "deactivated_by_admin",
                "an admin deactivated this account; only an admin may activate it",
            ));
        }
        if active != user.active {
            details.push(if active { "activated" } else { "deactivated" }.to_owned());
        }
        if deactivating {
            user.void_before = now + 1;
            user.deactivated_by_admin = caller.is_admin();
            cuts.push(CutOff::All);
        }
        if active {
            user.deactivated_by_admin = false;
        }
        user.active = active;
    }
    user.roles = join_roles(&new_roles);
    user.updated_at = now;
    users::update(&mut tx, &user).await?;
    strip_token_roles(&mut tx, &user.name, &removed).await?;
    // A new password ends every login session made with the old one, here and at the edge.
    let mut ended: Vec<(String, i64)> = Vec::new();
    if password_changed {
        for mut t in tokens::of_owner_for_update(&mut tx, &user.name).await? {
            let live = t.revoked_at.is_none() && t.deleted_at.is_none() && now < t.expires_at;
            if t.kind == tollgate_shared::Kind::Session.as_str() && live {
                t.revoked_at = Some(now);
                t.revoked_by = Some(caller.user.clone());
                if let Some(old) = refresh(&mut t) {
                    ended.push((t.id.clone(), old.expires.max(t.list_expires)));
                }
                tokens::update(&mut tx, &t).await?;
            }
        }
        if !ended.is_empty() {
            details.push(format!("{} session(s) ended", ended.len()));
        }
    }
    // Service accounts answer to their manager: what the manager loses, they lose, recursively.
    let cascaded = cascade(
        &mut tx,
        &user.name,
        Cut {
            deactivated: deactivating,
            by_admin: caller.is_admin(),
            lost: &removed,
        },
        now,
        state.settings.max_ttl as i64,
    )
    .await?;
    if !cascaded.is_empty() {
        details.push(format!("{} managed service account(s) cut", cascaded.len()));
    }
    let mut changes: Vec<list::Change<'_>> = ended
        .iter()
        .map(|(id, expires_at)| list::Change::Token {
            id,
            expires_at: *expires_at,
        })
        .collect();
    if !cuts.is_empty() {
        let expires_at = subjects::cut_off(
            &mut tx,
            &user.name,
            now,
            state.settings.max_ttl as i64,
            &cuts,
        )
        .await?;
        changes.push(subjects::change(&user.name, expires_at));
    }
    for (name, expires_at) in &cascaded {
        changes.push(subjects::change(name, *expires_at));
    }
    let mut sequence = None;
    if !changes.is_empty() {
        sequence = Some(list::bump(&mut tx, now, &changes).await?);
    }
    let mut events = Vec::new();
    if !added.is_empty() || !removed.is_empty() {
        events.push((
            "user.roles",
            format!(
                "added [{}], removed [{}]",
                added.join(","),
                removed.join(",")
            ),
        ));
    }
    if !details.is_empty() {
        events.push(("user.update", details.join(", ")));
    }
    for (action, detail) in events {
        let e = NewEvent {
            at: now,
            actor: Some(&caller.user),
            action,
            target: Some(&user.name),
            subject: Some(&user.name),
            outcome: "success",
            detail: Some(detail),
        };
        audit::append(&mut tx, &e).await?;
    }
    tx.commit().await?;
    Ok(with_sequence(
        Json(UserRecord::from(&user)).into_response(),
        sequence,
    ))
}

/// Applies a manager's deactivation or loss of `lost` roles to the service accounts it manages,
/// and theirs in turn: a service account never keeps a role its manager lost, nor works once its
/// manager is deactivated. Returns each account cut, with its rule's expiry for the list.
/// What a manager lost.
struct Cut<'a> {
    /// The manager was deactivated.
    deactivated: bool,
    /// By an admin (then only an admin re-activates the accounts it reaches).
    by_admin: bool,
    /// Roles the manager lost.
    lost: &'a [String],
}

async fn cascade(
    tx: &mut crate::store::Tx,
    manager: &str,
    what: Cut<'_>,
    now: i64,
    max_ttl: i64,
) -> Result<Vec<(String, i64)>, ApiError> {
    let mut cut = Vec::new();
    let mut queue = vec![(manager.to_owned(), what.deactivated, what.lost.to_vec())];
    while let Some((manager, deactivated, lost)) = queue.pop() {
        for mut account in users::managed_by_for_update(tx, &manager).await? {
            let held = account.role_list();
            let dropped: Vec<String> = held.iter().filter(|r| lost.contains(r)).cloned().collect();
            let deactivate = deactivated && account.active;
            if dropped.is_empty() && !deactivate {
                continue;
            }
            let kept: Vec<String> = held.into_iter().filter(|r| !dropped.contains(r)).collect();
            account.roles = join_roles(&kept);
            let mut cuts: Vec<CutOff<'_>> = dropped.iter().map(|r| CutOff::Role(r)).collect();
            if deactivate {
                account.active = false;
                account.void_before = now + 1;
                account.deactivated_by_admin = what.by_admin;
                cuts.push(CutOff::All);
            }
            account.updated_at = now;
            users::update(tx, &account).await?;
            strip_token_roles(tx, &account.name, &dropped).await?;
            let expires_at = subjects::cut_off(tx, &account.name, now, max_ttl, &cuts).await?;
            cut.push((account.name.clone(), expires_at));
            queue.push((account.name, deactivate, dropped));
        }
    }
    Ok(cut)
}

/// Takes `removed` roles off the records of every token of `owner` (the list's cut-offs are what
/// the edge acts on; this keeps the records saying the same).
async fn strip_token_roles(
    tx: &mut crate::store::Tx,
    owner: &str,
    removed: &[String],
) -> Result<(), ApiError> {
    if removed.is_empty() {
        return Ok(());
    }
    for mut t in tokens::of_owner_for_update(tx, owner).await? {
        let roles = t.role_list();
        let kept: Vec<String> = roles
            .iter()
            .filter(|r| !removed.contains(r))
            .cloned()
            .collect();
        if kept.len() != roles.len() {
            t.roles = join_roles(&kept);
            tokens::update(tx, &t).await?;
        }
    }
    Ok(())
}
