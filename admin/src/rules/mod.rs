//! Every permission and validity decision the admin makes, as pure functions of (caller, the
//! target's current state, the request, `now`) that return a plan or a [`Refusal`]. Nothing here
//! touches the store, HTTP or the clock: handlers load, decide here, apply the plan, and audit
//! (the shape of the edge's `gate.rs`).
//!
//! - [`text`]: names, descriptions and passwords;
//! - [`expiry`]: resolving a requested expiry;
//! - [`roles`]: role lists;
//! - [`tokens`]: who may create, see, change, regenerate, revoke and delete which tokens;
//! - [`users`]: who may create and change which users and service accounts, and what a
//!   manager's loss does to the accounts it manages, who deletes which account and who manages
//!   a service account;
//! - [`service_accounts`]: the service account a token creation makes on its way;
//! - [`usage`]: whether a usage report from the edge is taken, and what it writes.

pub mod expiry;
pub mod roles;
pub mod service_accounts;
pub mod sessions;
pub mod text;
pub mod tokens;
pub mod usage;
pub mod users;

use std::borrow::Cow;

use tollgate_shared::ErrorCode;

/// Why a request is refused: a code from the shared list and a message for people (never a
/// secret). The API answers it with the code's status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub code: ErrorCode,
    pub message: Cow<'static, str>,
}

impl Refusal {
    /// A refusal with `code`.
    pub fn new(code: ErrorCode, message: impl Into<Cow<'static, str>>) -> Self {
        Refusal {
            code,
            message: message.into(),
        }
    }

    /// `forbidden` with `message`.
    pub fn forbidden(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::Forbidden, message)
    }

    /// `not_found` with `message`.
    pub fn not_found(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::NotFound, message)
    }
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for Refusal {}

#[cfg(test)]
pub(crate) mod fixtures;
