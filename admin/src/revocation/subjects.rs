//! Per-subject cut-offs: a role removed from a user, or a user deactivated, at time `T`
//! reaches the edge as a rule for that user (`drop_roles[R] = T+1` or `void_before = T+1`)
//! that lasts until every token it could affect has expired.

use crate::store::list::{self, Change, SubjectRow};
use crate::store::{StoreError, Tx, tokens};

use crate::rules::roles::{Role, RoleCuts};
use crate::times::UnixTime;

/// What to cut off.
#[derive(Debug, Clone, Copy)]
pub enum CutOff<'a> {
    /// Tokens issued so far lose this role.
    Role(&'a Role),
    /// Tokens issued so far are void.
    All,
}

/// Records `cuts` for `subject` at `now`; returns the new expiry of the subject's rule (for
/// [`Change::Subject`]). `max_ttl` bounds the life of tokens issued before `now`.
pub async fn cut_off(
    tx: &mut Tx,
    subject: &str,
    now: UnixTime,
    max_ttl: u64,
    cuts: &[CutOff<'_>],
) -> Result<UnixTime, StoreError> {
    let current = list::rule(tx, subject)
        .await?
        .filter(|r| r.expires_at > now);
    let (mut void_before, mut drops, mut expires_at) = match &current {
        Some(r) => (r.void_before, r.drop_roles.clone(), r.expires_at),
        None => (UnixTime::EPOCH, RoleCuts::default(), UnixTime::EPOCH),
    };
    for cut in cuts {
        match cut {
            CutOff::Role(role) => drops.cut((*role).clone(), now.plus(1)),
            CutOff::All => void_before = void_before.max(now.plus(1)),
        }
    }
    let latest = tokens::latest_expiry(tx, subject)
        .await?
        .unwrap_or(UnixTime::EPOCH);
    expires_at = expires_at.max(now.plus(max_ttl)).max(latest);
    let row = SubjectRow {
        subject: subject.to_owned(),
        void_before,
        drop_roles: drops,
        expires_at,
    };
    list::put_rule(tx, &row).await?;
    Ok(expires_at)
}

/// Keeps `subject`'s rule alive at least until `until` if it affects a token issued at
/// `issued_at` (an admin extended that token's expiry). Returns the change to record, if any.
pub async fn cover(
    tx: &mut Tx,
    subject: &str,
    issued_at: UnixTime,
    until: UnixTime,
) -> Result<Option<UnixTime>, StoreError> {
    let Some(mut r) = list::rule(tx, subject).await? else {
        return Ok(None);
    };
    let affects = issued_at < r.void_before || r.drop_roles.affects(issued_at);
    if !affects || r.expires_at >= until {
        return Ok(None);
    }
    r.expires_at = until;
    list::put_rule(tx, &r).await?;
    Ok(Some(until))
}

/// Convenience: the [`Change`] for a subject rule.
pub fn change(subject: &str, expires_at: UnixTime) -> Change<'_> {
    Change::Subject {
        name: subject,
        expires_at: expires_at.as_secs(),
    }
}
