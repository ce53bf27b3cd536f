//! Token records. The token text is never stored; the id inside it is the key.

use sqlx::AssertSqlSafe;
use tollgate_shared::Kind;

use crate::revocation::entries::ListKind;

use super::{Arg, Args, Store, StoreError, Tx, placeholders};
use crate::rules::roles::Roles;
use crate::times::UnixTime;

/// One token as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct TokenRow {
    /// Insertion order; pages are cut on it.
    pub seq: i64,
    /// 32 lowercase hex digits, as inside the token.
    pub id: String,
    pub owner: String,
    pub name: String,
    pub description: String,
    /// Stored as `session`, `personal` or `service`.
    #[sqlx(try_from = "String")]
    pub kind: Kind,
    /// Stored ascending, comma-separated.
    #[sqlx(try_from = "String")]
    pub roles: Roles,
    pub created_by: String,
    pub issued_at: UnixTime,
    /// The expiry signed into the token.
    pub signed_expires_at: UnixTime,
    /// The expiry in force (differs from the signed one after an edit).
    pub expires_at: UnixTime,
    pub enabled: bool,
    pub revoked_at: Option<UnixTime>,
    pub revoked_by: Option<String>,
    /// For a token regenerated with grace: when the refusal starts. `None`: at `revoked_at`.
    pub revoked_from: Option<UnixTime>,
    pub deleted_at: Option<UnixTime>,
    pub last_used_at: Option<UnixTime>,
    pub replaces: Option<String>,
    pub replaced_by: Option<String>,
    /// The token's revocation-list entry; see [`crate::revocation::entries`].
    pub list_kind: ListKind,
    pub list_from: i64,
    pub list_expires: i64,
    /// Disabled by an admin: only an admin may enable it again.
    pub disabled_by_admin: bool,
}

impl TokenRow {
    /// True if a revocation is in force at `now` (immediately, or once a grace period ended).
    pub fn revoked_by_now(&self, now: UnixTime) -> bool {
        self.revoked_at.is_some() && self.revoked_from.is_none_or(|from| now >= from)
    }
}

macro_rules! token_columns {
    () => {
        "seq, id, owner, name, description, kind, roles, created_by, issued_at, signed_expires_at, expires_at, enabled, \
         revoked_at, revoked_by, revoked_from, deleted_at, last_used_at, replaces, replaced_by, list_kind, list_from, list_expires, \
         disabled_by_admin"
    };
}

macro_rules! insert_columns {
    () => {
        "id, owner, name, description, kind, roles, created_by, issued_at, signed_expires_at, expires_at, enabled, \
         revoked_at, revoked_by, revoked_from, deleted_at, last_used_at, replaces, replaced_by, list_kind, list_from, list_expires"
    };
}

macro_rules! insert_values {
    () => {
        "$1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21"
    };
}

/// Binds the 21 inserted columns of `t`, in [`insert_columns!`] order.
fn bind_token<'q, DB: sqlx::Database>(
    q: sqlx::query::Query<'q, DB, <DB as sqlx::Database>::Arguments>,
    t: &'q TokenRow,
) -> sqlx::query::Query<'q, DB, <DB as sqlx::Database>::Arguments>
where
    String: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    bool: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    Option<i64>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    UnixTime: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    Option<UnixTime>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    Option<String>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    q.bind(t.id.clone())
        .bind(t.owner.clone())
        .bind(t.name.clone())
        .bind(t.description.clone())
        .bind(t.kind.as_str().to_owned())
        .bind(t.roles.to_stored())
        .bind(t.created_by.clone())
        .bind(t.issued_at)
        .bind(t.signed_expires_at)
        .bind(t.expires_at)
        .bind(t.enabled)
        .bind(t.revoked_at)
        .bind(t.revoked_by.clone())
        .bind(t.revoked_from)
        .bind(t.deleted_at)
        .bind(t.last_used_at)
        .bind(t.replaces.clone())
        .bind(t.replaced_by.clone())
        .bind(t.list_kind as i64)
        .bind(t.list_from)
        .bind(t.list_expires)
}

/// Inserts a new token; [`StoreError::Duplicate`] if its owner has a live token of that name.
pub async fn insert(tx: &mut Tx, t: &TokenRow) -> Result<(), StoreError> {
    on_tx!(tx, |c| bind_token(
        sqlx::query(concat!(
            "INSERT INTO tokens (",
            insert_columns!(),
            ") VALUES (",
            insert_values!(),
            ")"
        )),
        t
    )
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected()))
    .map_err(StoreError::from_write)?;
    Ok(())
}

