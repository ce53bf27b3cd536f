//! User decisions: who may create and change which users and service accounts, and what a
//! manager's deactivation or role loss does to the service accounts it manages.
//!
//! Admins manage everyone. A token creator may create service accounts holding only roles it
//! holds itself; it then manages them (roles it holds, active flag) and their tokens. Only an
//! admin undoes an admin's deactivation.

use tollgate_shared::ErrorCode;

use super::roles::{self, ADMIN, MAX_USER_ROLES, Roles, USER};
use super::{Refusal, text};
use crate::auth::Caller;
use crate::store::users::UserRow;
use crate::times::UnixTime;

/// True if `caller` may see `user`: admins everyone, others themselves and the accounts they
/// manage.
pub fn may_see(caller: &Caller, user: &UserRow) -> bool {
    caller.is_admin()
        || user.name == caller.user
        || user.manager.as_deref() == Some(caller.user.as_str())
}

/// `POST /api/v1/users` as asked.
#[derive(Debug, Clone, Copy, Default)]
pub struct NewUser<'a> {
    pub name: &'a str,
    pub password: Option<&'a str>,
    /// `None`: `["user"]`.
    pub roles: Option<&'a [String]>,
    pub service_account: bool,
    pub active: Option<bool>,
}

/// A new user's record, but for its password hash and times.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserPlan {
    pub roles: Roles,
    pub manager: Option<String>,
    pub active: bool,
}

/// Decides a create request: admins create anyone; token creators create service accounts with
/// roles they hold, and become their manager.
pub fn decide_create(caller: &Caller, req: &NewUser<'_>) -> Result<UserPlan, Refusal> {
    text::check_user_name(req.name)?;
    let roles = match req.roles {
        Some(names) => Roles::parse(names, MAX_USER_ROLES)?,
        None => Roles::parse(&[USER], MAX_USER_ROLES)?,
    };
    roles::check_fits(req.name, &roles)?;
    match (req.password, req.service_account) {
        (Some(_), true) => return Err(password_not_allowed()),
        (None, false) => {
            return Err(Refusal::new(
                ErrorCode::PasswordRequired,
                "a user needs a password",
            ));
        }
        (Some(p), false) => text::check_password(p)?,
        (None, true) => {}
    }
    let manager = if caller.is_admin() {
        None
    } else {
        if !req.service_account || !caller.can_create_tokens() {
            return Err(Refusal::forbidden(
                "only admins create users; token creators may create service accounts",
            ));
        }
        not_held(&roles, caller)?;
        Some(caller.user.clone())
    };
    Ok(UserPlan {
        roles,
        manager,
        active: req.active.unwrap_or(true),
    })
}

fn password_not_allowed() -> Refusal {
    Refusal::new(
        ErrorCode::PasswordNotAllowed,
        "service accounts cannot have a password",
    )
}

fn not_held(roles: &Roles, caller: &Caller) -> Result<(), Refusal> {
    match roles.first_missing(&caller.roles) {
        Some(missing) => Err(Refusal::new(
            ErrorCode::RoleNotHeld,
            format!("you do not hold role {missing:?}"),
        )),
        None => Ok(()),
    }
}

/// `PATCH /api/v1/users/{name}` as asked.
#[derive(Debug, Clone, Copy, Default)]
pub struct UserEdit<'a> {
    /// The whole new role set.
    pub roles: Option<&'a [String]>,
    pub add_roles: Option<&'a [String]>,
    pub remove_roles: Option<&'a [String]>,
    pub active: Option<bool>,
    pub service_account: Option<bool>,
    pub password: Option<&'a str>,
    /// A service account's new manager (admins only).
    pub manager: Option<&'a str>,
}

/// An edit checked on its own, roles normalized.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedEdit {
    pub set: Option<Roles>,
    pub add: Option<Roles>,
    pub remove: Option<Roles>,
    pub active: Option<bool>,
    pub service_account: Option<bool>,
    pub password: bool,
    pub manager: Option<String>,
}

