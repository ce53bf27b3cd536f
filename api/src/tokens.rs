//! Tokens: the record (never the token text), and the bodies of creating, changing, revoking
//! and regenerating one.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::fields::{present, present_count};
use crate::schema::{self, Expiry, Role, Timestamp, TokenId, UserName};

/// A token as the API shows it. The token text is never part of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TokenRecord {
    #[schema(value_type = TokenId)]
    pub id: String,
    #[schema(min_length = 1, max_length = 64)]
    pub name: String,
    #[schema(max_length = 256)]
    pub description: String,
    #[schema(value_type = UserName)]
    pub owner: String,
    #[schema(schema_with = schema::token_kind)]
    pub kind: String,
    #[schema(value_type = Vec<Role>)]
    pub roles: Vec<String>,
    #[schema(value_type = Timestamp)]
    pub created_at: String,
    #[schema(value_type = UserName)]
    pub created_by: String,
    #[schema(value_type = Timestamp)]
    pub expires_at: String,
    pub enabled: bool,
    /// `active`, `disabled`, `expired`, `grace` (regenerated, still valid) or `revoked`
    /// (one of [`schema::TOKEN_STATES`]).
    #[schema(schema_with = schema::token_state)]
    pub state: String,
    #[schema(value_type = Option<Timestamp>)]
    pub revoked_at: Option<String>,
    #[schema(value_type = Option<UserName>)]
    pub revoked_by: Option<String>,
    /// End of the grace period of a token regenerated with grace.
    #[schema(value_type = Option<Timestamp>)]
    pub grace_until: Option<String>,
    #[schema(value_type = Option<Timestamp>)]
    pub last_used_at: Option<String>,
    /// The token this one was regenerated from.
    #[schema(value_type = Option<TokenId>)]
    pub replaces: Option<String>,
    /// The token regenerated from this one.
    #[schema(value_type = Option<TokenId>)]
    pub replaced_by: Option<String>,
}

impl TokenRecord {
    /// Whether the token may still work (active, disabled or in grace): what can be revoked.
    pub fn is_live(&self) -> bool {
        matches!(self.state.as_str(), "active" | "disabled" | "grace")
    }
}

/// Body of `POST /api/v1/tokens`. `expires_at` and `ttl_seconds` exclude each other; with
/// neither, the server's default lifetime applies.
#[derive(Debug, Default, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateToken {
    /// Unique among the owner's tokens; no control, bidirectional or invisible characters, no
    /// surrounding spaces.
    #[schema(min_length = 1, max_length = 64, pattern = "^[^\\u0000]*$")]
    pub name: String,
    /// No control characters but newlines and tabs.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(nullable = false, max_length = 256, pattern = "^[^\\u0000]*$")]
    pub description: Option<String>,
    /// A date (`YYYY-MM-DD`, midnight UTC) or an RFC 3339 timestamp. Not with `ttl_seconds`.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(nullable = false, value_type = Option<Expiry>)]
    pub expires_at: Option<String>,
    /// Lifetime from now. Not with `expires_at`.
    #[serde(
        default,
        deserialize_with = "present_count",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(nullable = false, minimum = 1)]
    pub ttl_seconds: Option<u64>,
    /// Default: all of the owner's roles the caller may pass on.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(nullable = false, value_type = Option<Vec<Role>>)]
    pub roles: Option<Vec<String>>,
    /// The owner, if not the caller (admins; managers of a service account).
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(nullable = false, value_type = Option<UserName>)]
    pub user: Option<String>,
    /// With `user`: if there is no such user, first create it as a service account (token
    /// creators and admins, as `POST /api/v1/users` would: with the roles asked for the token,
    /// or `user`; a token creator becomes its manager), in the same step. Default: false.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(nullable = false)]
    pub create_service_account: Option<bool>,
}

/// A newly minted token: its text, shown this once, and its record.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Minted {
    /// The token text.
    pub token: String,
    pub record: TokenRecord,
}

