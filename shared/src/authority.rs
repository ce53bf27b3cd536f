//! Minting and verifying tokens: a [`Keyring`] plus the format settings.
//!
//! Verification runs the checks from cheapest to dearest and stops at the
//! first failure: structure, checksum, key id, HMAC (constant time), time
//! window, then the revocation list.

use hmac::Mac;

use crate::keyring::Keyring;
use crate::revocation::{EntryState, RevocationList};
use crate::token::{
    CHECKSUM_LEN, Claims, DEFAULT_PREFIX, MAX_BINARY_LEN, MAX_ROLES, Payload, TAG_LEN, checksum_ok, decode_body,
    encode_payload, render, valid_prefix, valid_role, valid_subject,
};

/// Why a token was refused. The `code` is stable and safe to show; no variant carries token text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// Not shaped like a token: wrong prefix, length, alphabet or fields.
    #[error("the token is malformed")]
    Malformed,
    /// The checksum does not match: a typo or a truncated copy.
    #[error("the token's checksum does not match")]
    BadChecksum,
    /// Signed with a key id this keyring does not hold.
    #[error("the token was signed with an unknown key")]
    UnknownKey,
    /// The signature does not match the payload.
    #[error("the token's signature is invalid")]
    BadSignature,
    /// Past its expiry.
    #[error("the token has expired")]
    Expired,
    /// Issued in the future (beyond the leeway).
    #[error("the token is not valid yet")]
    NotYetValid,
    /// Revoked, or voided by a cut-off for its subject.
    #[error("the token has been revoked")]
    Revoked,
    /// Disabled by its owner or an admin; may be re-enabled.
    #[error("the token is disabled")]
    Disabled,
}

impl VerifyError {
    /// The stable snake_case code (`malformed`, `bad_checksum`, ...).
    pub fn code(self) -> &'static str {
        match self {
            VerifyError::Malformed => "malformed",
            VerifyError::BadChecksum => "bad_checksum",
            VerifyError::UnknownKey => "unknown_key",
            VerifyError::BadSignature => "bad_signature",
            VerifyError::Expired => "expired",
            VerifyError::NotYetValid => "not_yet_valid",
            VerifyError::Revoked => "revoked",
            VerifyError::Disabled => "disabled",
        }
    }

    /// Every variant, in check order.
    pub const ALL: [VerifyError; 8] = [
        VerifyError::Malformed,
        VerifyError::BadChecksum,
        VerifyError::UnknownKey,
        VerifyError::BadSignature,
        VerifyError::Expired,
        VerifyError::NotYetValid,
        VerifyError::Revoked,
        VerifyError::Disabled,
    ];
}

/// Why claims could not be minted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MintError {
    /// The subject breaks [`valid_subject`](crate::valid_subject).
    #[error("invalid subject (1-64 of A-Z a-z 0-9 . _ @ + : -)")]
    BadSubject,
    /// A role breaks [`valid_role`](crate::valid_role).
    #[error("invalid role {0:?} (1-64 of A-Z a-z 0-9 . _ : / -)")]
    BadRole(String),
    /// More than [`MAX_ROLES`] roles.
    #[error("a token carries at most 16 roles")]
    TooManyRoles,
    /// `expires_at` is not after `issued_at`.
    #[error("expiry must be after issue time")]
    BadExpiry,
    /// The key id asked for is not in the keyring.
    #[error("no such key id in the keyring")]
    UnknownKey,
    /// The encoded token would exceed the maximum size.
    #[error("the token would be too long; use fewer or shorter roles")]
    TooLarge,
}

/// A prefix that breaks [`valid_prefix`](crate::valid_prefix).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid token prefix (1-8 of a-z 0-9)")]
pub struct BadPrefix;

/// A verified token: its claims (after any role cut-offs) and the key that signed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub claims: Claims,
    pub key_id: String,
}

/// Mints and verifies tokens with one keyring, prefix and clock leeway.
#[derive(Debug, Clone)]
pub struct Authority {
    keyring: Keyring,
    prefix: String,
    leeway: u64,
}

/// Clock leeway used unless configured, in seconds.
pub const DEFAULT_LEEWAY_SECONDS: u64 = 30;

impl Authority {
    /// An authority with the default prefix (`tg`) and leeway.
    pub fn new(keyring: Keyring) -> Self {
        Authority { keyring, prefix: DEFAULT_PREFIX.to_owned(), leeway: DEFAULT_LEEWAY_SECONDS }
    }

    /// Uses `prefix` for minting and requires it when verifying.
    pub fn with_prefix(mut self, prefix: &str) -> Result<Self, BadPrefix> {
        if !valid_prefix(prefix) {
            return Err(BadPrefix);
        }
        self.prefix = prefix.to_owned();
        Ok(self)
    }

