//! `POST /api/v1/tokens` (create), `GET /api/v1/tokens` (list, or `?ids=`) and
//! `GET /api/v1/tokens/{id}`, with the rules they share with the token actions.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use tollgate_shared::token::MAX_ROLES;
use tollgate_shared::{Claims, Kind, MintError, TokenId, valid_subject};

use super::audited;
use super::extract::{Body, Params};
use super::records::{TokenRecord, cursor, page_limit, parse_number_cursor};
use crate::auth::Caller;
use crate::errors::ApiError;
use crate::roles;
use crate::state::AppState;
use crate::store::audit::{self, NewEvent};
use crate::store::tokens::{self, ListFilter, TokenRow};
use crate::store::users::{self, UserRow};
use crate::store::{StoreError, join_roles};
use crate::times::{now, parse_time};

/// Longest token name, in characters.
pub const MAX_NAME_CHARS: usize = 64;
/// Longest token description, in characters.
pub const MAX_DESCRIPTION_CHARS: usize = 256;
/// Most ids in one `?ids=` request.
pub const MAX_IDS: usize = 100;

/// Body of `POST /api/v1/tokens`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateToken {
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    /// A date (`YYYY-MM-DD`, midnight UTC) or an RFC 3339 timestamp.
    #[serde(default)]
    pub expires_at: Option<String>,
    #[serde(default)]
    pub ttl_seconds: Option<u64>,
    /// Default: all of the owner's roles the caller may pass on.
    #[serde(default)]
    pub roles: Option<Vec<String>>,
    /// The owner, if not the caller (admins; managers of a service account).
    #[serde(default)]
    pub user: Option<String>,
}

/// A newly minted token: its text, shown this once, and its record.
#[derive(Debug, Serialize)]
pub struct Minted {
    pub token: String,
    pub record: TokenRecord,
}

/// Checks a token name: 1-64 characters, no control characters, no surrounding spaces.
pub fn check_name(name: &str) -> Result<String, ApiError> {
    let n = name.chars().count();
    if n == 0 || n > MAX_NAME_CHARS || name.trim() != name || name.chars().any(char::is_control) {
        return Err(ApiError::invalid(
            "invalid_name",
            format!(
                "a token name is 1-{MAX_NAME_CHARS} characters, without control characters or surrounding spaces"
            ),
        ));
    }
    Ok(name.to_owned())
}

/// Checks a description: at most 256 characters, no control characters but newlines and tabs.
pub fn check_description(text: &str) -> Result<String, ApiError> {
    if text.chars().count() > MAX_DESCRIPTION_CHARS
        || text
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        return Err(ApiError::invalid(
            "invalid_description",
            format!(
                "a description is at most {MAX_DESCRIPTION_CHARS} characters, without control characters"
            ),
        ));
    }
    Ok(text.to_owned())
}

/// Resolves a requested expiry (`expires_at` or `ttl_seconds`; `default_ttl` if neither) at `now`.
/// It must be in the future; `latest` is the latest acceptable.
pub fn requested_expiry(
    expires_at: Option<&str>,
    ttl_seconds: Option<u64>,
    now: i64,
    default_ttl: u64,
    latest: i64,
) -> Result<i64, ApiError> {
    let at = match (expires_at, ttl_seconds) {
        (Some(_), Some(_)) => {
            return Err(ApiError::invalid(
                "conflicting_expiry",
                "give expires_at or ttl_seconds, not both",
            ));
        }
        (Some(text), None) => {
            parse_time(text).map_err(|e| ApiError::invalid("invalid_expiry", e.to_string()))?
        }
        (None, Some(0)) => {
            return Err(ApiError::invalid(
                "invalid_expiry",
                "ttl_seconds must be positive",
            ));
        }
        (None, Some(ttl)) => i64::try_from(ttl)
            .ok()
            .and_then(|t| now.checked_add(t))
            .unwrap_or(i64::MAX),
        (None, None) => now.saturating_add(default_ttl as i64),
    };
    if at <= now {
        return Err(ApiError::invalid(
            "expiry_in_past",
            "the expiry must be in the future",
        ));
    }
    if at > latest {
        return Err(ApiError::invalid(
            "expiry_too_far",
            format!(
                "the expiry is beyond the maximum lifetime (latest allowed: {})",
                crate::times::rfc3339(latest)
            ),
        ));
    }
    Ok(at)
}

