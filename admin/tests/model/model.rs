//! The reference model: users, service accounts and tokens as plain data, and the access rules
//! written out as the documentation and the API suite state them (who may do what to whom, and
//! what each change does to which tokens). It knows nothing of the handlers; it answers, for a
//! request, the status the admin must give and, for every token, whether the admin and the edge
//! must accept it and with which roles.
//!
//! Time: cut-offs are whole seconds. A role removed from (or a deactivation of) a user at second
//! `T` reaches every token of that user issued before `T + 1`, so a token minted in the same
//! second as the change is caught by it too. The driver passes the second the server decided in
//! (`now`); when a request straddles a second, it passes the later one and waits for the next
//! second before going on, which gives the same answers for every token (see `driver.rs`).

use std::collections::{BTreeMap, BTreeSet};

pub const ADMIN: &str = "admin";
pub const TOKEN_CREATOR: &str = "token_creator";
pub const USER: &str = "user";
/// The roles operations draw from: the three built-in ones and two of an organisation's own.
pub const ROLES: [&str; 5] = [ADMIN, TOKEN_CREATOR, USER, "deploy", "read"];

pub const DAY: i64 = 86_400;
/// The server's defaults, which the test keeps.
pub const DEFAULT_TTL: i64 = 30 * DAY;
pub const MAX_TTL: i64 = 90 * DAY;
pub const SESSION_TTL: i64 = 12 * 3600;

pub type Roles = BTreeSet<String>;

pub fn roles_of(items: &[&str]) -> Roles {
    items.iter().map(|r| (*r).to_owned()).collect()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Session,
    Personal,
    Service,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Session => "session",
            Kind::Personal => "personal",
            Kind::Service => "service",
        }
    }
}

#[derive(Debug, Clone)]
pub struct User {
    pub name: String,
    pub service: bool,
    pub manager: Option<String>,
    pub roles: Roles,
    pub active: bool,
    /// Deactivated by an admin (directly or through its manager): only an admin re-activates.
    pub deactivated_by_admin: bool,
    pub password: Option<String>,
    /// Tokens issued before this second are void (deactivation), here and at the edge.
    pub void_before: i64,
    /// At the edge, tokens issued before `drops[r]` do not carry role `r`.
    pub drops: BTreeMap<String, i64>,
}

#[derive(Debug, Clone)]
pub struct Token {
    pub id: String,
    pub text: String,
    pub owner: String,
    pub kind: Kind,
    pub name: String,
    pub description: String,
    /// The roles signed into the token.
    pub signed_roles: Roles,
    /// The roles the admin gives it now: the signed ones less those its owner lost since.
    pub roles: Roles,
    pub issued_at: i64,
    pub expires_at: i64,
    pub enabled: bool,
    pub disabled_by_admin: bool,
    /// Revoked (by revoke, regenerate, logout, a password change or delete) at this second...
    pub revoked_at: Option<i64>,
    /// ...but good until this second (a regenerated token's grace period).
    pub grace_until: Option<i64>,
    pub deleted: bool,
}

impl Token {
    /// Revoked, and past any grace period, at `now`.
    pub fn revoked_by(&self, now: i64) -> bool {
        self.revoked_at.is_some() && self.grace_until.is_none_or(|g| now >= g)
    }
}

/// Who makes a request: the token it is made with, as the admin sees it.
#[derive(Debug, Clone)]
pub struct Caller {
    pub user: String,
    pub kind: Kind,
    /// The token's roles: the caller's authority (a narrow token passes on only what it carries).
    pub roles: Roles,
    pub service: bool,
}

impl Caller {
    pub fn is_admin(&self) -> bool {
        self.roles.contains(ADMIN)
    }
    pub fn creates_tokens(&self) -> bool {
        self.is_admin() || self.roles.contains(TOKEN_CREATOR)
    }
    /// Every person may make tokens for themselves (the server's default); a service account
    /// only through a role that lets it.
    pub fn makes_own_tokens(&self) -> bool {
        self.creates_tokens() || !self.service
    }
}

/// A refusal: the status and error code the rules require.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refusal {
    pub status: u16,
    pub code: &'static str,
}

const fn refuse(status: u16, code: &'static str) -> Refusal {
    Refusal { status, code }
}

