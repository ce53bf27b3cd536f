//! What the admin publishes for each token and subject, and how it is stored.
//!
//! A token's entry is derived from its record alone (never from the clock), so every replica
//! derives the same list from the same database state:
//! - revoked or deleted: `Revoked { from: 0 }`, or `Revoked { from: grace end }` after a
//!   regeneration with grace; it lives until the token's signed expiry;
//! - disabled: `Disabled`, until the signed expiry;
//! - expiry shortened: `Revoked { from: new expiry }` lasting until the signed expiry, published
//!   with the edit itself, so no entry ever drops out while the signed expiry could still let
//!   the token pass;
//! - expiry extended (admins only): `ExpiryChanged` with the new expiry.

use tollgate_shared::{Entry, EntryState, SubjectRule};

use crate::store::list::SubjectRow;
use crate::store::tokens::TokenRow;

/// How a token is listed: the `list_kind` column, stored as an integer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::Type)]
#[repr(i64)]
pub enum ListKind {
    /// Not listed.
    NotListed = 0,
    /// Revoked (from `list_from`, 0: at once).
    Revoked = 1,
    /// Disabled.
    Disabled = 2,
    /// Expiry changed to `list_expires`.
    ExpiryChanged = 3,
}

use ListKind::{
    Disabled as DISABLED, ExpiryChanged as EXPIRY_CHANGED, NotListed as NOT_LISTED,
    Revoked as REVOKED,
};

/// Entries and rules stay listed this long after they expire (clock skew between admin and edge).
pub const PRUNE_MARGIN: i64 = 3600;
/// A row still listed as a shortened `expiry changed` (published before shortenings became
/// revocations) is converted to a revocation from its new expiry this long before it.
pub const CONVERSION_HORIZON: i64 = 300;

/// A token's list entry in stored form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListColumns {
    pub kind: ListKind,
    pub from: i64,
    pub expires: i64,
}

impl ListColumns {
    /// Not listed.
    pub const NONE: ListColumns = ListColumns {
        kind: NOT_LISTED,
        from: 0,
        expires: 0,
    };

    /// The columns as stored on `row`.
    pub fn of(row: &TokenRow) -> Self {
        ListColumns {
            kind: row.list_kind,
            from: row.list_from,
            expires: row.list_expires,
        }
    }
}

/// The entry `row` should have, given its state.
pub fn derive(row: &TokenRow) -> ListColumns {
    if row.revoked_at.is_some() || row.deleted_at.is_some() {
        let from = row.revoked_from.map_or(0, |grace_end| {
            grace_end.min(row.expires_at).as_secs().max(1)
        });
        return ListColumns {
            kind: REVOKED,
            from,
            expires: row.signed_expires_at.as_secs(),
        };
    }
    if !row.enabled {
        return ListColumns {
            kind: DISABLED,
            from: 0,
            expires: row.signed_expires_at.as_secs(),
        };
    }
    if row.expires_at < row.signed_expires_at {
        return converted_columns(row);
    }
    if row.expires_at > row.signed_expires_at {
        return ListColumns {
            kind: EXPIRY_CHANGED,
            from: 0,
            expires: row.expires_at.as_secs(),
        };
    }
    ListColumns::NONE
}

/// The entry of a token whose expiry was shortened: revoked from the new expiry on, listed until
/// the signed one.
pub fn converted_columns(row: &TokenRow) -> ListColumns {
    ListColumns {
        kind: REVOKED,
        from: row.expires_at.as_secs(),
        expires: row.signed_expires_at.as_secs(),
    }
}

/// Sets `row`'s list columns to [`derive`]'s; returns the old columns if they changed.
pub fn refresh(row: &mut TokenRow) -> Option<ListColumns> {
    let old = ListColumns::of(row);
    let new = derive(row);
    if old == new {
        return None;
    }
    row.list_kind = new.kind;
    row.list_from = new.from;
    row.list_expires = new.expires;
    Some(old)
}

/// The published entry for stored columns, if listed.
pub fn entry(kind: ListKind, from: i64, expires: i64) -> Option<Entry> {
    let expires_at = expires.max(0) as u64;
    let state = match kind {
        REVOKED => EntryState::Revoked {
            from: from.max(0) as u64,
        },
        DISABLED => EntryState::Disabled,
        EXPIRY_CHANGED => EntryState::ExpiryChanged,
        NOT_LISTED => return None,
    };
    Some(Entry { state, expires_at })
}

