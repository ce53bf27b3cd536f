//! The HTTP API. Every route is declared once in [`operations`], which both builds the router
//! and feeds the OpenAPI document, so the two cannot drift apart.

pub mod audit;
pub mod changes;
pub mod extract;
pub mod login;
pub mod me;
pub mod minting;
pub mod records;
pub mod revocations;
pub mod schema;
pub mod sessions;
pub mod settings;
pub mod system;
pub mod token_actions;
pub mod tokens;
pub mod usage;
pub mod user_actions;
pub mod users;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderValue, Method, StatusCode};
use axum::response::Response;
use axum::routing::{MethodRouter, delete, get, patch, post};

use crate::auth::Caller;
use crate::errors::ApiError;
use crate::state::AppState;
use crate::store::audit::{Action, NewEvent, Outcome, append_alone};
use crate::times::UnixTime;
use schema::{ParamsOf, Payload, RequestBody, TokenPath, UserPath, body, optional_body};
use tollgate_shared::usage::MAX_REPORT_BYTES;

/// Response header carrying the revocation-list version that includes a change.
pub const SEQUENCE_HEADER: &str = "x-tollgate-revocation-sequence";

/// One API operation: its route, handler and what the OpenAPI document says about it. The
/// request, response and parameter types are the ones the handler reads and writes; their
/// schemas are derived from them (see [`schema`]).
pub struct Operation {
    pub method: Method,
    /// Path template in OpenAPI (and axum) syntax, e.g. `/api/v1/tokens/{id}`.
    pub path: &'static str,
    pub summary: &'static str,
    pub tag: &'static str,
    /// Needs `Authorization: Bearer <token>`.
    pub auth: bool,
    /// The request body's type.
    pub request: Option<RequestBody>,
    /// Success status and the type of its JSON body (several: one of them; none: no JSON body).
    pub response: (u16, Vec<Payload>),
    /// The types holding its path and query-string parameters.
    pub params: Vec<ParamsOf>,
    /// Error statuses it may answer.
    pub errors: &'static [u16],
    route: fn() -> MethodRouter<AppState>,
}

macro_rules! op {
    ($method:ident $path:literal, $handler:expr, $tag:literal, $summary:literal, auth: $auth:literal,
     request: $req:expr, response: ($status:literal, [$($resp:ty),*]), params: [$($param:ty),*],
     errors: $errors:expr) => {
        Operation {
            method: Method::$method,
            path: $path,
            summary: $summary,
            tag: $tag,
            auth: $auth,
            request: $req,
            response: ($status, vec![$(Payload::of::<$resp>()),*]),
            params: vec![$(schema::params::<$param> as ParamsOf),*],
            errors: $errors,
            route: || $handler,
        }
    };
}

const AUTHED: &[u16] = &[400, 401, 403, 404, 409, 413, 422];