/// Checks what needs no state: something to change, no conflicting fields, role spelling,
/// password length, and no password for a service account.
pub fn check_edit(edit: &UserEdit<'_>) -> Result<CheckedEdit, Refusal> {
    let role_edit = edit.roles.is_some() || edit.add_roles.is_some() || edit.remove_roles.is_some();
    if !role_edit
        && edit.active.is_none()
        && edit.service_account.is_none()
        && edit.password.is_none()
        && edit.manager.is_none()
    {
        return Err(Refusal::new(
            ErrorCode::NothingToChange,
            "give roles, add_roles, remove_roles, active, service_account, password or manager",
        ));
    }
    if edit.roles.is_some() && (edit.add_roles.is_some() || edit.remove_roles.is_some()) {
        return Err(Refusal::new(
            ErrorCode::ConflictingFields,
            "give roles, or add_roles/remove_roles, not both",
        ));
    }
    let norm = |r: Option<&[String]>| r.map(|r| Roles::parse(r, MAX_USER_ROLES)).transpose();
    let checked = CheckedEdit {
        set: norm(edit.roles)?,
        add: norm(edit.add_roles)?,
        remove: norm(edit.remove_roles)?,
        active: edit.active,
        service_account: edit.service_account,
        password: edit.password.is_some(),
        manager: edit.manager.map(str::to_owned),
    };
    if let Some(m) = edit.manager {
        text::check_user_name(m)?;
    }
    if let Some(p) = edit.password {
        text::check_password(p)?;
    }
    if edit.service_account == Some(true) && edit.password.is_some() {
        return Err(password_not_allowed());
    }
    Ok(checked)
}

/// A user after an accepted edit, and what it changed.
#[derive(Debug, Clone)]
pub struct UserChange {
    pub user: UserRow,
    pub added: Roles,
    pub removed: Roles,
    /// Deactivated by this change: its tokens so far are void.
    pub deactivated: bool,
    pub password_changed: bool,
    /// Other changes, in words, for the audit log.
    pub details: Vec<String>,
}

/// Decides an edit of `user` (loaded, and visible to `caller`; `manager` is its manager's record
/// if it has one). `password_hash` is the new password's hash, computed only for admins;
/// `other_active_admins` counts the active admins but `user`.
pub fn decide_edit(
    caller: &Caller,
    user: &UserRow,
    manager: Option<&UserRow>,
    edit: &CheckedEdit,
    password_hash: Option<String>,
    other_active_admins: u64,
    now: UnixTime,
) -> Result<UserChange, Refusal> {
    let manages = user.manager.as_deref() == Some(caller.user.as_str()) && user.service_account;
    if !caller.is_admin() {
        if !manages {
            return Err(Refusal::forbidden("only admins change users"));
        }
        if edit.password || edit.service_account.is_some() || edit.manager.is_some() {
            return Err(Refusal::forbidden(
                "only admins change passwords, account types and managers",
            ));
        }
    }
    let stays_service_account = user.service_account && edit.service_account != Some(false);
    if edit.password && stays_service_account {
        return Err(password_not_allowed());
    }
    let new_roles = new_role_set(&user.roles, edit);
    roles::check_fits(&user.name, &new_roles)?;
    let added = new_roles.difference(&user.roles);
    let removed = user.roles.difference(&new_roles);
    if !caller.is_admin() {
        not_held(&added, caller)?;
    }
    // A service account never holds a role its manager does not hold, whoever grants it.
    if let Some(manager) = manager.filter(|_| stays_service_account) {
        if let Some(missing) = added.first_missing(&manager.roles) {
            return Err(Refusal::new(
                ErrorCode::RoleNotHeld,
                format!(
                    "its manager {:?} does not hold role {missing:?}",
                    manager.name
                ),
            ));
        }
    }
    let deactivated = user.active && edit.active == Some(false);
    let loses_admin = user.roles.contains(ADMIN) && (removed.contains(ADMIN) || deactivated);
    if loses_admin && other_active_admins == 0 {
        return Err(Refusal::new(
            ErrorCode::LastAdmin,
            "this would leave no active admin",
        ));
    }
    let mut user = user.clone();
    let mut details = Vec::new();
    match edit.service_account {
        Some(true) if !user.service_account => {
            user.service_account = true;
            user.password_hash = None;
            details.push("now a service account".to_owned());
        }
        Some(false) if user.service_account => {
            if password_hash.is_none() {
                return Err(Refusal::new(
                    ErrorCode::PasswordRequired,
                    "a user who is not a service account needs a password",
                ));
            }
            user.service_account = false;
            // A person answers for themselves: no one else manages their tokens.
            user.manager = None;
            details.push("no longer a service account".to_owned());
        }
        _ => {}
    }
    let password_changed = password_hash.is_some();
    if let Some(h) = password_hash {
        user.password_hash = Some(h);
        details.push("password changed".to_owned());
    }
    if let Some(active) = edit.active {
        if active && !user.active && user.deactivated_by_admin && !caller.is_admin() {
            return Err(Refusal::new(
                ErrorCode::DeactivatedByAdmin,
                "an admin deactivated this account; only an admin may activate it",
            ));
        }
        if active != user.active {
            details.push(if active { "activated" } else { "deactivated" }.to_owned());
        }
        if deactivated {
            user.void_before = now.plus(1);
            user.deactivated_by_admin = caller.is_admin();
        }
        if active {
            user.deactivated_by_admin = false;
        }
        user.active = active;
    }
    user.roles = new_roles;
    user.updated_at = now;
    Ok(UserChange {
        user,
        added,
        removed,
        deactivated,
        password_changed,
        details,
    })
}

