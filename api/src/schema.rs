//! What the OpenAPI document says about the shared shapes (token id, user name, role,
//! timestamp, expiry) and the enumerations. The constraints the server enforces are written on
//! the body types as `#[schema(...)]` attributes; the admin's tests hold them to its constants.

use tollgate_shared::Kind;
use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Schema, SchemaFormat, Type};
use utoipa::openapi::{KnownFormat, RefOr};
use utoipa::{PartialSchema, ToSchema};

/// Token ids as the server writes and accepts them.
pub const TOKEN_ID_PATTERN: &str = "^[0-9a-f]{32}$";

/// Every token state a record may show (see [`crate::tokens::TokenRecord::state`]).
pub const TOKEN_STATES: [&str; 5] = ["active", "disabled", "expired", "grace", "revoked"];

/// Every audit outcome (see [`crate::audit::AuditRecord::outcome`]).
pub const OUTCOMES: [&str; 3] = ["success", "denied", "failure"];

/// A token id: 32 lowercase hexadecimal digits.
#[derive(ToSchema)]
#[schema(pattern = "^[0-9a-f]{32}$")]
pub struct TokenId(pub String);

/// A user or service-account name: 1-64 of `A-Z a-z 0-9 . _ @ + : -`.
#[derive(ToSchema)]
#[schema(pattern = "^[A-Za-z0-9._@+:-]{1,64}$")]
pub struct UserName(pub String);

/// A role: 1-64 of `A-Z a-z 0-9 . _ : / -`.
#[derive(ToSchema)]
#[schema(pattern = "^[A-Za-z0-9._:/-]{1,64}$")]
pub struct Role(pub String);

/// A moment, RFC 3339 in UTC.
#[derive(ToSchema)]
#[schema(format = DateTime)]
pub struct Timestamp(pub String);

/// A requested expiry: a date (`YYYY-MM-DD`, midnight UTC) or an RFC 3339 timestamp. It must
/// be in the future and within the server's maximum lifetime.
pub struct Expiry;

impl PartialSchema for Expiry {
    fn schema() -> RefOr<Schema> {
        let string = |format| {
            ObjectBuilder::new()
                .schema_type(Type::String)
                .format(Some(SchemaFormat::KnownFormat(format)))
                .build()
        };
        OneOfBuilder::new()
            .item(string(KnownFormat::Date))
            .item(string(KnownFormat::DateTime))
            .description(Some(
                "A date (YYYY-MM-DD, midnight UTC) or an RFC 3339 timestamp, in the future.",
            ))
            .into()
    }
}

impl ToSchema for Expiry {}

fn string_enum(values: &[&str], description: &str) -> Schema {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(values.iter().copied()))
        .description(Some(description))
        .build()
        .into()
}

/// The kinds of token, as [`Kind::as_str`] writes them.
pub fn token_kind() -> Schema {
    let kinds = [Kind::Session, Kind::Personal, Kind::Service].map(Kind::as_str);
    string_enum(&kinds, "session, personal or service")
}

/// A token's state (see [`TOKEN_STATES`]).
pub fn token_state() -> Schema {
    string_enum(
        &TOKEN_STATES,
        "active, disabled, expired, grace (regenerated, still valid for a while) or revoked",
    )
}

/// An audit event's outcome (see [`OUTCOMES`]).
pub fn audit_outcome() -> Schema {
    string_enum(&OUTCOMES, "success, denied or failure")
}
