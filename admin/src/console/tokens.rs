//! Sign-in, sign-out and the token pages. Every operation is the API's own
//! (`crate::api::tokens::create_token`, `crate::api::token_actions::*`), audited the same way.

use std::time::Instant;

use axum::extract::{Path, State};
use axum::http::header::SET_COOKIE;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use maud::Markup;
use tollgate_shared::ErrorCode;

use super::session::{
    CSRF_FIELD, LOGIN_COOKIE, SESSION_COOKIE, Viewer, cookie, csrf_matches, csrf_token, is_https,
    random_secret, set_cookie,
};
use super::views::{self, CreateForm, Frame, Shown, TokenFilter, TokenList};
use super::{Fields, Notice, Refused, see_other};
use crate::api::audited;
use crate::api::extract::{Params, Source};
use crate::api::login::{Login, LoginOutcome, end_session, password_login};
use crate::api::records::{TokenRecord, records_with_cutoffs};
use crate::api::token_actions::{
    PatchToken, Regenerate, delete_token, patch_token, regenerate_token, revoke_token,
};
use crate::api::tokens::{CreateToken, ListQuery, list_tokens, visible_token};
use crate::api::users::{UserQuery, list_users};
use crate::errors::ApiError;
use crate::state::AppState;
use crate::store::audit::Action;
use crate::times::{UnixTime, now, parse_time, rfc3339};

/// The most tokens one list page loads (in pages of 500 from the API's listing).
pub const MAX_LISTED: usize = 5_000;

fn frame<'a>(viewer: &'a Viewer, current: &'static str) -> Frame<'a> {
    Frame {
        user: &viewer.caller.user,
        admin: viewer.is_admin(),
        csrf: &viewer.csrf,
        current,
        now: now(),
    }
}

/// A page with `status`.
fn html(status: StatusCode, markup: Markup) -> Response {
    (status, markup).into_response()
}

// ---------------------------------------------------------------- sign-in and sign-out

/// `GET /login`: the form, with a fresh CSRF secret in a cookie of its own (there is no session yet).
pub async fn login_page(state: State<AppState>, headers: HeaderMap, uri: Uri) -> Response {
    let signed_in = match cookie(&headers, SESSION_COOKIE) {
        Some(t) => crate::auth::authenticate(&state, t).await.is_ok(),
        None => false,
    };
    if signed_in {
        return see_other("/tokens");
    }
    let notice = uri
        .query()
        .is_some_and(|q| q.split('&').any(|p| p == "signed_out=1"))
        .then(|| Notice::done("You have signed out."));
    login_form(&headers, &uri, "", notice.as_ref(), StatusCode::OK)
}

fn login_form(
    headers: &HeaderMap,
    uri: &Uri,
    username: &str,
    notice: Option<&Notice>,
    status: StatusCode,
) -> Response {
    let secret = random_secret();
    let mut r = html(status, views::login(&csrf_token(&secret), username, notice));
    r.headers_mut().append(
        SET_COOKIE,
        set_cookie(
            LOGIN_COOKIE,
            &secret,
            "/login",
            3600,
            is_https(headers, uri),
        ),
    );
    r
}