fn new_role_set(old: &Roles, edit: &CheckedEdit) -> Roles {
    if let Some(set) = &edit.set {
        return set.clone();
    }
    let added = edit
        .add
        .as_ref()
        .map_or_else(|| old.clone(), |add| old.union(add));
    match &edit.remove {
        Some(remove) => added.difference(remove),
        None => added,
    }
}

/// What a manager lost, to pass on to the service accounts it manages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Loss {
    /// The manager was deactivated.
    pub deactivated: bool,
    /// By an admin (then only an admin re-activates the accounts it reaches).
    pub by_admin: bool,
    /// Roles the manager lost.
    pub roles: Roles,
}

/// What a manager's `loss` does to one `account` it manages: the account never keeps a role its
/// manager lost, nor stays active once its manager is deactivated. `None` if it changes nothing;
/// otherwise the account as changed and the loss to pass on to the accounts it manages.
pub fn pass_on(account: &UserRow, loss: &Loss, now: UnixTime) -> Option<(UserRow, Loss)> {
    let dropped = account.roles.intersection(&loss.roles);
    let deactivate = loss.deactivated && account.active;
    if dropped.is_empty() && !deactivate {
        return None;
    }
    let mut account = account.clone();
    account.roles = account.roles.difference(&dropped);
    if deactivate {
        account.active = false;
        account.void_before = now.plus(1);
        account.deactivated_by_admin = loss.by_admin;
    }
    account.updated_at = now;
    let next = Loss {
        deactivated: deactivate,
        by_admin: loss.by_admin,
        roles: dropped,
    };
    Some((account, next))
}

