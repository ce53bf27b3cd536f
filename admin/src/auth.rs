//! Authentication: argon2id password hashes, and the bearer-token check every API call makes.
//!
//! A bearer token must pass `tollgate_shared`'s checks (format, checksum, key, signature) and
//! then its current state in the store: not deleted, not revoked (a regenerated token's grace
//! period aside), enabled, not expired (its expiry may have been edited), its owner active and
//! the token not issued before its owner was last deactivated.

use std::sync::OnceLock;

use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, PasswordVerifier, phc::PasswordHash};
use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use base64::Engine as _;
use tollgate_shared::token::is_b64token;
use tollgate_shared::{DEFAULT_LEEWAY_SECONDS, ErrorCode, Kind};

use crate::errors::ApiError;
use crate::rules::roles::Roles;
use crate::rules::roles::{ADMIN, TOKEN_CREATOR};
use crate::state::AppState;
use crate::store::tokens;
use crate::times::UnixTime;

/// Shortest and longest password accepted, in characters.
pub const PASSWORD_LEN: std::ops::RangeInclusive<usize> = 8..=256;
/// The last-used time is written at most this often per token.
const LAST_USED_RESOLUTION: i64 = 60;

/// True if `password` has an acceptable length.
pub fn acceptable_password(password: &str) -> bool {
    PASSWORD_LEN.contains(&password.chars().count())
}

/// Hashes `password` with argon2id (default parameters, random salt) into a PHC string.
pub fn hash_password(password: &str) -> Result<String, ApiError> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| {
            tracing::error!(error = %e, "password hashing failed");
            ApiError::internal()
        })
}

/// Checks `password` against a PHC string; a missing hash is checked against a dummy so that
/// unknown users take as long as known ones.
pub fn verify_password(password: &str, hash: Option<&str>) -> bool {
    static DUMMY: OnceLock<String> = OnceLock::new();
    let dummy = DUMMY.get_or_init(|| hash_password(&random_password()).unwrap_or_default());
    let stored = hash.unwrap_or(dummy);
    let Ok(parsed) = PasswordHash::new(stored) else {
        return false;
    };
    Argon2::default()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok()
        && hash.is_some()
}

/// A random password of 24 URL-safe characters (144 bits).
pub fn random_password() -> String {
    let mut bytes = [0u8; 18];
    getrandom::fill(&mut bytes).expect("the operating system's random generator failed");
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// The authenticated caller of a request.
#[derive(Debug, Clone)]
pub struct Caller {
    pub user: String,
    pub token_id: String,
    pub token_name: String,
    pub kind: Kind,
    /// The token's roles (a subset of the user's).
    pub roles: Roles,
    pub issued_at: UnixTime,
    pub expires_at: UnixTime,
    pub service_account: bool,
    /// The version of the user record read at authentication.
    pub owner_version: i64,
    /// For a session exchanged for another token (no password was typed for it): that token's
    /// expiry, the latest a token this session mints may end.
    pub derived_until: Option<UnixTime>,
}

impl Caller {
    /// True if the token carries `role`.
    pub fn has(&self, role: &str) -> bool {
        self.roles.contains(role)
    }

    /// True if the token carries `admin`.
    pub fn is_admin(&self) -> bool {
        self.has(ADMIN)
    }

    /// True if the token may create tokens (`token_creator` or `admin`).
    pub fn can_create_tokens(&self) -> bool {
        self.is_admin() || self.has(TOKEN_CREATOR)
    }
}

fn refused(code: ErrorCode, message: &'static str) -> ApiError {
    ApiError::new(code, message)
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let header = parts.headers.get(AUTHORIZATION).ok_or_else(|| {
            refused(
                ErrorCode::MissingToken,
                "this call needs Authorization: Bearer <token>",
            )
        })?;
        let text = header.to_str().map_err(|_| {
            refused(
                ErrorCode::Malformed,
                "the Authorization header is not readable",
            )
        })?;
        let token = match text.trim().split_once(' ') {
            Some((scheme, rest)) if scheme.eq_ignore_ascii_case("bearer") => {
                let token = rest.trim_start_matches(' ');
                if !is_b64token(token) {
                    return Err(ApiError::new(
                        ErrorCode::InvalidRequest,
                        "the Authorization header must be \"Bearer <token>\" with one token",
                    ));
                }
                token
            }
            _ => {
                return Err(refused(
                    ErrorCode::MissingToken,
                    "this call needs Authorization: Bearer <token>",
                ));
            }
        };
        authenticate(state, token).await
    }
}

