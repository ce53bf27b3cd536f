//! What the OpenAPI document says about the API's types: the shared shapes (token id, user
//! name, role, timestamp, expiry), the enumerations, the path parameters, and the glue that
//! lets [`super::operations`] name a request or response type instead of a schema.
//!
//! Request and response types derive [`ToSchema`] (query strings [`IntoParams`]) next to their
//! definitions; the constraints the server enforces are written on them as `#[schema(...)]`
//! attributes, and the tests in [`crate::openapi`] hold those to the server's constants.

use std::borrow::Cow;

use serde::Deserialize;
use tollgate_shared::Kind;
use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Schema, SchemaFormat, Type};
use utoipa::openapi::{KnownFormat, RefOr};
use utoipa::{IntoParams, PartialSchema, ToSchema};

/// Token ids as the server writes and accepts them.
pub const TOKEN_ID_PATTERN: &str = "^[0-9a-f]{32}$";

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

/// A token's state (see [`super::records::TOKEN_STATES`]).
pub fn token_state() -> Schema {
    string_enum(
        &super::records::TOKEN_STATES,
        "active, disabled, expired, grace (regenerated, still valid for a while) or revoked",
    )
}

/// An audit event's outcome (see [`super::records::OUTCOMES`]).
pub fn audit_outcome() -> Schema {
    string_enum(&super::records::OUTCOMES, "success, denied or failure")
}

/// The `{id}` of `/api/v1/tokens/{id}...`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct TokenPath {
    /// The token id.
    #[param(value_type = TokenId)]
    pub id: String,
}

/// The `{name}` of `/api/v1/users/{name}`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct UserPath {
    /// The user's name.
    #[param(value_type = UserName)]
    pub name: String,
}

/// Schemas gathered for the document: a name and its schema.
pub type Schemas = Vec<(String, RefOr<Schema>)>;

/// A request or response body type, as [`super::operations`] names it.
#[derive(Clone, Copy)]
pub struct Payload {
    /// The component name.
    pub name: fn() -> Cow<'static, str>,
    /// Adds the type's schema and those it refers to.
    pub collect: fn(&mut Schemas),
}

fn collect<T: ToSchema>(out: &mut Schemas) {
    out.push((T::name().into_owned(), T::schema()));
    T::schemas(out);
}

impl Payload {
    pub fn of<T: ToSchema>() -> Self {
        Payload {
            name: T::name,
            collect: collect::<T>,
        }
    }
}

/// A request body: its type, and whether it may be left out.
#[derive(Clone, Copy)]
pub struct RequestBody {
    pub payload: Payload,
    pub required: bool,
}

/// A body that must be sent.
pub fn body<T: ToSchema>() -> Option<RequestBody> {
    Some(RequestBody {
        payload: Payload::of::<T>(),
        required: true,
    })
}

/// A body that may be left out (empty or whitespace), which means the type's default.
pub fn optional_body<T: ToSchema>() -> Option<RequestBody> {
    Some(RequestBody {
        payload: Payload::of::<T>(),
        required: false,
    })
}

/// The parameters of a query-string or path type.
pub type ParamsOf = fn() -> Vec<utoipa::openapi::path::Parameter>;

pub fn params<T: IntoParams>() -> Vec<utoipa::openapi::path::Parameter> {
    T::into_params(|| Some(utoipa::openapi::path::ParameterIn::Query))
}
