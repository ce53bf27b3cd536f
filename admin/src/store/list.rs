//! The revocation list's bookkeeping: the version counter, the versions handed out, what
//! changed in each, and the per-subject rules.
//!
//! Every change that must reach the edge calls [`bump`] inside its own transaction. The counter
//! is one row updated with `UPDATE ... RETURNING`: on PostgreSQL the row lock orders concurrent
//! writers, so versions are handed out in commit order and never twice, and `list_versions`'
//! primary key refuses a duplicate outright.

use super::{Store, StoreError, Tx};
use crate::revocation::entries::ListKind;
use crate::rules::roles::RoleCuts;
use crate::times::UnixTime;

/// Something whose list entry changed in a version.
#[derive(Debug, Clone, Copy)]
pub enum Change<'a> {
    /// A token's entry; `expires_at` is the latest instant any of its entries mattered.
    Token { id: &'a str, expires_at: i64 },
    /// A subject's rule.
    Subject { name: &'a str, expires_at: i64 },
}

/// Moves the list to a new version recording `changes`; returns the new sequence number.
/// `generated_at` never moves backwards, even across replicas with skewed clocks.
pub async fn bump(tx: &mut Tx, now: i64, changes: &[Change<'_>]) -> Result<i64, StoreError> {
    let (sequence, generated_at): (i64, i64) = on_tx!(tx, |c| {
        sqlx::query_as(
        "UPDATE list_state
         SET sequence = sequence + 1, generated_at = CASE WHEN generated_at > $1 THEN generated_at ELSE $1 END
         WHERE id = 1 RETURNING sequence, generated_at"
    )
    .bind(now)
    .fetch_one(&mut *c)
    .await
    })?;
    on_tx!(tx, |c| sqlx::query(
        "INSERT INTO list_versions (sequence, generated_at) VALUES ($1, $2)"
    )
    .bind(sequence)
    .bind(generated_at)
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected()))
    .map_err(StoreError::from_write)?;
    for change in changes {
        let (token, subject, expires_at) = match *change {
            Change::Token { id, expires_at } => (Some(id), None, expires_at),
            Change::Subject { name, expires_at } => (None, Some(name), expires_at),
        };
        on_tx!(tx, |c| {
            sqlx::query(
            "INSERT INTO list_changes (sequence, token_id, subject, expires_at) VALUES ($1, $2, $3, $4)"
        )
        .bind(sequence)
        .bind(token)
        .bind(subject)
        .bind(expires_at)
        .execute(&mut *c)
        .await.map(|r| r.rows_affected())
        })?;
    }
    Ok(sequence)
}

/// The current sequence number.
pub async fn current(store: &Store) -> Result<i64, StoreError> {
    Ok(on_read!(store, |c| sqlx::query_scalar::<_, i64>(
        "SELECT sequence FROM list_state WHERE id = 1"
    )
    .fetch_one(c)
    .await)?)
}

/// The current sequence number and its `generated_at`.
pub async fn state(tx: &mut Tx) -> Result<(i64, i64), StoreError> {
    Ok(on_tx!(tx, |c| sqlx::query_as::<_, (i64, i64)>(
        "SELECT sequence, generated_at FROM list_state WHERE id = 1"
    )
    .fetch_one(&mut *c)
    .await)?)
}

/// The `generated_at` of version `sequence`, if it is still on record.
pub async fn version(tx: &mut Tx, sequence: i64) -> Result<Option<i64>, StoreError> {
    Ok(on_tx!(tx, |c| sqlx::query_scalar::<_, i64>(
        "SELECT generated_at FROM list_versions WHERE sequence = $1"
    )
    .bind(sequence)
    .fetch_optional(&mut *c)
    .await)?)
}

/// A token's list entry as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ListedToken {
    pub id: String,
    pub list_kind: ListKind,
    pub list_from: i64,
    pub list_expires: i64,
}

/// Every listed token whose entry outlives `cutoff`.
pub async fn listed_tokens(tx: &mut Tx, cutoff: i64) -> Result<Vec<ListedToken>, StoreError> {
    Ok(on_tx!(tx, |c| {
        sqlx::query_as::<_, ListedToken>(
        "SELECT id, list_kind, list_from, list_expires FROM tokens WHERE list_kind <> $2 AND list_expires > $1"
    )
    .bind(cutoff)
    .bind(ListKind::NotListed)
    .fetch_all(&mut *c)
    .await
    })?)
}

/// A token changed in a range of versions, with its entry now (`None` fields: no such token).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ChangedToken {
    pub token_id: String,
    pub list_kind: Option<ListKind>,
    pub list_from: Option<i64>,
    pub list_expires: Option<i64>,
}

/// Tokens changed in versions `after < sequence <= upto` (may repeat).
pub async fn changed_tokens(
    tx: &mut Tx,
    after: i64,
    upto: i64,
) -> Result<Vec<ChangedToken>, StoreError> {
    Ok(on_tx!(tx, |c| sqlx::query_as::<_, ChangedToken>(
        "SELECT c.token_id AS token_id, t.list_kind, t.list_from, t.list_expires
         FROM list_changes c LEFT JOIN tokens t ON t.id = c.token_id
         WHERE c.sequence > $1 AND c.sequence <= $2 AND c.token_id IS NOT NULL"
    )
    .bind(after)
    .bind(upto)
    .fetch_all(&mut *c)
    .await)?)
}

