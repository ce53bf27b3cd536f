//! `POST /api/v1/login` (password to session token) and `POST /api/v1/logout`.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use tollgate_shared::ErrorCode;
use tollgate_shared::Kind;
use tollgate_shared::token::MAX_ROLES;

use super::changes::ListChanges;
use super::extract::{OptionalBody, Source, UncheckedBody};
use super::minting::{cut_this_second, in_a_settled_second, mint};
use super::records::token_record;
use super::token_actions::Empty;
use super::with_sequence;
use crate::auth::{Caller, verify_password};
use crate::errors::{ApiError, error_response};
use crate::rules::roles::Roles;
use crate::rules::tokens::Mint;
use crate::state::AppState;
use crate::store::audit::{self, Action, NewEvent, Outcome};
use crate::store::users::UserRow;
use crate::store::{tokens, users};
use crate::times::UnixTime;
pub use tollgate_api::sessions::{Login, Session};

fn refused() -> ApiError {
    ApiError::new(ErrorCode::InvalidCredentials, "wrong username or password")
}

/// Counts and audits a refused login; `user` is the account named, if it exists.
async fn record_failure(
    state: &AppState,
    user: Option<&UserRow>,
    now: UnixTime,
    reason: &str,
) -> Result<(), ApiError> {
    state.metrics.login(false);
    let known = user.map(|u| u.name.as_str());
    let e = NewEvent {
        at: now,
        actor: known,
        action: Action::Login,
        target: known,
        subject: known,
        outcome: Outcome::Failure,
        detail: Some(reason.to_owned()),
    };
    audit::append_alone(&state.store, &e).await?;
    Ok(())
}

/// 429 for a username with too many recent attempts (or too many running at once).
fn too_many_attempts(retry_after: u64, busy: bool) -> Response {
    let message = if busy {
        "too many logins for this user at once; retry in a moment"
    } else {
        "too many failed logins for this user or from this address; try again later"
    };
    let mut response = error_response(
        StatusCode::TOO_MANY_REQUESTS,
        ErrorCode::TooManyAttempts,
        message,
    );
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(retry_after.max(1)));
    response
}

/// What a password login came to, short of a refusal.
pub(crate) enum LoginOutcome {
    /// A new session.
    Session(Box<Session>),
    /// Too many attempts: retry after this many seconds (`busy`: too many at once).
    Throttled { retry_after: u64, busy: bool },
}

/// `POST /api/v1/login`.
pub async fn login(
    State(state): State<AppState>,
    Source(source): Source,
    UncheckedBody(req): UncheckedBody<Login>,
) -> Result<Response, ApiError> {
    match password_login(&state, source, req).await? {
        LoginOutcome::Session(session) => Ok((StatusCode::OK, Json(*session)).into_response()),
        LoginOutcome::Throttled { retry_after, busy } => Ok(too_many_attempts(retry_after, busy)),
    }
}

/// Checks a password under the throttle and opens a session (the body of `POST /api/v1/login`,
/// also used by the console's sign-in).
pub(crate) async fn password_login(
    state: &AppState,
    source: Option<std::net::IpAddr>,
    req: Login,
) -> Result<LoginOutcome, ApiError> {
    let now = UnixTime::now();
    // A name no account can have is never looked up (PostgreSQL refuses U+0000 outright).
    let user = if req.username.len() <= 64 && !req.username.contains('\0') {
        users::find(&state.store, &req.username).await?
    } else {
        None
    };
    let attempt = match state.throttle.begin(&req.username, source, now.as_secs()) {
        Ok(attempt) => attempt,
        Err(held) => {
            if held.audit {
                record_failure(state, user.as_ref(), now, "too many failed attempts").await?;
            } else {
                state.metrics.login(false);
            }
            return Ok(LoginOutcome::Throttled {
                retry_after: held.retry_after,
                busy: held.busy,
            });
        }
    };
    let hash = user.as_ref().and_then(|u| u.password_hash.clone());
    let password = req.password;
    let checked =
        tokio::task::spawn_blocking(move || verify_password(&password, hash.as_deref())).await;
    let Ok(matches) = checked else {
        state.throttle.finish(attempt, false);
        return Err(ApiError::internal());
    };
    let reason = match &user {
        None => Some("unknown user"),
        Some(u) if u.service_account => Some("service accounts cannot log in with a password"),
        Some(_) if !matches => Some("wrong password"),
        Some(u) if !u.active => Some("user deactivated"),
        Some(_) => None,
    };
    state.throttle.finish(attempt, reason.is_none());
    if let Some(reason) = reason {
        record_failure(state, user.as_ref(), now, reason).await?;
        return Err(refused());
    }
    let Some(user) = user else {
        return Err(refused());
    };
    let roles = user.roles.clone();
    if roles.len() > MAX_ROLES {
        // Only a user stored before the limit can hold more; say so instead of dropping roles.
        return Err(ApiError::new(
            ErrorCode::TooManyRoles,
            format!(
                "this user holds {} roles and a session carries at most {MAX_ROLES}; an admin must remove some",
                roles.len()
            ),
        ));
    }
    let session = in_a_settled_second(|| start_session(state, &user, &roles)).await?;
    Ok(LoginOutcome::Session(Box::new(session)))
}

