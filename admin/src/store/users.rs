//! Users and service accounts. A deleted account keeps its row (`deleted_at` set) so its name
//! stays reserved; every read here but [`same_name_any_case`] and [`count`] skips it.

use super::{Store, StoreError, Tx};
use crate::rules::roles::Roles;
use crate::times::UnixTime;

/// One user or service account as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserRow {
    pub name: String,
    /// Argon2id PHC string; `None` for service accounts.
    pub password_hash: Option<String>,
    /// Stored ascending, comma-separated.
    #[sqlx(try_from = "String")]
    pub roles: Roles,
    pub active: bool,
    pub service_account: bool,
    /// For a service account created by a non-admin: the user who manages it.
    pub manager: Option<String>,
    /// Tokens of this user issued before this instant are void (set on deactivation).
    pub void_before: UnixTime,
    pub created_at: UnixTime,
    pub updated_at: UnixTime,
    /// Deactivated by an admin: only an admin may re-activate it.
    pub deactivated_by_admin: bool,
}

/// Inserts a user; [`StoreError::Duplicate`] if the name is taken.
pub async fn insert(tx: &mut Tx, u: &UserRow) -> Result<(), StoreError> {
    on_tx!(tx, |c| sqlx::query(
        "INSERT INTO users (name, password_hash, roles, active, service_account, manager, void_before, created_at, updated_at,
             deactivated_by_admin)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
    )
    .bind(&u.name)
    .bind(&u.password_hash)
    .bind(u.roles.to_stored())
    .bind(u.active)
    .bind(u.service_account)
    .bind(&u.manager)
    .bind(u.void_before)
    .bind(u.created_at)
    .bind(u.updated_at)
    .bind(u.deactivated_by_admin)
    .execute(&mut *c)
    .await.map(|r| r.rows_affected()))
    .map_err(StoreError::from_write)?;
    Ok(())
}

/// Reads a user inside a transaction, locking the row for update on PostgreSQL.
pub async fn get_for_update(tx: &mut Tx, name: &str) -> Result<Option<UserRow>, StoreError> {
    let sql = sql_for!(
        tx,
        "SELECT name, password_hash, roles, active, service_account, manager, void_before, created_at, updated_at, deactivated_by_admin FROM users WHERE name = $1 AND deleted_at IS NULL",
        "SELECT name, password_hash, roles, active, service_account, manager, void_before, created_at, updated_at, deactivated_by_admin FROM users WHERE name = $1 AND deleted_at IS NULL FOR UPDATE"
    );
    Ok(on_tx!(tx, |c| sqlx::query_as::<_, UserRow>(sql)
        .bind(name)
        .fetch_optional(&mut *c)
        .await)?)
}

/// The service accounts `manager` manages, locked on PostgreSQL.
pub async fn managed_by_for_update(tx: &mut Tx, manager: &str) -> Result<Vec<UserRow>, StoreError> {
    let sql = sql_for!(
        tx,
        "SELECT name, password_hash, roles, active, service_account, manager, void_before, created_at, updated_at, deactivated_by_admin FROM users WHERE manager = $1 AND service_account AND deleted_at IS NULL ORDER BY name",
        "SELECT name, password_hash, roles, active, service_account, manager, void_before, created_at, updated_at, deactivated_by_admin FROM users WHERE manager = $1 AND service_account AND deleted_at IS NULL ORDER BY name FOR UPDATE"
    );
    Ok(on_tx!(tx, |c| sqlx::query_as::<_, UserRow>(sql)
        .bind(manager)
        .fetch_all(&mut *c)
        .await)?)
}

/// Reads a user inside a transaction, holding a share lock on PostgreSQL so its roles cannot
/// change before the transaction ends.
pub async fn get_for_share(tx: &mut Tx, name: &str) -> Result<Option<UserRow>, StoreError> {
    let sql = sql_for!(
        tx,
        "SELECT name, password_hash, roles, active, service_account, manager, void_before, created_at, updated_at, deactivated_by_admin FROM users WHERE name = $1 AND deleted_at IS NULL",
        "SELECT name, password_hash, roles, active, service_account, manager, void_before, created_at, updated_at, deactivated_by_admin FROM users WHERE name = $1 AND deleted_at IS NULL FOR SHARE"
    );
    Ok(on_tx!(tx, |c| sqlx::query_as::<_, UserRow>(sql)
        .bind(name)
        .fetch_optional(&mut *c)
        .await)?)
}

/// Reads a user.
pub async fn find(store: &Store, name: &str) -> Result<Option<UserRow>, StoreError> {
    Ok(on_read!(store, |c| {
        sqlx::query_as::<_, UserRow>(
        "SELECT name, password_hash, roles, active, service_account, manager, void_before, created_at, updated_at, deactivated_by_admin FROM users WHERE name = $1 AND deleted_at IS NULL"
    )
    .bind(name)
    .fetch_optional(c)
    .await
    })?)
}

