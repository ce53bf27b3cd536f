//! `GET /api/v1/me`: the caller, its roles, and the token the call was made with.

use axum::Json;
use axum::extract::State;

use super::records::UserRecord;
use crate::auth::Caller;
use crate::errors::ApiError;
use crate::state::AppState;
use crate::store::users;
pub use tollgate_api::sessions::{CurrentToken, Me};

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
            kind: caller.kind.as_str().to_owned(),
            roles: caller.roles.names(),
            created_at: caller.issued_at.rfc3339(),
            expires_at: caller.expires_at.rfc3339(),
        },
    }))
}
