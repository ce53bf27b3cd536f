//! `GET/PATCH /api/v1/settings`: the settings in force, and the token-API switch an admin turns
//! on and off at run time (audited; shared by every replica of one store).

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::audited;
use super::extract::Body;
use crate::auth::Caller;
use crate::config::PersonalTokens;
use crate::errors::ApiError;
use crate::rules::Refusal;
use crate::rules::tokens::token_api_open;
use crate::state::AppState;
use crate::store::audit::{self, Action, NewEvent, Outcome};
use crate::store::switches::{self, SwitchRow, TOKEN_API};
use crate::times::{UnixTime, rfc3339};

/// The settings in force.
#[derive(Debug, Serialize, ToSchema)]
pub struct SettingsView {
    /// Lifetime of a token created without an expiry, in seconds.
    pub default_ttl_seconds: u64,
    /// Longest lifetime of any token, in seconds.
    pub max_ttl_seconds: u64,
    /// Lifetime of a login session, in seconds.
    pub session_ttl_seconds: u64,
    /// A login session this recent (seconds) may make a token that outlives it.
    pub reauth_window_seconds: u64,
    /// Who makes tokens for themselves: `everyone` or `token_creator`.
    pub personal_tokens: &'static str,
    /// The token API is open to everyone (`false`: to admins only).
    pub token_api: bool,
    /// Who last turned the switch, and when; absent while it follows the configuration.
    pub token_api_changed_by: Option<String>,
    pub token_api_changed_at: Option<String>,
}

/// Body of `PATCH /api/v1/settings`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchSettings {
    /// Open (`true`) or close (`false`) the token API to everyone but admins.
    pub token_api: bool,
}

/// The token-API switch in force: an admin's last setting, or the configuration's.
pub async fn token_api_switch(state: &AppState) -> Result<(bool, Option<SwitchRow>), ApiError> {
    let row = switches::get(&state.store, TOKEN_API).await?;
    let enabled = row
        .as_ref()
        .map_or(state.settings.token_creation, |r| r.enabled);
    Ok((enabled, row))
}

/// Refuses `caller` the token API while it is switched off (admins always pass).
pub async fn token_api(state: &AppState, caller: &Caller) -> Result<(), ApiError> {
    let (enabled, _) = token_api_switch(state).await?;
    Ok(token_api_open(caller, enabled)?)
}

fn admins_only(caller: &Caller) -> Result<(), ApiError> {
    if caller.is_admin() {
        Ok(())
    } else {
        Err(Refusal::forbidden("only admins read and change the settings").into())
    }
}

async fn view(state: &AppState) -> Result<SettingsView, ApiError> {
    let s = &state.settings;
    let (token_api, row) = token_api_switch(state).await?;
    Ok(SettingsView {
        default_ttl_seconds: s.default_ttl,
        max_ttl_seconds: s.max_ttl,
        session_ttl_seconds: s.session_ttl,
        reauth_window_seconds: s.reauth_window,
        personal_tokens: match s.personal_tokens {
            PersonalTokens::Everyone => "everyone",
            PersonalTokens::TokenCreators => "token_creator",
        },
        token_api,
        token_api_changed_by: row.as_ref().map(|r| r.changed_by.clone()),
        token_api_changed_at: row.as_ref().map(|r| rfc3339(r.changed_at)),
    })
}

/// `GET /api/v1/settings` (admins).
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<SettingsView>, ApiError> {
    admins_only(&caller)?;
    view(&state).await.map(Json)
}

/// `PATCH /api/v1/settings` (admins; audited).
pub async fn patch(
    State(state): State<AppState>,
    caller: Caller,
    Body(req): Body<PatchSettings>,
) -> Result<Json<SettingsView>, ApiError> {
    let result = patch_settings(&state, &caller, req).await;
    audited(&state, &caller, Action::SettingsUpdate, None, result).await
}

async fn patch_settings(
    state: &AppState,
    caller: &Caller,
    req: PatchSettings,
) -> Result<Json<SettingsView>, ApiError> {
    admins_only(caller)?;
    let now = UnixTime::now();
    let row = SwitchRow {
        enabled: req.token_api,
        changed_at: now.as_secs(),
        changed_by: caller.user.clone(),
    };
    let mut tx = state.store.write().await?;
    switches::set(&mut tx, TOKEN_API, &row).await?;
    let event = NewEvent {
        at: now,
        actor: Some(&caller.user),
        action: Action::SettingsUpdate,
        target: Some(TOKEN_API),
        subject: None,
        outcome: Outcome::Success,
        detail: Some(format!("token_api {}", req.token_api)),
    };
    audit::append(&mut tx, &event).await?;
    tx.commit().await?;
    view(state).await.map(Json)
}
