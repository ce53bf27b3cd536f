//! Roles: the built-in ones and the rules for role lists.

use tollgate_shared::ErrorCode;
use tollgate_shared::valid_role;

use super::Refusal;

/// May do everything.
pub const ADMIN: &str = "admin";
/// May create personal tokens (and service accounts with roles it holds).
pub const TOKEN_CREATOR: &str = "token_creator";
/// The default role of a new user.
pub const USER: &str = "user";

/// Most roles a user may hold: as many as one token carries, so a login session always carries
/// every role of its user (none is ever dropped).
pub const MAX_USER_ROLES: usize = tollgate_shared::token::MAX_ROLES;

/// Refuses roles a login session of `user` could not carry whole (too many, or too long together):
/// a session never drops a role silently.
pub fn check_fits(user: &str, roles: &[String]) -> Result<(), Refusal> {
    if tollgate_shared::token::fits_in_a_token(user, roles) {
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

/// Checks each role's spelling and returns the roles sorted and de-duplicated.
pub fn normalize(roles: &[String], max: usize) -> Result<Vec<String>, Refusal> {
    if let Some(bad) = roles.iter().find(|r| !valid_role(r)) {
        let shown: String = bad.chars().take(64).collect();
        return Err(Refusal::new(
            ErrorCode::InvalidRole,
            format!("invalid role {shown:?}: use 1-64 of A-Z a-z 0-9 . _ : / -"),
        ));
    }
    let mut out = roles.to_vec();
    out.sort();
    out.dedup();
    if out.len() > max {
        return Err(Refusal::new(
            ErrorCode::TooManyRoles,
            format!("at most {max} roles"),
        ));
    }
    Ok(out)
}

/// The first role of `wanted` missing from `held`.
pub fn first_missing<'a>(wanted: &'a [String], held: &[String]) -> Option<&'a str> {
    wanted
        .iter()
        .find(|r| !held.contains(r))
        .map(String::as_str)
}

/// The roles in both lists, ascending.
pub fn intersect(a: &[String], b: &[String]) -> Vec<String> {
    let mut out: Vec<String> = a.iter().filter(|r| b.contains(r)).cloned().collect();
    out.sort();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn normalizes_and_refuses_bad_roles() {
        assert_eq!(
            normalize(&v(&["user", "pool:ml-team", "user"]), 16).unwrap(),
            v(&["pool:ml-team", "user"])
        );
        assert_eq!(
            normalize(&v(&["a b"]), 16).unwrap_err().code,
            "invalid_role"
        );
        assert_eq!(normalize(&v(&[""]), 16).unwrap_err().code, "invalid_role");
        let many: Vec<String> = (0..17).map(|i| format!("r{i}")).collect();
        assert_eq!(normalize(&many, 16).unwrap_err().code, "too_many_roles");
    }

    #[test]
    fn subset_helpers() {
        assert_eq!(first_missing(&v(&["a", "b"]), &v(&["a"])), Some("b"));
        assert_eq!(first_missing(&v(&["a"]), &v(&["a", "b"])), None);
        assert_eq!(
            intersect(&v(&["c", "a", "b"]), &v(&["b", "c"])),
            v(&["b", "c"])
        );
    }
}