/// Every operation the server answers.
pub fn operations() -> Vec<Operation> {
    use audit::{AuditPage, AuditQuery};
    use login::{Login, Session};
    use me::Me;
    use records::{TokenRecord, UserRecord};
    use settings::{PatchSettings, SettingsView};
    use system::Health;
    use token_actions::{Empty, PatchToken, Regenerate, Regenerated};
    use tokens::{CreateToken, ListQuery, Minted, TokenBatch, TokenPage};
    use usage::{TokenUsage, UsageQuery};
    use users::{CreateUser, PatchUser, UserPage, UserQuery};
    vec![
        op!(GET "/healthz", get(system::healthz), "system", "Health check: 200 when the store answers.", auth: false,
            request: None, response: (200, [Health]), params: [], errors: &[503]),
        op!(GET "/metrics", get(system::metrics), "system", "Prometheus metrics (text exposition format).", auth: false,
            request: None, response: (200, []), params: [], errors: &[]),
        op!(GET "/api/v1/openapi.json", get(system::openapi), "system", "This OpenAPI document.", auth: false,
            request: None, response: (200, []), params: [], errors: &[]),
        op!(POST "/api/v1/login", post(login::login), "auth", "Log in with a password; returns a session token.", auth: false,
            request: body::<Login>(), response: (200, [Session]), params: [], errors: &[400, 401, 409, 413, 422, 429]),
        op!(POST "/api/v1/logout", post(login::logout), "auth", "Revoke the session token the call is made with.", auth: true,
            request: optional_body::<Empty>(), response: (204, []), params: [], errors: &[400, 401, 409, 413]),
        op!(POST "/api/v1/sessions", post(sessions::exchange), "auth",
            "Exchange the personal or service token the call is made with for a short-lived session token.", auth: true,
            request: optional_body::<Empty>(), response: (200, [Session]), params: [], errors: &[400, 401, 409, 413, 503]),
        op!(GET "/api/v1/me", get(me::me), "auth", "The caller, its roles and the token in use.", auth: true,
            request: None, response: (200, [Me]), params: [], errors: &[401, 404]),
        op!(POST "/api/v1/tokens", post(tokens::create), "tokens", "Create a token; the text is shown only in this answer.", auth: true,
            request: body::<CreateToken>(), response: (201, [Minted]), params: [], errors: AUTHED),
        op!(GET "/api/v1/tokens", get(tokens::list), "tokens",
            "List tokens (own; admins all or ?user=), or fetch several with ?ids=a,b,c (answers TokenBatch).", auth: true,
            request: None, response: (200, [TokenPage, TokenBatch]), params: [ListQuery], errors: AUTHED),
        op!(GET "/api/v1/tokens/{id}", get(tokens::get), "tokens", "One token.", auth: true,
            request: None, response: (200, [TokenRecord]), params: [TokenPath], errors: &[400, 401, 404]),
        op!(GET "/api/v1/tokens/{id}/usage", get(usage::token_usage), "tokens",
            "Requests through the edge per day over a range of days (default: the last 30), and the last use.", auth: true,
            request: None, response: (200, [TokenUsage]), params: [TokenPath, UsageQuery], errors: &[400, 401, 403, 404, 422]),
        op!(PATCH "/api/v1/tokens/{id}", patch(token_actions::patch), "tokens",
            "Change description, expiry (owners shorten, admins may extend) or enabled.", auth: true,
            request: body::<PatchToken>(), response: (200, [TokenRecord]), params: [TokenPath], errors: AUTHED),
        op!(DELETE "/api/v1/tokens/{id}", delete(token_actions::delete), "tokens", "Revoke a token and remove it from lists.", auth: true,
            request: None, response: (204, []), params: [TokenPath], errors: &[400, 401, 403, 404]),
        op!(POST "/api/v1/tokens/{id}/revoke", post(token_actions::revoke), "tokens", "Revoke a token now.", auth: true,
            request: optional_body::<Empty>(), response: (200, [TokenRecord]), params: [TokenPath], errors: AUTHED),
        op!(POST "/api/v1/tokens/{id}/regenerate", post(token_actions::regenerate), "tokens",
            "Issue a new token text; the old one stops now or after grace_seconds.", auth: true,
            request: optional_body::<Regenerate>(), response: (201, [Regenerated]), params: [TokenPath], errors: AUTHED),
        op!(GET "/api/v1/settings", get(settings::get), "settings", "The settings in force (admins).", auth: true,
            request: None, response: (200, [SettingsView]), params: [], errors: &[401, 403]),
        op!(PATCH "/api/v1/settings", patch(settings::patch), "settings",
            "Open or close the token API to everyone but admins (admins; audited).", auth: true,
            request: body::<PatchSettings>(), response: (200, [SettingsView]), params: [], errors: &[400, 401, 403, 413]),
        op!(POST "/api/v1/users", post(users::create), "users",
            "Create a user (admins) or a service account (token creators, with roles they hold).", auth: true,
            request: body::<CreateUser>(), response: (201, [UserRecord]), params: [], errors: AUTHED),
        op!(GET "/api/v1/users", get(users::list), "users", "List users (admins: all; others: self and their service accounts).", auth: true,
            request: None, response: (200, [UserPage]), params: [UserQuery], errors: &[400, 401, 422]),
        op!(GET "/api/v1/users/{name}", get(users::get), "users", "One user.", auth: true,
            request: None, response: (200, [UserRecord]), params: [UserPath], errors: &[400, 401, 404]),
        op!(PATCH "/api/v1/users/{name}", patch(users::patch), "users",
            "Change roles, active flag, service-account flag, password or (admins) a service account's manager.", auth: true,
            request: body::<PatchUser>(), response: (200, [UserRecord]), params: [UserPath], errors: AUTHED),
        op!(DELETE "/api/v1/users/{name}", delete(user_actions::delete), "users",
            "Delete an account and revoke all its tokens, irreversibly; the name stays reserved.", auth: true,
            request: None, response: (204, []), params: [UserPath], errors: &[400, 401, 403, 404, 409]),
        op!(GET "/api/v1/audit", get(audit::list), "audit", "The audit log, newest first (admins: all; others: their own).", auth: true,
            request: None, response: (200, [AuditPage]), params: [AuditQuery], errors: &[400, 401, 422]),
        op!(GET "/api/v1/revocations", get(revocations::get), "revocations",
            "The signed revocation list (ETag, If-None-Match, ?since=N for a delta).", auth: false,
            request: None, response: (200, []), params: [revocations::ListQuery], errors: &[400]),
        op!(POST "/api/v1/usage", post(usage::ingest).layer(DefaultBodyLimit::max(MAX_REPORT_BYTES)), "usage",
            "Take a usage report from an edge isolate (signed with the keyring's usage subkey; no bearer token).", auth: false,
            request: None, response: (204, []), params: [], errors: &[400, 401, 409, 413, 415]),
    ]
}

/// The router for every operation (state not yet attached).
pub fn router() -> Router<AppState> {
    operations()
        .into_iter()
        .fold(Router::new(), |r, op| r.route(op.path, (op.route)()))
}

/// Appends a `denied` audit event when `result` is a 403, then passes `result` on.
pub async fn audited<T>(
    state: &AppState,
    caller: &Caller,
    action: Action,
    target: Option<&str>,
    result: Result<T, ApiError>,
) -> Result<T, ApiError> {
    if let Err(e) = &result {
        if e.status == StatusCode::FORBIDDEN {
            let event = NewEvent {
                at: UnixTime::now(),
                actor: Some(&caller.user),
                action,
                target,
                subject: None,
                outcome: Outcome::Denied,
                detail: Some(format!("{}: {}", e.code, e.message)),
            };
            if let Err(err) = append_alone(&state.store, &event).await {
                tracing::warn!(error = %err, "could not record a denied attempt");
            }
        }
    }
    result
}

/// Adds [`SEQUENCE_HEADER`] when a change produced a new list version.
pub fn with_sequence(mut response: Response, sequence: Option<i64>) -> Response {
    if let Some(s) = sequence {
        if let Ok(v) = HeaderValue::from_str(&s.to_string()) {
            response.headers_mut().insert(SEQUENCE_HEADER, v);
        }
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operations_are_unique_and_well_formed() {
        let ops = operations();
        let mut seen = std::collections::HashSet::new();
        for op in &ops {
            assert!(
                seen.insert((op.method.clone(), op.path)),
                "duplicate {} {}",
                op.method,
                op.path
            );
            assert!(op.path.starts_with('/'));
        }
        // Building the router panics on overlapping routes.
        let _ = router();
    }
}
