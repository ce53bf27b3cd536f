//! The rules token requests share: names, descriptions, expiries, ids, who may manage whose
//! tokens and grant which roles, and minting.

use tollgate_shared::{Claims, Kind, MintError, TokenId};

use crate::auth::Caller;
use crate::errors::ApiError;
use crate::roles;
use crate::state::AppState;
use crate::store::tokens::TokenRow;
use crate::store::users::UserRow;
use crate::store::{StoreError, join_roles};
use crate::times::parse_time;

/// Longest token name, in characters.
pub const MAX_NAME_CHARS: usize = 64;
/// Longest token description, in characters.
pub const MAX_DESCRIPTION_CHARS: usize = 256;

/// Checks a token name: 1-64 characters, no control, bidirectional or invisible formatting
/// characters (they make two names look alike, or text read in another order), no surrounding
/// spaces.
pub fn check_name(name: &str) -> Result<String, ApiError> {
    let n = name.chars().count();
    if n == 0
        || n > MAX_NAME_CHARS
        || name.trim() != name
        || name
            .chars()
            .any(|c| c.is_control() || is_invisible_format(c))
    {
        return Err(ApiError::invalid(
            "invalid_name",
            format!(
                "a token name is 1-{MAX_NAME_CHARS} characters, without control, bidirectional or invisible characters or surrounding spaces"
            ),
        ));
    }
    Ok(name.to_owned())
}

/// Unicode format characters that change how text reads without showing: bidirectional
/// controls and isolates, zero-width characters, the soft hyphen, the BOM.
pub fn is_invisible_format(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{034F}'
            | '\u{061C}'
            | '\u{115F}'
            | '\u{1160}'
            | '\u{17B4}'
            | '\u{17B5}'
            | '\u{180B}'..='\u{180E}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{206F}'
            | '\u{3164}'
            | '\u{FE00}'..='\u{FE0F}'
            | '\u{FEFF}'
            | '\u{FFA0}'
            | '\u{FFF0}'..='\u{FFFB}'
            | '\u{E0000}'..='\u{E007F}'
    )
}

/// Checks a description: at most 256 characters, no control characters but newlines and tabs.
pub fn check_description(text: &str) -> Result<String, ApiError> {
    if text.chars().count() > MAX_DESCRIPTION_CHARS
        || text.chars().any(|c| {
            (c.is_control() && c != '\n' && c != '\t')
                || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
        })
    {
        return Err(ApiError::invalid(
            "invalid_description",
            format!(
                "a description is at most {MAX_DESCRIPTION_CHARS} characters, without control characters"
            ),
        ));
    }
    Ok(text.to_owned())
}

/// Resolves a requested expiry (`expires_at` or `ttl_seconds`; `default_ttl` if neither) at `now`.
/// It must be in the future; `latest` is the latest acceptable.
pub fn requested_expiry(
    expires_at: Option<&str>,
    ttl_seconds: Option<u64>,
    now: i64,
    default_ttl: u64,
    latest: i64,
) -> Result<i64, ApiError> {
    let at = match (expires_at, ttl_seconds) {
        (Some(_), Some(_)) => {
            return Err(ApiError::invalid(
                "conflicting_expiry",
                "give expires_at or ttl_seconds, not both",
            ));
        }
        (Some(text), None) => {
            parse_time(text).map_err(|e| ApiError::invalid("invalid_expiry", e.to_string()))?
        }
        (None, Some(0)) => {
            return Err(ApiError::invalid(
                "invalid_expiry",
                "ttl_seconds must be positive",
            ));
        }
        (None, Some(ttl)) => i64::try_from(ttl)
            .ok()
            .and_then(|t| now.checked_add(t))
            .unwrap_or(i64::MAX),
        (None, None) => now.saturating_add(default_ttl as i64),
    };
    if at <= now {
        return Err(ApiError::invalid(
            "expiry_in_past",
            "the expiry must be in the future",
        ));
    }
    if at > latest {
        return Err(ApiError::invalid(
            "expiry_too_far",
            format!(
                "the expiry is beyond the maximum lifetime (latest allowed: {})",
                crate::times::rfc3339(latest)
            ),
        ));
    }
    Ok(at)
}

/// Parses a token id from a path or query.
pub fn parse_id(text: &str) -> Result<String, ApiError> {
    text.parse::<TokenId>()
        .map(|id| id.to_string())
        .map_err(|_| {
            ApiError::bad_request(
                "invalid_id",
                "a token id is 32 lowercase hexadecimal digits",
            )
        })
}

/// The roles `caller` may put on a token of `owner`: the owner's roles, and for anyone but an
/// admin acting for another user, only those the caller's own token carries.
pub fn grantable_roles(caller: &Caller, owner: &UserRow) -> Vec<String> {
    let held = owner.role_list();
    if caller.is_admin() && owner.name != caller.user {
        held
    } else {
        roles::intersect(&held, &caller.roles)
    }
}