/// Inserts a new token only if its owner is active and still at `owner_version`
/// (so the roles read at authentication still hold); `false` if not inserted.
/// [`StoreError::Duplicate`] on a name clash.
pub async fn insert_if_owner_unchanged(
    tx: &mut Tx,
    t: &TokenRow,
    owner_version: i64,
) -> Result<bool, StoreError> {
    let sql = sql_for!(
        tx,
        concat!(
            "INSERT INTO tokens (",
            insert_columns!(),
            ") SELECT ",
            insert_values!(),
            " WHERE EXISTS (SELECT 1 FROM users WHERE name = $2 AND active AND version = $22)"
        ),
        concat!(
            "INSERT INTO tokens (",
            insert_columns!(),
            ") SELECT ",
            insert_values!(),
            " WHERE EXISTS (SELECT 1 FROM users WHERE name = $2 AND active AND version = $22 FOR SHARE)"
        )
    );
    let n = on_tx!(tx, |c| bind_token(sqlx::query(sql), t)
        .bind(owner_version)
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected()))
    .map_err(StoreError::from_write)?;
    Ok(n == 1)
}

/// Writes every mutable field of `t`; [`StoreError::Duplicate`] on a name clash.
pub async fn update(tx: &mut Tx, t: &TokenRow) -> Result<(), StoreError> {
    on_tx!(tx, |c| sqlx::query(
        "UPDATE tokens SET description = $2, roles = $3, expires_at = $4, enabled = $5, revoked_at = $6, revoked_by = $7,
            revoked_from = $8, deleted_at = $9, replaced_by = $10, list_kind = $11, list_from = $12, list_expires = $13,
            disabled_by_admin = $14
         WHERE id = $1"
    )
    .bind(&t.id)
    .bind(&t.description)
    .bind(t.roles.to_stored())
    .bind(t.expires_at)
    .bind(t.enabled)
    .bind(t.revoked_at)
    .bind(&t.revoked_by)
    .bind(t.revoked_from)
    .bind(t.deleted_at)
    .bind(&t.replaced_by)
    .bind(t.list_kind as i64)
    .bind(t.list_from)
    .bind(t.list_expires)
    .bind(t.disabled_by_admin)
    .execute(&mut *c)
    .await.map(|r| r.rows_affected()))
    .map_err(StoreError::from_write)?;
    Ok(())
}

/// Reads a token inside a transaction, locking its row on PostgreSQL.
pub async fn get_for_update(tx: &mut Tx, id: &str) -> Result<Option<TokenRow>, StoreError> {
    let sql = sql_for!(
        tx,
        concat!("SELECT ", token_columns!(), " FROM tokens WHERE id = $1"),
        concat!(
            "SELECT ",
            token_columns!(),
            " FROM tokens WHERE id = $1 FOR UPDATE"
        )
    );
    Ok(on_tx!(tx, |c| sqlx::query_as::<_, TokenRow>(sql)
        .bind(id)
        .fetch_optional(&mut *c)
        .await)?)
}

/// Reads a token.
pub async fn find(store: &Store, id: &str) -> Result<Option<TokenRow>, StoreError> {
    Ok(on_read!(store, |c| sqlx::query_as::<_, TokenRow>(
        concat!("SELECT ", token_columns!(), " FROM tokens WHERE id = $1")
    )
    .bind(id)
    .fetch_optional(c)
    .await)?)
}

/// Reads several tokens by id (missing ones are left out), in no particular order.
pub async fn find_many(store: &Store, ids: &[String]) -> Result<Vec<TokenRow>, StoreError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        concat!("SELECT ", token_columns!(), " FROM tokens WHERE id IN ({})"),
        placeholders(1, ids.len())
    );
    Ok(on_read!(store, |c| {
        let mut q = sqlx::query_as::<_, TokenRow>(AssertSqlSafe(sql)).persistent(false);
        for id in ids {
            q = q.bind(id);
        }
        q.fetch_all(c).await
    })?)
}

/// The non-deleted tokens of `owner`, locked on PostgreSQL.
pub async fn of_owner_for_update(tx: &mut Tx, owner: &str) -> Result<Vec<TokenRow>, StoreError> {
    let sql = sql_for!(
        tx,
        concat!(
            "SELECT ",
            token_columns!(),
            " FROM tokens WHERE owner = $1 AND deleted_at IS NULL ORDER BY seq"
        ),
        concat!(
            "SELECT ",
            token_columns!(),
            " FROM tokens WHERE owner = $1 AND deleted_at IS NULL ORDER BY seq FOR UPDATE"
        )
    );
    Ok(on_tx!(tx, |c| sqlx::query_as::<_, TokenRow>(sql)
        .bind(owner)
        .fetch_all(&mut *c)
        .await)?)
}