pub const UNAUTHENTICATED: Refusal = refuse(401, "*");
pub const FORBIDDEN: Refusal = refuse(403, "forbidden");
pub const NOT_FOUND: Refusal = refuse(404, "not_found");

/// What the rules say of a request: go ahead, or refuse. `known` is a named allowance for a
/// place where the server is known to answer otherwise, with the answer it gives there
/// (`// KNOWN:` in `driver.rs` reports each use; each is a server bug to fix).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    pub verdict: Result<(), Refusal>,
    pub known: Option<(&'static str, Result<(), Refusal>)>,
}

impl From<Result<(), Refusal>> for Decision {
    fn from(verdict: Result<(), Refusal>) -> Self {
        Decision {
            verdict,
            known: None,
        }
    }
}

/// A token's state as its record must show it.
pub fn record_state(m: &Model, t: &Token, now: i64) -> &'static str {
    if t.revoked_by(now) || m.voided(t) {
        "revoked"
    } else if now >= t.expires_at {
        "expired"
    } else if !t.enabled {
        "disabled"
    } else if t.revoked_at.is_some() {
        "grace"
    } else {
        "active"
    }
}

#[derive(Debug, Clone, Default)]
pub struct Model {
    pub users: BTreeMap<String, User>,
    /// Every token ever handed out, in order; deleted ones stay (they must stay refused).
    pub tokens: Vec<Token>,
    /// Names of deleted accounts: they stay taken, so no new account revives their tokens.
    pub reserved: BTreeSet<String>,
}

impl Model {
    pub fn user(&self, name: &str) -> Option<&User> {
        self.users.get(name)
    }

    /// A user with this name in another case exists (names may not differ only in case).
    pub fn name_taken(&self, name: &str) -> bool {
        self.users
            .keys()
            .chain(&self.reserved)
            .any(|n| n.eq_ignore_ascii_case(name))
    }

    pub fn token(&self, id: &str) -> Option<&Token> {
        self.tokens.iter().find(|t| t.id == id)
    }

    fn token_mut(&mut self, id: &str) -> &mut Token {
        self.tokens
            .iter_mut()
            .find(|t| t.id == id)
            .expect("a known token")
    }

    /// Issued before its owner's last deactivation.
    pub fn voided(&self, t: &Token) -> bool {
        self.users
            .get(&t.owner)
            .is_some_and(|u| t.issued_at < u.void_before)
    }

    /// The admin accepts the token at `now`: it exists, is not revoked (grace aside), its owner
    /// is active and did not void it, it is enabled and not expired.
    pub fn admin_accepts(&self, t: &Token, now: i64) -> bool {
        let Some(owner) = self.users.get(&t.owner) else {
            return false;
        };
        !t.deleted
            && !t.revoked_by(now)
            && owner.active
            && !self.voided(t)
            && t.enabled
            && now < t.expires_at
    }

    /// What the edge decides from the signed list: refused (`None`) or the roles it carries.
    pub fn edge_roles(&self, t: &Token, now: i64) -> Option<Roles> {
        let owner = self.users.get(&t.owner)?;
        if t.deleted || t.revoked_by(now) || !t.enabled || self.voided(t) || now >= t.expires_at {
            return None;
        }
        Some(
            t.signed_roles
                .iter()
                .filter(|r| owner.drops.get(*r).is_none_or(|cut| t.issued_at >= *cut))
                .cloned()
                .collect(),
        )
    }

    /// The caller behind `token`, if the admin accepts it.
    pub fn caller(&self, token: &Token, now: i64) -> Option<Caller> {
        if !self.admin_accepts(token, now) {
            return None;
        }
        let owner = self.users.get(&token.owner)?;
        Some(Caller {
            user: owner.name.clone(),
            kind: token.kind,
            roles: token.roles.clone(),
            service: owner.service,
        })
    }

    /// The caller may see and manage `user`: an admin, the user itself, or its manager.
    fn sees_user(c: &Caller, user: &User) -> bool {
        c.is_admin() || user.name == c.user || user.manager.as_deref() == Some(c.user.as_str())
    }

    /// The caller may see and manage tokens of `owner`.
    pub fn manages_tokens_of(&self, c: &Caller, owner: &str) -> bool {
        owner == c.user
            || c.is_admin()
            || self
                .users
                .get(owner)
                .is_some_and(|u| u.manager.as_deref() == Some(c.user.as_str()))
    }

