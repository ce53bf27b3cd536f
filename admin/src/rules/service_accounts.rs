//! A service account made with its token: `POST /api/v1/tokens` with `create_service_account`
//! creates the named owner first when it does not exist yet, in the same transaction, decided
//! exactly as `POST /api/v1/users` would decide it.

use tollgate_shared::ErrorCode;

use super::Refusal;
use super::users::{NewUser, UserPlan, decide_create};
use crate::auth::Caller;

/// Whether `POST /api/v1/tokens` is to create its owner as a service account if missing
/// (`create_service_account`): only for a named owner other than the caller.
pub fn wants_account(caller: &Caller, owner: Option<&str>, create: bool) -> Result<bool, Refusal> {
    if create && owner.is_none_or(|o| o == caller.user) {
        return Err(Refusal::new(
            ErrorCode::ConflictingFields,
            "create_service_account needs user, naming the service account",
        ));
    }
    Ok(create)
}

/// The service account `POST /api/v1/tokens` creates before minting for `owner`, when asked to
/// and there is no such account yet (`exists` false): decided as `POST /api/v1/users` decides it
/// (token creators and admins; with the token's roles as asked, or `user`; a token creator
/// becomes its manager). `None` when the owner exists: the token is minted as for any owner.
pub fn decide_account_for_token(
    caller: &Caller,
    owner: &str,
    exists: bool,
    roles: Option<&[String]>,
) -> Result<Option<UserPlan>, Refusal> {
    if exists {
        return Ok(None);
    }
    let asked = NewUser {
        name: owner,
        roles,
        service_account: true,
        ..NewUser::default()
    };
    decide_create(caller, &asked).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::fixtures::caller;

    fn v(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn a_token_creates_its_missing_service_account_as_users_are_created() {
        let tc = caller("tc", &["token_creator", "user"]);
        assert_eq!(
            wants_account(&tc, None, true).unwrap_err().code,
            ErrorCode::ConflictingFields
        );
        assert_eq!(
            wants_account(&tc, Some("tc"), true).unwrap_err().code,
            ErrorCode::ConflictingFields
        );
        assert!(wants_account(&tc, Some("svc"), true).unwrap());
        assert!(!wants_account(&tc, None, false).unwrap());
        assert_eq!(decide_account_for_token(&tc, "svc", true, None), Ok(None));
        let plan = decide_account_for_token(&tc, "svc", false, None)
            .unwrap()
            .unwrap();
        assert_eq!(plan.manager.as_deref(), Some("tc"));
        assert_eq!(plan.roles.names(), v(&["user"]));
        let deploy = v(&["deploy"]);
        assert_eq!(
            decide_account_for_token(&tc, "svc", false, Some(&deploy))
                .unwrap_err()
                .code,
            ErrorCode::RoleNotHeld
        );
        let admin = caller("root", &["admin"]);
        let plan = decide_account_for_token(&admin, "svc", false, Some(&deploy))
            .unwrap()
            .unwrap();
        assert_eq!((plan.manager, plan.roles.names()), (None, deploy));
    }
}
