//! Minting and verifying tokens: a [`Keyring`] plus the format settings.
//!
//! Verification runs the checks from cheapest to dearest and stops at the
//! first failure: structure, checksum, key id, HMAC (constant time), time
//! window, then the revocation list.

use hmac::Mac;

use crate::keyring::Keyring;
use crate::revocation::{EntryState, RevocationList};
use crate::token::{
    CHECKSUM_LEN, Claims, DEFAULT_PREFIX, MAX_BINARY_LEN, MAX_ROLES, Payload, TAG_LEN, ascii,
    checksum_ok, decode_body, encode_payload, render, role_section, valid_prefix, valid_role,
    valid_subject,
};
use crate::verified::Verified;

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
    pub fn code(self) -> crate::ErrorCode {
        match self {
            VerifyError::Malformed => crate::ErrorCode::Malformed,
            VerifyError::BadChecksum => crate::ErrorCode::BadChecksum,
            VerifyError::UnknownKey => crate::ErrorCode::UnknownKey,
            VerifyError::BadSignature => crate::ErrorCode::BadSignature,
            VerifyError::Expired => crate::ErrorCode::Expired,
            VerifyError::NotYetValid => crate::ErrorCode::NotYetValid,
            VerifyError::Revoked => crate::ErrorCode::Revoked,
            VerifyError::Disabled => crate::ErrorCode::Disabled,
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
    /// `expires_at` is not after `issued_at`, or is past 2106 (times are 32-bit).
    #[error("expiry must be after issue time and before 2106")]
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

/// Mints and verifies tokens with one keyring, prefix and clock leeway.
#[derive(Debug, Clone)]
pub struct Authority {
    keyring: Keyring,
    prefix: String,
    leeway: u64,
}

// Every payload fits the short-message HMAC that checks tags.
const _: () = assert!(MAX_BINARY_LEN - TAG_LEN - CHECKSUM_LEN <= crate::tag::MAX_MESSAGE_LEN);

/// Clock leeway used unless configured, in seconds.
pub const DEFAULT_LEEWAY_SECONDS: u64 = 30;

impl Authority {
    /// An authority with the default prefix (`tg`) and leeway.
    pub fn new(keyring: Keyring) -> Self {
        Authority {
            keyring,
            prefix: DEFAULT_PREFIX.to_owned(),
            leeway: DEFAULT_LEEWAY_SECONDS,
        }
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
        let key = self
            .keyring
            .get(key_id.as_bytes())
            .ok_or(MintError::UnknownKey)?;
        if !valid_subject(&claims.subject) {
            return Err(MintError::BadSubject);
        }
        if let Some(bad) = claims.roles.iter().find(|r| !valid_role(r)) {
            return Err(MintError::BadRole(bad.clone()));
        }
        if claims.expires_at <= claims.issued_at || claims.expires_at > u64::from(u32::MAX) {
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
        let tag = key
            .token_mac
            .clone()
            .chain_update(&bin)
            .finalize()
            .into_bytes();
        bin.extend_from_slice(&tag);
        Ok(render(&self.prefix, bin))
    }

    /// Checks `token`'s structure, checksum, key and signature only: no clock, no list. For a
    /// caller that judges time and state itself (the admin, against its store). Allocates nothing.
    pub fn verify_signature(&self, token: &str) -> Result<Verified, VerifyError> {
        self.signed(token).map(|(out, _)| out)
    }

    /// Steps 1-4 of verification; the payload's ranges index the result's buffer.
    #[inline(always)]
    #[allow(
        clippy::indexing_slicing,
        reason = "n is the decoded length, checked against MIN_BINARY_LEN; the payload's ranges come from Payload::parse, which bounds them"
    )]
    fn signed(&self, token: &str) -> Result<(Verified, Payload), VerifyError> {
        let mut out = Verified::blank();
        // 1. structure
        let n = decode_body(token, &self.prefix, &mut out.bin).ok_or(VerifyError::Malformed)?;
        let bin = &out.bin[..n];
        // 2. checksum
        if !checksum_ok(bin) {
            return Err(VerifyError::BadChecksum);
        }
        let (payload_bytes, tag) = bin[..n - CHECKSUM_LEN].split_at(n - CHECKSUM_LEN - TAG_LEN);
        let payload = Payload::parse(payload_bytes).map_err(|_| VerifyError::Malformed)?;
        // 3. key id
        let key = self
            .keyring
            .get(&payload_bytes[payload.key_id.clone()])
            .ok_or(VerifyError::UnknownKey)?;
        // 4. signature, compared in constant time
        if !key.token_tag.verify(payload_bytes, tag) {
            return Err(VerifyError::BadSignature);
        }
        // Ranges fit in u8: a payload is at most MAX_BINARY_LEN (192) bytes.
        out.key_id = (payload.key_id.start as u8, payload.key_id.end as u8);
        out.subject = (payload.subject.start as u8, payload.subject.end as u8);
        out.roles = (payload.roles.start as u8, payload.roles.end as u8);
        out.token_id = payload.token_id;
        out.kind = payload.kind;
        out.issued_at = payload.issued_at;
        out.expires_at = payload.expires_at;
        Ok((out, payload))
    }

    /// Verifies `token` at `now` (Unix seconds) against `revocations`.
    ///
    /// Allocates nothing: the result reads its claims from the decoded token
    /// it holds. Call [`Verified::claims`] for an owned copy.
    #[allow(
        clippy::indexing_slicing,
        reason = "the payload's ranges come from Payload::parse over this same buffer"
    )]
    pub fn verify(
        &self,
        token: &str,
        now: u64,
        revocations: &RevocationList,
    ) -> Result<Verified, VerifyError> {
        let (mut out, payload) = self.signed(token)?;
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
        if let Some(rule) = revocations.subject_rule(ascii(&out.bin[payload.subject.clone()])) {
            if payload.issued_at < rule.void_before {
                return Err(VerifyError::Revoked);
            }
            let mut dropped = 0u16;
            for (i, role) in role_section(&out.bin[payload.roles.clone()]).enumerate() {
                if rule
                    .drop_roles
                    .get(ascii(role))
                    .is_some_and(|&before| payload.issued_at < before)
                {
                    dropped |= 1 << i;
                }
            }
            out.dropped = dropped;
        }
        out.expires_at = expires_at;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::revocation::{Entry, SubjectRule};
    use crate::token::TokenId;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    const NOW: u64 = 1_800_000_000;

    fn authority(keys: &str) -> Authority {
        Authority::new(Keyring::parse(keys).unwrap())
    }

    fn ring() -> Authority {
        authority(
            "k1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=,k0:HyAhIiMkJSYnKCkqKywtLi8wMTIzNDU2Nzg5Ojs8PT4=",
        )
    }

    fn claims() -> Claims {
        Claims {
            token_id: TokenId([7; 16]),
            subject: "alice".into(),
            kind: Kind::Personal,
            roles: vec!["user".into(), "admin".into(), "user".into()],
            issued_at: NOW - 60,
            expires_at: NOW + 3600,
        }
    }

    use crate::token::Kind;

    #[test]
    fn verify_signature_ignores_time_and_lists_but_not_signatures() {
        let a = Authority::new(
            Keyring::parse("k1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=").unwrap(),
        );
        let claims = Claims {
            token_id: TokenId([4; 16]),
            subject: "alice".into(),
            kind: Kind::Personal,
            roles: vec!["r".into()],
            issued_at: 1_000,
            expires_at: 2_000,
        };
        let token = a.mint(&claims).unwrap();
        let v = a.verify_signature(&token).unwrap();
        assert_eq!(v.claims(), claims, "an expired token still reads");
        let other = Authority::new(
            Keyring::parse("k1:ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=").unwrap(),
        );
        assert_eq!(
            other.verify_signature(&token).err(),
            Some(VerifyError::BadSignature)
        );
        assert_eq!(
            a.verify_signature("tg_x").err(),
            Some(VerifyError::Malformed)
        );
    }

    #[test]
    fn round_trip_sorts_roles() {
        let a = ring();
        let t = a.mint(&claims()).unwrap();
        assert!(t.starts_with("tg_") && t.len() < 200, "{t}");
        let v = a.verify(&t, NOW, &RevocationList::default()).unwrap();
        assert_eq!(v.claims().roles, ["admin", "user"]);
        assert_eq!(v.key_id(), "k1");
        assert!(crate::has_valid_checksum(&t, "tg"));
    }

    #[test]
    fn old_keys_still_verify_unknown_keys_fail() {
        let a = ring();
        let old = a.mint_with_key(&claims(), "k0").unwrap();
        assert_eq!(
            a.verify(&old, NOW, &RevocationList::default())
                .unwrap()
                .key_id(),
            "k0"
        );
        let retired = authority("k1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=");
        assert_eq!(
            retired.verify(&old, NOW, &RevocationList::default()),
            Err(VerifyError::UnknownKey)
        );
        assert_eq!(
            a.mint_with_key(&claims(), "nope"),
            Err(MintError::UnknownKey)
        );
    }

    #[test]
    fn each_failure_has_its_own_kind() {
        let a = ring();
        let none = RevocationList::default();
        let t = a.mint(&claims()).unwrap();
        assert_eq!(
            a.verify("tg_short", NOW, &none),
            Err(VerifyError::Malformed)
        );
        assert_eq!(
            a.verify(&t.replacen("tg_", "xx_", 1), NOW, &none),
            Err(VerifyError::Malformed)
        );
        let mut chars: Vec<char> = t.chars().collect();
        chars[10] = if chars[10] == 'A' { 'B' } else { 'A' };
        assert_eq!(
            a.verify(&chars.iter().collect::<String>(), NOW, &none),
            Err(VerifyError::BadChecksum)
        );
        let same_id_other_key = authority("k1:ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=")
            .mint(&claims())
            .unwrap();
        assert_eq!(
            a.verify(&same_id_other_key, NOW, &none),
            Err(VerifyError::BadSignature)
        );
        assert_eq!(
            a.verify(&t, NOW + 3600 + DEFAULT_LEEWAY_SECONDS, &none),
            Err(VerifyError::Expired)
        );
        assert!(
            a.verify(&t, NOW + 3600 + DEFAULT_LEEWAY_SECONDS - 1, &none)
                .is_ok(),
            "leeway applies"
        );
        assert_eq!(
            a.verify(&t, NOW - 60 - DEFAULT_LEEWAY_SECONDS - 1, &none),
            Err(VerifyError::NotYetValid)
        );
        let mut list = RevocationList::new(1, NOW);
        list.insert(TokenId([7; 16]), Entry::revoked(NOW + 3600));
        assert_eq!(a.verify(&t, NOW, &list), Err(VerifyError::Revoked));
        list.insert(
            TokenId([7; 16]),
            Entry {
                state: EntryState::Disabled,
                expires_at: NOW + 3600,
            },
        );
        assert_eq!(a.verify(&t, NOW, &list), Err(VerifyError::Disabled));
    }

    #[test]
    fn grace_changed_expiry_and_subject_rules() {
        let a = ring().with_leeway(0);
        let t = a.mint(&claims()).unwrap();
        let id = TokenId([7; 16]);
        let mut list = RevocationList::new(1, NOW);
        list.insert(
            id,
            Entry {
                state: EntryState::Revoked { from: NOW + 10 },
                expires_at: NOW + 3600,
            },
        );
        assert!(
            a.verify(&t, NOW + 9, &list).is_ok(),
            "inside the grace period"
        );
        assert_eq!(a.verify(&t, NOW + 10, &list), Err(VerifyError::Revoked));

        list.insert(
            id,
            Entry {
                state: EntryState::ExpiryChanged,
                expires_at: NOW + 100,
            },
        );
        assert_eq!(
            a.verify(&t, NOW + 99, &list).unwrap().claims().expires_at,
            NOW + 100
        );
        assert_eq!(a.verify(&t, NOW + 100, &list), Err(VerifyError::Expired));
        list.insert(
            id,
            Entry {
                state: EntryState::ExpiryChanged,
                expires_at: NOW + 7200,
            },
        );
        assert!(
            a.verify(&t, NOW + 5000, &list).is_ok(),
            "an admin may extend"
        );
        list.remove(&id);

        let mut rule = SubjectRule {
            expires_at: NOW + 9999,
            ..Default::default()
        };
        rule.drop_roles.insert("admin".into(), NOW);
        list.set_subject("alice".into(), rule.clone());
        let v = a.verify(&t, NOW, &list).unwrap();
        assert_eq!(v.claims().roles, ["user"]);
        assert!(
            v.has_role("user") && !v.has_role("admin"),
            "a cut role is gone"
        );
        assert_eq!(v.roles().collect::<Vec<_>>(), ["user"]);
        rule.void_before = NOW - 60; // issued exactly then: still valid
        list.set_subject("alice".into(), rule.clone());
        assert!(a.verify(&t, NOW, &list).is_ok());
        rule.void_before = NOW - 59;
        list.set_subject("alice".into(), rule);
        assert_eq!(a.verify(&t, NOW, &list), Err(VerifyError::Revoked));
    }

    #[test]
    fn mint_rejects_bad_claims() {
        let a = ring();
        let mut c = claims();
        c.subject = "bad subject".into();
        assert_eq!(a.mint(&c), Err(MintError::BadSubject));
        let mut c = claims();
        c.roles = vec!["a,b".into()];
        assert_eq!(a.mint(&c), Err(MintError::BadRole("a,b".into())));
        let mut c = claims();
        c.roles = (0..17).map(|i| format!("r{i}")).collect();
        assert_eq!(a.mint(&c), Err(MintError::TooManyRoles));
        let mut c = claims();
        c.roles = (0..3).map(|i| format!("{i}{}", "r".repeat(60))).collect();
        assert_eq!(a.mint(&c), Err(MintError::TooLarge));
        let mut c = claims();
        c.expires_at = c.issued_at;
        assert_eq!(a.mint(&c), Err(MintError::BadExpiry));
    }

    #[test]
    fn custom_prefix() {
        let a = ring().with_prefix("acme").unwrap();
        let t = a.mint(&claims()).unwrap();
        assert!(t.starts_with("acme_"));
        assert!(a.verify(&t, NOW, &RevocationList::default()).is_ok());
        assert_eq!(
            ring().verify(&t, NOW, &RevocationList::default()),
            Err(VerifyError::Malformed)
        );
        assert!(ring().with_prefix("Bad_").is_err());
    }

    #[test]
    fn errors_never_echo_the_token() {
        for e in VerifyError::ALL {
            assert!(!e.to_string().contains("tg_"));
            assert!(
                e.code()
                    .as_str()
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c == '_')
            );
        }
    }
}