    /// A live (not revoked, not deleted, not a session) token of `owner` already has `name`.
    fn token_name_taken(&self, owner: &str, name: &str) -> bool {
        self.tokens.iter().any(|t| {
            t.owner == owner
                && t.name == name
                && t.kind != Kind::Session
                && t.revoked_at.is_none()
                && !t.deleted
        })
    }

    // ----- users -----

    pub fn decide_create_user(
        &self,
        c: &Caller,
        name: &str,
        service: bool,
        roles: &Roles,
    ) -> Decision {
        if !c.is_admin() {
            // Token creators create service accounts, with roles their token carries.
            if !service || !c.creates_tokens() {
                return Err(FORBIDDEN).into();
            }
            if !roles.is_subset(&c.roles) {
                return Err(refuse(403, "role_not_held")).into();
            }
        }
        if self.name_taken(name) {
            return Err(refuse(409, "user_exists")).into();
        }
        Ok(()).into()
    }

    pub fn create_user(
        &mut self,
        c: &Caller,
        name: &str,
        service: bool,
        roles: Roles,
        password: Option<String>,
    ) {
        let manager = (!c.is_admin()).then(|| c.user.clone());
        self.users.insert(
            name.to_owned(),
            User {
                name: name.to_owned(),
                service,
                manager,
                roles,
                active: true,
                deactivated_by_admin: false,
                password,
                void_before: 0,
                drops: BTreeMap::new(),
            },
        );
    }

    /// Common to every change of a user: who may change it at all.
    fn may_change_user(&self, c: &Caller, name: &str) -> Result<&User, Refusal> {
        let user = self
            .users
            .get(name)
            .filter(|u| Self::sees_user(c, u))
            .ok_or(NOT_FOUND)?;
        let manages = user.service && user.manager.as_deref() == Some(c.user.as_str());
        if !c.is_admin() && !manages {
            return Err(FORBIDDEN);
        }
        Ok(user)
    }

    /// Another active admin than `name` remains.
    fn other_active_admin(&self, name: &str) -> bool {
        self.users
            .values()
            .any(|u| u.name != name && u.active && u.roles.contains(ADMIN))
    }

    pub fn decide_grant(&self, c: &Caller, name: &str, role: &str) -> Decision {
        let user = match self.may_change_user(c, name) {
            Ok(u) => u,
            Err(r) => return Err(r).into(),
        };
        let new = !user.roles.contains(role);
        if new && !c.is_admin() && !c.roles.contains(role) {
            return Err(refuse(403, "role_not_held")).into();
        }
        // A service account never holds a role its manager does not hold now.
        if new
            && user.service
            && let Some(manager) = user.manager.as_deref().and_then(|m| self.users.get(m))
            && !manager.roles.contains(role)
        {
            return Err(refuse(403, "role_not_held")).into();
        }
        Ok(()).into()
    }

    pub fn grant(&mut self, name: &str, role: &str) {
        let user = self.users.get_mut(name).expect("known user");
        user.roles.insert(role.to_owned());
    }

    pub fn decide_remove(&self, c: &Caller, name: &str, role: &str) -> Decision {
        let user = match self.may_change_user(c, name) {
            Ok(u) => u,
            Err(r) => return Err(r).into(),
        };
        if role == ADMIN && user.roles.contains(ADMIN) && !self.other_active_admin(name) {
            return Err(refuse(409, "last_admin")).into();
        }
        Ok(()).into()
    }

    /// Takes `lost` from `name` at `now`, and from the service accounts it manages, recursively.
    pub fn remove_roles(&mut self, name: &str, lost: &Roles, now: i64) {
        let user = self.users.get_mut(name).expect("known user");
        let dropped: Roles = user.roles.intersection(lost).cloned().collect();
        if dropped.is_empty() {
            return;
        }
        for r in &dropped {
            user.roles.remove(r);
            let cut = user.drops.entry(r.clone()).or_insert(0);
            *cut = (*cut).max(now + 1);
        }
        for t in self.tokens.iter_mut().filter(|t| t.owner == name) {
            t.roles.retain(|r| !dropped.contains(r));
        }
        for account in self.managed_by(name) {
            self.remove_roles(&account, &dropped, now);
        }
    }

