//! Token decisions: who may create, see, change, regenerate, revoke and delete which tokens, and
//! what each change makes of the record.

use tollgate_shared::{ErrorCode, Kind};

use super::expiry::{self, Requested};
use super::roles::{self, Roles};
use super::{Refusal, text};
use crate::auth::Caller;
use crate::config::{PersonalTokens, Settings};
use crate::store::list::SubjectRow;
use crate::store::tokens::TokenRow;
use crate::store::users::UserRow;
use crate::times::UnixTime;

/// Longest grace period for a regenerated token's predecessor.
pub const MAX_GRACE_SECONDS: u64 = 7 * 86_400;

/// The settings token decisions depend on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Lifetime of a new token when none is asked for.
    pub default_ttl: u64,
    /// Longest lifetime of any token.
    pub max_ttl: u64,
    /// A login session at most this old (seconds) may mint a token that outlives it.
    pub reauth_window: u64,
    /// Who may make tokens for themselves.
    pub personal_tokens: PersonalTokens,
}

impl Limits {
    /// The limits in `settings`.
    pub fn of(settings: &Settings) -> Self {
        Limits {
            default_ttl: settings.default_ttl,
            max_ttl: settings.max_ttl,
            reauth_window: settings.reauth_window,
            personal_tokens: settings.personal_tokens,
        }
    }
}

/// The token API is open to `caller`: to admins always, to everyone else while `enabled` (the
/// switch an admin turns at run time, as Rancher's token feature flag).
pub fn token_api_open(caller: &Caller, enabled: bool) -> Result<(), Refusal> {
    if enabled || caller.is_admin() {
        Ok(())
    } else {
        Err(Refusal::new(
            ErrorCode::TokenApiDisabled,
            "the token API is turned off on this server; ask an admin",
        ))
    }
}

/// True if `caller` may make tokens for itself: token creators and admins always; every other
/// person when the server lets everyone (a service account never renews itself that way).
pub fn may_make_own_tokens(caller: &Caller, limits: &Limits) -> bool {
    caller.can_create_tokens()
        || (limits.personal_tokens == PersonalTokens::Everyone && !caller.service_account)
}

/// True if `caller` may see and manage tokens of `owner`: their own, an admin's view of all, a
/// manager's of its service accounts.
pub fn may_manage(caller: &Caller, owner: &UserRow) -> bool {
    owner.name == caller.user
        || caller.is_admin()
        || owner.manager.as_deref() == Some(caller.user.as_str())
}

/// The roles `caller` may put on a token of `owner`: the owner's roles, and for anyone but an
/// admin acting for another user, only those the caller's own token carries.
pub fn grantable_roles(caller: &Caller, owner: &UserRow) -> Roles {
    if caller.is_admin() && owner.name != caller.user {
        owner.roles.clone()
    } else {
        owner.roles.intersection(&caller.roles)
    }
}

/// True if a token issued at `now` would fall under a cut-off of its owner's made within this
/// same second (`rule` is the owner's published rule). Tokens carry whole seconds, so a cut-off
/// made at `T` covers every token issued in `T`, even one minted just after it: such a token
/// must wait for the next second instead of being void, or short of a role, from birth.
pub fn cut_this_second(rule: Option<&SubjectRow>, now: UnixTime) -> bool {
    rule.is_some_and(|r| r.void_before > now || r.drop_roles.affects(now))
}

/// True if `row` was issued before its owner's last deactivation: the token is void (the list
/// carries the owner's cut-off), even if the owner is active again.
pub fn voided(row: &TokenRow, owner: Option<&UserRow>) -> bool {
    owner.is_some_and(|o| row.issued_at < o.void_before)
}

/// A new token's minting plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mint {
    pub owner: String,
    pub kind: Kind,
    pub roles: Roles,
    pub name: String,
    pub description: String,
    pub expires_at: UnixTime,
}

/// `POST /api/v1/tokens` as asked.
#[derive(Debug, Clone, Copy, Default)]
pub struct NewToken<'a> {
    pub name: &'a str,
    pub description: Option<&'a str>,
    pub expiry: Requested<'a>,
    /// `None`: every role the caller may grant the owner.
    pub roles: Option<&'a [String]>,
    /// `None`: the caller.
    pub owner: Option<&'a str>,
}