/// Parses a token id from a path or query.
pub fn parse_id(text: &str) -> Result<String, ApiError> {
    text.parse::<TokenId>()
        .map(|id| id.to_string())
        .map_err(|_| {
            ApiError::bad_request(
                "invalid_id",
                "a token id is 32 lowercase hexadecimal digits",
            )
        })
}

/// The roles `caller` may put on a token of `owner`: the owner's roles, and for anyone but an
/// admin acting for another user, only those the caller's own token carries.
pub fn grantable_roles(caller: &Caller, owner: &UserRow) -> Vec<String> {
    let held = owner.role_list();
    if caller.is_admin() && owner.name != caller.user {
        held
    } else {
        roles::intersect(&held, &caller.roles)
    }
}

/// True if `caller` may see and manage tokens of `owner`.
pub fn may_manage(caller: &Caller, owner: &UserRow) -> bool {
    owner.name == caller.user
        || caller.is_admin()
        || owner.manager.as_deref() == Some(caller.user.as_str())
}

/// Signs new claims; returns the text and the record to store.
#[allow(clippy::too_many_arguments)]
pub fn mint(
    state: &AppState,
    owner: &str,
    kind: Kind,
    roles: Vec<String>,
    name: String,
    description: String,
    issued_at: i64,
    expires_at: i64,
    created_by: &str,
) -> Result<(String, TokenRow), ApiError> {
    let token_id = TokenId::random().map_err(|_| ApiError::internal())?;
    let claims = Claims {
        token_id,
        subject: owner.to_owned(),
        kind,
        roles: roles.clone(),
        issued_at: issued_at as u64,
        expires_at: expires_at as u64,
    };
    let text = state.minter.mint(&claims).map_err(|e| match e {
        MintError::UnknownKey => ApiError::internal(),
        MintError::TooManyRoles => ApiError::invalid("too_many_roles", e.to_string()),
        MintError::TooLarge => ApiError::invalid("token_too_large", e.to_string()),
        MintError::BadSubject => ApiError::invalid("invalid_user", e.to_string()),
        MintError::BadRole(_) => ApiError::invalid("invalid_role", e.to_string()),
        MintError::BadExpiry => ApiError::invalid("invalid_expiry", e.to_string()),
    })?;
    let row = TokenRow {
        seq: 0,
        id: token_id.to_string(),
        owner: owner.to_owned(),
        name,
        description,
        kind: kind.as_str().to_owned(),
        roles: join_roles(&roles),
        created_by: created_by.to_owned(),
        issued_at,
        signed_expires_at: expires_at,
        expires_at,
        enabled: true,
        revoked_at: None,
        revoked_by: None,
        revoked_from: None,
        deleted_at: None,
        last_used_at: None,
        replaces: None,
        replaced_by: None,
        list_kind: 0,
        list_from: 0,
        list_expires: 0,
    };
    Ok((text, row))
}

/// Maps a unique-name clash to 409.
pub fn name_clash(e: StoreError) -> ApiError {
    match e {
        StoreError::Duplicate => ApiError::conflict(
            "name_taken",
            "this owner already has a live token with that name",
        ),
        other => other.into(),
    }
}

/// `POST /api/v1/tokens`.
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Body(req): Body<CreateToken>,
) -> Result<Response, ApiError> {
    let result = create_token(&state, &caller, req).await;
    audited(&state, &caller, "token.create", None, result).await
}