/// True if `caller` may see and manage tokens of `owner`.
pub fn may_manage(caller: &Caller, owner: &UserRow) -> bool {
    owner.name == caller.user
        || caller.is_admin()
        || owner.manager.as_deref() == Some(caller.user.as_str())
}

/// Signs new claims; returns the text and the record to store.
#[allow(clippy::too_many_arguments)]
pub fn mint(
    state: &AppState,
    owner: &str,
    kind: Kind,
    roles: Vec<String>,
    name: String,
    description: String,
    issued_at: i64,
    expires_at: i64,
    created_by: &str,
) -> Result<(String, TokenRow), ApiError> {
    let token_id = TokenId::random().map_err(|_| ApiError::internal())?;
    let claims = Claims {
        token_id,
        subject: owner.to_owned(),
        kind,
        roles: roles.clone(),
        issued_at: issued_at as u64,
        expires_at: expires_at as u64,
    };
    let text = state.minter.mint(&claims).map_err(|e| match e {
        MintError::UnknownKey => ApiError::internal(),
        MintError::TooManyRoles => ApiError::invalid("too_many_roles", e.to_string()),
        MintError::TooLarge => ApiError::invalid("token_too_large", e.to_string()),
        MintError::BadSubject => ApiError::invalid("invalid_user", e.to_string()),
        MintError::BadRole(_) => ApiError::invalid("invalid_role", e.to_string()),
        MintError::BadExpiry => ApiError::invalid("invalid_expiry", e.to_string()),
    })?;
    let row = TokenRow {
        seq: 0,
        id: token_id.to_string(),
        owner: owner.to_owned(),
        name,
        description,
        kind: kind.as_str().to_owned(),
        roles: join_roles(&roles),
        created_by: created_by.to_owned(),
        issued_at,
        signed_expires_at: expires_at,
        expires_at,
        enabled: true,
        revoked_at: None,
        revoked_by: None,
        revoked_from: None,
        deleted_at: None,
        last_used_at: None,
        replaces: None,
        replaced_by: None,
        list_kind: 0,
        list_from: 0,
        list_expires: 0,
        disabled_by_admin: false,
    };
    Ok((text, row))
}

/// Maps a unique-name clash to 409.
pub fn name_clash(e: StoreError) -> ApiError {
    match e {
        StoreError::Duplicate => ApiError::conflict(
            "name_taken",
            "this owner already has a live token with that name",
        ),
        other => other.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_descriptions() {
        assert!(check_name("ci deploy").is_ok());
        assert_eq!(check_name("").unwrap_err().code, "invalid_name");
        assert_eq!(check_name(" x").unwrap_err().code, "invalid_name");
        assert_eq!(
            check_name(&"n".repeat(65)).unwrap_err().code,
            "invalid_name"
        );
        assert_eq!(check_name("a\u{0}b").unwrap_err().code, "invalid_name");
        assert!(check_description(&"d".repeat(256)).is_ok());
        assert_eq!(
            check_description(&"d".repeat(257)).unwrap_err().code,
            "invalid_description"
        );
    }

    #[test]
    fn expiries() {
        let now = 1_000_000;
        let max = now + 90 * 86_400;
        assert_eq!(requested_expiry(None, None, now, 3600, max), Ok(now + 3600));
        assert_eq!(
            requested_expiry(None, Some(60), now, 3600, max),
            Ok(now + 60)
        );
        assert_eq!(
            requested_expiry(None, Some(0), now, 3600, max)
                .unwrap_err()
                .code,
            "invalid_expiry"
        );
        assert_eq!(
            requested_expiry(None, Some(u64::MAX), now, 3600, max)
                .unwrap_err()
                .code,
            "expiry_too_far"
        );
        assert_eq!(
            requested_expiry(Some("1970-01-02"), None, now, 3600, max)
                .unwrap_err()
                .code,
            "expiry_in_past"
        );
        assert_eq!(
            requested_expiry(Some("soon"), None, now, 3600, max)
                .unwrap_err()
                .code,
            "invalid_expiry"
        );
        assert_eq!(
            requested_expiry(Some("1970-01-02"), Some(5), now, 3600, max)
                .unwrap_err()
                .code,
            "conflicting_expiry"
        );
        assert_eq!(
            requested_expiry(Some("1970-01-13T13:46:40Z"), None, now, 3600, max),
            Ok(1_086_400)
        );
    }

    #[test]
    fn ids() {
        assert!(parse_id(&"ab".repeat(16)).is_ok());
        assert_eq!(parse_id("xyz").unwrap_err().code, "invalid_id");
    }
}
