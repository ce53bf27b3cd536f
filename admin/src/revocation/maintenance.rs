//! Periodic upkeep of the list, run by every server (safe to run concurrently):
//! - rows shortened before shortenings were published as revocations (still listed as
//!   `expiry changed`) become revocations from their new expiry as it nears (see
//!   [`super::entries`]); rows edited since never need it;
//! - when listed entries have expired past the margin, a new version drops them;
//! - versions older than the delta retention are forgotten.

use crate::store::list::{self, Change};
use crate::store::{Store, StoreError, tokens};

use super::entries::{CONVERSION_HORIZON, PRUNE_MARGIN, converted_columns};

/// What one round did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Report {
    /// The new version, if one was made.
    pub bumped_to: Option<i64>,
    /// Shortened expiries converted.
    pub converted: usize,
    /// Old versions forgotten.
    pub forgotten: u64,
}

/// Runs one round at `now`, keeping versions from the last `retention` seconds.
pub async fn run(store: &Store, now: i64, retention: i64) -> Result<Report, StoreError> {
    let mut report = Report::default();
    let mut tx = store.write().await?;
    let (sequence, generated_at) = list::state(&mut tx).await?;
    let due = tokens::due_conversions(&mut tx, now + CONVERSION_HORIZON).await?;
    let mut changed = Vec::with_capacity(due.len());
    for mut row in due {
        let c = converted_columns(&row);
        (row.list_kind, row.list_from, row.list_expires) = (c.kind, c.from, c.expires);
        tokens::update(&mut tx, &row).await?;
        changed.push((row.id, c.expires));
    }
    report.converted = changed.len();
    let next_generated = generated_at.max(now);
    let (lo, hi) = (
        (generated_at - PRUNE_MARGIN).max(0),
        (next_generated - PRUNE_MARGIN).max(0),
    );
    let expiring = hi > lo
        && (!list::expiring_tokens(&mut tx, lo, hi).await?.is_empty()
            || !list::expiring_subjects(&mut tx, lo, hi).await?.is_empty());
    if !changed.is_empty() || expiring {
        let changes: Vec<Change<'_>> = changed
            .iter()
            .map(|(id, expires_at)| Change::Token {
                id,
                expires_at: *expires_at,
            })
            .collect();
        report.bumped_to = Some(list::bump(&mut tx, now, &changes).await?);
    }
    report.forgotten = list::forget_versions(
        &mut tx,
        now - retention,
        report.bumped_to.unwrap_or(sequence),
    )
    .await?;
    tx.commit().await?;
    Ok(report)
}