/// A create request checked on its own, before its owner is loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedNew {
    pub name: String,
    pub description: String,
    pub expires_at: UnixTime,
    pub roles: Option<Roles>,
    pub owner: String,
}

/// Checks what needs no state: the switch, name, description, expiry, role spelling, that the
/// caller may create tokens at all, and the owner's name.
pub fn check_new(
    caller: &Caller,
    req: &NewToken<'_>,
    now: UnixTime,
    limits: &Limits,
) -> Result<CheckedNew, Refusal> {
    let name = text::check_name(req.name)?;
    let description = text::check_description(req.description.unwrap_or(""))?;
    let latest = now.plus(limits.max_ttl);
    let expires_at = expiry::resolve(req.expiry, now, limits.default_ttl, latest)?;
    let roles = req
        .roles
        .map(|r| Roles::parse(r, tollgate_shared::token::MAX_ROLES))
        .transpose()?;
    let owner = req.owner.unwrap_or(&caller.user).to_owned();
    let allowed = if owner == caller.user {
        may_make_own_tokens(caller, limits)
    } else {
        caller.can_create_tokens()
    };
    if !allowed {
        return Err(Refusal::forbidden(if owner == caller.user {
            "this server lets only token creators make tokens for themselves"
        } else {
            "creating tokens for others needs the token_creator or admin role"
        }));
    }
    if !tollgate_shared::valid_subject(&owner) {
        return Err(Refusal::new(
            ErrorCode::InvalidUser,
            "not a valid user name",
        ));
    }
    Ok(CheckedNew {
        name,
        description,
        expires_at,
        roles,
        owner,
    })
}

/// The owner of a new token, as loaded.
#[derive(Debug, Clone, Copy)]
pub enum Owner<'a> {
    /// The caller itself: the roles it may grant are its token's own (a subset of its user's).
    Caller,
    /// Someone else; `None` if there is no such user.
    Other(Option<&'a UserRow>),
}

/// Decides a create request: whose token, which kind, which roles.
pub fn decide_create(
    caller: &Caller,
    req: CheckedNew,
    owner: Owner<'_>,
    now: UnixTime,
    limits: &Limits,
) -> Result<Mint, Refusal> {
    let (grantable, kind) = match owner {
        Owner::Caller => (caller.roles.clone(), kind_for(caller.service_account)),
        Owner::Other(None) if caller.is_admin() => return Err(Refusal::not_found("no such user")),
        Owner::Other(Some(o)) if may_manage(caller, o) => {
            if !o.active {
                return Err(inactive());
            }
            (grantable_roles(caller, o), kind_for(o.service_account))
        }
        Owner::Other(_) => {
            return Err(Refusal::forbidden(
                "only admins create tokens for other users",
            ));
        }
    };
    let roles = granted(req.roles, grantable)?;
    within_session(caller, req.expires_at, now, limits)?;
    Ok(Mint {
        owner: req.owner,
        kind,
        roles,
        name: req.name,
        description: req.description,
        expires_at: req.expires_at,
    })
}

fn kind_for(service_account: bool) -> Kind {
    if service_account {
        Kind::Service
    } else {
        Kind::Personal
    }
}

fn inactive() -> Refusal {
    Refusal::new(ErrorCode::UserInactive, "the user is deactivated")
}

/// `wanted` if every role in it is grantable; if nothing is asked, every grantable role but
/// `admin`, which a token carries only when asked for by name (least privilege).
fn granted(wanted: Option<Roles>, grantable: Roles) -> Result<Roles, Refusal> {
    let Some(wanted) = wanted else {
        return Ok(grantable.without(roles::ADMIN));
    };
    match wanted.first_missing(&grantable) {
        Some(missing) => Err(Refusal::new(
            ErrorCode::RoleNotHeld,
            format!("role {missing:?} cannot be granted by you to this token"),
        )),
        None => Ok(wanted),
    }
}