/// The latest expiry (signed or in force) among `owner`'s tokens.
pub async fn latest_expiry(tx: &mut Tx, owner: &str) -> Result<Option<UnixTime>, StoreError> {
    Ok(on_tx!(tx, |c| {
        sqlx::query_scalar::<_, Option<UnixTime>>(
        "SELECT MAX(CASE WHEN expires_at > signed_expires_at THEN expires_at ELSE signed_expires_at END)
         FROM tokens WHERE owner = $1"
    )
    .bind(owner)
    .fetch_one(&mut *c)
    .await
    })?)
}

/// The order of a listing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Order {
    /// Oldest first (`seq`).
    #[default]
    Created,
    /// Least recently used first: never used, then the oldest last use; ties by `seq`.
    LastUsed,
}

/// Where a page starts: after this position in the listing's order.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Position {
    /// For [`Order::LastUsed`]: the last use of the previous page's last token (-1: never).
    pub last_used: Option<i64>,
    /// The `seq` of the previous page's last token (0: from the start).
    pub seq: i64,
}

/// Which tokens a listing shows.
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    /// Only this owner's tokens.
    pub owner: Option<String>,
    /// Only tokens of this name; without `include_revoked`, only the live one (no revocation
    /// at all, not even one in its grace period), which is unique per owner.
    pub name: Option<String>,
    /// Only tokens whose id starts with these hexadecimal digits (checked by the caller).
    pub id_prefix: Option<String>,
    /// Also tokens whose revocation is in force.
    pub include_revoked: bool,
    /// Kinds to show (`session`, `personal`, `service`); must not be empty.
    pub kinds: Vec<Kind>,
    /// Only tokens neither used nor created at or after this time.
    pub unused_since: Option<i64>,
    /// The order.
    pub order: Order,
    /// Only records after this position (the cursor).
    pub after: Position,
    /// At most this many.
    pub limit: i64,
    /// The current time, to tell grace periods from revocations in force.
    pub now: i64,
}

/// The last use as the [`Order::LastUsed`] order sorts it: never used sorts first.
const LAST_USED_KEY: &str = "COALESCE(last_used_at, -1)";

/// A page of non-deleted tokens in the filter's order.
pub async fn list(store: &Store, f: &ListFilter) -> Result<Vec<TokenRow>, StoreError> {
    let mut sql = String::from(concat!(
        "SELECT ",
        token_columns!(),
        " FROM tokens WHERE deleted_at IS NULL"
    ));
    let mut args = Args::default();
    let seq = args.int(f.after.seq);
    match (f.order, f.after.last_used) {
        (Order::LastUsed, Some(used)) => {
            let used = args.int(used);
            sql.push_str(&format!(
                " AND ({LAST_USED_KEY} > ${used} OR ({LAST_USED_KEY} = ${used} AND seq > ${seq}))"
            ));
        }
        _ => sql.push_str(&format!(" AND seq > ${seq}")),
    }
    if let Some(owner) = &f.owner {
        sql.push_str(&format!(" AND owner = ${}", args.text(owner)));
    }
    if let Some(name) = &f.name {
        sql.push_str(&format!(" AND name = ${}", args.text(name)));
        if !f.include_revoked {
            sql.push_str(" AND revoked_at IS NULL");
        }
    }
    if let Some(prefix) = &f.id_prefix {
        // Hexadecimal digits only, so the pattern holds no wildcard of its own.
        sql.push_str(&format!(
            " AND id LIKE ${}",
            args.text(&format!("{prefix}%"))
        ));
    }
    if !f.include_revoked {
        let now = args.int(f.now);
        sql.push_str(&format!(
            " AND (revoked_at IS NULL OR (revoked_from IS NOT NULL AND revoked_from > ${now}))"
        ));
    }
    if let Some(since) = f.unused_since {
        sql.push_str(&format!(
            " AND COALESCE(last_used_at, issued_at) < ${}",
            args.int(since)
        ));
    }
    let order = match f.order {
        Order::Created => "seq".to_owned(),
        Order::LastUsed => format!("{LAST_USED_KEY}, seq"),
    };
    // Kinds come from a fixed set, never from the request text.
    let kinds: Vec<String> = f
        .kinds
        .iter()
        .map(|k| format!("'{}'", k.as_str()))
        .collect();
    sql.push_str(&format!(
        " AND kind IN ({}) ORDER BY {order} LIMIT ${}",
        kinds.join(", "),
        args.int(f.limit)
    ));
    Ok(on_read!(store, |c| {
        let mut q = sqlx::query_as::<_, TokenRow>(AssertSqlSafe(sql)).persistent(false);
        for a in &args.0 {
            q = match a {
                Arg::Int(i) => q.bind(*i),
                Arg::Text(t) => q.bind(t.clone()),
            };
        }
        q.fetch_all(c).await
    })?)
}

