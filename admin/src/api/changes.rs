//! The one "something changed → the list moves on" step: changed token records are written,
//! and every change the edge must hear of goes into one new list version.

use tollgate_shared::Kind;

use crate::auth::Caller;
use crate::errors::ApiError;
use crate::revocation::entries::refresh;
use crate::revocation::subjects;
use crate::rules::tokens::decide_revoke;
use crate::store::Tx;
use crate::store::list::{self, Change};
use crate::store::tokens::{self, TokenRow};
use crate::times::UnixTime;

/// Changes gathered in one transaction, published together by [`ListChanges::publish`].
#[derive(Debug, Default)]
pub struct ListChanges {
    /// Token ids, with the latest instant any of their entries mattered.
    tokens: Vec<(String, i64)>,
    /// Subjects whose rule changed, with the rule's expiry.
    subjects: Vec<(String, UnixTime)>,
}

impl ListChanges {
    /// Writes `row` after a change, with its list entry brought up to date; records the entry's
    /// change, if any. Every token change passes here, so here too the sessions exchanged for
    /// `row` are revoked once it is no longer usable or now ends before them.
    pub async fn token(&mut self, tx: &mut Tx, row: &mut TokenRow) -> Result<(), ApiError> {
        self.write(tx, row).await?;
        if row.kind != Kind::Session {
            self.end_derived(tx, row).await?;
        }
        Ok(())
    }

    async fn write(&mut self, tx: &mut Tx, row: &mut TokenRow) -> Result<(), ApiError> {
        if let Some(old) = refresh(row) {
            self.tokens
                .push((row.id.clone(), old.expires.max(row.list_expires)));
        }
        tokens::update(tx, row).await?;
        Ok(())
    }

    /// Revokes the live sessions exchanged for `parent` that it no longer covers: all of them if
    /// it is revoked (even with grace), disabled or deleted, else those that outlive it.
    async fn end_derived(&mut self, tx: &mut Tx, parent: &TokenRow) -> Result<(), ApiError> {
        let unusable =
            parent.revoked_at.is_some() || parent.deleted_at.is_some() || !parent.enabled;
        for mut session in tokens::derived_for_update(tx, &parent.id).await? {
            if !unusable && session.expires_at <= parent.expires_at {
                continue;
            }
            let now = UnixTime::now();
            session.revoked_at = Some(now);
            session.revoked_by = parent
                .revoked_by
                .clone()
                .or_else(|| Some(parent.owner.clone()));
            session.revoked_from = None;
            self.write(tx, &mut session).await?;
        }
        Ok(())
    }

    /// Revokes, as `caller`, every token of `owner` that is unexpired, not deleted, not yet
    /// revoked and chosen by `pick`: each is decided by [`decide_revoke`] (a token in grace ends
    /// now) and written through [`ListChanges::token`]. Returns the revoked rows, for the caller
    /// to audit as its action requires (an account's deletion, a password reset).
    pub async fn revoke_owned(
        &mut self,
        tx: &mut Tx,
        caller: &Caller,
        owner: &str,
        now: UnixTime,
        pick: impl Fn(&TokenRow) -> bool,
    ) -> Result<Vec<TokenRow>, ApiError> {
        let mut revoked = Vec::new();
        for t in tokens::of_owner_for_update(tx, owner).await? {
            if now >= t.expires_at || t.deleted_at.is_some() || !pick(&t) {
                continue;
            }
            // Only tokens already revoked are refused; they are left as they are.
            let Ok((mut row, _)) = decide_revoke(caller, &t, None, now) else {
                continue;
            };
            self.token(tx, &mut row).await?;
            revoked.push(row);
        }
        Ok(revoked)
    }

    /// Records that `subject`'s rule changed (it lives until `expires_at`).
    pub fn subject(&mut self, subject: &str, expires_at: UnixTime) {
        self.subjects.push((subject.to_owned(), expires_at));
    }

    /// Number of token entries changed.
    pub fn tokens_changed(&self) -> usize {
        self.tokens.len()
    }

    /// Moves the list to a new version holding every recorded change; `None` if there were none.
    pub async fn publish(self, tx: &mut Tx, now: UnixTime) -> Result<Option<i64>, ApiError> {
        let mut changes: Vec<Change<'_>> = self
            .tokens
            .iter()
            .map(|(id, expires_at)| Change::Token {
                id,
                expires_at: *expires_at,
            })
            .collect();
        changes.extend(
            self.subjects
                .iter()
                .map(|(name, expires_at)| subjects::change(name, *expires_at)),
        );
        if changes.is_empty() {
            return Ok(None);
        }
        Ok(Some(list::bump(tx, now.as_secs(), &changes).await?))
    }
}
