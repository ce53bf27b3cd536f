//! What every handler shares.

use std::ops::Deref;
use std::sync::Arc;

use tollgate_shared::{Authority, BadPrefix};

use crate::config::Settings;
use crate::metrics::Metrics;
use crate::revocation::Publisher;
use crate::store::Store;
use crate::throttle::LoginThrottle;

/// Shared state; cheap to clone.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

/// The parts of [`AppState`].
pub struct Inner {
    pub settings: Settings,
    pub store: Store,
    /// Mints tokens with the signing key and prefix, and checks their signatures
    /// ([`Authority::verify_signature`]: time and state are judged against the store).
    pub minter: Authority,
    pub metrics: Metrics,
    pub publisher: Publisher,
    /// Failed logins per username.
    pub throttle: LoginThrottle,
}

impl AppState {
    /// Builds the state for `settings` on `store`.
    pub fn new(settings: Settings, store: Store) -> Result<Self, BadPrefix> {
        let minter =
            Authority::new(settings.keyring.clone()).with_prefix(&settings.token_prefix)?;
        let publisher = Publisher::new(settings.keyring.clone());
        let throttle = LoginThrottle::new(
            settings.login_attempts,
            settings.login_source_attempts,
            settings.login_window,
        );
        Ok(AppState(Arc::new(Inner {
            settings,
            store,
            minter,
            metrics: Metrics::default(),
            publisher,
            throttle,
        })))
    }
}

impl Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}
