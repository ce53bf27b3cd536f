//! The JSON forms of tokens, users and audit events, and the page cursor.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use tollgate_shared::ErrorCode;

use crate::errors::ApiError;
use crate::store::audit::AuditRow;
use crate::store::tokens::TokenRow;
use crate::store::users::UserRow;
use crate::times::rfc3339;

/// A token as the API shows it. The token text is never part of it.
#[derive(Debug, Clone, Serialize)]
pub struct TokenRecord {
    pub id: String,
    pub name: String,
    pub description: String,
    pub owner: String,
    pub kind: String,
    pub roles: Vec<String>,
    pub created_at: String,
    pub created_by: String,
    pub expires_at: String,
    pub enabled: bool,
    /// `active`, `disabled`, `expired`, `grace` (regenerated, still valid) or `revoked`.
    pub state: &'static str,
    pub revoked_at: Option<String>,
    pub revoked_by: Option<String>,
    /// End of the grace period of a token regenerated with grace.
    pub grace_until: Option<String>,
    pub last_used_at: Option<String>,
    pub replaces: Option<String>,
    pub replaced_by: Option<String>,
}

impl TokenRecord {
    /// The view of `row` at `now`.
    pub fn of(row: &TokenRow, now: i64) -> Self {
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
            roles: row.role_list(),
            created_at: rfc3339(row.issued_at),
            created_by: row.created_by.clone(),
            expires_at: rfc3339(row.expires_at),
            enabled: row.enabled,
            state,
            revoked_at: row.revoked_at.map(rfc3339),
            revoked_by: row.revoked_by.clone(),
            grace_until: row.revoked_from.map(rfc3339),
            last_used_at: row.last_used_at.map(rfc3339),
            replaces: row.replaces.clone(),
            replaced_by: row.replaced_by.clone(),
        }
    }
}

impl TokenRecord {
    /// Says what the edge does with a token whose owner's tokens issued before `void_before`
    /// are void (the owner was deactivated, even if reactivated since): it refuses them, so the
    /// record says `revoked`.
    pub fn with_owner_cutoff(mut self, issued_at: i64, void_before: i64) -> Self {
        if issued_at < void_before && matches!(self.state, "active" | "disabled" | "grace") {
            self.state = "revoked";
        }
        self
    }
}

/// Applies each owner's cut-off (see [`TokenRecord::with_owner_cutoff`]) to the records of `rows`.
pub async fn records_with_cutoffs(
    store: &crate::store::Store,
    rows: &[&TokenRow],
    now: i64,
) -> Result<Vec<TokenRecord>, crate::store::StoreError> {
    let mut cutoffs: std::collections::HashMap<&str, i64> = std::collections::HashMap::new();
    for row in rows {
        if !cutoffs.contains_key(row.owner.as_str()) {
            let void_before = crate::store::users::find(store, &row.owner)
                .await?
                .map_or(0, |u| u.void_before);
            cutoffs.insert(&row.owner, void_before);
        }
    }
    Ok(rows
        .iter()
        .map(|r| {
            let cutoff = cutoffs.get(r.owner.as_str()).copied().unwrap_or(0);
            TokenRecord::of(r, now).with_owner_cutoff(r.issued_at, cutoff)
        })
        .collect())
}

/// A user or service account as the API shows it (never the password hash).
#[derive(Debug, Clone, Serialize)]
pub struct UserRecord {
    pub name: String,
    pub roles: Vec<String>,
    pub active: bool,
    pub service_account: bool,
    pub manager: Option<String>,
    pub has_password: bool,
    pub created_at: String,
    pub updated_at: String,
}

impl From<&UserRow> for UserRecord {
    fn from(u: &UserRow) -> Self {
        UserRecord {
            name: u.name.clone(),
            roles: u.role_list(),
            active: u.active,
            service_account: u.service_account,
            manager: u.manager.clone(),
            has_password: u.password_hash.is_some(),
            created_at: rfc3339(u.created_at),
            updated_at: rfc3339(u.updated_at),
        }
    }
}

/// An audit event as the API shows it.
#[derive(Debug, Clone, Serialize)]
pub struct AuditRecord {
    pub id: i64,
    pub at: String,
    pub actor: Option<String>,
    pub action: String,
    pub target: Option<String>,
    pub subject: Option<String>,
    pub outcome: String,
    pub detail: Option<String>,
}

impl From<AuditRow> for AuditRecord {
    fn from(r: AuditRow) -> Self {
        AuditRecord {
            id: r.id,
            at: rfc3339(r.at),
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

/// Decodes a cursor made by [`cursor`].
pub fn parse_cursor(text: &str) -> Result<String, ApiError> {
    URL_SAFE_NO_PAD
        .decode(text)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| s.strip_prefix("v1:").map(str::to_owned))
        .ok_or_else(|| {
            ApiError::new(
                ErrorCode::InvalidCursor,
                "the cursor is not one this server handed out",
            )
        })
}

/// Decodes a cursor holding a number.
pub fn parse_number_cursor(text: &str) -> Result<i64, ApiError> {
    parse_cursor(text)?.parse().map_err(|_| {
        ApiError::new(
            ErrorCode::InvalidCursor,
            "the cursor is not one this server handed out",
        )
    })
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
            "invalid_cursor"
        );
        assert_eq!(
            page_limit(Some(0), 50, 500).unwrap_err().code,
            "invalid_limit"
        );
        assert_eq!(page_limit(None, 50, 500).unwrap(), 50);
    }
}
