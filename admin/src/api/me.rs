//! `GET /api/v1/me`: the caller, its roles, and the token the call was made with.

use axum::Json;
use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;

use super::records::UserRecord;
use super::schema::{self, Role, Timestamp, TokenId};
use crate::auth::Caller;
use crate::errors::ApiError;
use crate::state::AppState;
use crate::store::users;

/// The token a call was made with.
#[derive(Debug, Serialize, ToSchema)]
pub struct CurrentToken {
    #[schema(value_type = TokenId)]
    pub id: String,
    pub name: String,
    #[schema(schema_with = schema::token_kind)]
    pub kind: &'static str,
    #[schema(value_type = Vec<Role>)]
    pub roles: Vec<String>,
    #[schema(value_type = Timestamp)]
    pub created_at: String,
    #[schema(value_type = Timestamp)]
    pub expires_at: String,
}

/// Answer of `GET /api/v1/me`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    pub user: UserRecord,
    pub token: CurrentToken,
}

/// `GET /api/v1/me`.
pub async fn me(State(state): State<AppState>, caller: Caller) -> Result<Json<Me>, ApiError> {
    let user = users::find(&state.store, &caller.user)
        .await?
        .ok_or_else(|| ApiError::not_found("no such user"))?;
    Ok(Json(Me {
        user: UserRecord::from(&user),
        token: CurrentToken {
            id: caller.token_id,
            name: caller.token_name,
            kind: caller.kind.as_str(),
            roles: caller.roles.names(),
            created_at: caller.issued_at.rfc3339(),
            expires_at: caller.expires_at.rfc3339(),
        },
    }))
}
