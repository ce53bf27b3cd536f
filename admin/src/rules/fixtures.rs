//! Callers, users and tokens for the rules' tests.

use tollgate_shared::Kind;

use crate::auth::Caller;
use crate::revocation::entries::ListKind;
use crate::rules::roles::Roles;
use crate::store::tokens::TokenRow;
use crate::store::users::UserRow;
use crate::times::UnixTime;

/// The time every fixture is made at.
pub const NOW: UnixTime = UnixTime::from_secs(1_800_000_000);

/// A caller `user` using a personal token with `roles`.
pub fn caller(user: &str, roles: &[&str]) -> Caller {
    Caller {
        user: user.to_owned(),
        token_id: "00".repeat(16),
        token_name: "t".to_owned(),
        kind: Kind::Personal,
        roles: Roles::parse(roles, 16).expect("fixture roles"),
        issued_at: NOW.minus(3600),
        expires_at: NOW.plus(86_400),
        service_account: false,
        owner_version: 1,
        derived_until: None,
    }
}

/// A user `name` with `roles`, managed by `manager` (then a service account).
pub fn user(name: &str, roles: &[&str], manager: Option<&str>) -> UserRow {
    UserRow {
        name: name.to_owned(),
        password_hash: manager.is_none().then(|| "hash".to_owned()),
        roles: Roles::parse(roles, 16).expect("fixture roles"),
        active: true,
        service_account: manager.is_some(),
        manager: manager.map(str::to_owned),
        void_before: UnixTime::EPOCH,
        created_at: NOW.minus(86_400),
        updated_at: NOW.minus(86_400),
        deactivated_by_admin: false,
    }
}

/// A live personal token of `owner` with `roles`, issued an hour ago, expiring in 30 days.
pub fn token(owner: &str, roles: &[&str]) -> TokenRow {
    TokenRow {
        seq: 1,
        id: "ab".repeat(16),
        owner: owner.to_owned(),
        name: "ci".to_owned(),
        description: String::new(),
        kind: Kind::Personal,
        roles: Roles::parse(roles, 16).expect("fixture roles"),
        created_by: owner.to_owned(),
        issued_at: NOW.minus(3600),
        signed_expires_at: NOW.plus(30 * 86_400),
        expires_at: NOW.plus(30 * 86_400),
        enabled: true,
        revoked_at: None,
        revoked_by: None,
        revoked_from: None,
        deleted_at: None,
        last_used_at: None,
        replaces: None,
        replaced_by: None,
        list_kind: ListKind::NotListed,
        list_from: 0,
        list_expires: 0,
        disabled_by_admin: false,
    }
}