/// A token minted with a login session may not outlive that session, unless the session is fresh
/// (the person typed their password within the re-authentication window; a session exchanged for
/// a token never is): otherwise a stolen
/// session, or one left open, could turn itself into a long-lived credential that survives the
/// logout and a password reset.
pub fn within_session(
    caller: &Caller,
    expires_at: UnixTime,
    now: UnixTime,
    limits: &Limits,
) -> Result<(), Refusal> {
    // A session exchanged for a token was never a password typed: it is never fresh, and it
    // may mint what the token it stands for may (a personal token is not bound by a session),
    // up to that token's own end.
    let fresh = caller.derived_until.is_none()
        && now.seconds_since(caller.issued_at)
            <= i64::try_from(limits.reauth_window).unwrap_or(i64::MAX);
    let bound = caller.derived_until.unwrap_or(caller.expires_at);
    if caller.kind != Kind::Session || expires_at <= bound || fresh {
        return Ok(());
    }
    let message = match caller.derived_until {
        Some(end) => format!(
            "this token would outlive the token this session was exchanged for (which ends {end}); \
             ask for an expiry no later than that"
        ),
        None => format!(
            "this token would outlive the session it is made with (which ends {}); log in again \
             to make it, or ask for an expiry no later than that",
            caller.expires_at
        ),
    };
    Err(Refusal::new(ErrorCode::ReauthenticationRequired, message))
}

/// `PATCH /api/v1/tokens/{id}` as asked.
#[derive(Debug, Clone, Copy, Default)]
pub struct TokenEdit<'a> {
    pub description: Option<&'a str>,
    pub expiry: Requested<'a>,
    pub enabled: Option<bool>,
}

/// Checks an edit on its own: it must change something, and a description must be acceptable.
pub fn check_edit(edit: &TokenEdit<'_>) -> Result<Option<String>, Refusal> {
    if edit.description.is_none() && !edit.expiry.is_given() && edit.enabled.is_none() {
        return Err(Refusal::new(
            ErrorCode::NothingToChange,
            "give description, expires_at, ttl_seconds or enabled",
        ));
    }
    edit.description.map(text::check_description).transpose()
}

/// A token after an accepted edit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edited {
    pub row: TokenRow,
    /// What changed, in words, for the audit log.
    pub changes: Vec<String>,
    /// The new expiry, when an admin extended it.
    pub extended_to: Option<UnixTime>,
}

/// Decides an edit of `row`: owners (and managers) shorten, only admins extend (up to the
/// maximum lifetime from issue), and only an admin re-enables a token an admin disabled.
pub fn decide_edit(
    caller: &Caller,
    row: &TokenRow,
    owner: Option<&UserRow>,
    edit: &TokenEdit<'_>,
    description: Option<String>,
    now: UnixTime,
    limits: &Limits,
) -> Result<Edited, Refusal> {
    if row.revoked_at.is_some() || voided(row, owner) {
        return Err(Refusal::new(
            ErrorCode::TokenRevoked,
            "a revoked token cannot be changed",
        ));
    }
    let mut row = row.clone();
    let mut changes = Vec::new();
    let mut extended_to = None;
    if edit.expiry.is_given() {
        let at = expiry::resolve(edit.expiry, now, 0, UnixTime::MAX)?;
        if at > row.expires_at && !caller.is_admin() {
            return Err(Refusal::new(
                ErrorCode::CannotExtend,
                "only admins may extend a token's expiry",
            ));
        }
        let latest = row.issued_at.plus(limits.max_ttl);
        if at > latest {
            return Err(expiry::too_far(latest));
        }
        if at > row.expires_at {
            extended_to = Some(at);
        }
        row.expires_at = at;
        changes.push(format!("expires_at {at}"));
    }
    if let Some(d) = description {
        row.description = d;
        changes.push("description".to_owned());
    }
    if let Some(enabled) = edit.enabled {
        if enabled && !row.enabled && row.disabled_by_admin && !caller.is_admin() {
            return Err(Refusal::new(
                ErrorCode::DisabledByAdmin,
                "an admin disabled this token; only an admin may enable it",
            ));
        }
        if !enabled && row.enabled {
            row.disabled_by_admin = caller.is_admin();
        }
        if enabled {
            row.disabled_by_admin = false;
        }
        row.enabled = enabled;
        changes.push(format!("enabled {enabled}"));
    }
    Ok(Edited {
        row,
        changes,
        extended_to,
    })
}

