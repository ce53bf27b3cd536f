//! Carrying out a minting plan: signing the claims and building the record to store.

use tollgate_shared::{Claims, ErrorCode, MintError, TokenId};

use crate::errors::ApiError;
use crate::revocation::entries::ListKind;
use crate::rules::tokens::Mint;
use crate::state::AppState;
use crate::store::tokens::TokenRow;
use crate::store::{StoreError, join_roles};

/// Signs the claims `plan` describes, issued at `now` by `created_by`; returns the text (shown
/// once, never stored) and the record to store.
pub fn mint(
    state: &AppState,
    plan: &Mint,
    now: i64,
    created_by: &str,
) -> Result<(String, TokenRow), ApiError> {
    let token_id = TokenId::random().map_err(|_| ApiError::internal())?;
    let claims = Claims {
        token_id,
        subject: plan.owner.clone(),
        kind: plan.kind,
        roles: plan.roles.clone(),
        issued_at: now as u64,
        expires_at: plan.expires_at as u64,
    };
    let text = state.minter.mint(&claims).map_err(|e| match e {
        MintError::UnknownKey => ApiError::internal(),
        MintError::TooManyRoles => ApiError::new(ErrorCode::TooManyRoles, e.to_string()),
        MintError::TooLarge => ApiError::new(ErrorCode::TokenTooLarge, e.to_string()),
        MintError::BadSubject => ApiError::new(ErrorCode::InvalidUser, e.to_string()),
        MintError::BadRole(_) => ApiError::new(ErrorCode::InvalidRole, e.to_string()),
        MintError::BadExpiry => ApiError::new(ErrorCode::InvalidExpiry, e.to_string()),
    })?;
    let row = TokenRow {
        seq: 0,
        id: token_id.to_string(),
        owner: plan.owner.clone(),
        name: plan.name.clone(),
        description: plan.description.clone(),
        kind: plan.kind,
        roles: join_roles(&plan.roles),
        created_by: created_by.to_owned(),
        issued_at: now,
        signed_expires_at: plan.expires_at,
        expires_at: plan.expires_at,
        enabled: true,
        revoked_at: None,
        revoked_by: None,
        revoked_from: None,
        deleted_at: None,
        last_used_at: None,
        replaces: None,
        replaced_by: None,
        list_kind: ListKind::NotListed,
        list_from: 0,
        list_expires: 0,
        disabled_by_admin: false,
    };
    Ok((text, row))
}

/// Maps a unique-name clash to 409.
pub fn name_clash(e: StoreError) -> ApiError {
    match e {
        StoreError::Duplicate => ApiError::new(
            ErrorCode::NameTaken,
            "this owner already has a live token with that name",
        ),
        other => other.into(),
    }
}