async fn create_token(
    state: &AppState,
    caller: &Caller,
    req: CreateToken,
) -> Result<Response, ApiError> {
    let now = now();
    if !state.settings.token_creation {
        return Err(ApiError::forbidden(
            "token_creation_disabled",
            "token creation is turned off on this server",
        ));
    }
    let name = check_name(&req.name)?;
    let description = check_description(req.description.as_deref().unwrap_or(""))?;
    let max_ttl = state.settings.max_ttl as i64;
    let expires_at = requested_expiry(
        req.expires_at.as_deref(),
        req.ttl_seconds,
        now,
        state.settings.default_ttl,
        now + max_ttl,
    )?;
    let wanted = req
        .roles
        .as_deref()
        .map(|r| roles::normalize(r, MAX_ROLES))
        .transpose()?;
    if !caller.can_create_tokens() {
        return Err(ApiError::forbidden(
            "forbidden",
            "creating tokens needs the token_creator or admin role",
        ));
    }
    let owner_name = req.user.unwrap_or_else(|| caller.user.clone());
    if !valid_subject(&owner_name) {
        return Err(ApiError::invalid("invalid_user", "not a valid user name"));
    }
    let detail = |row: &TokenRow| {
        format!(
            "name {:?}, kind {}, roles [{}]",
            row.name, row.kind, row.roles
        )
    };
    if owner_name == caller.user {
        // For oneself the roles to grant are the caller token's own (a subset of the user's);
        // the insert goes ahead only if the user record is unchanged since authentication.
        let roles = match wanted.clone() {
            Some(w) => {
                if let Some(missing) = roles::first_missing(&w, &caller.roles) {
                    return Err(ApiError::forbidden(
                        "role_not_held",
                        format!("role {missing:?} cannot be granted by you to this token"),
                    ));
                }
                w
            }
            None => caller.roles.clone(),
        };
        let kind = if caller.service_account {
            Kind::Service
        } else {
            Kind::Personal
        };
        let (text, row) = mint(
            state,
            &caller.user,
            kind,
            roles,
            name.clone(),
            description.clone(),
            now,
            expires_at,
            &caller.user,
        )?;
        let mut tx = state.store.write().await?;
        if tokens::insert_if_owner_unchanged(&mut tx, &row, caller.owner_version)
            .await
            .map_err(name_clash)?
        {
            audit::append(&mut tx, &created_event(caller, &row, now, detail(&row))).await?;
            tx.commit().await?;
            state.metrics.token_issued(kind);
            let record = TokenRecord::of(&row, now);
            return Ok((
                StatusCode::CREATED,
                Json(Minted {
                    token: text,
                    record,
                }),
            )
                .into_response());
        }
        // The user changed meanwhile: decide again on the current record.
    }
    let mut tx = state.store.write().await?;
    let owner = match users::get_for_share(&mut tx, &owner_name).await? {
        Some(o) => o,
        None if caller.is_admin() => return Err(ApiError::not_found("no such user")),
        None => {
            return Err(ApiError::forbidden(
                "forbidden",
                "only admins create tokens for other users",
            ));
        }
    };
    if !may_manage(caller, &owner) {
        return Err(ApiError::forbidden(
            "forbidden",
            "only admins create tokens for other users",
        ));
    }
    if !owner.active {
        return Err(ApiError::conflict(
            "user_inactive",
            "the user is deactivated",
        ));
    }
    let grantable = grantable_roles(caller, &owner);
    let roles = match wanted {
        Some(w) => {
            if let Some(missing) = roles::first_missing(&w, &grantable) {
                return Err(ApiError::forbidden(
                    "role_not_held",
                    format!("role {missing:?} cannot be granted by you to this token"),
                ));
            }
            w
        }
        None => grantable,
    };
    let kind = if owner.service_account {
        Kind::Service
    } else {
        Kind::Personal
    };
    let (text, row) = mint(
        state,
        &owner.name,
        kind,
        roles,
        name,
        description,
        now,
        expires_at,
        &caller.user,
    )?;
    tokens::insert(&mut tx, &row).await.map_err(name_clash)?;
    audit::append(&mut tx, &created_event(caller, &row, now, detail(&row))).await?;
    tx.commit().await?;
    state.metrics.token_issued(kind);
    let record = TokenRecord::of(&row, now);
    Ok((
        StatusCode::CREATED,
        Json(Minted {
            token: text,
            record,
        }),
    )
        .into_response())
}