/// `POST /login`: the API's password login (same throttle, same audit); the session token goes
/// into the session cookie, which lives as long as the token.
pub async fn login(
    State(state): State<AppState>,
    Source(source): Source,
    headers: HeaderMap,
    uri: Uri,
    fields: Fields,
) -> Result<Response, Refused> {
    let secret = cookie(&headers, LOGIN_COOKIE).unwrap_or("");
    if secret.is_empty() || !csrf_matches(secret, fields.get(CSRF_FIELD)) {
        return Err(Refused::csrf());
    }
    let username = fields.get("username").unwrap_or("").to_owned();
    let req = Login {
        username: username.clone(),
        password: fields.get("password").unwrap_or("").to_owned(),
    };
    let secure = is_https(&headers, &uri);
    match password_login(&state, source, req).await {
        Ok(LoginOutcome::Session(session)) => {
            let expires = parse_time(&session.record.expires_at).unwrap_or(0);
            let mut r = see_other("/tokens");
            let h = r.headers_mut();
            h.append(
                SET_COOKIE,
                set_cookie(SESSION_COOKIE, &session.token, "/", expires - now(), secure),
            );
            h.append(
                SET_COOKIE,
                set_cookie(LOGIN_COOKIE, "", "/login", 0, secure),
            );
            Ok(r)
        }
        Ok(LoginOutcome::Throttled { retry_after, .. }) => {
            let n = Notice {
                ok: false,
                text: format!(
                    "Too many sign-in attempts for this user or from this address; try again in {} seconds.",
                    retry_after.max(1)
                ),
            };
            let mut r = login_form(
                &headers,
                &uri,
                &username,
                Some(&n),
                StatusCode::TOO_MANY_REQUESTS,
            );
            if let Ok(v) = HeaderValue::from_str(&retry_after.max(1).to_string()) {
                r.headers_mut().insert(axum::http::header::RETRY_AFTER, v);
            }
            Ok(r)
        }
        Err(e) if e.code == ErrorCode::InvalidCredentials => {
            let n = Notice {
                ok: false,
                text: "Wrong username or password.".into(),
            };
            Ok(login_form(
                &headers,
                &uri,
                &username,
                Some(&n),
                StatusCode::UNAUTHORIZED,
            ))
        }
        Err(e) => {
            let status = e.status;
            Ok(login_form(
                &headers,
                &uri,
                &username,
                Some(&Notice::refused(&e)),
                status,
            ))
        }
    }
}

/// `POST /logout`: revokes the session token (as `POST /api/v1/logout` does) and clears the cookie.
pub async fn logout(
    State(state): State<AppState>,
    viewer: Viewer,
    fields: Fields,
) -> Result<Response, Refused> {
    viewer.check_csrf(fields.get(CSRF_FIELD))?;
    end_session(&state, &viewer.caller).await?;
    let mut r = see_other("/login?signed_out=1");
    r.headers_mut().append(
        SET_COOKIE,
        set_cookie(SESSION_COOKIE, "", "/", 0, viewer.secure),
    );
    Ok(r)
}

// ---------------------------------------------------------------- the token list

/// Every token `viewer` may list with `owner` (`None`: the API's default for the caller), up to
/// [`MAX_LISTED`], revoked ones included; `kind` as the API takes it.
async fn load_tokens(
    state: &AppState,
    viewer: &Viewer,
    owner: Option<String>,
    kind: Option<String>,
) -> Result<Vec<TokenRecord>, ApiError> {
    let mut out = Vec::new();
    let mut cursor = None;
    loop {
        let q = ListQuery {
            user: owner.clone(),
            include_revoked: Some(true),
            limit: Some(500),
            cursor,
            ids: None,
            name: None,
            id_prefix: None,
            kind: kind.clone(),
            sort: None,
            unused_for: None,
        };
        let page = list_tokens(state, &viewer.caller, q).await?;
        out.extend(page.tokens);
        cursor = page.next_cursor;
        if cursor.is_none() || out.len() >= MAX_LISTED {
            return Ok(out);
        }
    }
}