    fn managed_by(&self, manager: &str) -> Vec<String> {
        self.users
            .values()
            .filter(|u| u.service && u.manager.as_deref() == Some(manager))
            .map(|u| u.name.clone())
            .collect()
    }

    pub fn decide_set_active(&self, c: &Caller, name: &str, active: bool) -> Decision {
        let user = match self.may_change_user(c, name) {
            Ok(u) => u,
            Err(r) => return Err(r).into(),
        };
        if !active && user.active && user.roles.contains(ADMIN) && !self.other_active_admin(name) {
            return Err(refuse(409, "last_admin")).into();
        }
        // Only an admin undoes an admin's deactivation.
        if active && !user.active && user.deactivated_by_admin && !c.is_admin() {
            return Err(refuse(403, "deactivated_by_admin")).into();
        }
        Ok(()).into()
    }

    pub fn set_active(&mut self, c: &Caller, name: &str, active: bool, now: i64) {
        if active {
            let user = self.users.get_mut(name).expect("known user");
            user.active = true;
            user.deactivated_by_admin = false;
        } else {
            self.deactivate(name, c.is_admin(), now);
        }
    }

    /// Deactivates `name` and every active service account it manages, recursively.
    fn deactivate(&mut self, name: &str, by_admin: bool, now: i64) {
        let user = self.users.get_mut(name).expect("known user");
        if !user.active {
            return;
        }
        user.active = false;
        user.deactivated_by_admin = by_admin;
        user.void_before = user.void_before.max(now + 1);
        for account in self.managed_by(name) {
            self.deactivate(&account, by_admin, now);
        }
    }

    /// Deleting an account: admins any but themselves; a token creator the service accounts it
    /// manages, unless an admin deactivated one. Never an account that still manages service
    /// accounts, nor the last active admin.
    pub fn decide_delete_user(&self, c: &Caller, name: &str) -> Decision {
        let user = match self.may_change_user(c, name) {
            Ok(u) => u,
            Err(r) => return Err(r).into(),
        };
        if name == c.user || !c.creates_tokens() {
            return Err(FORBIDDEN).into();
        }
        if !c.is_admin() && !user.active && user.deactivated_by_admin {
            return Err(refuse(403, "deactivated_by_admin")).into();
        }
        if !self.managed_by(name).is_empty() {
            return Err(refuse(409, "manages_service_accounts")).into();
        }
        if user.active && user.roles.contains(ADMIN) && !self.other_active_admin(name) {
            return Err(refuse(409, "last_admin")).into();
        }
        Ok(()).into()
    }

    /// Deletes `name` at `now`: every token of it stops, and the name stays taken.
    pub fn delete_user(&mut self, name: &str, now: i64) {
        self.users.remove(name);
        self.reserved.insert(name.to_owned());
        for t in self.tokens.iter_mut().filter(|t| t.owner == name) {
            if !t.revoked_by(now) && !t.deleted && now < t.expires_at {
                t.revoked_at = Some(now);
                t.grace_until = None;
            }
        }
    }

    pub fn decide_password(&self, c: &Caller, name: &str) -> Decision {
        let user = match self.may_change_user(c, name) {
            Ok(u) => u,
            Err(r) => return Err(r).into(),
        };
        if !c.is_admin() {
            return Err(FORBIDDEN).into();
        }
        if user.service {
            // Service accounts cannot have a password.
            return Err(refuse(422, "password_not_allowed")).into();
        }
        Ok(()).into()
    }

    /// A new password ends every session of the user (made with the old one).
    pub fn set_password(&mut self, name: &str, password: String, now: i64) {
        let user = self.users.get_mut(name).expect("known user");
        user.password = Some(password);
        for t in self
            .tokens
            .iter_mut()
            .filter(|t| t.owner == name && t.kind == Kind::Session)
        {
            if t.revoked_at.is_none() && !t.deleted && now < t.expires_at {
                t.revoked_at = Some(now);
                t.grace_until = None;
            }
        }
    }

    /// A login succeeds for an active person with the right password.
    pub fn login_ok(&self, name: &str, password: &str) -> bool {
        self.users
            .get(name)
            .is_some_and(|u| !u.service && u.active && u.password.as_deref() == Some(password))
    }