/// The published rule for a stored one.
pub fn rule(row: &SubjectRow) -> SubjectRule {
    SubjectRule {
        void_before: row.void_before.as_unsigned(),
        drop_roles: row
            .drop_roles
            .iter()
            .map(|(role, before)| (role.to_string(), before.as_unsigned()))
            .collect(),
        expires_at: row.expires_at.as_unsigned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::roles::RoleCuts;
    use crate::times::UnixTime;
    use std::collections::BTreeMap;

    const fn at(secs: i64) -> UnixTime {
        UnixTime::from_secs(secs)
    }

    fn token() -> TokenRow {
        TokenRow {
            seq: 1,
            id: "00".repeat(16),
            owner: "alice".into(),
            name: "ci".into(),
            description: String::new(),
            kind: tollgate_shared::Kind::Personal,
            roles: crate::rules::roles::Roles::from_stored("user").unwrap(),
            created_by: "alice".into(),
            issued_at: at(1000),
            signed_expires_at: at(5000),
            expires_at: at(5000),
            enabled: true,
            revoked_at: None,
            revoked_by: None,
            revoked_from: None,
            deleted_at: None,
            last_used_at: None,
            replaces: None,
            replaced_by: None,
            list_kind: NOT_LISTED,
            list_from: 0,
            list_expires: 0,
            disabled_by_admin: false,
        }
    }

    #[test]
    fn live_tokens_are_not_listed() {
        assert_eq!(derive(&token()), ListColumns::NONE);
    }

    #[test]
    fn revoked_and_deleted_tokens_are_revoked_until_their_signed_expiry() {
        let mut t = token();
        t.revoked_at = Some(at(2000));
        assert_eq!(
            derive(&t),
            ListColumns {
                kind: REVOKED,
                from: 0,
                expires: 5000
            }
        );
        assert_eq!(entry(REVOKED, 0, 5000), Some(Entry::revoked(5000)));
        let mut t = token();
        t.deleted_at = Some(at(2000));
        assert_eq!(derive(&t).kind, REVOKED);
    }

    #[test]
    fn grace_starts_the_refusal_later_but_never_after_expiry() {
        let mut t = token();
        t.revoked_at = Some(at(2000));
        t.revoked_from = Some(at(2600));
        assert_eq!(
            derive(&t),
            ListColumns {
                kind: REVOKED,
                from: 2600,
                expires: 5000
            }
        );
        t.revoked_from = Some(at(9000));
        assert_eq!(derive(&t).from, 5000);
    }

    #[test]
    fn disabled_and_changed_expiry() {
        let mut t = token();
        t.enabled = false;
        assert_eq!(
            derive(&t),
            ListColumns {
                kind: DISABLED,
                from: 0,
                expires: 5000
            }
        );
        let mut t = token();
        t.expires_at = at(3000);
        assert_eq!(
            derive(&t),
            ListColumns {
                kind: REVOKED,
                from: 3000,
                expires: 5000
            },
            "a shortening is a revocation from the new expiry, listed until the signed one"
        );
        t.expires_at = at(7000);
        assert_eq!(
            derive(&t),
            ListColumns {
                kind: EXPIRY_CHANGED,
                from: 0,
                expires: 7000
            }
        );
    }

    #[test]
    fn a_shortening_is_published_as_a_revocation_at_once() {
        let mut t = token();
        t.expires_at = at(3000);
        let old = refresh(&mut t);
        assert_eq!(old, Some(ListColumns::NONE));
        assert_eq!(ListColumns::of(&t), converted_columns(&t));
        assert_eq!(refresh(&mut t), None, "stable");
        t.expires_at = at(2500);
        assert!(refresh(&mut t).is_some());
        assert_eq!(
            ListColumns::of(&t),
            ListColumns {
                kind: REVOKED,
                from: 2500,
                expires: 5000
            }
        );
    }

    #[test]
    fn rules_publish_their_cut_offs() {
        let row = SubjectRow {
            subject: "alice".into(),
            void_before: at(3),
            drop_roles: RoleCuts::from_stored("admin=9,pool:ml=17").unwrap(),
            expires_at: at(100),
        };
        let published = rule(&row);
        assert_eq!(
            published.drop_roles,
            BTreeMap::from([("admin".to_owned(), 9), ("pool:ml".to_owned(), 17)])
        );
        assert_eq!((published.void_before, published.expires_at), (3, 100));
    }
}
