//! Carrying out a minting plan: signing the claims and building the record to store, in a second
//! no cut-off of the owner's covers.

use std::future::Future;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tollgate_shared::{Claims, ErrorCode, MintError, TokenId};

use crate::errors::ApiError;
use crate::revocation::entries::ListKind;
use crate::rules::tokens::Mint;
use crate::state::AppState;
use crate::store::tokens::TokenRow;
use crate::store::{StoreError, Tx, list};
use crate::times::UnixTime;

/// Signs the claims `plan` describes, issued at `now` by `created_by`; returns the text (shown
/// once, never stored) and the record to store.
pub fn mint(
    state: &AppState,
    plan: &Mint,
    now: UnixTime,
    created_by: &str,
) -> Result<(String, TokenRow), ApiError> {
    let token_id = TokenId::random().map_err(|_| ApiError::internal())?;
    let claims = Claims {
        token_id,
        subject: plan.owner.clone(),
        kind: plan.kind,
        roles: plan.roles.names(),
        issued_at: now.as_unsigned(),
        expires_at: plan.expires_at.as_unsigned(),
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
        roles: plan.roles.clone(),
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

/// True if `owner` had a cut-off within the second of `now` (see
/// [`crate::rules::tokens::cut_this_second`]); read in the transaction that would mint.
pub async fn cut_this_second(tx: &mut Tx, owner: &str, now: UnixTime) -> Result<bool, ApiError> {
    let rule = list::rule(tx, owner).await?;
    Ok(crate::rules::tokens::cut_this_second(rule.as_ref(), now))
}

/// Runs a minting `attempt` until it is not in the second of a cut-off of its owner's
/// (`Ok(None)`): between attempts, waits for the next whole second. Gives up with 503 after a
/// few seconds of an owner changing every second.
pub async fn in_a_settled_second<T, F, Fut>(mut attempt: F) -> Result<T, ApiError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Option<T>, ApiError>>,
{
    for _ in 0..3 {
        if let Some(done) = attempt().await? {
            return Ok(done);
        }
        let into_second = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.subsec_millis());
        tokio::time::sleep(Duration::from_millis(u64::from(
            1000 - into_second.min(999),
        )))
        .await;
    }
    Err(ApiError::new(
        ErrorCode::Unavailable,
        "the account keeps changing; try again in a few seconds",
    ))
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
