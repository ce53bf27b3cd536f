//! What the OpenAPI document says about the API's types: the path parameters, and the glue that
//! lets [`super::operations`] name a request or response type instead of a schema. The shared
//! shapes (token id, user name, role, timestamp, expiry) and the enumerations come from
//! [`tollgate_api::schema`].
//!
//! Request and response bodies derive [`ToSchema`] in `tollgate-api` (query strings derive
//! [`IntoParams`] here, next to their handlers); the constraints the server enforces are written
//! on them as `#[schema(...)]` attributes, and the tests in [`crate::openapi`] hold those to the
//! server's constants.

use std::borrow::Cow;

use serde::Deserialize;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::Schema;
use utoipa::{IntoParams, ToSchema};

pub use tollgate_api::schema::{
    Expiry, Role, TOKEN_ID_PATTERN, Timestamp, TokenId, UserName, audit_outcome, token_kind,
    token_state,
};

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
