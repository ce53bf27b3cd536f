//! Signing in: a password login, the session it yields (also from a token exchange), and who
//! the caller is.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::schema::{self, Role, Timestamp, TokenId};
use crate::tokens::TokenRecord;
use crate::users::UserRecord;

/// Body of `POST /api/v1/login`.
#[derive(Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Login {
    pub username: String,
    pub password: String,
}

/// A session: the token text (shown once) and its record.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Session {
    /// The token text.
    pub token: String,
    pub record: TokenRecord,
}

/// The token a call was made with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CurrentToken {
    #[schema(value_type = TokenId)]
    pub id: String,
    pub name: String,
    #[schema(schema_with = schema::token_kind)]
    pub kind: String,
    #[schema(value_type = Vec<Role>)]
    pub roles: Vec<String>,
    #[schema(value_type = Timestamp)]
    pub created_at: String,
    #[schema(value_type = Timestamp)]
    pub expires_at: String,
}

/// Answer of `GET /api/v1/me`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Me {
    pub user: UserRecord,
    pub token: CurrentToken,
}
