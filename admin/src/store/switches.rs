//! Switches an admin turns on and off at run time, shared by every replica of one store.

use super::{Store, StoreError, Tx};

/// The token API (`/api/v1/tokens...`) for everyone but admins.
pub const TOKEN_API: &str = "token_api";

/// A switch as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SwitchRow {
    pub enabled: bool,
    pub changed_at: i64,
    pub changed_by: String,
}

/// The stored state of switch `name`, if an admin ever set it.
pub async fn get(store: &Store, name: &str) -> Result<Option<SwitchRow>, StoreError> {
    Ok(on_read!(store, |c| {
        sqlx::query_as::<_, SwitchRow>(
            "SELECT enabled, changed_at, changed_by FROM switches WHERE name = $1",
        )
        .bind(name)
        .fetch_optional(c)
        .await
    })?)
}

/// Sets switch `name`.
pub async fn set(tx: &mut Tx, name: &str, s: &SwitchRow) -> Result<(), StoreError> {
    on_tx!(tx, |c| {
        sqlx::query(
            "INSERT INTO switches (name, enabled, changed_at, changed_by) VALUES ($1, $2, $3, $4)
             ON CONFLICT (name) DO UPDATE SET enabled = $2, changed_at = $3, changed_by = $4",
        )
        .bind(name)
        .bind(s.enabled)
        .bind(s.changed_at)
        .bind(&s.changed_by)
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected())
    })?;
    Ok(())
}