/// Decides `DELETE /api/v1/users/{name}` of `user` (loaded, and visible to `caller`);
/// `manages` counts the live service accounts `user` manages, `other_active_admins` the active
/// admins but `user`. Returns the account's last state: inactive, without password, every token
/// issued so far void.
///
/// Admins delete any account but their own and the last active admin. A token creator deletes
/// the service accounts it manages, unless an admin deactivated one (that account is the admin's
/// to decide on). Nobody deletes an account that still manages service accounts: they would be
/// left without a manager, so they are handed on or deleted first.
pub fn decide_delete(
    caller: &Caller,
    user: &UserRow,
    manages: u64,
    other_active_admins: u64,
    now: UnixTime,
) -> Result<UserRow, Refusal> {
    if user.name == caller.user {
        return Err(Refusal::forbidden("you cannot delete your own account"));
    }
    if !caller.is_admin() {
        let manages_it = user.service_account && user.manager.as_deref() == Some(&caller.user);
        if !manages_it || !caller.can_create_tokens() {
            return Err(Refusal::forbidden(
                "only admins delete users; token creators may delete the service accounts they manage",
            ));
        }
        if !user.active && user.deactivated_by_admin {
            return Err(Refusal::new(
                ErrorCode::DeactivatedByAdmin,
                "an admin deactivated this account; only an admin may delete it",
            ));
        }
    }
    if manages > 0 {
        return Err(Refusal::new(
            ErrorCode::ManagesServiceAccounts,
            format!(
                "{:?} manages {manages} service account(s): give them another manager or delete them first",
                user.name
            ),
        ));
    }
    if user.active && user.roles.contains(ADMIN) && other_active_admins == 0 {
        return Err(Refusal::new(
            ErrorCode::LastAdmin,
            "this would leave no active admin",
        ));
    }
    let mut gone = user.clone();
    gone.active = false;
    gone.password_hash = None;
    gone.void_before = gone.void_before.max(now.plus(1));
    gone.deactivated_by_admin = caller.is_admin();
    gone.updated_at = now;
    Ok(gone)
}