fn created_event<'a>(
    caller: &'a Caller,
    row: &'a TokenRow,
    now: i64,
    detail: String,
) -> NewEvent<'a> {
    NewEvent {
        at: now,
        actor: Some(&caller.user),
        action: "token.create",
        target: Some(&row.id),
        subject: Some(&row.owner),
        outcome: "success",
        detail: Some(detail),
    }
}

/// Query of `GET /api/v1/tokens`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// Only this user's tokens (admins; managers of a service account).
    pub user: Option<String>,
    pub include_revoked: Option<bool>,
    pub limit: Option<i64>,
    pub cursor: Option<String>,
    /// `a,b,c`: these tokens, instead of a listing.
    pub ids: Option<String>,
    /// `personal`, `service`, `session` or `all`; default personal and service.
    pub kind: Option<String>,
}

/// A page of tokens.
#[derive(Debug, Serialize)]
pub struct TokenPage {
    pub tokens: Vec<TokenRecord>,
    pub next_cursor: Option<String>,
}

/// Tokens asked for by id; `missing` lists those not found or not visible.
#[derive(Debug, Serialize)]
pub struct TokenBatch {
    pub tokens: Vec<TokenRecord>,
    pub missing: Vec<String>,
}

/// `GET /api/v1/tokens`.
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Params(q): Params<ListQuery>,
) -> Result<Response, ApiError> {
    let now = now();
    if let Some(ids) = &q.ids {
        return batch(&state, &caller, ids, now)
            .await
            .map(|b| Json(b).into_response());
    }
    let kinds = match q.kind.as_deref() {
        None => vec!["personal", "service"],
        Some("all") => vec!["session", "personal", "service"],
        Some("personal") => vec!["personal"],
        Some("service") => vec!["service"],
        Some("session") => vec!["session"],
        Some(_) => {
            return Err(ApiError::bad_request(
                "invalid_query",
                "kind is personal, service, session or all",
            ));
        }
    };
    let owner = match q.user {
        Some(u) if u == caller.user => Some(u),
        Some(u) => {
            let target = users::find(&state.store, &u).await?;
            match target {
                Some(t) if may_manage(&caller, &t) => Some(u),
                None if caller.is_admin() => return Err(ApiError::not_found("no such user")),
                _ => {
                    return Err(ApiError::forbidden(
                        "forbidden",
                        "only admins list other users' tokens",
                    ));
                }
            }
        }
        None if caller.is_admin() => None,
        None => Some(caller.user.clone()),
    };
    let limit = page_limit(q.limit, 50, 500)?;
    let after = q
        .cursor
        .as_deref()
        .map(parse_number_cursor)
        .transpose()?
        .unwrap_or(0);
    let filter = ListFilter {
        owner,
        include_revoked: q.include_revoked.unwrap_or(false),
        kinds,
        after,
        limit: limit + 1,
        now,
    };
    let mut rows = tokens::list(&state.store, &filter).await?;
    let next_cursor = if rows.len() as i64 > limit {
        rows.truncate(limit as usize);
        rows.last().map(|r| cursor(&r.seq.to_string()))
    } else {
        None
    };
    let tokens = rows.iter().map(|r| TokenRecord::of(r, now)).collect();
    Ok(Json(TokenPage {
        tokens,
        next_cursor,
    })
    .into_response())
}