/// Decides a revocation: the token stops now (a regenerated token's grace period ends).
/// Returns the revoked row and what happened, in words.
pub fn decide_revoke(
    caller: &Caller,
    row: &TokenRow,
    owner: Option<&UserRow>,
    now: UnixTime,
) -> Result<(TokenRow, &'static str), Refusal> {
    if row.revoked_by_now(now) || voided(row, owner) {
        return Err(Refusal::new(
            ErrorCode::AlreadyRevoked,
            "the token is already revoked",
        ));
    }
    let in_grace = row.revoked_at.is_some();
    let mut row = row.clone();
    row.revoked_at = Some(now);
    row.revoked_by = Some(caller.user.clone());
    row.revoked_from = None;
    let detail = if in_grace {
        "ended its grace period"
    } else {
        "revoked"
    };
    Ok((row, detail))
}

/// Decides a deletion: the token is revoked at once (if it was not) and its record hidden.
/// Returns the row and whether the token was still valid.
pub fn decide_delete(caller: &Caller, row: &TokenRow, now: UnixTime) -> (TokenRow, bool) {
    let was_valid = !row.revoked_by_now(now);
    let mut row = row.clone();
    row.deleted_at = Some(now);
    if row.revoked_at.is_none() {
        row.revoked_at = Some(now);
        row.revoked_by = Some(caller.user.clone());
    }
    row.revoked_from = None;
    (row, was_valid)
}

/// Checks a regeneration on its own: the switch, the grace period, and that the caller may
/// create tokens. Returns the grace period.
pub fn check_regenerate(
    caller: &Caller,
    grace_seconds: Option<u64>,
    limits: &Limits,
) -> Result<u64, Refusal> {
    // Whether the caller may regenerate this token (its own, or others' as a token creator) is
    // decided with the token, in `decide_regenerate`.
    let grace = grace_seconds.unwrap_or(0);
    if grace > MAX_GRACE_SECONDS {
        return Err(Refusal::new(
            ErrorCode::GraceTooLong,
            format!("grace_seconds is at most {MAX_GRACE_SECONDS}"),
        ));
    }
    if !may_make_own_tokens(caller, limits) {
        return Err(Refusal::forbidden(
            "regenerating tokens needs the token_creator or admin role",
        ));
    }
    Ok(grace)
}

/// Decides a regeneration of `old` (owned by `owner`): only a live, enabled, non-session token,
/// of an active owner, whose roles the caller may still grant. The new token ends when the old
/// one would have (its current, possibly shortened, expiry); only an admin may ask for more.
pub fn decide_regenerate(
    caller: &Caller,
    old: &TokenRow,
    owner: Option<&UserRow>,
    asked: Requested<'_>,
    now: UnixTime,
    limits: &Limits,
) -> Result<Mint, Refusal> {
    if old.revoked_at.is_some() || voided(old, owner) {
        return Err(Refusal::new(
            ErrorCode::TokenRevoked,
            "a revoked token cannot be regenerated",
        ));
    }
    if now >= old.expires_at {
        return Err(Refusal::new(
            ErrorCode::TokenExpired,
            "an expired token cannot be regenerated",
        ));
    }
    if !old.enabled {
        return Err(Refusal::new(
            ErrorCode::TokenDisabled,
            "a disabled token cannot be regenerated; enable it first",
        ));
    }
    if old.kind == Kind::Session {
        return Err(Refusal::new(
            ErrorCode::SessionToken,
            "a session cannot be regenerated; log in again",
        ));
    }
    if !caller.can_create_tokens() && old.owner != caller.user {
        return Err(Refusal::forbidden(
            "regenerating others' tokens needs the token_creator or admin role",
        ));
    }
    let cap = old.expires_at.min(now.plus(limits.max_ttl));
    let latest = if caller.is_admin() {
        now.plus(limits.max_ttl)
    } else {
        cap
    };
    let remaining = cap.seconds_since(now).max(1).unsigned_abs();
    let expires_at = expiry::resolve(asked, now, remaining, latest)?;
    let owner = owner.ok_or_else(|| Refusal::not_found("no such token"))?;
    if !owner.active {
        return Err(inactive());
    }
    let roles = granted(Some(old.roles.clone()), grantable_roles(caller, owner))?;
    within_session(caller, expires_at, now, limits)?;
    Ok(Mint {
        owner: old.owner.clone(),
        kind: old.kind,
        roles,
        name: old.name.clone(),
        description: old.description.clone(),
        expires_at,
    })
}