    // ----- tokens -----

    /// Minting: for oneself with roles the caller's token carries; for another user (admins,
    /// and managers of a service account) with roles the owner holds and the caller may grant.
    /// Returns the roles the new token gets and its kind.
    pub fn decide_mint(
        &self,
        c: &Caller,
        owner: Option<&str>,
        wanted: Option<&Roles>,
        name: &str,
    ) -> Result<(Roles, Kind), Refusal> {
        let owner = owner.unwrap_or(&c.user);
        let allowed = if owner == c.user {
            c.makes_own_tokens()
        } else {
            c.creates_tokens()
        };
        if !allowed {
            return Err(FORBIDDEN);
        }
        let (grantable, kind) = if owner == c.user {
            let kind = if c.service {
                Kind::Service
            } else {
                Kind::Personal
            };
            (c.roles.clone(), kind)
        } else {
            let Some(o) = self.users.get(owner) else {
                return Err(if c.is_admin() { NOT_FOUND } else { FORBIDDEN });
            };
            if !self.manages_tokens_of(c, owner) {
                return Err(FORBIDDEN);
            }
            if !o.active {
                return Err(refuse(409, "user_inactive"));
            }
            let grantable = if c.is_admin() {
                o.roles.clone()
            } else {
                o.roles.intersection(&c.roles).cloned().collect()
            };
            let kind = if o.service {
                Kind::Service
            } else {
                Kind::Personal
            };
            (grantable, kind)
        };
        let roles = match wanted {
            Some(w) if !w.is_subset(&grantable) => return Err(refuse(403, "role_not_held")),
            Some(w) => w.clone(),
            // `admin` only when asked for by name.
            None => grantable.into_iter().filter(|r| r != ADMIN).collect(),
        };
        if self.token_name_taken(owner, name) {
            return Err(refuse(409, "name_taken"));
        }
        Ok((roles, kind))
    }

    pub fn add_token(&mut self, t: Token) {
        self.tokens.push(t);
    }

    /// A token the caller may act on: not deleted, and its owner's tokens are the caller's to
    /// manage. Others' tokens do not exist for the caller (404).
    fn actionable(&self, c: &Caller, id: &str) -> Result<&Token, Refusal> {
        let t = self.token(id).filter(|t| !t.deleted).ok_or(NOT_FOUND)?;
        if !self.manages_tokens_of(c, &t.owner) {
            return Err(NOT_FOUND);
        }
        Ok(t)
    }

    /// Revoked as its record says (revoked, or voided by its owner's deactivation), at `now`.
    fn shows_revoked(&self, t: &Token, now: i64) -> bool {
        t.revoked_by(now) || self.voided(t)
    }

    /// An edit (description, expiry, enabled) of a token that is not revoked.
    /// `expires_at`: the new expiry asked for, if any; `enable`: the enabled flag asked for.
    pub fn decide_patch(
        &self,
        c: &Caller,
        id: &str,
        expires_at: Option<i64>,
        enable: Option<bool>,
        now: i64,
    ) -> Decision {
        let t = match self.actionable(c, id) {
            Ok(t) => t,
            Err(r) => return Err(r).into(),
        };
        // A grace period is a revocation in waiting: the token can no longer be changed.
        if t.revoked_at.is_some() {
            return Err(refuse(409, "token_revoked")).into();
        }
        let voided = self.shows_revoked(t, now);
        let verdict = (|| {
            if let Some(at) = expires_at {
                // Owners shorten; admins may also extend, within the longest lifetime.
                if at > t.expires_at && !c.is_admin() {
                    return Err(refuse(403, "cannot_extend"));
                }
                if at > t.issued_at + MAX_TTL {
                    return Err(refuse(422, "expiry_too_far"));
                }
            }
            // Only an admin re-enables a token an admin disabled.
            if enable == Some(true) && !t.enabled && t.disabled_by_admin && !c.is_admin() {
                return Err(refuse(403, "disabled_by_admin"));
            }
            Ok(())
        })();
        if voided {
            // The record says `revoked`: the rules refuse the change like any revoked token's.
            return Err(refuse(409, "token_revoked")).into();
        }
        verdict.into()
    }