/// Users the viewer may name as a token's owner besides themselves (all users for admins; their
/// service accounts for token creators), as `GET /api/v1/users` lists them.
async fn owners(state: &AppState, viewer: &Viewer) -> Result<Vec<String>, ApiError> {
    if !viewer.caller.can_create_tokens() {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    let mut cursor = None;
    for _ in 0..20 {
        let q = UserQuery {
            limit: Some(500),
            cursor,
        };
        let page = list_users(state, &viewer.caller, q).await?;
        out.extend(
            page.users
                .into_iter()
                .filter(|u| u.name != viewer.caller.user && u.active)
                .map(|u| u.name),
        );
        cursor = page.next_cursor;
        if cursor.is_none() {
            break;
        }
    }
    Ok(out)
}

fn create_form(state: &AppState, viewer: &Viewer, owners: Vec<String>) -> CreateForm {
    let s = &state.settings;
    let day = 86_400;
    let presets: Vec<u64> = [7, 30, 90]
        .into_iter()
        .filter(|d| d * day <= s.max_ttl)
        .collect();
    let default_days = presets
        .iter()
        .copied()
        .find(|d| d * day == s.default_ttl)
        .or_else(|| presets.first().copied());
    let now = now();
    let date = |t: i64| rfc3339(t).get(..10).unwrap_or("").to_owned();
    CreateForm {
        roles: viewer.caller.roles.names(),
        owners,
        presets,
        default_days,
        min_date: date(now + day as i64),
        max_date: date(now + s.max_ttl as i64),
        open: false,
        name: String::new(),
        description: String::new(),
    }
}

fn matches(t: &TokenRecord, f: &TokenFilter) -> bool {
    let state_ok = f
        .state
        .as_deref()
        .filter(|s| !s.is_empty())
        .is_none_or(|s| s == t.state);
    let name_ok =
        f.q.as_deref()
            .map(str::trim)
            .filter(|q| !q.is_empty())
            .is_none_or(|q| t.name.to_lowercase().contains(&q.to_lowercase()));
    state_ok && name_ok
}

/// What a token list page shows besides its rows.
#[derive(Default)]
struct Extras {
    notice: Option<Notice>,
    shown: Option<Shown>,
    open_create: bool,
    name: String,
    description: String,
}

async fn render_list(
    state: &AppState,
    viewer: &Viewer,
    all: bool,
    filter: &TokenFilter,
    extras: Extras,
) -> Result<(Markup, std::time::Duration), Refused> {
    // Whether to offer "New token": the API decides either way.
    let limits = crate::rules::tokens::Limits::of(&state.settings);
    let api_open = crate::api::settings::token_api_switch(state).await?.0;
    let may_create = (api_open || viewer.caller.is_admin())
        && (viewer.caller.can_create_tokens()
            || crate::rules::tokens::may_make_own_tokens(&viewer.caller, &limits));
    let started = Instant::now();
    if all && !viewer.is_admin() {
        return Err(Refused::admins_only());
    }
    let owner = if all {
        filter.owner.clone().filter(|o| !o.is_empty())
    } else {
        Some(viewer.caller.user.clone())
    };
    let kind = filter.kind.clone().filter(|k| !k.is_empty());
    let tokens = load_tokens(state, viewer, owner, kind).await?;
    let owners = owners(state, viewer).await?;
    let mut create = create_form(state, viewer, owners);
    create.open = extras.open_create;
    create.name = extras.name;
    create.description = extras.description;
    let list = TokenList {
        all,
        rows: tokens.iter().filter(|t| matches(t, filter)).collect(),
        total: tokens.len(),
        filter,
        owners: if all {
            let mut everyone = vec![viewer.caller.user.clone()];
            everyone.extend(create.owners.iter().cloned());
            everyone.sort();
            everyone
        } else {
            Vec::new()
        },
        create,
        may_create,
        shown: extras.shown,
    };
    let (current, title) = if all {
        ("/admin/tokens", "All tokens")
    } else {
        ("/tokens", "My tokens")
    };
    let f = frame(viewer, current);
    let markup = views::page(
        &f,
        title,
        extras.notice.as_ref(),
        views::token_list(&f, &list),
    );
    Ok((markup, started.elapsed()))
}

fn timed(status: StatusCode, (markup, took): (Markup, std::time::Duration)) -> Response {
    let mut r = html(status, markup);
    let value = format!("render;dur={:.3}", took.as_secs_f64() * 1000.0);
    if let Ok(v) = HeaderValue::from_str(&value) {
        r.headers_mut().insert("server-timing", v);
    }
    r
}

/// `GET /tokens`: the signed-in person's tokens.
pub async fn list(
    State(state): State<AppState>,
    viewer: Viewer,
    Params(filter): Params<TokenFilter>,
) -> Result<Response, Refused> {
    let page = render_list(&state, &viewer, false, &filter, Extras::default()).await?;
    Ok(timed(StatusCode::OK, page))
}

/// `GET /admin/tokens`: everyone's tokens (admins).
pub async fn all(
    State(state): State<AppState>,
    viewer: Viewer,
    Params(filter): Params<TokenFilter>,
) -> Result<Response, Refused> {
    let page = render_list(&state, &viewer, true, &filter, Extras::default()).await?;
    Ok(timed(StatusCode::OK, page))
}

/// `GET /tokens/new`: the list with the create dialog open (what the button does without script).
pub async fn new(State(state): State<AppState>, viewer: Viewer) -> Result<Response, Refused> {
    let extras = Extras {
        open_create: true,
        ..Extras::default()
    };
    let page = render_list(&state, &viewer, false, &TokenFilter::default(), extras).await?;
    Ok(timed(StatusCode::OK, page))
}

fn curl_line(viewer: &Viewer, text: &str) -> String {
    format!(
        "curl -H \"Authorization: Bearer {text}\" {}/api/v1/me",
        viewer.base_url
    )
}

/// The expiry the create form asks for.
fn asked_expiry(fields: &Fields) -> Result<(Option<String>, Option<u64>), ApiError> {
    match fields.get("expiry").unwrap_or("") {
        "date" => match fields.text("expiry_date") {
            Some(d) => Ok((Some(d), None)),
            None => Err(ApiError::new(
                ErrorCode::InvalidExpiry,
                "choose the date the token expires on",
            )),
        },
        "" => Ok((None, None)),
        preset => preset
            .strip_suffix('d')
            .and_then(|d| d.parse::<u64>().ok())
            .map(|d| (None, Some(d * 86_400)))
            .ok_or_else(|| ApiError::new(ErrorCode::InvalidExpiry, "unknown expiry choice")),
    }
}

/// `POST /tokens`: creates a token (`POST /api/v1/tokens`) and shows its text once.
pub async fn create(
    State(state): State<AppState>,
    viewer: Viewer,
    fields: Fields,
) -> Result<Response, Refused> {
    viewer.check_csrf(fields.get(CSRF_FIELD))?;
    let name = fields.get("name").unwrap_or("").trim().to_owned();
    let description = fields.get("description").unwrap_or("").to_owned();
    let result = async {
        let (expires_at, ttl_seconds) = asked_expiry(&fields)?;
        let chosen = fields.all("roles");
        let offered: Vec<&str> = fields
            .get("offered_roles")
            .unwrap_or("")
            .split(',')
            .filter(|r| !r.is_empty())
            .collect();
        // Every offered role but `admin` checked, and `admin` not, is the API's default: all the
        // owner may be given, `admin` only when asked for by name.
        let is_default = offered.iter().all(|r| {
            let wanted = *r != crate::rules::roles::ADMIN;
            chosen.iter().any(|c| c == r) == wanted
        });
        let roles = (!is_default).then_some(chosen);
        let req = CreateToken {
            name: name.clone(),
            description: Some(description.clone()).filter(|d| !d.trim().is_empty()),
            expires_at,
            ttl_seconds,
            roles,
            user: fields.text("owner"),
            create_service_account: None,
        };
        crate::api::tokens::create_token(&state, &viewer.caller, req).await
    }
    .await;
    let result = audited(&state, &viewer.caller, Action::TokenCreate, None, result).await;
    let filter = TokenFilter::default();
    match result {
        Ok(minted) => {
            let r = &minted.record;
            let extras = Extras {
                notice: Some(Notice::done(format!(
                    "Created token “{}” for {}, with roles {}; it expires {} ({}).",
                    r.name,
                    r.owner,
                    if r.roles.is_empty() {
                        "none".to_owned()
                    } else {
                        r.roles.join(", ")
                    },
                    views::relative(parse_time(&r.expires_at).unwrap_or(0), now()),
                    views::exact(&r.expires_at)
                ))),
                shown: Some(Shown {
                    title: "Token created",
                    name: r.name.clone(),
                    curl: curl_line(&viewer, &minted.token),
                    text: minted.token,
                    note: None,
                }),
                ..Extras::default()
            };
            let page = render_list(&state, &viewer, false, &filter, extras).await?;
            Ok(timed(StatusCode::CREATED, page))
        }
        Err(e) => {
            let extras = Extras {
                notice: Some(Notice::refused(&e)),
                open_create: true,
                name,
                description,
                ..Extras::default()
            };
            let page = render_list(&state, &viewer, false, &filter, extras).await?;
            Ok(timed(e.status, page))
        }
    }
}

// ---------------------------------------------------------------- one token

async fn record_of(state: &AppState, viewer: &Viewer, id: &str) -> Result<TokenRecord, ApiError> {
    let row = visible_token(state, &viewer.caller, id).await?;
    let mut records = records_with_cutoffs(&state.store, &[&row], UnixTime::now()).await?;
    records.pop().ok_or_else(ApiError::internal)
}

async fn token_page(
    state: &AppState,
    viewer: &Viewer,
    id: &str,
    status: StatusCode,
    notice: Option<Notice>,
    shown: Option<Shown>,
) -> Result<Response, Refused> {
    let record = record_of(state, viewer, id).await?;
    let f = frame(viewer, "");
    let title = format!("Token “{}”", record.name);
    let body = views::token_page(&f, &record, shown.as_ref());
    Ok(html(status, views::page(&f, &title, notice.as_ref(), body)))
}

/// `GET /tokens/{id}`.
pub async fn manage(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
) -> Result<Response, Refused> {
    token_page(&state, &viewer, &id, StatusCode::OK, None, None).await
}

/// Applies an edit (`PATCH /api/v1/tokens/{id}`) and answers with the token's page saying what
/// happened.
async fn edit(
    state: &AppState,
    viewer: &Viewer,
    id: &str,
    req: PatchToken,
    say: impl FnOnce(&TokenRecord) -> String,
) -> Result<Response, Refused> {
    let result = patch_token(state, &viewer.caller, id, req).await;
    match audited(state, &viewer.caller, Action::TokenUpdate, Some(id), result).await {
        Ok((record, _)) => {
            let notice = Notice::done(say(&record));
            token_page(state, viewer, id, StatusCode::OK, Some(notice), None).await
        }
        Err(e) if e.status == StatusCode::NOT_FOUND => Err(e.into()),
        Err(e) => token_page(state, viewer, id, e.status, Some(Notice::refused(&e)), None).await,
    }
}

/// `POST /tokens/{id}/description`.
pub async fn describe(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    fields: Fields,
) -> Result<Response, Refused> {
    viewer.check_csrf(fields.get(CSRF_FIELD))?;
    let req = PatchToken {
        description: Some(fields.get("description").unwrap_or("").to_owned()),
        ..PatchToken::default()
    };
    edit(&state, &viewer, &id, req, |r| {
        format!("Saved the description of “{}”.", r.name)
    })
    .await
}

/// A `datetime-local` value (`YYYY-MM-DDTHH:MM[:SS]`), read as UTC, as RFC 3339.
fn utc(local: &str) -> String {
    let t = local.trim();
    if t.len() == 16 {
        format!("{t}:00Z")
    } else if t.ends_with('Z') || t.len() == 10 {
        t.to_owned()
    } else {
        format!("{t}Z")
    }
}

/// `POST /tokens/{id}/expiry`.
pub async fn expiry(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    fields: Fields,
) -> Result<Response, Refused> {
    viewer.check_csrf(fields.get(CSRF_FIELD))?;
    let req = PatchToken {
        expires_at: Some(utc(fields.get("expires_at").unwrap_or(""))),
        ..PatchToken::default()
    };
    edit(&state, &viewer, &id, req, |r| {
        format!(
            "“{}” now expires {} ({}).",
            r.name,
            views::relative(parse_time(&r.expires_at).unwrap_or(0), now()),
            views::exact(&r.expires_at)
        )
    })
    .await
}

/// `POST /tokens/{id}/enable`.
pub async fn enable(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    fields: Fields,
) -> Result<Response, Refused> {
    viewer.check_csrf(fields.get(CSRF_FIELD))?;
    let req = PatchToken {
        enabled: Some(true),
        ..PatchToken::default()
    };
    edit(&state, &viewer, &id, req, |r| {
        format!("Enabled “{}”: it works again until it expires.", r.name)
    })
    .await
}

/// `POST /tokens/{id}/disable`.
pub async fn disable(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    fields: Fields,
) -> Result<Response, Refused> {
    viewer.check_csrf(fields.get(CSRF_FIELD))?;
    let req = PatchToken {
        enabled: Some(false),
        ..PatchToken::default()
    };
    edit(&state, &viewer, &id, req, |r| {
        format!(
            "Disabled “{}”: it is refused everywhere until it is enabled again.",
            r.name
        )
    })
    .await
}

/// `POST /tokens/{id}/regenerate`: a new text, shown once; the old one ends now or at a chosen time.
pub async fn regenerate(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    fields: Fields,
) -> Result<Response, Refused> {
    viewer.check_csrf(fields.get(CSRF_FIELD))?;
    let grace = match fields.get("old_ends") {
        Some("at") => match fields.text("old_until").map(|t| parse_time(&utc(&t))) {
            Some(Ok(until)) if until > now() => Ok(Some((until - now()) as u64)),
            Some(Ok(_)) => Err(ApiError::new(
                ErrorCode::InvalidBody,
                "the old token's end must be in the future (or choose “now”)",
            )),
            _ => Err(ApiError::new(
                ErrorCode::InvalidBody,
                "choose when the old token stops working",
            )),
        },
        _ => Ok(None),
    };
    let result = match grace {
        Ok(grace_seconds) => {
            let req = Regenerate {
                grace_seconds,
                ..Regenerate::default()
            };
            regenerate_token(&state, &viewer.caller, &id, req).await
        }
        Err(e) => Err(e),
    };
    match audited(
        &state,
        &viewer.caller,
        Action::TokenRegenerate,
        Some(&id),
        result,
    )
    .await
    {
        Ok((regenerated, _)) => {
            let new = &regenerated.record;
            let old = &regenerated.previous;
            let ends = match &old.grace_until {
                Some(g) => format!("keeps working until {}", views::exact(g)),
                None => "stopped working now".to_owned(),
            };
            let note = format!(
                "Regenerated “{}”: the old token {ends}; the new one expires {}.",
                new.name,
                views::exact(&new.expires_at)
            );
            let shown = Shown {
                title: "Token regenerated",
                name: new.name.clone(),
                curl: curl_line(&viewer, &regenerated.token),
                text: regenerated.token.clone(),
                note: Some(note.clone()),
            };
            let new_id = new.id.clone();
            token_page(
                &state,
                &viewer,
                &new_id,
                StatusCode::CREATED,
                Some(Notice::done(note)),
                Some(shown),
            )
            .await
        }
        Err(e) if e.status == StatusCode::NOT_FOUND => Err(e.into()),
        Err(e) => {
            token_page(
                &state,
                &viewer,
                &id,
                e.status,
                Some(Notice::refused(&e)),
                None,
            )
            .await
        }
    }
}

/// `POST /tokens/{id}/revoke`: from the list (answers with the list) or the token's page.
pub async fn revoke(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    fields: Fields,
) -> Result<Response, Refused> {
    viewer.check_csrf(fields.get(CSRF_FIELD))?;
    let result = revoke_token(&state, &viewer.caller, &id).await;
    let result = audited(
        &state,
        &viewer.caller,
        Action::TokenRevoke,
        Some(&id),
        result,
    )
    .await;
    let (status, notice) = match &result {
        Ok((r, _)) => (
            StatusCode::OK,
            Notice::done(format!(
                "Revoked “{}”: it is refused now here, and at the edge within seconds.",
                r.name
            )),
        ),
        Err(e) if e.status == StatusCode::NOT_FOUND => return Err(e.clone().into()),
        Err(e) => (e.status, Notice::refused(e)),
    };
    match fields.get("back") {
        Some(back @ ("list" | "all")) => {
            let extras = Extras {
                notice: Some(notice),
                ..Extras::default()
            };
            let page = render_list(
                &state,
                &viewer,
                back == "all",
                &TokenFilter::default(),
                extras,
            )
            .await?;
            Ok(timed(status, page))
        }
        _ => token_page(&state, &viewer, &id, status, Some(notice), None).await,
    }
}

/// `POST /tokens/{id}/delete`: only when the token's name is typed to confirm.
pub async fn delete(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    fields: Fields,
) -> Result<Response, Refused> {
    viewer.check_csrf(fields.get(CSRF_FIELD))?;
    let record = record_of(&state, &viewer, &id).await?;
    if fields.get("confirm").map(str::trim) != Some(record.name.as_str()) {
        let notice = Notice {
            ok: false,
            text: format!(
                "Not deleted: type the token's name, “{}”, to confirm.",
                record.name
            ),
        };
        return token_page(
            &state,
            &viewer,
            &id,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some(notice),
            None,
        )
        .await;
    }
    let result = delete_token(&state, &viewer.caller, &id).await;
    match audited(
        &state,
        &viewer.caller,
        Action::TokenDelete,
        Some(&id),
        result,
    )
    .await
    {
        Ok(_) => {
            let extras = Extras {
                notice: Some(Notice::done(format!(
                    "Deleted “{}”: it no longer works and is gone from the list.",
                    record.name
                ))),
                ..Extras::default()
            };
            let page = render_list(&state, &viewer, false, &TokenFilter::default(), extras).await?;
            Ok(timed(StatusCode::OK, page))
        }
        Err(e) if e.status == StatusCode::NOT_FOUND => Err(e.into()),
        Err(e) => {
            token_page(
                &state,
                &viewer,
                &id,
                e.status,
                Some(Notice::refused(&e)),
                None,
            )
            .await
        }
    }
}