/// Checks `token` as described in the module documentation.
pub async fn authenticate(state: &AppState, token: &str) -> Result<Caller, ApiError> {
    let now = UnixTime::now();
    let verified = state
        .minter
        .verify_signature(token)
        .map_err(|e| ApiError::new(e.code(), e.to_string()))?;
    let claims = verified.claims();
    if claims.issued_at > now.plus(DEFAULT_LEEWAY_SECONDS).as_unsigned() {
        return Err(refused(
            ErrorCode::NotYetValid,
            "the token is not valid yet",
        ));
    }
    let id = claims.token_id.to_string();
    let row = tokens::auth_lookup(&state.store, &id)
        .await?
        .filter(|r| r.owner == claims.subject)
        .ok_or_else(|| refused(ErrorCode::Revoked, "the token has been revoked"))?;
    if row.deleted_at.is_some()
        || (row.revoked_at.is_some() && row.revoked_from.is_none_or(|from| now >= from))
    {
        return Err(refused(ErrorCode::Revoked, "the token has been revoked"));
    }
    if !row.owner_active {
        return Err(refused(
            ErrorCode::UserDeactivated,
            "the token's user is deactivated",
        ));
    }
    if row.issued_at < row.owner_void_before {
        return Err(refused(ErrorCode::Revoked, "the token has been revoked"));
    }
    if !row.enabled {
        return Err(refused(ErrorCode::Disabled, "the token is disabled"));
    }
    if now >= row.expires_at {
        return Err(refused(ErrorCode::Expired, "the token has expired"));
    }
    let derived_until = match &row.derived_from {
        Some(parent) => Some(parent_usable(state, parent, now).await?),
        None => None,
    };
    if row
        .last_used_at
        .is_none_or(|t| now.seconds_since(t) >= LAST_USED_RESOLUTION)
    {
        let store = state.store.clone();
        let id = row.id.clone();
        tokio::spawn(async move {
            if let Err(e) = tokens::touch(&store, &id, now).await {
                tracing::warn!(error = %e, "could not record token use");
            }
        });
    }
    crate::logging::note_caller(&row.owner);
    Ok(Caller {
        user: row.owner,
        token_id: row.id,
        token_name: row.name,
        kind: row.kind,
        roles: row.roles,
        issued_at: row.issued_at,
        expires_at: row.expires_at,
        service_account: row.owner_service_account,
        owner_version: row.owner_version,
        derived_until,
    })
}

/// A second line behind the revocation cascade: a session exchanged for a token is refused once
/// that token is revoked, deleted, disabled or expired.
async fn parent_usable(
    state: &AppState,
    parent: &str,
    now: UnixTime,
) -> Result<UnixTime, ApiError> {
    let usable = tokens::auth_lookup(&state.store, parent)
        .await?
        .filter(|p| {
            p.deleted_at.is_none()
                && p.revoked_at.is_none()
                && p.enabled
                && now < p.expires_at
                && p.owner_active
                && p.issued_at >= p.owner_void_before
        });
    if let Some(p) = usable {
        Ok(p.expires_at)
    } else {
        Err(refused(
            ErrorCode::Revoked,
            "the token this session was exchanged for is no longer valid",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_hash_with_argon2id_and_verify() {
        let hash = hash_password("correct horse").unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("correct horse", Some(&hash)));
        assert!(!verify_password("wrong horse", Some(&hash)));
        assert!(!verify_password("correct horse", None));
        assert!(!verify_password("x", Some("not a hash")));
    }

    #[test]
    fn password_rules() {
        assert!(acceptable_password("12345678"));
        assert!(!acceptable_password("1234567"));
        assert!(!acceptable_password(&"x".repeat(257)));
        let a = random_password();
        assert_eq!(a.len(), 24);
        assert_ne!(a, random_password());
    }
}
