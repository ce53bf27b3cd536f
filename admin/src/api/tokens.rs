//! `POST /api/v1/tokens` (create), `GET /api/v1/tokens` (list, or `?ids=`) and
//! `GET /api/v1/tokens/{id}`.

use std::collections::HashMap;
use tollgate_shared::ErrorCode;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use tollgate_shared::{Kind, valid_subject};
use utoipa::IntoParams;

use super::audited;
use super::extract::{Body, Params};
use super::minting::{cut_this_second, in_a_settled_second, mint, name_clash};
use super::records::{
    TokenRecord, cursor, page_limit, parse_cursor, parse_number_cursor, records_with_cutoffs,
    token_record, unknown_cursor,
};
use super::schema::{TokenPath, UserName};
use super::settings::token_api;
use super::users::{insert_account, new_row};
use crate::auth::Caller;
use crate::errors::ApiError;
use crate::rules::expiry::Requested;
use crate::rules::roles::Roles;
use crate::rules::service_accounts::{decide_account_for_token, wants_account};
use crate::rules::text::{check_name, parse_id};
use crate::rules::tokens::{self as rules, Limits, NewToken, Owner, may_manage};
use crate::state::AppState;
use crate::store::audit::{self, Action, NewEvent, Outcome};
use crate::store::tokens::{self, ListFilter, Order, Position, TokenRow};
use crate::store::users;
use crate::times::UnixTime;
pub use tollgate_api::tokens::{CreateToken, KindFilter, Minted, TokenBatch, TokenPage, TokenSort};

/// Most ids in one `?ids=` request.
pub const MAX_IDS: usize = 100;

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
    token_api(state, caller).await?;
    in_a_settled_second(|| create_once(state, caller, &req)).await
}

/// One attempt; `None` if the owner was cut off within this second (try in the next).
async fn create_once(
    state: &AppState,
    caller: &Caller,
    req: &CreateToken,
) -> Result<Option<Minted>, ApiError> {
    let now = UnixTime::now();
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
    let create_account = wants_account(
        caller,
        asked.owner,
        req.create_service_account.unwrap_or(false),
    )?;
    if asked.owner.is_none_or(|o| o == caller.user) {
        // For oneself the roles to grant are the caller token's own (a subset of the user's);
        // the insert goes ahead only if the user record is unchanged since authentication.
        let checked = rules::check_new(caller, &asked, now, &limits)?;
        let plan = rules::decide_create(caller, checked, Owner::Caller, now, &limits)?;
        let (text, row) = mint(state, &plan, now, &caller.user)?;
        let mut tx = state.store.write().await?;
        if cut_this_second(&mut tx, &caller.user, now).await? {
            return Ok(None);
        }
        if tokens::insert_if_owner_unchanged(&mut tx, &row, caller.owner_version)
            .await
            .map_err(name_clash)?
        {
            return created(state, tx, caller, text, row, now).await.map(Some);
        }
        // The user changed meanwhile: decide again on the current record.
    }
    let checked = rules::check_new(caller, &asked, now, &limits)?;
    let mut tx = state.store.write().await?;
    let mut owner = users::get_for_share(&mut tx, &checked.owner).await?;
    if create_account {
        let names = checked.roles.as_ref().map(Roles::names);
        let roles = names.as_deref();
        let exists = owner.is_some();
        if let Some(plan) = decide_account_for_token(caller, &checked.owner, exists, roles)? {
            let row = new_row(checked.owner.clone(), plan, true, None, now);
            insert_account(&mut tx, caller, &row, now).await?;
            owner = Some(row);
        }
    }
    let plan = rules::decide_create(caller, checked, Owner::Other(owner.as_ref()), now, &limits)?;
    if cut_this_second(&mut tx, &plan.owner, now).await? {
        return Ok(None);
    }
    let (text, row) = mint(state, &plan, now, &caller.user)?;
    tokens::insert(&mut tx, &row).await.map_err(name_clash)?;
    created(state, tx, caller, text, row, now).await.map(Some)
}