    pub fn patch(
        &mut self,
        c: &Caller,
        id: &str,
        description: Option<String>,
        expires_at: Option<i64>,
        enable: Option<bool>,
    ) {
        let admin = c.is_admin();
        let t = self.token_mut(id);
        if let Some(d) = description {
            t.description = d;
        }
        if let Some(at) = expires_at {
            t.expires_at = at;
        }
        match enable {
            Some(false) if t.enabled => {
                t.enabled = false;
                t.disabled_by_admin = admin;
            }
            Some(true) => {
                t.enabled = true;
                t.disabled_by_admin = false;
            }
            _ => {}
        }
    }

    pub fn decide_revoke(&self, c: &Caller, id: &str, now: i64) -> Decision {
        let t = match self.actionable(c, id) {
            Ok(t) => t,
            Err(r) => return Err(r).into(),
        };
        if t.revoked_by(now) {
            return Err(refuse(409, "already_revoked")).into();
        }
        if self.voided(t) {
            return Err(refuse(409, "already_revoked")).into();
        }
        Ok(()).into()
    }

    pub fn revoke(&mut self, id: &str, now: i64) {
        let t = self.token_mut(id);
        t.revoked_at = Some(now);
        t.grace_until = None;
    }

    /// Regenerating: a new text for a live, enabled, non-session token of an active owner, by
    /// a caller who creates tokens and may grant every role it carries. The new token ends when
    /// the old one does, unless an admin asks for later. Returns the new token's expiry.
    pub fn decide_regenerate(
        &self,
        c: &Caller,
        id: &str,
        expires_at: Option<i64>,
        now: i64,
    ) -> (Decision, i64) {
        let no = |r: Refusal| (Decision::from(Err(r)), 0);
        if !c.creates_tokens() && !c.makes_own_tokens() {
            return no(FORBIDDEN);
        }
        let t = match self.actionable(c, id) {
            Ok(t) => t,
            Err(r) => return no(r),
        };
        // A voided token is revoked: regenerating it would hand out a working copy.
        if t.revoked_at.is_some() || self.voided(t) {
            return no(refuse(409, "token_revoked"));
        }
        if !t.enabled {
            return no(refuse(409, "token_disabled"));
        }
        if t.kind == Kind::Session {
            return no(refuse(409, "session_token"));
        }
        if !c.creates_tokens() && t.owner != c.user {
            return no(FORBIDDEN);
        }
        let latest = if c.is_admin() {
            now + MAX_TTL
        } else {
            t.expires_at.min(now + MAX_TTL)
        };
        let new_expiry = expires_at.unwrap_or(t.expires_at.min(now + MAX_TTL));
        if new_expiry <= now {
            return no(refuse(422, "expiry_in_past"));
        }
        if new_expiry > latest {
            return no(refuse(422, "expiry_too_far"));
        }
        let owner = self.users.get(&t.owner).expect("a token's owner exists");
        if !owner.active {
            return no(refuse(409, "user_inactive"));
        }
        let grantable: Roles = if c.is_admin() && owner.name != c.user {
            owner.roles.clone()
        } else {
            owner.roles.intersection(&c.roles).cloned().collect()
        };
        if !t.roles.is_subset(&grantable) {
            return no(refuse(403, "role_not_held"));
        }
        (Ok(()).into(), new_expiry)
    }

    /// The old token is revoked now or at the end of `grace`; `new` takes its name and roles.
    pub fn regenerate(&mut self, id: &str, grace_until: Option<i64>, now: i64, new: Token) {
        let t = self.token_mut(id);
        t.revoked_at = Some(now);
        t.grace_until = grace_until;
        self.tokens.push(new);
    }

    pub fn decide_delete(&self, c: &Caller, id: &str) -> Decision {
        self.actionable(c, id).map(|_| ()).into()
    }

    pub fn delete(&mut self, id: &str, now: i64) {
        let t = self.token_mut(id);
        t.deleted = true;
        if t.revoked_at.is_none() || t.grace_until.is_some() {
            t.revoked_at = Some(now);
        }
        t.grace_until = None;
    }

    /// Logout ends the session the call is made with; other kinds of token are refused (409).
    pub fn decide_logout(&self, c: &Caller) -> Decision {
        if c.kind != Kind::Session {
            return Err(refuse(409, "not_a_session")).into();
        }
        Ok(()).into()
    }
}