/// Mints and stores a login session for `user`; `None` if the user was cut off within this
/// second (try in the next).
async fn start_session(
    state: &AppState,
    user: &UserRow,
    roles: &Roles,
) -> Result<Option<Session>, ApiError> {
    let now = UnixTime::now();
    let plan = Mint {
        owner: user.name.clone(),
        kind: Kind::Session,
        roles: roles.clone(),
        name: "login session".into(),
        description: String::new(),
        expires_at: now.plus(state.settings.session_ttl),
    };
    let mut tx = state.store.write().await?;
    if cut_this_second(&mut tx, &user.name, now).await? {
        return Ok(None);
    }
    let (text, row) = mint(state, &plan, now, &user.name)?;
    tokens::insert(&mut tx, &row).await?;
    let e = NewEvent {
        at: now,
        actor: Some(&user.name),
        action: Action::Login,
        target: Some(&row.id),
        subject: Some(&user.name),
        outcome: Outcome::Success,
        detail: None,
    };
    audit::append(&mut tx, &e).await?;
    tx.commit().await?;
    state.metrics.login(true);
    state.metrics.token_issued(Kind::Session);
    Ok(Some(Session {
        token: text,
        record: token_record(&row, now),
    }))
}

/// `POST /api/v1/logout`: revokes the session token the call is made with.
pub async fn logout(
    State(state): State<AppState>,
    caller: Caller,
    OptionalBody(_): OptionalBody<Empty>,
) -> Result<Response, ApiError> {
    let sequence = end_session(&state, &caller).await?;
    Ok(with_sequence(
        StatusCode::NO_CONTENT.into_response(),
        sequence,
    ))
}

/// Revokes the caller's session token (the body of `POST /api/v1/logout`, also used by the
/// console's sign-out).
pub(crate) async fn end_session(
    state: &AppState,
    caller: &Caller,
) -> Result<Option<i64>, ApiError> {
    let now = UnixTime::now();
    if caller.kind != Kind::Session {
        return Err(ApiError::new(
            ErrorCode::NotASession,
            "logout ends login sessions; revoke other tokens instead",
        ));
    }
    let mut tx = state.store.write().await?;
    let mut row = tokens::get_for_update(&mut tx, &caller.token_id)
        .await?
        .ok_or_else(|| ApiError::not_found("no such token"))?;
    row.revoked_at = Some(now);
    row.revoked_by = Some(caller.user.clone());
    row.revoked_from = None;
    let mut changes = ListChanges::default();
    changes.token(&mut tx, &mut row).await?;
    let sequence = changes.publish(&mut tx, now).await?;
    let e = NewEvent {
        at: now,
        actor: Some(&caller.user),
        action: Action::Logout,
        target: Some(&row.id),
        subject: Some(&caller.user),
        outcome: Outcome::Success,
        detail: None,
    };
    audit::append(&mut tx, &e).await?;
    tx.commit().await?;
    state.metrics.token_revoked();
    Ok(sequence)
}
