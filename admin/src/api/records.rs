//! The JSON forms of tokens, users and audit events, and the page cursor.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use tollgate_shared::ErrorCode;

use crate::errors::ApiError;
use crate::store::audit::AuditRow;
use crate::store::tokens::TokenRow;
use crate::store::users::UserRow;
use crate::times::UnixTime;

pub use tollgate_api::audit::AuditRecord;
pub use tollgate_api::schema::{OUTCOMES, TOKEN_STATES};
pub use tollgate_api::tokens::TokenRecord;
pub use tollgate_api::users::UserRecord;

/// The record of `row` at `now`.
pub fn token_record(row: &TokenRow, now: UnixTime) -> TokenRecord {
    let state = if row.revoked_by_now(now) || row.deleted_at.is_some() {
        "revoked"
    } else if now >= row.expires_at {
        "expired"
    } else if !row.enabled {
        "disabled"
    } else if row.revoked_at.is_some() {
        "grace"
    } else {
        "active"
    };
    TokenRecord {
        id: row.id.clone(),
        name: row.name.clone(),
        description: row.description.clone(),
        owner: row.owner.clone(),
        kind: row.kind.as_str().to_owned(),
        roles: row.roles.names(),
        created_at: row.issued_at.rfc3339(),
        created_by: row.created_by.clone(),
        expires_at: row.expires_at.rfc3339(),
        enabled: row.enabled,
        state: state.to_owned(),
        revoked_at: row.revoked_at.map(UnixTime::rfc3339),
        revoked_by: row.revoked_by.clone(),
        grace_until: row.revoked_from.map(UnixTime::rfc3339),
        last_used_at: row.last_used_at.map(UnixTime::rfc3339),
        replaces: row.replaces.clone(),
        replaced_by: row.replaced_by.clone(),
    }
}

/// Says what the edge does with a token whose owner's tokens issued before `void_before` are
/// void (the owner was deactivated, even if reactivated since): it refuses them, so the record
/// says `revoked`.
pub fn with_owner_cutoff(
    mut record: TokenRecord,
    issued_at: UnixTime,
    void_before: UnixTime,
) -> TokenRecord {
    if issued_at < void_before && record.is_live() {
        record.state = "revoked".to_owned();
    }
    record
}

/// Applies each owner's cut-off (see [`with_owner_cutoff`]) to the records of `rows`.
pub async fn records_with_cutoffs(
    store: &crate::store::Store,
    rows: &[&TokenRow],
    now: UnixTime,
) -> Result<Vec<TokenRecord>, crate::store::StoreError> {
    let mut cutoffs: std::collections::HashMap<&str, UnixTime> = std::collections::HashMap::new();
    for row in rows {
        if !cutoffs.contains_key(row.owner.as_str()) {
            let void_before = crate::store::users::find(store, &row.owner)
                .await?
                .map_or(UnixTime::EPOCH, |u| u.void_before);
            cutoffs.insert(&row.owner, void_before);
        }
    }
    Ok(rows
        .iter()
        .map(|r| {
            let cutoff = cutoffs
                .get(r.owner.as_str())
                .copied()
                .unwrap_or(UnixTime::EPOCH);
            with_owner_cutoff(token_record(r, now), r.issued_at, cutoff)
        })
        .collect())
}

impl From<&UserRow> for UserRecord {
    fn from(u: &UserRow) -> Self {
        UserRecord {
            name: u.name.clone(),
            roles: u.roles.names(),
            active: u.active,
            service_account: u.service_account,
            manager: u.manager.clone(),
            has_password: u.password_hash.is_some(),
            created_at: u.created_at.rfc3339(),
            updated_at: u.updated_at.rfc3339(),
        }
    }
}

impl From<AuditRow> for AuditRecord {
    fn from(r: AuditRow) -> Self {
        AuditRecord {
            id: r.id,
            at: r.at.rfc3339(),
            actor: r.actor,
            action: r.action,
            target: r.target,
            subject: r.subject,
            outcome: r.outcome,
            detail: r.detail,
        }
    }
}

/// Encodes a page position as an opaque cursor.
pub fn cursor(position: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("v1:{position}"))
}

/// What every cursor looks like: the base64url form of `v1:<position>` (`djE6` is `v1:`).
/// The OpenAPI document gives it as the cursors' pattern.
pub const CURSOR_PATTERN: &str = "^djE6[A-Za-z0-9_-]+$";

fn looks_like_a_cursor(text: &str) -> bool {
    text.len() > 4
        && text.starts_with("djE6")
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// Decodes a cursor made by [`cursor`]: 400 if it does not look like one, 422 if it looks like
/// one but holds no position this server writes.
pub fn parse_cursor(text: &str) -> Result<String, ApiError> {
    if !looks_like_a_cursor(text) {
        return Err(ApiError::new(
            ErrorCode::InvalidCursor,
            "the cursor is not one this server handed out",
        ));
    }
    URL_SAFE_NO_PAD
        .decode(text)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| s.strip_prefix("v1:").map(str::to_owned))
        .filter(|p| !p.is_empty() && !p.chars().any(char::is_control))
        .ok_or_else(unknown_cursor)
}

/// A cursor of the documented form that holds no position this server handed out.
pub fn unknown_cursor() -> ApiError {
    ApiError::new(
        ErrorCode::UnknownCursor,
        "the cursor is not one this server handed out",
    )
}

/// Decodes a cursor holding a number.
pub fn parse_number_cursor(text: &str) -> Result<i64, ApiError> {
    parse_cursor(text)?.parse().map_err(|_| unknown_cursor())
}

/// Checks a page size: 1 to `max`, `default` if absent.
pub fn page_limit(limit: Option<i64>, default: i64, max: i64) -> Result<i64, ApiError> {
    match limit {
        None => Ok(default),
        Some(n) if (1..=max).contains(&n) => Ok(n),
        Some(_) => Err(ApiError::new(
            ErrorCode::InvalidLimit,
            format!("limit must be 1 to {max}"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_refuse_junk() {
        assert_eq!(parse_number_cursor(&cursor("42")).unwrap(), 42);
        assert_eq!(parse_cursor(&cursor("bob")).unwrap(), "bob");
        assert_eq!(parse_cursor("!!").unwrap_err().code, "invalid_cursor");
        assert_eq!(
            parse_number_cursor(&cursor("x")).unwrap_err().code,
            "unknown_cursor"
        );
        assert_eq!(
            page_limit(Some(0), 50, 500).unwrap_err().code,
            "invalid_limit"
        );
        assert_eq!(page_limit(None, 50, 500).unwrap(), 50);
        // Well-formed (the document's pattern) but not a position: 422, not 400.
        assert!(cursor("42").starts_with("djE6"));
        assert_eq!(parse_cursor("djE6").unwrap_err().status.as_u16(), 400);
        assert_eq!(parse_cursor("garbage").unwrap_err().status.as_u16(), 400);
        assert_eq!(parse_cursor("djE6AAAA").unwrap_err().status.as_u16(), 422);
        assert_eq!(
            parse_number_cursor("djE60").unwrap_err().status.as_u16(),
            422
        );
    }
}