/// Decides handing the service account in `change` (an edit accepted so far, with its new roles)
/// to `manager` (the record named `name`, if there is one): admins only; the new manager is an
/// active person holding every role the account holds, since a service account never holds a
/// role its manager lacks.
pub fn decide_manager(
    caller: &Caller,
    change: &mut UserChange,
    name: &str,
    manager: Option<&UserRow>,
) -> Result<(), Refusal> {
    if !caller.is_admin() {
        return Err(Refusal::forbidden("only admins change managers"));
    }
    if !change.user.service_account {
        return Err(Refusal::new(
            ErrorCode::ConflictingFields,
            "only a service account has a manager",
        ));
    }
    let manager = manager
        .filter(|m| m.active && !m.service_account)
        .ok_or_else(|| {
            Refusal::new(
                ErrorCode::InvalidUser,
                format!("a manager is an active person; {name:?} is not"),
            )
        })?;
    if let Some(missing) = change.user.roles.first_missing(&manager.roles) {
        return Err(Refusal::new(
            ErrorCode::RoleNotHeld,
            format!("{name:?} does not hold role {missing:?}, which the account holds"),
        ));
    }
    if change.user.manager.as_deref() != Some(name) {
        let old = change.user.manager.as_deref().unwrap_or("admins");
        change.details.push(format!("manager {old} -> {name}"));
        change.user.manager = Some(manager.name.clone());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::fixtures::{NOW, caller, user};

    fn v(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    fn active(on: bool) -> CheckedEdit {
        check_edit(&UserEdit {
            active: Some(on),
            ..UserEdit::default()
        })
        .unwrap()
    }

    fn service_account(roles: &[String]) -> NewUser<'_> {
        NewUser {
            name: "svc",
            roles: Some(roles),
            service_account: true,
            ..NewUser::default()
        }
    }

    #[test]
    fn token_creators_create_service_accounts_with_roles_they_hold() {
        let tc = caller("tc", &["token_creator", "user"]);
        let (user_role, admin_role) = (v(&["user"]), v(&["admin"]));
        let plan = decide_create(&tc, &service_account(&user_role)).unwrap();
        assert_eq!(plan.manager.as_deref(), Some("tc"));
        assert_eq!(
            decide_create(&tc, &service_account(&admin_role))
                .unwrap_err()
                .code,
            ErrorCode::RoleNotHeld
        );
        let person = NewUser {
            password: Some("long enough"),
            service_account: false,
            ..service_account(&user_role)
        };
        assert_eq!(
            decide_create(&tc, &person).unwrap_err().code,
            ErrorCode::Forbidden
        );
    }

    #[test]
    fn only_an_admin_reactivates_what_an_admin_deactivated() {
        let admin = caller("root", &["admin"]);
        let tc = caller("tc", &["token_creator", "user"]);
        let svc = user("svc", &["user"], Some("tc"));
        let off = decide_edit(&admin, &svc, None, &active(false), None, 1, NOW).unwrap();
        assert!(off.deactivated && off.user.deactivated_by_admin);
        assert_eq!(
            decide_edit(&tc, &off.user, None, &active(true), None, 1, NOW)
                .unwrap_err()
                .code,
            ErrorCode::DeactivatedByAdmin
        );
        assert!(decide_edit(&admin, &off.user, None, &active(true), None, 1, NOW).is_ok());
        let by_manager = decide_edit(&tc, &svc, None, &active(false), None, 1, NOW).unwrap();
        assert!(decide_edit(&tc, &by_manager.user, None, &active(true), None, 1, NOW).is_ok());
    }

    #[test]
    fn a_service_account_gets_no_password_and_no_role_its_manager_lacks() {
        let admin = caller("root", &["admin"]);
        let tc = user("tc", &["token_creator", "user"], None);
        let svc = user("svc", &["user"], Some("tc"));
        let password = check_edit(&UserEdit {
            password: Some("long enough"),
            ..UserEdit::default()
        })
        .unwrap();
        assert_eq!(
            decide_edit(&admin, &svc, Some(&tc), &password, Some("h".into()), 1, NOW)
                .unwrap_err()
                .code,
            ErrorCode::PasswordNotAllowed
        );
        let deploy = v(&["deploy"]);
        let grant = check_edit(&UserEdit {
            add_roles: Some(&deploy),
            ..UserEdit::default()
        })
        .unwrap();
        assert_eq!(
            decide_edit(&admin, &svc, Some(&tc), &grant, None, 1, NOW)
                .unwrap_err()
                .code,
            ErrorCode::RoleNotHeld
        );
        let token_creator = v(&["token_creator"]);
        let grant = check_edit(&UserEdit {
            add_roles: Some(&token_creator),
            ..UserEdit::default()
        })
        .unwrap();
        assert!(decide_edit(&admin, &svc, Some(&tc), &grant, None, 1, NOW).is_ok());
    }

    #[test]
    fn the_last_admin_stays() {
        let admin = caller("root", &["admin"]);
        let root = user("root", &["admin"], None);
        assert_eq!(
            decide_edit(&admin, &root, None, &active(false), None, 0, NOW)
                .unwrap_err()
                .code,
            ErrorCode::LastAdmin
        );
        assert!(decide_edit(&admin, &root, None, &active(false), None, 1, NOW).is_ok());
    }

    #[test]
    fn a_managers_loss_reaches_its_accounts() {
        let svc = user("svc", &["deploy", "user"], Some("tc"));
        let loss = Loss {
            deactivated: false,
            by_admin: true,
            roles: Roles::parse(&["deploy"], 16).unwrap(),
        };
        let (svc2, passed) = pass_on(&svc, &loss, NOW).unwrap();
        assert_eq!(svc2.roles.names(), v(&["user"]));
        assert!(svc2.active);
        assert_eq!(passed.roles.names(), v(&["deploy"]));
        assert!(pass_on(&svc2, &loss, NOW).is_none(), "nothing left to lose");
        let gone = Loss {
            deactivated: true,
            by_admin: true,
            roles: Roles::default(),
        };
        let (off, passed) = pass_on(&svc, &gone, NOW).unwrap();
        assert!(!off.active && off.deactivated_by_admin && off.void_before == NOW.plus(1));
        assert!(passed.deactivated);
    }
}

#[cfg(test)]
#[path = "users_tests.rs"]
mod deletion_tests;
