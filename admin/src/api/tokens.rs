//! `POST /api/v1/tokens` (create), `GET /api/v1/tokens` (list, or `?ids=`) and
//! `GET /api/v1/tokens/{id}`.

use std::collections::HashMap;
use tollgate_shared::ErrorCode;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use tollgate_shared::Kind;

use super::audited;
use super::extract::{Body, Params};
use super::minting::{mint, name_clash};
use super::records::{TokenRecord, cursor, page_limit, parse_number_cursor, records_with_cutoffs};
use crate::auth::Caller;
use crate::errors::ApiError;
use crate::rules::expiry::Requested;
use crate::rules::text::parse_id;
use crate::rules::tokens::{self as rules, Limits, NewToken, Owner, may_manage};
use crate::state::AppState;
use crate::store::audit::{self, Action, NewEvent, Outcome};
use crate::store::tokens::{self, ListFilter, TokenRow};
use crate::store::users;
use crate::times::now;

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

/// `POST /api/v1/tokens`.
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Body(req): Body<CreateToken>,
) -> Result<Response, ApiError> {
    let result = create_token(&state, &caller, req).await;
    let minted = audited(&state, &caller, Action::TokenCreate, None, result).await?;
    Ok((StatusCode::CREATED, Json(minted)).into_response())
}

/// Creates a token as `caller` asks (the body of `POST /api/v1/tokens`, also used by the console).
pub(crate) async fn create_token(
    state: &AppState,
    caller: &Caller,
    req: CreateToken,
) -> Result<Minted, ApiError> {
    let now = now();
    let limits = Limits::of(&state.settings);
    let asked = NewToken {
        name: &req.name,
        description: req.description.as_deref(),
        expiry: Requested {
            expires_at: req.expires_at.as_deref(),
            ttl_seconds: req.ttl_seconds,
        },
        roles: req.roles.as_deref(),
        owner: req.user.as_deref(),
    };
    let checked = rules::check_new(caller, &asked, now, &limits)?;
    if checked.owner == caller.user {
        // For oneself the roles to grant are the caller token's own (a subset of the user's);
        // the insert goes ahead only if the user record is unchanged since authentication.
        let plan = rules::decide_create(caller, checked.clone(), Owner::Caller, now, &limits)?;
        let (text, row) = mint(state, &plan, now, &caller.user)?;
        let mut tx = state.store.write().await?;
        if tokens::insert_if_owner_unchanged(&mut tx, &row, caller.owner_version)
            .await
            .map_err(name_clash)?
        {
            return created(state, tx, caller, text, row, now).await;
        }
        // The user changed meanwhile: decide again on the current record.
    }
    let mut tx = state.store.write().await?;
    let owner = users::get_for_share(&mut tx, &checked.owner).await?;
    let plan = rules::decide_create(caller, checked, Owner::Other(owner.as_ref()), now, &limits)?;
    let (text, row) = mint(state, &plan, now, &caller.user)?;
    tokens::insert(&mut tx, &row).await.map_err(name_clash)?;
    created(state, tx, caller, text, row, now).await
}

/// Audits a stored new token, commits, and answers with its text (shown this once).
async fn created(
    state: &AppState,
    mut tx: crate::store::Tx,
    caller: &Caller,
    text: String,
    row: TokenRow,
    now: i64,
) -> Result<Minted, ApiError> {
    let event = NewEvent {
        at: now,
        actor: Some(&caller.user),
        action: Action::TokenCreate,
        target: Some(&row.id),
        subject: Some(&row.owner),
        outcome: Outcome::Success,
        detail: Some(format!(
            "name {:?}, kind {}, roles [{}]",
            row.name,
            row.kind.as_str(),
            row.roles
        )),
    };
    audit::append(&mut tx, &event).await?;
    tx.commit().await?;
    state.metrics.token_issued(row.kind);
    let record = TokenRecord::of(&row, now);
    Ok(Minted {
        token: text,
        record,
    })
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
    if let Some(ids) = &q.ids {
        return batch(&state, &caller, ids, now())
            .await
            .map(|b| Json(b).into_response());
    }
    list_tokens(&state, &caller, q)
        .await
        .map(|page| Json(page).into_response())
}

/// A page of the tokens `caller` may see (the body of `GET /api/v1/tokens` without `?ids=`).
pub(crate) async fn list_tokens(
    state: &AppState,
    caller: &Caller,
    q: ListQuery,
) -> Result<TokenPage, ApiError> {
    let now = now();
    let kinds = match q.kind.as_deref() {
        None => vec![Kind::Personal, Kind::Service],
        Some("all") => vec![Kind::Session, Kind::Personal, Kind::Service],
        Some("personal") => vec![Kind::Personal],
        Some("service") => vec![Kind::Service],
        Some("session") => vec![Kind::Session],
        Some(_) => {
            return Err(ApiError::new(
                ErrorCode::InvalidQuery,
                "kind is personal, service, session or all",
            ));
        }
    };
    let owner = match q.user {
        Some(u) if u == caller.user => Some(u),
        Some(u) => {
            let target = users::find(&state.store, &u).await?;
            match target {
                Some(t) if may_manage(caller, &t) => Some(u),
                None if caller.is_admin() => return Err(ApiError::not_found("no such user")),
                _ => {
                    return Err(ApiError::new(
                        ErrorCode::Forbidden,
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
    let refs: Vec<&TokenRow> = rows.iter().collect();
    let tokens = records_with_cutoffs(&state.store, &refs, now).await?;
    Ok(TokenPage {
        tokens,
        next_cursor,
    })
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
        return Err(ApiError::new(
            ErrorCode::InvalidQuery,
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
    let mut listed = Vec::new();
    for id in wanted {
        match found.get(&id) {
            Some(row) => listed.push(row),
            None => out.missing.push(id),
        }
    }
    out.tokens = records_with_cutoffs(&state.store, &listed, now).await?;
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
    let mut records = records_with_cutoffs(&state.store, &[&row], now()).await?;
    records.pop().map(Json).ok_or_else(ApiError::internal)
}