async fn batch(
    state: &AppState,
    caller: &Caller,
    ids: &str,
    now: i64,
) -> Result<TokenBatch, ApiError> {
    let wanted: Vec<String> = ids
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(parse_id)
        .collect::<Result<_, _>>()?;
    if wanted.is_empty() || wanted.len() > MAX_IDS {
        return Err(ApiError::bad_request(
            "invalid_query",
            format!("ids holds 1 to {MAX_IDS} token ids"),
        ));
    }
    let rows = tokens::find_many(&state.store, &wanted).await?;
    let mut owners: HashMap<String, bool> = HashMap::new();
    let mut found: HashMap<String, TokenRow> = HashMap::new();
    for row in rows.into_iter().filter(|r| r.deleted_at.is_none()) {
        let visible = if row.owner == caller.user || caller.is_admin() {
            true
        } else if let Some(v) = owners.get(&row.owner) {
            *v
        } else {
            let v = users::find(&state.store, &row.owner)
                .await?
                .is_some_and(|o| may_manage(caller, &o));
            owners.insert(row.owner.clone(), v);
            v
        };
        if visible {
            found.insert(row.id.clone(), row);
        }
    }
    let mut out = TokenBatch {
        tokens: Vec::new(),
        missing: Vec::new(),
    };
    for id in wanted {
        match found.get(&id) {
            Some(row) => out.tokens.push(TokenRecord::of(row, now)),
            None => out.missing.push(id),
        }
    }
    Ok(out)
}

/// Reads a token `caller` may see; 404 otherwise (others' tokens are not revealed).
pub async fn visible_token(
    state: &AppState,
    caller: &Caller,
    id: &str,
) -> Result<TokenRow, ApiError> {
    let id = parse_id(id)?;
    let row = tokens::find(&state.store, &id)
        .await?
        .filter(|r| r.deleted_at.is_none());
    let row = row.ok_or_else(|| ApiError::not_found("no such token"))?;
    if row.owner != caller.user && !caller.is_admin() {
        let owner = users::find(&state.store, &row.owner).await?;
        if !owner.is_some_and(|o| may_manage(caller, &o)) {
            return Err(ApiError::not_found("no such token"));
        }
    }
    Ok(row)
}

/// `GET /api/v1/tokens/{id}`.
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<TokenRecord>, ApiError> {
    let row = visible_token(&state, &caller, &id).await?;
    Ok(Json(TokenRecord::of(&row, now())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_descriptions() {
        assert!(check_name("ci deploy").is_ok());
        assert_eq!(check_name("").unwrap_err().code, "invalid_name");
        assert_eq!(check_name(" x").unwrap_err().code, "invalid_name");
        assert_eq!(
            check_name(&"n".repeat(65)).unwrap_err().code,
            "invalid_name"
        );
        assert_eq!(check_name("a\u{0}b").unwrap_err().code, "invalid_name");
        assert!(check_description(&"d".repeat(256)).is_ok());
        assert_eq!(
            check_description(&"d".repeat(257)).unwrap_err().code,
            "invalid_description"
        );
    }

    #[test]
    fn expiries() {
        let now = 1_000_000;
        let max = now + 90 * 86_400;
        assert_eq!(requested_expiry(None, None, now, 3600, max), Ok(now + 3600));
        assert_eq!(
            requested_expiry(None, Some(60), now, 3600, max),
            Ok(now + 60)
        );
        assert_eq!(
            requested_expiry(None, Some(0), now, 3600, max)
                .unwrap_err()
                .code,
            "invalid_expiry"
        );
        assert_eq!(
            requested_expiry(None, Some(u64::MAX), now, 3600, max)
                .unwrap_err()
                .code,
            "expiry_too_far"
        );
        assert_eq!(
            requested_expiry(Some("1970-01-02"), None, now, 3600, max)
                .unwrap_err()
                .code,
            "expiry_in_past"
        );
        assert_eq!(
            requested_expiry(Some("soon"), None, now, 3600, max)
                .unwrap_err()
                .code,
            "invalid_expiry"
        );
        assert_eq!(
            requested_expiry(Some("1970-01-02"), Some(5), now, 3600, max)
                .unwrap_err()
                .code,
            "conflicting_expiry"
        );
        assert_eq!(
            requested_expiry(Some("1970-01-13T13:46:40Z"), None, now, 3600, max),
            Ok(1_086_400)
        );
    }

    #[test]
    fn ids() {
        assert!(parse_id(&"ab".repeat(16)).is_ok());
        assert_eq!(parse_id("xyz").unwrap_err().code, "invalid_id");
    }
}
