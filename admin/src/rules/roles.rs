//! Roles: the [`Role`] and [`Roles`] types, the built-in roles and the rules for role sets.

use std::borrow::Borrow;
use std::collections::{BTreeMap, BTreeSet};

use tollgate_shared::ErrorCode;
use tollgate_shared::valid_role;

use super::Refusal;
use crate::times::UnixTime;

/// May do everything.
pub const ADMIN: &str = "admin";
/// May create personal tokens (and service accounts with roles it holds).
pub const TOKEN_CREATOR: &str = "token_creator";
/// The default role of a new user.
pub const USER: &str = "user";

/// Most roles a user may hold: as many as one token carries, so a login session always carries
/// every role of its user (none is ever dropped).
pub const MAX_USER_ROLES: usize = tollgate_shared::token::MAX_ROLES;

/// A role name, checked: 1-64 of `A-Z a-z 0-9 . _ : / -` (what a token can carry). Every way
/// to build one goes through [`Role::new`], so an invalid role cannot exist.
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(try_from = "String", into = "String")]
pub struct Role(String);

impl Role {
    /// The role `name`, or `invalid_role` if it is not one.
    pub fn new(name: &str) -> Result<Role, Refusal> {
        if valid_role(name) {
            Ok(Role(name.to_owned()))
        } else {
            let shown: String = name.chars().take(64).collect();
            Err(Refusal::new(
                ErrorCode::InvalidRole,
                format!("invalid role {shown:?}: use 1-64 of A-Z a-z 0-9 . _ : / -"),
            ))
        }
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Role {
    type Error = Refusal;

    fn try_from(name: String) -> Result<Role, Refusal> {
        if valid_role(&name) {
            Ok(Role(name))
        } else {
            Role::new(&name)
        }
    }
}

impl From<Role> for String {
    fn from(role: Role) -> String {
        role.0
    }
}

impl AsRef<str> for Role {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

// Sound: `Role` compares exactly as its `String`, so lookups by `&str` find the same entries.
impl Borrow<str> for Role {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl PartialEq<str> for Role {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A set of roles, ascending and without repeats. On the wire it is a JSON array of names; in
/// the store, [`Roles::to_stored`]'s comma-separated text.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct Roles(BTreeSet<Role>);

impl Roles {
    /// Checks each name's spelling and that there are at most `max` distinct ones.
    pub fn parse<S: AsRef<str>>(names: &[S], max: usize) -> Result<Roles, Refusal> {
        let roles = names
            .iter()
            .map(|n| Role::new(n.as_ref()))
            .collect::<Result<Roles, Refusal>>()?;
        if roles.len() > max {
            return Err(Refusal::new(
                ErrorCode::TooManyRoles,
                format!("at most {max} roles"),
            ));
        }
        Ok(roles)
    }

    /// The stored form: the names, ascending, joined by commas (`""` for none).
    pub fn to_stored(&self) -> String {
        self.names().join(",")
    }

    /// Reads the stored form; a name that is not a role refuses the whole text.
    pub fn from_stored(text: &str) -> Result<Roles, Refusal> {
        text.split(',')
            .filter(|r| !r.is_empty())
            .map(Role::new)
            .collect()
    }

    /// True if `role` is in the set.
    pub fn contains(&self, role: &str) -> bool {
        self.0.contains(role)
    }

    /// The roles, ascending.
    pub fn iter(&self) -> impl Iterator<Item = &Role> {
        self.0.iter()
    }

    /// How many roles.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True if there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// True if every role here is also in `other`.
    pub fn is_subset(&self, other: &Roles) -> bool {
        self.0.is_subset(&other.0)
    }

    /// The first role (ascending) missing from `held`.
    pub fn first_missing(&self, held: &Roles) -> Option<&Role> {
        self.0.iter().find(|r| !held.0.contains(*r))
    }

    /// The roles in both sets.
    pub fn intersection(&self, other: &Roles) -> Roles {
        Roles(self.0.intersection(&other.0).cloned().collect())
    }

    /// The roles here but not in `other`.
    pub fn difference(&self, other: &Roles) -> Roles {
        Roles(self.0.difference(&other.0).cloned().collect())
    }

    /// The roles in either set.
    pub fn union(&self, other: &Roles) -> Roles {
        Roles(self.0.union(&other.0).cloned().collect())
    }

    /// The set without `role`.
    pub fn without(&self, role: &str) -> Roles {
        Roles(
            self.0
                .iter()
                .filter(|r| r.as_str() != role)
                .cloned()
                .collect(),
        )
    }

    /// The names, ascending (the JSON and token form).
    pub fn names(&self) -> Vec<String> {
        self.0.iter().map(|r| r.0.clone()).collect()
    }
}

impl FromIterator<Role> for Roles {
    fn from_iter<I: IntoIterator<Item = Role>>(iter: I) -> Self {
        Roles(iter.into_iter().collect())
    }
}

impl<'a> IntoIterator for &'a Roles {
    type Item = &'a Role;
    type IntoIter = std::collections::btree_set::Iter<'a, Role>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl TryFrom<String> for Roles {
    type Error = Refusal;

    fn try_from(stored: String) -> Result<Roles, Refusal> {
        Roles::from_stored(&stored)
    }
}

/// Refuses roles a login session of `user` could not carry whole (too many, or too long together):
/// a session never drops a role silently.
pub fn check_fits(user: &str, roles: &Roles) -> Result<(), Refusal> {
    let names: Vec<&Role> = roles.iter().collect();
    if tollgate_shared::token::fits_in_a_token(user, &names) {
        Ok(())
    } else {
        Err(Refusal::new(
            ErrorCode::TooManyRoles,
            format!(
                "a user's roles must fit in one token (at most {MAX_USER_ROLES}, and shorter names for more of them)"
            ),
        ))
    }
}

/// Per-role cut-offs of a subject's rule: tokens issued before the instant lose the role. Stored
/// as `role=before,...`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoleCuts(BTreeMap<Role, UnixTime>);

impl RoleCuts {
    /// Moves `role`'s cut-off to `before` unless it is already later.
    pub fn cut(&mut self, role: Role, before: UnixTime) {
        let at = self.0.entry(role).or_insert(before);
        *at = (*at).max(before);
    }

    /// The cut-offs, by role.
    pub fn iter(&self) -> impl Iterator<Item = (&Role, UnixTime)> {
        self.0.iter().map(|(r, t)| (r, *t))
    }

    /// True if a token issued at `issued_at` loses a role.
    pub fn affects(&self, issued_at: UnixTime) -> bool {
        self.0.values().any(|before| issued_at < *before)
    }

    /// The stored form, `role=before,...` in role order.
    pub fn to_stored(&self) -> String {
        self.0
            .iter()
            .map(|(r, t)| format!("{r}={}", t.as_secs()))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// Reads the stored form; a pair that is not `role=seconds` refuses the whole text.
    pub fn from_stored(text: &str) -> Result<RoleCuts, Refusal> {
        let bad = || Refusal::new(ErrorCode::InvalidRole, "not a role cut-off");
        text.split(',')
            .filter(|pair| !pair.is_empty())
            .map(|pair| {
                let (role, before) = pair.split_once('=').ok_or_else(bad)?;
                let before = before.parse().map_err(|_| bad())?;
                Ok((Role::new(role)?, UnixTime::from_secs(before)))
            })
            .collect::<Result<BTreeMap<_, _>, Refusal>>()
            .map(RoleCuts)
    }
}

impl TryFrom<String> for RoleCuts {
    type Error = Refusal;

    fn try_from(stored: String) -> Result<RoleCuts, Refusal> {
        RoleCuts::from_stored(&stored)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    fn set(items: &[&str]) -> Roles {
        Roles::parse(items, 16).unwrap()
    }

    #[test]
    fn a_role_cannot_be_built_from_an_invalid_name() {
        assert_eq!(Role::new("pool:ml-team").unwrap().as_str(), "pool:ml-team");
        for bad in ["", "a b", "a,b", "a=b", "é", &"r".repeat(65)] {
            assert_eq!(
                Role::new(bad).unwrap_err().code,
                ErrorCode::InvalidRole,
                "{bad:?}"
            );
            assert!(Role::try_from(bad.to_owned()).is_err());
            assert!(serde_json::from_value::<Role>(serde_json::json!(bad)).is_err());
        }
    }

    #[test]
    fn parses_sorted_and_deduplicated_and_refuses_bad_roles() {
        assert_eq!(
            set(&["user", "pool:ml-team", "user"]).names(),
            v(&["pool:ml-team", "user"])
        );
        assert_eq!(Roles::parse(&["a b"], 16).unwrap_err().code, "invalid_role");
        assert_eq!(Roles::parse(&[""], 16).unwrap_err().code, "invalid_role");
        let many: Vec<String> = (0..17).map(|i| format!("r{i}")).collect();
        assert_eq!(Roles::parse(&many, 16).unwrap_err().code, "too_many_roles");
    }

    #[test]
    fn the_stored_form_round_trips_sorted_and_deduplicated() {
        let roles = Roles::from_stored("user,admin,user").unwrap();
        assert_eq!(roles.to_stored(), "admin,user");
        assert_eq!(Roles::from_stored(&roles.to_stored()), Ok(roles.clone()));
        assert!(Roles::from_stored("").unwrap().is_empty());
        assert!(Roles::from_stored("admin,a b").is_err());
        assert_eq!(
            serde_json::to_value(&roles).unwrap(),
            serde_json::json!(["admin", "user"])
        );
        let read: Roles = serde_json::from_value(serde_json::json!(["user", "admin"])).unwrap();
        assert_eq!(read, roles);
    }

    #[test]
    fn set_operations() {
        let (ab, b, bc) = (set(&["a", "b"]), set(&["b"]), set(&["c", "b"]));
        assert_eq!(ab.first_missing(&b).map(Role::as_str), Some("a"));
        assert_eq!(b.first_missing(&ab), None);
        assert!(b.is_subset(&ab) && !ab.is_subset(&b));
        assert_eq!(ab.intersection(&bc), b);
        assert_eq!(ab.difference(&b), set(&["a"]));
        assert_eq!(ab.union(&bc), set(&["a", "b", "c"]));
        assert_eq!(ab.without("a"), b);
        assert!(ab.contains("a") && !ab.contains("c"));
    }

    #[test]
    fn role_cuts_round_trip_and_only_move_later() {
        let mut cuts = RoleCuts::default();
        let at = UnixTime::from_secs;
        cuts.cut(Role::new("ml").unwrap(), at(20));
        cuts.cut(Role::new("ml").unwrap(), at(10));
        cuts.cut(Role::new("db").unwrap(), at(5));
        assert_eq!(cuts.to_stored(), "db=5,ml=20");
        assert_eq!(RoleCuts::from_stored(&cuts.to_stored()), Ok(cuts.clone()));
        assert!(cuts.affects(at(19)) && !cuts.affects(at(20)));
        assert_eq!(RoleCuts::from_stored(""), Ok(RoleCuts::default()));
        assert!(RoleCuts::from_stored("ml").is_err());
        assert!(RoleCuts::from_stored("a b=1").is_err());
    }
}
