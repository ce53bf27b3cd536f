//! What the edge reports of token use: per-day counts, last use, and the reports already taken.

use sqlx::AssertSqlSafe;

use super::{Store, StoreError, Tx, placeholders};
use crate::rules::usage::{DayCount, Intake};
use crate::times::UnixTime;

/// Rows per multi-row insert: well under both engines' limits on bind parameters.
const CHUNK: usize = 200;

/// Records that `intake.reporter` sent report `intake.sequence`; false if a report with that
/// number or a later one was already taken (a replay), in which case nothing was written.
pub async fn take(tx: &mut Tx, intake: &Intake) -> Result<bool, StoreError> {
    let taken = on_tx!(tx, |c| {
        sqlx::query_scalar::<_, String>(
        "INSERT INTO usage_reporters (reporter, sequence, sent_at) VALUES ($1, $2, $3) \
         ON CONFLICT (reporter) DO UPDATE SET sequence = excluded.sequence, sent_at = excluded.sent_at \
         WHERE usage_reporters.sequence < excluded.sequence RETURNING reporter"
    )
    .bind(&intake.reporter)
    .bind(intake.sequence)
    .bind(intake.sent_at)
    .fetch_optional(&mut *c)
    .await
    })?;
    Ok(taken.is_some())
}

/// Forgets reporters whose last report was sent before `before`: a replay of any of their
/// reports is refused by its age.
pub async fn forget_reporters(tx: &mut Tx, before: UnixTime) -> Result<u64, StoreError> {
    Ok(on_tx!(tx, |c| sqlx::query(
        "DELETE FROM usage_reporters WHERE sent_at < $1"
    )
    .bind(before)
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected()))?)
}

/// Adds the counts (one per token and day) to the daily totals.
pub async fn add_days(tx: &mut Tx, days: &[DayCount]) -> Result<(), StoreError> {
    for chunk in days.chunks(CHUNK) {
        let values: Vec<String> = (0..chunk.len())
            .map(|i| format!("({})", placeholders(3 * i + 1, 3)))
            .collect();
        let sql = format!(
            "INSERT INTO token_usage_daily (token_id, day, requests) VALUES {} \
             ON CONFLICT (token_id, day) DO UPDATE SET requests = token_usage_daily.requests + excluded.requests",
            values.join(", ")
        );
        on_tx!(tx, |c| {
            let mut q = sqlx::query(AssertSqlSafe(sql)).persistent(false);
            for d in chunk {
                q = q.bind(&d.token_id).bind(d.day).bind(d.requests);
            }
            q.execute(&mut *c).await.map(|r| r.rows_affected())
        })?;
    }
    Ok(())
}

/// Moves each token's `last_used_at` forward to the time given, never back (one token once per
/// call).
pub async fn seen(tx: &mut Tx, last_seen: &[(String, UnixTime)]) -> Result<(), StoreError> {
    for chunk in last_seen.chunks(CHUNK) {
        let rows = |cast: bool| -> String {
            (0..chunk.len())
                .map(|i| match cast {
                    true => format!("(${}::text, ${}::bigint)", 2 * i + 1, 2 * i + 2),
                    false => format!("({})", placeholders(2 * i + 1, 2)),
                })
                .collect::<Vec<_>>()
                .join(", ")
        };
        let sql = sql_for!(
            tx,
            format!(
                "UPDATE tokens SET last_used_at = v.column2 FROM (VALUES {}) AS v \
                 WHERE tokens.id = v.column1 AND (tokens.last_used_at IS NULL OR tokens.last_used_at < v.column2)",
                rows(false)
            ),
            format!(
                "UPDATE tokens SET last_used_at = v.seen FROM (VALUES {}) AS v (id, seen) \
                 WHERE tokens.id = v.id AND (tokens.last_used_at IS NULL OR tokens.last_used_at < v.seen)",
                rows(true)
            )
        );
        on_tx!(tx, |c| {
            let mut q = sqlx::query(AssertSqlSafe(sql)).persistent(false);
            for (id, at) in chunk {
                q = q.bind(id).bind(*at);
            }
            q.execute(&mut *c).await.map(|r| r.rows_affected())
        })?;
    }
    Ok(())
}

/// The token's daily totals for days `from..=to` (days since 1970-01-01), days without use left
/// out, in day order.
pub async fn daily(
    store: &Store,
    id: &str,
    from: i64,
    to: i64,
) -> Result<Vec<(i64, i64)>, StoreError> {
    Ok(on_read!(store, |c| {
        sqlx::query_as::<_, (i64, i64)>(
        "SELECT day, requests FROM token_usage_daily WHERE token_id = $1 AND day >= $2 AND day <= $3 ORDER BY day"
    )
    .bind(id)
    .bind(from)
    .bind(to)
    .fetch_all(c)
    .await
    })?)
}