/// Writes every mutable field of `u`.
pub async fn update(tx: &mut Tx, u: &UserRow) -> Result<(), StoreError> {
    on_tx!(tx, |c| {
        sqlx::query(
        "UPDATE users SET password_hash = $2, roles = $3, active = $4, service_account = $5, void_before = $6, updated_at = $7,
             manager = $8, deactivated_by_admin = $9, version = version + 1
         WHERE name = $1 AND deleted_at IS NULL"
    )
    .bind(&u.name)
    .bind(&u.password_hash)
    .bind(u.roles.to_stored())
    .bind(u.active)
    .bind(u.service_account)
    .bind(u.void_before)
    .bind(u.updated_at)
    .bind(&u.manager)
    .bind(u.deactivated_by_admin)
    .execute(&mut *c)
    .await.map(|r| r.rows_affected())
    })?;
    Ok(())
}

/// Number of users.
pub async fn count(tx: &mut Tx) -> Result<i64, StoreError> {
    Ok(on_tx!(tx, |c| sqlx::query_scalar::<_, i64>(
        "SELECT COUNT(*) FROM users"
    )
    .fetch_one(&mut *c)
    .await)?)
}

/// A name taken by a user, live or deleted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TakenName {
    pub name: String,
    /// The account was deleted; its name stays reserved.
    pub deleted: bool,
}

/// The user whose name equals `name` ignoring ASCII case, if any (names are ASCII), deleted
/// accounts included.
pub async fn same_name_any_case(tx: &mut Tx, name: &str) -> Result<Option<TakenName>, StoreError> {
    let row = on_tx!(tx, |c| {
        sqlx::query_as::<_, (String, Option<i64>)>(
            "SELECT name, deleted_at FROM users WHERE lower(name) = lower($1)",
        )
        .bind(name)
        .fetch_optional(&mut *c)
        .await
    })?;
    Ok(row.map(|(name, deleted_at)| TakenName {
        name,
        deleted: deleted_at.is_some(),
    }))
}

/// Marks the live user `name` deleted at `now` (write its last state with [`update`] first).
/// The row stays, so the name stays reserved; no read of live users sees it again.
pub async fn mark_deleted(tx: &mut Tx, name: &str, now: UnixTime) -> Result<(), StoreError> {
    on_tx!(tx, |c| {
        sqlx::query(
            "UPDATE users SET deleted_at = $2, version = version + 1 WHERE name = $1 AND deleted_at IS NULL",
        )
        .bind(name)
        .bind(now)
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected())
    })?;
    Ok(())
}

/// Number of live (not deleted) service accounts `manager` manages, active or not.
pub async fn managed_count(tx: &mut Tx, manager: &str) -> Result<i64, StoreError> {
    Ok(on_tx!(tx, |c| {
        sqlx::query_scalar::<_, i64>(
            "SELECT COUNT(*) FROM users WHERE manager = $1 AND service_account AND deleted_at IS NULL",
        )
        .bind(manager)
        .fetch_one(&mut *c)
        .await
    })?)
}

/// Number of active users holding `admin`, other than `except`.
pub async fn other_active_admins(tx: &mut Tx, except: &str) -> Result<i64, StoreError> {
    Ok(on_tx!(tx, |c| {
        sqlx::query_scalar::<_, i64>(
        "SELECT COUNT(*) FROM users WHERE active AND deleted_at IS NULL AND name <> $1 AND (',' || roles || ',') LIKE '%,admin,%'"
    )
    .bind(except)
    .fetch_one(&mut *c)
    .await
    })?)
}

/// A page of users ordered by name, after `after`; only those managed by `manager` (plus
/// `manager` itself) when given.
pub async fn list(
    store: &Store,
    after: &str,
    limit: i64,
    manager: Option<&str>,
) -> Result<Vec<UserRow>, StoreError> {
    let rows = match manager {
        None => on_read!(store, |c| {
            sqlx::query_as::<_, UserRow>(
            "SELECT name, password_hash, roles, active, service_account, manager, void_before, created_at, updated_at, deactivated_by_admin
             FROM users WHERE name > $1 AND deleted_at IS NULL ORDER BY name LIMIT $2"
        )
        .bind(after)
        .bind(limit)
        .fetch_all(c)
        .await
        })?,
        Some(m) => on_read!(store, |c| {
            sqlx::query_as::<_, UserRow>(
            "SELECT name, password_hash, roles, active, service_account, manager, void_before, created_at, updated_at, deactivated_by_admin
             FROM users WHERE name > $1 AND deleted_at IS NULL AND (name = $3 OR manager = $3) ORDER BY name LIMIT $2"
        )
        .bind(after)
        .bind(limit)
        .bind(m)
        .fetch_all(c)
        .await
        })?,
    };
    Ok(rows)
}

/// Reads a user inside a transaction, without locking.
pub async fn get(tx: &mut Tx, name: &str) -> Result<Option<UserRow>, StoreError> {
    Ok(on_tx!(tx, |c| {
        sqlx::query_as::<_, UserRow>(
        "SELECT name, password_hash, roles, active, service_account, manager, void_before, created_at, updated_at, deactivated_by_admin FROM users WHERE name = $1 AND deleted_at IS NULL"
    )
    .bind(name)
    .fetch_optional(&mut *c)
    .await
    })?)
}
