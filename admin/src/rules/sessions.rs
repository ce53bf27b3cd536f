//! Exchanging a personal or service token for a short-lived session.

use tollgate_shared::{ErrorCode, Kind};

use super::Refusal;
use super::tokens::Mint;
use crate::auth::Caller;
use crate::times::UnixTime;

/// The name every exchanged session carries.
pub const EXCHANGED_SESSION: &str = "exchanged session";

/// Decides `POST /api/v1/sessions`: a session for the presenting token's owner, with the token's
/// roles (never more), ending `session_ttl` seconds from `now` or when the token ends, whichever
/// comes first. A session cannot be exchanged (it would stretch itself).
pub fn exchange(caller: &Caller, session_ttl: u64, now: UnixTime) -> Result<Mint, Refusal> {
    if caller.kind == Kind::Session {
        return Err(Refusal::new(
            ErrorCode::SessionToken,
            "a session cannot be exchanged; present a personal or service token",
        ));
    }
    Ok(Mint {
        owner: caller.user.clone(),
        kind: Kind::Session,
        roles: caller.roles.clone(),
        name: EXCHANGED_SESSION.into(),
        description: String::new(),
        expires_at: now.plus(session_ttl).min(caller.expires_at),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::fixtures::{NOW, caller};

    #[test]
    fn a_session_ends_with_its_token_and_carries_its_roles() {
        let token = caller("alice", &["user"]);
        let plan = exchange(&token, 3600, NOW).unwrap();
        assert_eq!(plan.kind, Kind::Session);
        assert_eq!(plan.roles, token.roles);
        assert_eq!(plan.expires_at, NOW.plus(3600));
        let plan = exchange(&token, 10 * 86_400, NOW).unwrap();
        assert_eq!(plan.expires_at, token.expires_at);
    }

    #[test]
    fn a_session_cannot_be_exchanged() {
        let mut session = caller("alice", &["user"]);
        session.kind = Kind::Session;
        let refused = exchange(&session, 3600, NOW).unwrap_err();
        assert_eq!(refused.code, ErrorCode::SessionToken);
    }
}