    /// Tolerates clocks this many seconds apart when checking issue and expiry times.
    pub fn with_leeway(mut self, seconds: u64) -> Self {
        self.leeway = seconds;
        self
    }

    /// The keyring in use.
    pub fn keyring(&self) -> &Keyring {
        &self.keyring
    }

    /// The token prefix in use.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// Signs `claims` with the signing key. Roles are sorted and de-duplicated.
    pub fn mint(&self, claims: &Claims) -> Result<String, MintError> {
        self.mint_with_key(claims, self.keyring.signing_key_id())
    }

    /// Signs with a particular key id (it must be in the keyring); for tests and migrations.
    pub fn mint_with_key(&self, claims: &Claims, key_id: &str) -> Result<String, MintError> {
        let key = self.keyring.get(key_id.as_bytes()).ok_or(MintError::UnknownKey)?;
        if !valid_subject(&claims.subject) {
            return Err(MintError::BadSubject);
        }
        if let Some(bad) = claims.roles.iter().find(|r| !valid_role(r)) {
            return Err(MintError::BadRole(bad.clone()));
        }
        if claims.expires_at <= claims.issued_at {
            return Err(MintError::BadExpiry);
        }
        let mut sorted = claims.clone();
        sorted.roles.sort();
        sorted.roles.dedup();
        if sorted.roles.len() > MAX_ROLES {
            return Err(MintError::TooManyRoles);
        }
        let mut bin = Vec::with_capacity(MAX_BINARY_LEN + 64);
        encode_payload(&key.id, &sorted, &mut bin);
        if bin.len() + TAG_LEN + CHECKSUM_LEN > MAX_BINARY_LEN {
            return Err(MintError::TooLarge);
        }
        let tag = key.token_mac.clone().chain_update(&bin).finalize().into_bytes();
        bin.extend_from_slice(&tag);
        Ok(render(&self.prefix, bin))
    }

    /// Verifies `token` at `now` (Unix seconds) against `revocations`.
    pub fn verify(&self, token: &str, now: u64, revocations: &RevocationList) -> Result<Verified, VerifyError> {
        let mut buf = [0u8; MAX_BINARY_LEN + 2];
        // 1. structure
        let n = decode_body(token, &self.prefix, &mut buf).ok_or(VerifyError::Malformed)?;
        let bin = &buf[..n];
        // 2. checksum
        if !checksum_ok(bin) {
            return Err(VerifyError::BadChecksum);
        }
        let signed = &bin[..n - CHECKSUM_LEN];
        let (payload_bytes, tag) = signed.split_at(signed.len() - TAG_LEN);
        let payload = Payload::parse(payload_bytes).map_err(|_| VerifyError::Malformed)?;
        // 3. key id
        let key = self.keyring.get(payload.key_id).ok_or(VerifyError::UnknownKey)?;
        // 4. signature, compared in constant time by `verify_slice`
        key.token_mac.clone().chain_update(payload_bytes).verify_slice(tag).map_err(|_| VerifyError::BadSignature)?;
        // 5. time; the list may carry a changed expiry for this token
        let entry = revocations.get(&payload.token_id);
        let expires_at = match entry {
            Some(e) if e.state == EntryState::ExpiryChanged => e.expires_at,
            _ => payload.expires_at,
        };
        if now >= expires_at.saturating_add(self.leeway) {
            return Err(VerifyError::Expired);
        }
        if payload.issued_at > now.saturating_add(self.leeway) {
            return Err(VerifyError::NotYetValid);
        }
        // 6. revocation
        match entry.map(|e| e.state) {
            Some(EntryState::Revoked { from }) if now >= from => return Err(VerifyError::Revoked),
            Some(EntryState::Disabled) => return Err(VerifyError::Disabled),
            _ => {}
        }
        let rule = revocations.subject_rule(payload.subject);
        if rule.is_some_and(|r| payload.issued_at < r.void_before) {
            return Err(VerifyError::Revoked);
        }
        let roles = payload
            .roles()
            .iter()
            .filter(|role| rule.is_none_or(|r| r.drop_roles.get(**role).is_none_or(|&before| payload.issued_at >= before)))
            .map(|r| (*r).to_owned())
            .collect();
        Ok(Verified {
            claims: Claims {
                token_id: payload.token_id,
                subject: payload.subject.to_owned(),
                kind: payload.kind,
                roles,
                issued_at: payload.issued_at,
                expires_at,
            },
            key_id: String::from_utf8_lossy(payload.key_id).into_owned(),
        })
    }
}