/// Listed tokens whose entries expire in `(lo, hi]`.
pub async fn expiring_tokens(tx: &mut Tx, lo: i64, hi: i64) -> Result<Vec<String>, StoreError> {
    Ok(on_tx!(tx, |c| sqlx::query_scalar::<_, String>(
        "SELECT id FROM tokens WHERE list_kind <> $3 AND list_expires > $1 AND list_expires <= $2"
    )
    .bind(lo)
    .bind(hi)
    .bind(ListKind::NotListed)
    .fetch_all(&mut *c)
    .await)?)
}

/// A subject's rule as stored; `drop_roles` is stored as `role=before,...`.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SubjectRow {
    pub subject: String,
    pub void_before: UnixTime,
    #[sqlx(try_from = "String")]
    pub drop_roles: RoleCuts,
    pub expires_at: UnixTime,
}

/// The rule for `subject`.
pub async fn rule(tx: &mut Tx, subject: &str) -> Result<Option<SubjectRow>, StoreError> {
    Ok(on_tx!(tx, |c| sqlx::query_as::<_, SubjectRow>(
        "SELECT subject, void_before, drop_roles, expires_at FROM subject_rules WHERE subject = $1"
    )
    .bind(subject)
    .fetch_optional(&mut *c)
    .await)?)
}

/// Creates or replaces a rule.
pub async fn put_rule(tx: &mut Tx, r: &SubjectRow) -> Result<(), StoreError> {
    on_tx!(tx, |c| {
        sqlx::query(
        "INSERT INTO subject_rules (subject, void_before, drop_roles, expires_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (subject) DO UPDATE SET void_before = $2, drop_roles = $3, expires_at = $4"
    )
    .bind(&r.subject)
    .bind(r.void_before)
    .bind(r.drop_roles.to_stored())
    .bind(r.expires_at)
    .execute(&mut *c)
    .await.map(|r| r.rows_affected())
    })?;
    Ok(())
}

/// Every rule that outlives `cutoff`.
pub async fn live_rules(tx: &mut Tx, cutoff: i64) -> Result<Vec<SubjectRow>, StoreError> {
    Ok(on_tx!(tx, |c| {
        sqlx::query_as::<_, SubjectRow>(
        "SELECT subject, void_before, drop_roles, expires_at FROM subject_rules WHERE expires_at > $1"
    )
    .bind(cutoff)
    .fetch_all(&mut *c)
    .await
    })?)
}

/// A subject changed in a range of versions, with its rule now (`None` fields: no rule).
#[derive(Debug, Clone)]
pub struct ChangedSubject {
    pub name: String,
    pub void_before: Option<UnixTime>,
    pub drop_roles: Option<RoleCuts>,
    pub expires_at: Option<UnixTime>,
}

/// [`ChangedSubject`] as read, before its cut-offs are parsed.
#[derive(sqlx::FromRow)]
struct ChangedSubjectRow {
    name: String,
    void_before: Option<UnixTime>,
    drop_roles: Option<String>,
    expires_at: Option<UnixTime>,
}

impl TryFrom<ChangedSubjectRow> for ChangedSubject {
    type Error = StoreError;

    fn try_from(row: ChangedSubjectRow) -> Result<Self, StoreError> {
        let drop_roles = row
            .drop_roles
            .map(|text| RoleCuts::from_stored(&text))
            .transpose()
            .map_err(|e| StoreError::Database(sqlx::Error::Decode(Box::new(e))))?;
        Ok(ChangedSubject {
            name: row.name,
            void_before: row.void_before,
            drop_roles,
            expires_at: row.expires_at,
        })
    }
}

/// Subjects changed in versions `after < sequence <= upto` (may repeat).
pub async fn changed_subjects(
    tx: &mut Tx,
    after: i64,
    upto: i64,
) -> Result<Vec<ChangedSubject>, StoreError> {
    let rows = on_tx!(tx, |c| sqlx::query_as::<_, ChangedSubjectRow>(
        "SELECT c.subject AS name, r.void_before, r.drop_roles, r.expires_at
         FROM list_changes c LEFT JOIN subject_rules r ON r.subject = c.subject
         WHERE c.sequence > $1 AND c.sequence <= $2 AND c.subject IS NOT NULL"
    )
    .bind(after)
    .bind(upto)
    .fetch_all(&mut *c)
    .await)?;
    rows.into_iter().map(ChangedSubject::try_from).collect()
}

/// Rules that expire in `(lo, hi]`.
pub async fn expiring_subjects(tx: &mut Tx, lo: i64, hi: i64) -> Result<Vec<String>, StoreError> {
    Ok(on_tx!(tx, |c| sqlx::query_scalar::<_, String>(
        "SELECT subject FROM subject_rules WHERE expires_at > $1 AND expires_at <= $2"
    )
    .bind(lo)
    .bind(hi)
    .fetch_all(&mut *c)
    .await)?)
}

/// Forgets versions generated before `before` (keeping the current one) and the changes only
/// they needed; `?since=` for a forgotten version answers the whole list.
pub async fn forget_versions(tx: &mut Tx, before: i64, current: i64) -> Result<u64, StoreError> {
    let gone = on_tx!(tx, |c| sqlx::query(
        "DELETE FROM list_versions WHERE generated_at < $1 AND sequence < $2"
    )
    .bind(before)
    .bind(current)
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected()))?;
    if gone > 0 {
        on_tx!(tx, |c| sqlx::query(
            "DELETE FROM list_changes WHERE sequence <= (SELECT MIN(sequence) FROM list_versions)"
        )
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected()))?;
    }
    Ok(gone)
}