/// Audits a stored new token, commits, and answers with its text (shown this once).
async fn created(
    state: &AppState,
    mut tx: crate::store::Tx,
    caller: &Caller,
    text: String,
    row: TokenRow,
    now: UnixTime,
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
            row.roles.to_stored()
        )),
    };
    audit::append(&mut tx, &event).await?;
    tx.commit().await?;
    state.metrics.token_issued(row.kind);
    let record = token_record(&row, now);
    Ok(Minted {
        token: text,
        record,
    })
}

/// Query of `GET /api/v1/tokens`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// Only this user's tokens (admins; managers of a service account).
    #[param(nullable = false, value_type = Option<UserName>)]
    pub user: Option<String>,
    /// Also revoked tokens.
    #[param(nullable = false)]
    pub include_revoked: Option<bool>,
    /// Page size (default 50).
    #[param(nullable = false, minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    #[param(nullable = false, pattern = "^djE6[A-Za-z0-9_-]+$")]
    pub cursor: Option<String>,
    /// `a,b,c`: these tokens (at most 100), instead of a listing; answers a `TokenBatch`.
    #[param(nullable = false, pattern = "^[0-9a-f]{32}(,[0-9a-f]{32}){0,99}$")]
    pub ids: Option<String>,
    /// `personal`, `service`, `session` or `all`; default personal and service.
    #[param(nullable = false, inline, value_type = Option<KindFilter>)]
    pub kind: Option<String>,
    /// Only tokens of this name: the live one (unique per owner), or with `include_revoked`
    /// also revoked ones. Give `user` to look among one owner's tokens.
    #[param(
        nullable = false,
        min_length = 1,
        max_length = 64,
        pattern = "^[^\\u0000]*$"
    )]
    pub name: Option<String>,
    /// Only tokens whose id starts with these 8 to 32 hexadecimal digits.
    #[param(nullable = false, pattern = "^[0-9a-f]{8,32}$")]
    pub id_prefix: Option<String>,
    /// `created` (the default: oldest first) or `last_used` (least recently used first: never
    /// used, then the oldest last use).
    #[param(nullable = false, inline, value_type = Option<TokenSort>)]
    pub sort: Option<String>,
    /// Only tokens neither used nor created within this long: seconds, or a number with a unit
    /// (`90m`, `12h`, `30d`, `2w`).
    #[param(nullable = false, pattern = "^[0-9]{1,10}[smhdw]?$")]
    pub unused_for: Option<String>,
}

/// The order and the first position of a listing, from its `sort` and `cursor`.
fn order_and_position(q: &ListQuery) -> Result<(Order, Position), ApiError> {
    let order = match q.sort.as_deref() {
        None | Some("created") => Order::Created,
        Some("last_used") => Order::LastUsed,
        Some(_) => {
            return Err(ApiError::new(
                ErrorCode::InvalidQuery,
                "sort is created or last_used",
            ));
        }
    };
    let after = match (&q.cursor, order) {
        (None, _) => Position::default(),
        (Some(c), Order::Created) => Position {
            last_used: None,
            seq: parse_number_cursor(c)?,
        },
        (Some(c), Order::LastUsed) => {
            let text = parse_cursor(c)?;
            let (used, seq) = text
                .strip_prefix("lu:")
                .and_then(|t| t.split_once(':'))
                .and_then(|(u, s)| Some((u.parse().ok()?, s.parse().ok()?)))
                .ok_or_else(unknown_cursor)?;
            Position {
                last_used: Some(used),
                seq,
            }
        }
    };
    Ok((order, after))
}

/// The cursor that continues a listing after `row`.
fn cursor_after(row: &TokenRow, order: Order) -> String {
    match order {
        Order::Created => cursor(&row.seq.to_string()),
        Order::LastUsed => cursor(&format!(
            "lu:{}:{}",
            row.last_used_at.map_or(-1, UnixTime::as_secs),
            row.seq
        )),
    }
}

