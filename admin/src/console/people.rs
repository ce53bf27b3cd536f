//! The profile and the admin pages: users and service accounts, the audit log, the settings.
//! Changes go through the API's own operations (`crate::api::users::*`).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::session::{CSRF_FIELD, Viewer};
use super::views::{self, AuditFilter, Frame};
use super::{Fields, Notice, Refused};
use crate::api::audit::{AuditQuery, list_events};
use crate::api::audited;
use crate::api::extract::Params;
use crate::api::records::UserRecord;
use crate::api::users::{
    CreateUser, PatchUser, UserQuery, create_user as api_create_user, list_users, patch_user,
};
use crate::errors::ApiError;
use crate::rules::users::may_see;
use crate::state::AppState;
use crate::store::audit::Action;
use crate::store::users as store_users;
use crate::times::{now, parse_time};

fn frame<'a>(viewer: &'a Viewer, current: &'static str) -> Frame<'a> {
    Frame {
        user: &viewer.caller.user,
        admin: viewer.is_admin(),
        csrf: &viewer.csrf,
        current,
        now: now(),
    }
}

fn admin_only(viewer: &Viewer) -> Result<(), Refused> {
    if viewer.is_admin() {
        Ok(())
    } else {
        Err(Refused::admins_only())
    }
}

/// `GET /profile`.
pub async fn profile(State(state): State<AppState>, viewer: Viewer) -> Result<Response, Refused> {
    let user = store_users::find(&state.store, &viewer.caller.user)
        .await
        .map_err(ApiError::from)?
        .ok_or_else(|| ApiError::not_found("no such user"))?;
    let record = UserRecord::from(&user);
    let f = frame(&viewer, "/profile");
    let expires = viewer.caller.expires_at.rfc3339();
    let body = views::profile(&f, &record, &viewer.caller.roles.names(), &expires);
    Ok(views::page(&f, "Profile", None, body).into_response())
}

async fn all_users(state: &AppState, viewer: &Viewer) -> Result<Vec<UserRecord>, ApiError> {
    let mut out = Vec::new();
    let mut cursor = None;
    for _ in 0..20 {
        let q = UserQuery {
            limit: Some(500),
            cursor,
        };
        let page = list_users(state, &viewer.caller, q).await?;
        out.extend(page.users);
        cursor = page.next_cursor;
        if cursor.is_none() {
            break;
        }
    }
    Ok(out)
}

async fn users_page(
    state: &AppState,
    viewer: &Viewer,
    status: StatusCode,
    notice: Option<Notice>,
) -> Result<Response, Refused> {
    let users = all_users(state, viewer).await?;
    let f = frame(viewer, "/admin/users");
    let body = views::users(&f, &users);
    Ok((status, views::page(&f, "Users", notice.as_ref(), body)).into_response())
}

/// `GET /admin/users`.
pub async fn users(State(state): State<AppState>, viewer: Viewer) -> Result<Response, Refused> {
    admin_only(&viewer)?;
    users_page(&state, &viewer, StatusCode::OK, None).await
}

/// The roles a user form asks for: checked boxes and the free-text field.
fn asked_roles(fields: &Fields) -> Vec<String> {
    let mut roles = fields.all("roles");
    for r in fields.get("other_roles").unwrap_or("").split(',') {
        let r = r.trim();
        if !r.is_empty() && !roles.iter().any(|x| x == r) {
            roles.push(r.to_owned());
        }
    }
    roles
}

/// `POST /admin/users` (`POST /api/v1/users`).
pub async fn create_user(
    State(state): State<AppState>,
    viewer: Viewer,
    fields: Fields,
) -> Result<Response, Refused> {
    viewer.check_csrf(fields.get(CSRF_FIELD))?;
    admin_only(&viewer)?;
    let service_account = fields.get("service_account") == Some("true");
    let name = fields.get("name").unwrap_or("").trim().to_owned();
    let req = CreateUser {
        name: name.clone(),
        password: if service_account {
            None
        } else {
            fields.get("password").map(str::to_owned)
        },
        roles: Some(asked_roles(&fields)),
        service_account: Some(service_account),
        active: None,
    };
    let result = api_create_user(&state, &viewer.caller, req).await;
    match audited(
        &state,
        &viewer.caller,
        Action::UserCreate,
        Some(&name),
        result,
    )
    .await
    {
        Ok(u) => {
            let kind = if u.service_account {
                "service account"
            } else {
                "user"
            };
            let notice = Notice::done(format!(
                "Created {kind} “{}” with roles {}.",
                u.name,
                u.roles.join(", ")
            ));
            users_page(&state, &viewer, StatusCode::CREATED, Some(notice)).await
        }
        Err(e) => users_page(&state, &viewer, e.status, Some(Notice::refused(&e))).await,
    }
}

