//! The audit log: append-only, newest first when read.

use sqlx::AssertSqlSafe;

use super::{Arg, Args, Store, StoreError, Tx};
use crate::times::UnixTime;

/// What an event records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Login,
    Logout,
    TokenCreate,
    TokenUpdate,
    TokenRevoke,
    TokenRegenerate,
    TokenDelete,
    UserCreate,
    UserUpdate,
    UserRoles,
    UserDelete,
    SettingsUpdate,
}

impl Action {
    /// Every action.
    pub const ALL: [Action; 12] = [
        Action::Login,
        Action::Logout,
        Action::TokenCreate,
        Action::TokenUpdate,
        Action::TokenRevoke,
        Action::TokenRegenerate,
        Action::TokenDelete,
        Action::UserCreate,
        Action::UserUpdate,
        Action::UserRoles,
        Action::UserDelete,
        Action::SettingsUpdate,
    ];

    /// The stored name, e.g. `token.create`.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Login => "login",
            Action::Logout => "logout",
            Action::TokenCreate => "token.create",
            Action::TokenUpdate => "token.update",
            Action::TokenRevoke => "token.revoke",
            Action::TokenRegenerate => "token.regenerate",
            Action::TokenDelete => "token.delete",
            Action::UserCreate => "user.create",
            Action::UserUpdate => "user.update",
            Action::UserRoles => "user.roles",
            Action::UserDelete => "user.delete",
            Action::SettingsUpdate => "settings.update",
        }
    }
}

/// How an attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Done.
    Success,
    /// Refused: the caller may not do this.
    Denied,
    /// Failed: wrong credentials, or held off by the throttle.
    Failure,
}

impl Outcome {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Denied => "denied",
            Outcome::Failure => "failure",
        }
    }
}

/// An event to append.
#[derive(Debug, Clone)]
pub struct NewEvent<'a> {
    pub at: UnixTime,
    /// Who acted (`None`: nobody authenticated).
    pub actor: Option<&'a str>,
    /// What was done.
    pub action: Action,
    /// What it was done to: a token id or a user name.
    pub target: Option<&'a str>,
    /// The user the event concerns (a token's owner, the user changed); they may read it.
    pub subject: Option<&'a str>,
    /// How it ended.
    pub outcome: Outcome,
    /// A short description; never a secret.
    pub detail: Option<String>,
}

/// One stored event.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AuditRow {
    pub id: i64,
    pub at: UnixTime,
    pub actor: Option<String>,
    pub action: String,
    pub target: Option<String>,
    pub subject: Option<String>,
    pub outcome: String,
    pub detail: Option<String>,
}

/// Appends `e` within `tx`, and logs it as a security event ([`crate::logging::security_event`]):
/// every audit row passes here, so the log sees every one (written before the transaction
/// commits: a commit that then fails leaves a line without its row, never a row without a line).
pub async fn append(tx: &mut Tx, e: &NewEvent<'_>) -> Result<(), StoreError> {
    on_tx!(tx, |c| {
        sqlx::query(
        "INSERT INTO audit (at, actor, action, target, subject, outcome, detail) VALUES ($1, $2, $3, $4, $5, $6, $7)"
    )
    .bind(e.at)
    .bind(e.actor)
    .bind(e.action.as_str())
    .bind(e.target)
    .bind(e.subject)
    .bind(e.outcome.as_str())
    .bind(&e.detail)
    .execute(&mut *c)
    .await.map(|r| r.rows_affected())
    })?;
    crate::logging::security_event(e);
    Ok(())
}

/// Appends `e` in a transaction of its own (for refused or failed attempts).
pub async fn append_alone(store: &Store, e: &NewEvent<'_>) -> Result<(), StoreError> {
    let mut tx = store.write().await?;
    append(&mut tx, e).await?;
    tx.commit().await
}

/// Which events to read.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// Only events by this actor or about this subject (a non-admin's view).
    pub visible_to: Option<String>,
    pub actor: Option<String>,
    pub action: Option<String>,
    pub target: Option<String>,
    /// Only events older than this id (the cursor); 0: from the newest.
    pub before: i64,
    /// Only events at or after this time (Unix seconds).
    pub since: Option<i64>,
    /// Only events before this time (Unix seconds).
    pub until: Option<i64>,
    pub limit: i64,
}

/// A page of events, newest first.
pub async fn list(store: &Store, f: &AuditFilter) -> Result<Vec<AuditRow>, StoreError> {
    let mut sql = String::from(
        "SELECT id, at, actor, action, target, subject, outcome, detail FROM audit WHERE 1 = 1",
    );
    let mut args = Args::default();
    if f.before > 0 {
        sql.push_str(&format!(" AND id < ${}", args.int(f.before)));
    }
    if let Some(who) = &f.visible_to {
        let n = args.text(who);
        sql.push_str(&format!(" AND (actor = ${n} OR subject = ${n})"));
    }
    if let Some(actor) = &f.actor {
        sql.push_str(&format!(" AND actor = ${}", args.text(actor)));
    }
    if let Some(action) = &f.action {
        sql.push_str(&format!(" AND action = ${}", args.text(action)));
    }
    if let Some(target) = &f.target {
        sql.push_str(&format!(" AND target = ${}", args.text(target)));
    }
    if let Some(since) = f.since {
        sql.push_str(&format!(" AND at >= ${}", args.int(since)));
    }
    if let Some(until) = f.until {
        sql.push_str(&format!(" AND at < ${}", args.int(until)));
    }
    sql.push_str(&format!(" ORDER BY id DESC LIMIT ${}", args.int(f.limit)));
    Ok(on_read!(store, |c| {
        let mut q = sqlx::query_as::<_, AuditRow>(AssertSqlSafe(sql)).persistent(false);
        for a in &args.0 {
            q = match a {
                Arg::Int(i) => q.bind(*i),
                Arg::Text(t) => q.bind(t.clone()),
            };
        }
        q.fetch_all(c).await
    })?)
}

/// Number of events (for tests and metrics).
pub async fn count(store: &Store) -> Result<i64, StoreError> {
    Ok(on_read!(store, |c| sqlx::query_scalar::<_, i64>(
        "SELECT COUNT(*) FROM audit"
    )
    .fetch_one(c)
    .await)?)
}