/// What authentication needs: the token's state and its owner's.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AuthRow {
    pub id: String,
    pub owner: String,
    pub name: String,
    #[sqlx(try_from = "String")]
    pub kind: Kind,
    #[sqlx(try_from = "String")]
    pub roles: Roles,
    pub issued_at: UnixTime,
    pub expires_at: UnixTime,
    pub enabled: bool,
    pub revoked_at: Option<UnixTime>,
    pub revoked_from: Option<UnixTime>,
    pub deleted_at: Option<UnixTime>,
    pub last_used_at: Option<UnixTime>,
    pub owner_active: bool,
    pub owner_void_before: UnixTime,
    pub owner_service_account: bool,
    pub owner_version: i64,
    /// For a session exchanged for another token: that token's id.
    pub derived_from: Option<String>,
}

/// Reads the token `id` with its owner's state.
pub async fn auth_lookup(store: &Store, id: &str) -> Result<Option<AuthRow>, StoreError> {
    Ok(on_read!(store, |c| {
        sqlx::query_as::<_, AuthRow>(
        "SELECT t.id, t.owner, t.name, t.kind, t.roles, t.issued_at, t.expires_at, t.enabled, t.revoked_at, t.revoked_from,
                t.deleted_at, t.last_used_at, u.active AS owner_active, u.void_before AS owner_void_before,
                u.service_account AS owner_service_account, u.version AS owner_version, t.derived_from
         FROM tokens t JOIN users u ON u.name = t.owner WHERE t.id = $1"
    )
    .bind(id)
    .fetch_optional(c)
    .await
    })?)
}

/// Records that the token `id` was used at `now`.
pub async fn touch(store: &Store, id: &str, now: UnixTime) -> Result<(), StoreError> {
    let mut tx = store.write().await?;
    on_tx!(&mut tx, |c| sqlx::query(
        "UPDATE tokens SET last_used_at = $2 WHERE id = $1"
    )
    .bind(id)
    .bind(now)
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected()))?;
    tx.commit().await
}

/// Enabled, unrevoked tokens whose shortened expiry is at or before `until`, still published as
/// a changed expiry; locked on PostgreSQL.
pub async fn due_conversions(tx: &mut Tx, until: i64) -> Result<Vec<TokenRow>, StoreError> {
    let sql = sql_for!(
        tx,
        concat!(
            "SELECT ",
            token_columns!(),
            " FROM tokens WHERE list_kind = $2 AND expires_at < signed_expires_at AND expires_at <= $1 ORDER BY seq"
        ),
        concat!(
            "SELECT ",
            token_columns!(),
            " FROM tokens WHERE list_kind = $2 AND expires_at < signed_expires_at AND expires_at <= $1 ORDER BY seq FOR UPDATE"
        )
    );
    Ok(on_tx!(tx, |c| sqlx::query_as::<_, TokenRow>(sql)
        .bind(until)
        .bind(ListKind::ExpiryChanged as i64)
        .fetch_all(&mut *c)
        .await)?)
}

/// Records that the session `id` was exchanged for the token `parent`.
pub async fn set_derived_from(tx: &mut Tx, id: &str, parent: &str) -> Result<(), StoreError> {
    on_tx!(tx, |c| sqlx::query(
        "UPDATE tokens SET derived_from = $2 WHERE id = $1"
    )
    .bind(id)
    .bind(parent)
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected()))
    .map_err(StoreError::from_write)?;
    Ok(())
}

/// The unrevoked, undeleted sessions exchanged for the token `parent`, locked on PostgreSQL.
pub async fn derived_for_update(tx: &mut Tx, parent: &str) -> Result<Vec<TokenRow>, StoreError> {
    let sql = sql_for!(
        tx,
        concat!(
            "SELECT ",
            token_columns!(),
            " FROM tokens WHERE derived_from = $1 AND revoked_at IS NULL AND deleted_at IS NULL ORDER BY seq"
        ),
        concat!(
            "SELECT ",
            token_columns!(),
            " FROM tokens WHERE derived_from = $1 AND revoked_at IS NULL AND deleted_at IS NULL ORDER BY seq FOR UPDATE"
        )
    );
    Ok(on_tx!(tx, |c| sqlx::query_as::<_, TokenRow>(sql)
        .bind(parent)
        .fetch_all(&mut *c)
        .await)?)
}