/// Body of `PATCH /api/v1/tokens/{id}`: at least one field; `expires_at` and `ttl_seconds`
/// exclude each other.
#[derive(Debug, Default, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchToken {
    /// No control characters but newlines and tabs.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(nullable = false, max_length = 256, pattern = "^[^\\u0000]*$")]
    pub description: Option<String>,
    /// New expiry; owners may only bring it forward, admins may also extend it. Not with
    /// `ttl_seconds`.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(nullable = false, value_type = Option<Expiry>)]
    pub expires_at: Option<String>,
    /// New lifetime from now. Not with `expires_at`.
    #[serde(
        default,
        deserialize_with = "present_count",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(nullable = false, minimum = 1)]
    pub ttl_seconds: Option<u64>,
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(nullable = false)]
    pub enabled: Option<bool>,
}

/// A body that must be empty or `{}`.
#[derive(Debug, Default, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Empty {}

/// Body of `POST /api/v1/tokens/{id}/regenerate`; may be left out (all defaults).
/// `expires_at` and `ttl_seconds` exclude each other.
#[derive(Debug, Default, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Regenerate {
    /// How long the old token keeps working (default 0: it stops now).
    #[serde(
        default,
        deserialize_with = "present_count",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(nullable = false, minimum = 0, maximum = 604800)]
    pub grace_seconds: Option<u64>,
    /// Expiry of the new token; default: the old token's lifetime, from now. Not with
    /// `ttl_seconds`.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(nullable = false, value_type = Option<Expiry>)]
    pub expires_at: Option<String>,
    /// Lifetime of the new token from now. Not with `expires_at`.
    #[serde(
        default,
        deserialize_with = "present_count",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(nullable = false, minimum = 1)]
    pub ttl_seconds: Option<u64>,
}

/// Answer of a regeneration: the new token and the record of the one it replaces.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Regenerated {
    /// The new token's text.
    pub token: String,
    /// The new token.
    pub record: TokenRecord,
    /// The token it replaces.
    pub previous: TokenRecord,
}

/// The `kind` filter of a token listing.
#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum KindFilter {
    Personal,
    Service,
    Session,
    All,
}

/// The `sort` of a token listing.
#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum TokenSort {
    Created,
    LastUsed,
}

/// A page of tokens.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TokenPage {
    pub tokens: Vec<TokenRecord>,
    /// Pass as `cursor` for the next page; none on the last.
    pub next_cursor: Option<String>,
}

/// Tokens asked for by id; `missing` lists those not found or not visible.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TokenBatch {
    pub tokens: Vec<TokenRecord>,
    #[schema(value_type = Vec<TokenId>)]
    pub missing: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_leave_out_what_is_not_asked_and_read_back_the_same() {
        let req = CreateToken {
            name: "ci".into(),
            ttl_seconds: Some(3600),
            ..CreateToken::default()
        };
        let text = serde_json::to_string(&req).unwrap_or_default();
        assert_eq!(text, r#"{"name":"ci","ttl_seconds":3600}"#);
        let back: Result<CreateToken, _> = serde_json::from_str(&text);
        assert!(back.is_ok_and(|b| b.name == "ci" && b.ttl_seconds == Some(3600)));
        let unknown: Result<CreateToken, _> = serde_json::from_str(r#"{"name":"ci","x":1}"#);
        assert!(unknown.is_err());
        assert_eq!(
            serde_json::to_string(&PatchToken::default()).unwrap_or_default(),
            "{}"
        );
    }

    #[test]
    fn records_ignore_fields_a_newer_server_adds() {
        let text = r#"{"id":"ab","name":"ci","description":"","owner":"ana","kind":"personal",
            "roles":["user"],"created_at":"2027-01-15T08:00:00Z","created_by":"ana",
            "expires_at":"2027-02-15T08:00:00Z","enabled":true,"state":"grace","new":1}"#;
        let record: Result<TokenRecord, _> = serde_json::from_str(text);
        assert!(record.is_ok_and(|r| r.is_live() && r.grace_until.is_none()));
    }
}