async fn user_page(
    state: &AppState,
    viewer: &Viewer,
    name: &str,
    status: StatusCode,
    notice: Option<Notice>,
) -> Result<Response, Refused> {
    let user = store_users::find(&state.store, name)
        .await
        .map_err(ApiError::from)?
        .filter(|u| may_see(&viewer.caller, u))
        .ok_or_else(|| ApiError::not_found("no such user"))?;
    let record = UserRecord::from(&user);
    let f = frame(viewer, "/admin/users");
    let title = if record.service_account {
        format!("Service account “{}”", record.name)
    } else {
        format!("User “{}”", record.name)
    };
    let body = views::user(&f, &record);
    Ok((status, views::page(&f, &title, notice.as_ref(), body)).into_response())
}

/// `GET /admin/users/{name}`.
pub async fn user(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(name): Path<String>,
) -> Result<Response, Refused> {
    admin_only(&viewer)?;
    user_page(&state, &viewer, &name, StatusCode::OK, None).await
}

async fn change(
    state: &AppState,
    viewer: &Viewer,
    name: &str,
    req: PatchUser,
    say: impl FnOnce(&UserRecord) -> String,
) -> Result<Response, Refused> {
    let result = patch_user(state, &viewer.caller, name, req).await;
    match audited(
        state,
        &viewer.caller,
        Action::UserUpdate,
        Some(name),
        result,
    )
    .await
    {
        Ok((u, _)) => {
            let notice = Notice::done(say(&u));
            user_page(state, viewer, name, StatusCode::OK, Some(notice)).await
        }
        Err(e) if e.status == StatusCode::NOT_FOUND => Err(e.into()),
        Err(e) => user_page(state, viewer, name, e.status, Some(Notice::refused(&e))).await,
    }
}

/// `POST /admin/users/{name}/roles`.
pub async fn roles(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(name): Path<String>,
    fields: Fields,
) -> Result<Response, Refused> {
    viewer.check_csrf(fields.get(CSRF_FIELD))?;
    admin_only(&viewer)?;
    let req = PatchUser {
        roles: Some(asked_roles(&fields)),
        ..PatchUser::default()
    };
    change(&state, &viewer, &name, req, |u| {
        format!(
            "“{}” now holds {}; tokens lose removed roles at the edge within seconds.",
            u.name,
            if u.roles.is_empty() {
                "no roles".to_owned()
            } else {
                u.roles.join(", ")
            }
        )
    })
    .await
}

/// `POST /admin/users/{name}/active`.
pub async fn active(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(name): Path<String>,
    fields: Fields,
) -> Result<Response, Refused> {
    viewer.check_csrf(fields.get(CSRF_FIELD))?;
    admin_only(&viewer)?;
    let active = fields.get("active") == Some("true");
    let req = PatchUser {
        active: Some(active),
        ..PatchUser::default()
    };
    change(&state, &viewer, &name, req, |u| {
        if u.active {
            format!(
                "Reactivated “{}”: they can sign in and get new tokens again.",
                u.name
            )
        } else {
            format!(
                "Deactivated “{}”: their tokens are refused everywhere.",
                u.name
            )
        }
    })
    .await
}

/// `POST /admin/users/{name}/password`.
pub async fn password(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(name): Path<String>,
    fields: Fields,
) -> Result<Response, Refused> {
    viewer.check_csrf(fields.get(CSRF_FIELD))?;
    admin_only(&viewer)?;
    let req = PatchUser {
        password: Some(fields.get("password").unwrap_or("").to_owned()),
        ..PatchUser::default()
    };
    change(&state, &viewer, &name, req, |u| {
        format!(
            "Set a new password for “{}”; their sign-in sessions have ended.",
            u.name
        )
    })
    .await
}