/// The `unused_for` filter as a cut-off time.
fn unused_since(q: &ListQuery, now: UnixTime) -> Result<Option<i64>, ApiError> {
    q.unused_for
        .as_deref()
        .map(|text| {
            tollgate_api::when::parse_duration(text)
                .map(|d| now.minus(d).as_secs())
                .ok_or_else(|| {
                    ApiError::new(
                        ErrorCode::InvalidQuery,
                        "unused_for is a duration: seconds, or a number with s, m, h, d or w",
                    )
                })
        })
        .transpose()
}

/// The name and id-prefix filters of a listing, checked.
fn search_filters(q: &ListQuery) -> Result<(Option<String>, Option<String>), ApiError> {
    let name = q.name.as_deref().map(check_name).transpose()?;
    let prefix = q.id_prefix.as_deref();
    if prefix.is_some_and(|p| {
        !(8..=32).contains(&p.len()) || !p.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    }) {
        return Err(ApiError::new(
            ErrorCode::InvalidQuery,
            "id_prefix is 8 to 32 lowercase hexadecimal digits",
        ));
    }
    Ok((name, prefix.map(str::to_owned)))
}

/// `GET /api/v1/tokens`.
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Params(q): Params<ListQuery>,
) -> Result<Response, ApiError> {
    // With `ids=` the listing's parameters do not apply, but they are checked all the same.
    if let Some(ids) = &q.ids {
        token_api(&state, &caller).await?;
        check_listing(&q)?;
        return batch(&state, &caller, ids, UnixTime::now())
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
    token_api(state, caller).await?;
    let now = UnixTime::now();
    if q.user.as_deref().is_some_and(|u| !valid_subject(u)) {
        return Err(bad_user());
    }
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
    let (name, id_prefix) = search_filters(&q)?;
    let (order, after) = order_and_position(&q)?;
    let unused_since = unused_since(&q, now)?;
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
    let filter = ListFilter {
        owner,
        name,
        id_prefix,
        include_revoked: q.include_revoked.unwrap_or(false),
        kinds,
        unused_since,
        order,
        after,
        limit: limit + 1,
        now: now.as_secs(),
    };
    let mut rows = tokens::list(&state.store, &filter).await?;
    let next_cursor = if rows.len() as i64 > limit {
        rows.truncate(limit as usize);
        rows.last().map(|r| cursor_after(r, order))
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

fn bad_user() -> ApiError {
    ApiError::new(ErrorCode::InvalidQuery, "user is not a valid user name")
}

/// The checks [`list`] makes of a listing's parameters, for a request that gives `ids=`.
fn check_listing(q: &ListQuery) -> Result<(), ApiError> {
    if q.user.as_deref().is_some_and(|u| !valid_subject(u)) {
        return Err(bad_user());
    }
    if !matches!(
        q.kind.as_deref(),
        None | Some("all" | "personal" | "service" | "session")
    ) {
        return Err(ApiError::new(
            ErrorCode::InvalidQuery,
            "kind is personal, service, session or all",
        ));
    }
    search_filters(q)?;
    page_limit(q.limit, 50, 500)?;
    order_and_position(q)?;
    unused_since(q, UnixTime::now())?;
    Ok(())
}

async fn batch(
    state: &AppState,
    caller: &Caller,
    ids: &str,
    now: UnixTime,
) -> Result<TokenBatch, ApiError> {
    // Exactly `id,id,...` (the document's pattern): no spaces, no empty items.
    let wanted: Vec<String> = ids.split(',').map(parse_id).collect::<Result<_, _>>()?;
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
    Path(TokenPath { id }): Path<TokenPath>,
) -> Result<Json<TokenRecord>, ApiError> {
    token_api(&state, &caller).await?;
    let row = visible_token(&state, &caller, &id).await?;
    let mut records = records_with_cutoffs(&state.store, &[&row], UnixTime::now()).await?;
    records.pop().map(Json).ok_or_else(ApiError::internal)
}