/// The old token once `new_id` replaces it: revoked now, or at the end of `grace` seconds.
pub fn retire(
    caller: &Caller,
    old: &TokenRow,
    new_id: &str,
    grace: u64,
    now: UnixTime,
) -> TokenRow {
    let mut old = old.clone();
    old.revoked_at = Some(now);
    old.revoked_by = Some(caller.user.clone());
    old.revoked_from = (grace > 0).then(|| now.plus(grace));
    old.replaced_by = Some(new_id.to_owned());
    old
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::fixtures::{NOW, caller, token, user};

    const LIMITS: Limits = Limits {
        default_ttl: 30 * 86_400,
        max_ttl: 90 * 86_400,
        reauth_window: 600,
        personal_tokens: PersonalTokens::Everyone,
    };

    fn code<T: std::fmt::Debug>(r: Result<T, Refusal>) -> ErrorCode {
        r.unwrap_err().code
    }

    fn new_token<'a>(owner: Option<&'a str>, roles: Option<&'a [String]>) -> NewToken<'a> {
        NewToken {
            name: "ci",
            owner,
            roles,
            ..NewToken::default()
        }
    }

    #[test]
    fn creation_needs_the_switch_the_role_and_a_manageable_owner() {
        let tc = caller("tc", &["token_creator", "user"]);
        assert_eq!(
            code(token_api_open(&tc, false)),
            ErrorCode::TokenApiDisabled
        );
        assert!(token_api_open(&caller("root", &["admin"]), false).is_ok());
        let plain = caller("p", &["user"]);
        assert!(check_new(&plain, &new_token(None, None), NOW, &LIMITS).is_ok());
        let creators_only = Limits {
            personal_tokens: PersonalTokens::TokenCreators,
            ..LIMITS
        };
        assert_eq!(
            code(check_new(
                &plain,
                &new_token(None, None),
                NOW,
                &creators_only
            )),
            ErrorCode::Forbidden
        );
        assert_eq!(
            code(check_new(
                &plain,
                &new_token(Some("bob"), None),
                NOW,
                &LIMITS
            )),
            ErrorCode::Forbidden,
            "tokens for others stay with token creators"
        );
        let mut svc = caller("svc", &["user"]);
        svc.service_account = true;
        assert_eq!(
            code(check_new(&svc, &new_token(None, None), NOW, &LIMITS)),
            ErrorCode::Forbidden,
            "a service account does not renew itself"
        );
        let other = check_new(&tc, &new_token(Some("bob"), None), NOW, &LIMITS).unwrap();
        let bob = user("bob", &["user"], None);
        assert_eq!(
            code(decide_create(
                &tc,
                other.clone(),
                Owner::Other(Some(&bob)),
                NOW,
                &LIMITS
            )),
            ErrorCode::Forbidden
        );
        assert_eq!(
            code(decide_create(
                &tc,
                other.clone(),
                Owner::Other(None),
                NOW,
                &LIMITS
            )),
            ErrorCode::Forbidden,
            "a non-admin learns nothing about who exists"
        );
        let admin = caller("root", &["admin"]);
        assert_eq!(
            code(decide_create(
                &admin,
                other,
                Owner::Other(None),
                NOW,
                &LIMITS
            )),
            ErrorCode::NotFound
        );
    }

    #[test]
    fn admin_is_carried_only_when_asked_for() {
        let admin = caller("root", &["admin", "user"]);
        let ask = check_new(&admin, &new_token(None, None), NOW, &LIMITS).unwrap();
        let plan = decide_create(&admin, ask, Owner::Caller, NOW, &LIMITS).unwrap();
        assert_eq!(plan.roles.names(), vec!["user".to_owned()]);
        let wanted = ["admin".to_owned()];
        let ask = check_new(&admin, &new_token(None, Some(&wanted)), NOW, &LIMITS).unwrap();
        let plan = decide_create(&admin, ask, Owner::Caller, NOW, &LIMITS).unwrap();
        assert_eq!(plan.roles.names(), vec!["admin".to_owned()]);
    }

    #[test]
    fn a_managed_account_gets_only_roles_both_hold() {
        let tc = caller("tc", &["token_creator", "user"]);
        let mut svc = user("svc", &["deploy", "user"], Some("tc"));
        let ask = check_new(&tc, &new_token(Some("svc"), None), NOW, &LIMITS).unwrap();
        let plan = decide_create(&tc, ask, Owner::Other(Some(&svc)), NOW, &LIMITS).unwrap();
        assert_eq!(plan.roles.names(), vec!["user".to_owned()]);
        assert_eq!(plan.kind, Kind::Service);
        let deploy = ["deploy".to_owned()];
        let ask = check_new(&tc, &new_token(Some("svc"), Some(&deploy)), NOW, &LIMITS).unwrap();
        assert_eq!(
            code(decide_create(
                &tc,
                ask.clone(),
                Owner::Other(Some(&svc)),
                NOW,
                &LIMITS
            )),
            ErrorCode::RoleNotHeld
        );
        svc.active = false;
        assert_eq!(
            code(decide_create(
                &tc,
                ask,
                Owner::Other(Some(&svc)),
                NOW,
                &LIMITS
            )),
            ErrorCode::UserInactive
        );
    }

    #[test]
    fn a_stale_session_cannot_mint_past_its_own_end() {
        let mut session = caller("alice", &["token_creator", "user"]);
        session.kind = Kind::Session;
        session.issued_at = NOW.minus(3600);
        session.expires_at = NOW.plus(3600);
        let long = session.expires_at.plus(1);
        assert_eq!(
            code(within_session(&session, long, NOW, &LIMITS)),
            ErrorCode::ReauthenticationRequired
        );
        assert!(within_session(&session, session.expires_at, NOW, &LIMITS).is_ok());
        session.issued_at = NOW.minus(600);
        assert!(
            within_session(&session, long, NOW, &LIMITS).is_ok(),
            "fresh"
        );
        let personal = caller("alice", &["token_creator", "user"]);
        assert!(within_session(&personal, long, NOW, &LIMITS).is_ok());
        session.derived_until = Some(long.minus(1));
        assert_eq!(
            code(within_session(&session, long, NOW, &LIMITS)),
            ErrorCode::ReauthenticationRequired,
            "a session exchanged for a token is never fresh, and ends no later than that token"
        );
        session.derived_until = Some(long);
        assert!(
            within_session(&session, long, NOW, &LIMITS).is_ok(),
            "it mints what the token it stands for may"
        );
    }

    #[test]
    fn only_admins_extend_or_undo_an_admins_disable() {
        let owner = caller("alice", &["user"]);
        let admin = caller("root", &["admin"]);
        let row = token("alice", &["user"]);
        let later = TokenEdit {
            expiry: Requested {
                ttl_seconds: Some(60 * 86_400),
                ..Requested::default()
            },
            ..TokenEdit::default()
        };
        assert_eq!(
            code(decide_edit(&owner, &row, None, &later, None, NOW, &LIMITS)),
            ErrorCode::CannotExtend
        );
        let edited = decide_edit(&admin, &row, None, &later, None, NOW, &LIMITS).unwrap();
        assert_eq!(edited.extended_to, Some(NOW.plus(60 * 86_400)));
        let off = TokenEdit {
            enabled: Some(false),
            ..TokenEdit::default()
        };
        let on = TokenEdit {
            enabled: Some(true),
            ..TokenEdit::default()
        };
        let disabled = decide_edit(&admin, &row, None, &off, None, NOW, &LIMITS)
            .unwrap()
            .row;
        assert!(disabled.disabled_by_admin);
        assert_eq!(
            code(decide_edit(
                &owner, &disabled, None, &on, None, NOW, &LIMITS
            )),
            ErrorCode::DisabledByAdmin
        );
        let by_owner = decide_edit(&owner, &row, None, &off, None, NOW, &LIMITS)
            .unwrap()
            .row;
        assert!(decide_edit(&owner, &by_owner, None, &on, None, NOW, &LIMITS).is_ok());
        assert_eq!(
            code(check_edit(&TokenEdit::default())),
            ErrorCode::NothingToChange
        );
    }

    #[test]
    fn regeneration_keeps_the_current_expiry_and_refuses_disabled_tokens() {
        let tc = caller("alice", &["token_creator", "user"]);
        let alice = user("alice", &["token_creator", "user"], None);
        let mut row = token("alice", &["user"]);
        row.expires_at = NOW.plus(86_400); // shortened by an admin
        let plan =
            decide_regenerate(&tc, &row, Some(&alice), Requested::default(), NOW, &LIMITS).unwrap();
        assert_eq!(plan.expires_at, NOW.plus(86_400));
        let longer = Requested {
            ttl_seconds: Some(2 * 86_400),
            ..Requested::default()
        };
        assert_eq!(
            code(decide_regenerate(
                &tc,
                &row,
                Some(&alice),
                longer,
                NOW,
                &LIMITS
            )),
            ErrorCode::ExpiryTooFar
        );
        row.enabled = false;
        assert_eq!(
            code(decide_regenerate(
                &tc,
                &row,
                Some(&alice),
                Requested::default(),
                NOW,
                &LIMITS
            )),
            ErrorCode::TokenDisabled
        );
        let old = retire(&tc, &token("alice", &["user"]), "cd", 60, NOW);
        assert_eq!(
            (old.revoked_at, old.revoked_from),
            (Some(NOW), Some(NOW.plus(60)))
        );
    }

    #[test]
    fn a_token_voided_by_its_owners_deactivation_is_revoked_for_every_action() {
        let alice = caller("alice", &["token_creator", "user"]);
        let mut owner = user("alice", &["token_creator", "user"], None);
        let row = token("alice", &["user"]);
        owner.void_before = row.issued_at.plus(1);
        let on = TokenEdit {
            enabled: Some(true),
            ..TokenEdit::default()
        };
        assert_eq!(
            code(decide_edit(
                &alice,
                &row,
                Some(&owner),
                &on,
                None,
                NOW,
                &LIMITS
            )),
            ErrorCode::TokenRevoked
        );
        assert_eq!(
            code(decide_revoke(&alice, &row, Some(&owner), NOW)),
            ErrorCode::AlreadyRevoked
        );
        assert_eq!(
            code(decide_regenerate(
                &alice,
                &row,
                Some(&owner),
                Requested::default(),
                NOW,
                &LIMITS
            )),
            ErrorCode::TokenRevoked
        );
        let rule = |void_before, drop_roles: &str| SubjectRow {
            subject: "alice".into(),
            void_before,
            drop_roles: crate::rules::roles::RoleCuts::from_stored(drop_roles).unwrap(),
            expires_at: NOW.plus(86_400),
        };
        assert!(cut_this_second(Some(&rule(NOW.plus(1), "")), NOW));
        assert!(cut_this_second(
            Some(&rule(
                UnixTime::EPOCH,
                &format!("ml={}", NOW.plus(1).as_secs())
            )),
            NOW
        ));
        assert!(!cut_this_second(
            Some(&rule(NOW, &format!("ml={}", NOW.as_secs()))),
            NOW
        ));
        assert!(!cut_this_second(None, NOW));
    }

    #[test]
    fn revoking_twice_is_a_conflict_but_ends_a_grace_period() {
        let alice = caller("alice", &["user"]);
        let row = token("alice", &["user"]);
        let (revoked, _) = decide_revoke(&alice, &row, None, NOW).unwrap();
        assert_eq!(
            code(decide_revoke(&alice, &revoked, None, NOW)),
            ErrorCode::AlreadyRevoked
        );
        let in_grace = retire(&alice, &row, "cd", 60, NOW);
        let (ended, detail) = decide_revoke(&alice, &in_grace, None, NOW.plus(1)).unwrap();
        assert_eq!(
            (ended.revoked_from, detail),
            (None, "ended its grace period")
        );
    }
}