fn moment(text: &Option<String>) -> Result<Option<i64>, ApiError> {
    match text.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        None => Ok(None),
        Some(t) => {
            let t = if t.len() == 16 {
                format!("{t}:00Z")
            } else {
                t.to_owned()
            };
            parse_time(&t)
                .map(Some)
                .map_err(|e| ApiError::new(tollgate_shared::ErrorCode::InvalidQuery, e.to_string()))
        }
    }
}

/// `GET /admin/audit`: the audit log (`GET /api/v1/audit`) with a time range, newest first.
pub async fn audit(
    State(state): State<AppState>,
    viewer: Viewer,
    Params(filter): Params<AuditFilter>,
) -> Result<Response, Refused> {
    admin_only(&viewer)?;
    let nonempty = |v: &Option<String>| v.clone().filter(|v| !v.trim().is_empty());
    let q = AuditQuery {
        actor: nonempty(&filter.actor),
        action: nonempty(&filter.action),
        target: nonempty(&filter.target),
        limit: Some(50),
        cursor: nonempty(&filter.cursor),
    };
    let f = frame(&viewer, "/admin/audit");
    let during = (moment(&filter.from), moment(&filter.to));
    let (page, notice) = match during {
        (Ok(since), Ok(until)) => (
            list_events(&state, &viewer.caller, q, Some((since, until))).await,
            None,
        ),
        (Err(e), _) | (_, Err(e)) => (Err(e.clone()), Some(Notice::refused(&e))),
    };
    let (events, next, notice) = match page {
        Ok(p) => (p.events, p.next_cursor, notice),
        Err(e) => (Vec::new(), None, Some(Notice::refused(&e))),
    };
    let body = views::audit(&f, &filter, &events, next.as_deref());
    Ok(views::page(&f, "Audit log", notice.as_ref(), body).into_response())
}

fn duration(seconds: u64) -> String {
    match seconds {
        s if s % 86_400 == 0 => format!("{} days", s / 86_400),
        s if s % 3600 == 0 => format!("{} hours", s / 3600),
        s if s % 60 == 0 => format!("{} minutes", s / 60),
        s => format!("{s} seconds"),
    }
}

/// `GET /admin/settings`: the settings in force, read-only.
pub async fn settings(State(state): State<AppState>, viewer: Viewer) -> Result<Response, Refused> {
    admin_only(&viewer)?;
    let s = &state.settings;
    let (token_api, changed) = crate::api::settings::token_api_switch(&state).await?;
    let rows = vec![
        (
            "Default token lifetime (TOLLGATE_DEFAULT_TTL)",
            duration(s.default_ttl),
        ),
        (
            "Longest token lifetime (TOLLGATE_MAX_TTL)",
            duration(s.max_ttl),
        ),
        (
            "Sign-in session lifetime (TOLLGATE_SESSION_TTL)",
            duration(s.session_ttl),
        ),
        (
            "Re-authentication window (TOLLGATE_REAUTH_WINDOW)",
            duration(s.reauth_window),
        ),
        (
            "Token API for everyone but admins (TOLLGATE_TOKEN_CREATION, or PATCH /api/v1/settings)",
            match (token_api, changed) {
                (on, Some(c)) => format!(
                    "{} (set by {} at {})",
                    if on { "on" } else { "off" },
                    c.changed_by,
                    crate::times::rfc3339(c.changed_at)
                ),
                (true, None) => "on".into(),
                (false, None) => "off".into(),
            },
        ),
        (
            "Who makes tokens for themselves (TOLLGATE_PERSONAL_TOKENS)",
            match s.personal_tokens {
                crate::config::PersonalTokens::Everyone => "everyone".into(),
                crate::config::PersonalTokens::TokenCreators => "token creators and admins".into(),
            },
        ),
        (
            "Token prefix (TOLLGATE_TOKEN_PREFIX)",
            s.token_prefix.clone(),
        ),
        (
            "Sign-in attempts per user (TOLLGATE_LOGIN_ATTEMPTS)",
            format!("{} per {}", s.login_attempts, duration(s.login_window)),
        ),
    ];
    let f = frame(&viewer, "/admin/settings");
    Ok(views::page(&f, "Settings", None, views::settings(&rows)).into_response())
}
