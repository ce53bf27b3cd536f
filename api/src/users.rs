//! Users and service accounts: the record (never the password hash), and the bodies of
//! creating and changing one.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::fields::present;
use crate::schema::{Role, Timestamp, UserName};

/// A user or service account as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct UserRecord {
    #[schema(value_type = UserName)]
    pub name: String,
    #[schema(value_type = Vec<Role>)]
    pub roles: Vec<String>,
    pub active: bool,
    pub service_account: bool,
    /// The user who manages this service account.
    #[schema(value_type = Option<UserName>)]
    pub manager: Option<String>,
    pub has_password: bool,
    #[schema(value_type = Timestamp)]
    pub created_at: String,
    #[schema(value_type = Timestamp)]
    pub updated_at: String,
}

/// Body of `POST /api/v1/users`.
#[derive(Debug, Default, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUser {
    /// Unique, also ignoring case.
    #[schema(value_type = UserName)]
    pub name: String,
    /// Required for people, refused for service accounts.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(
        nullable = false,
        min_length = 8,
        max_length = 256,
        pattern = "^[^\\u0000]*$"
    )]
    pub password: Option<String>,
    /// Default: `["user"]`.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(nullable = false, value_type = Option<Vec<Role>>)]
    pub roles: Option<Vec<String>>,
    /// Default: false.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(nullable = false)]
    pub service_account: Option<bool>,
    /// Default: true.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(nullable = false)]
    pub active: Option<bool>,
}

/// Body of `PATCH /api/v1/users/{name}`: at least one field; `roles` excludes `add_roles` and
/// `remove_roles`.
#[derive(Debug, Default, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchUser {
    /// The whole new role set.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(nullable = false, value_type = Option<Vec<Role>>)]
    pub roles: Option<Vec<String>>,
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(nullable = false, value_type = Option<Vec<Role>>)]
    pub add_roles: Option<Vec<String>>,
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(nullable = false, value_type = Option<Vec<Role>>)]
    pub remove_roles: Option<Vec<String>>,
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(nullable = false)]
    pub active: Option<bool>,
    /// Turning a service account into a person needs `password` too; a service account has none.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(nullable = false)]
    pub service_account: Option<bool>,
    /// Admins only; ends the user's login sessions.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(
        nullable = false,
        min_length = 8,
        max_length = 256,
        pattern = "^[^\\u0000]*$"
    )]
    pub password: Option<String>,
    /// Admins only: hand a service account to another manager, an active person holding every
    /// role the account holds.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(nullable = false, value_type = Option<UserName>)]
    pub manager: Option<String>,
}

/// A page of users.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct UserPage {
    pub users: Vec<UserRecord>,
    /// Pass as `cursor` for the next page; none on the last.
    pub next_cursor: Option<String>,
}
