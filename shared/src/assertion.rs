//! The identity assertion the edge sends the origin (`X-Tollgate-Assertion`).
//!
//! Plain `X-Tollgate-*` headers prove nothing to an origin that can be reached
//! some other way. The assertion is a short-lived statement of who called,
//! bound to the request's method and path and signed with a subkey derived for
//! this purpose only. An origin holds just that subkey ([`AssertionKeys`],
//! printed by `tollgate keys derive-origin`): it can check assertions but can
//! neither mint tokens, sign lists, nor vouch for freshness.
//!
//! ```text
//! base64url( "TGA" format:u8=1 key_id:len8+bytes issued_at:varint lifetime:varint
//!            token_id:16 kind:u8 request:16 subject:len8+bytes role_count:u8 (role:len8+bytes)*
//!            tag: HMAC-SHA256(assertion key of key_id, everything above) )
//! request = SHA-256(method || 0x00 || path)[..16]
//! ```
//! The path is the one the origin receives (origin base path included); the
//! hash keeps the header short whatever the path's length.

use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::Mac;
use sha2::{Digest, Sha256};

use crate::codec::{Invalid, Reader, Writer};
use crate::keyring::{
    HmacSha256, Keyring, KeyringError, MAX_KEY_ID_LEN, parse_entries, valid_key_id,
};
use crate::token::{
    Kind, MAX_ROLE_LEN, MAX_ROLES, MAX_SUBJECT_LEN, TokenId, valid_role, valid_subject,
};

/// The request header that carries the assertion.
pub const HEADER: &str = "X-Tollgate-Assertion";
/// How long an assertion is good for unless configured, in seconds.
pub const DEFAULT_LIFETIME_SECONDS: u64 = 60;
/// Clock difference an origin tolerates unless configured, in seconds.
pub const DEFAULT_LEEWAY_SECONDS: u64 = 5;

const MAGIC: &[u8; 3] = b"TGA";
const FORMAT: u8 = 1;
const TAG_LEN: usize = 32;
const REQUEST_LEN: usize = 16;
/// Longest decoded assertion: header fields, the longest subject and every role at full length.
const MAX_BINARY_LEN: usize = 3
    + 1
    + 1
    + MAX_KEY_ID_LEN
    + 20
    + 16
    + 1
    + REQUEST_LEN
    + 1
    + MAX_SUBJECT_LEN
    + 1
    + MAX_ROLES * (1 + MAX_ROLE_LEN)
    + TAG_LEN;
/// Longest lifetime accepted when reading (a day); the edge's setting is far below.
const MAX_LIFETIME: u64 = 86_400;

/// What the edge asserts about one forwarded request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// The token's subject.
    pub subject: String,
    /// The token's roles after the revocation list's cut-offs, ascending.
    pub roles: Vec<String>,
    /// Session, personal or service.
    pub kind: Kind,
    /// The token's id.
    pub token_id: TokenId,
    /// When the edge made the assertion (Unix seconds).
    pub issued_at: u64,
    /// When it stops being accepted (Unix seconds).
    pub expires_at: u64,
}

impl Identity {
    /// True if the identity carries `role`.
    pub fn has_role(&self, role: &str) -> bool {
        self.roles.iter().any(|r| r == role)
    }
}

/// The parts the edge signs, borrowed from a verified token and the request.
#[derive(Debug, Clone, Copy)]
pub struct Parts<'a> {
    /// The token's id.
    pub token_id: TokenId,
    /// The token's subject.
    pub subject: &'a str,
    /// The token's kind.
    pub kind: Kind,
    /// Roles, ascending and unique (as verification returns them).
    pub roles: &'a [&'a str],
    /// The method the origin receives.
    pub method: &'a str,
    /// The path the origin receives.
    pub path: &'a str,
    /// Now, Unix seconds.
    pub issued_at: u64,
    /// Seconds the assertion is good for.
    pub lifetime: u64,
}

/// Why an assertion was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AssertionError {
    /// No assertion header.
    #[error("the request carries no identity assertion")]
    Missing,
    /// Not a well-formed assertion.
    #[error("the identity assertion is malformed")]
    Malformed,
    /// Signed with a key id this origin does not hold.
    #[error("the identity assertion was signed with an unknown key")]
    UnknownKey,
    /// The signature does not match.
    #[error("the identity assertion's signature is invalid")]
    BadSignature,
    /// Made for another method or path.
    #[error("the identity assertion was made for another request")]
    WrongRequest,
    /// Past its lifetime.
    #[error("the identity assertion has expired")]
    Expired,
    /// Made in the future (clocks too far apart).
    #[error("the identity assertion is not valid yet")]
    NotYetValid,
}

impl AssertionError {
    /// A stable snake_case code.
    pub fn code(self) -> crate::ErrorCode {
        match self {
            AssertionError::Missing => crate::ErrorCode::MissingAssertion,
            AssertionError::Malformed => crate::ErrorCode::Malformed,
            AssertionError::UnknownKey => crate::ErrorCode::UnknownKey,
            AssertionError::BadSignature => crate::ErrorCode::BadSignature,
            AssertionError::WrongRequest => crate::ErrorCode::WrongRequest,
            AssertionError::Expired => crate::ErrorCode::Expired,
            AssertionError::NotYetValid => crate::ErrorCode::NotYetValid,
        }
    }
}

impl From<Invalid> for AssertionError {
    fn from(_: Invalid) -> Self {
        AssertionError::Malformed
    }
}

/// Assertion keys by id; the first signs. `Debug` shows ids only.
#[derive(Clone)]
pub struct AssertionKeys {
    keys: Vec<(Arc<str>, HmacSha256)>,
}

impl core::fmt::Debug for AssertionKeys {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let ids: Vec<&str> = self.keys.iter().map(|(id, _)| &**id).collect();
        f.debug_struct("AssertionKeys")
            .field("key_ids", &ids)
            .finish()
    }
}

fn request_hash(method: &str, path: &str) -> [u8; REQUEST_LEN] {
    let digest = Sha256::new()
        .chain_update(method.as_bytes())
        .chain_update([0u8])
        .chain_update(path.as_bytes())
        .finalize();
    let mut out = [0u8; REQUEST_LEN];
    out.iter_mut().zip(digest).for_each(|(o, d)| *o = d);
    out
}

impl AssertionKeys {
    /// The assertion subkeys of every key in `keyring` (what the edge holds).
    pub fn from_keyring(keyring: &Keyring) -> Self {
        AssertionKeys {
            keys: keyring
                .keys()
                .map(|k| (k.id.clone(), crate::keyring::mac(&k.assertion_key)))
                .collect(),
        }
    }

    /// The subkeys as text, `id:base64,...` (what `tollgate keys derive-origin` prints and
    /// [`parse`](Self::parse) reads).
    pub fn export(keyring: &Keyring) -> String {
        keyring
            .keys()
            .map(|k| {
                format!(
                    "{}:{}",
                    k.id,
                    base64::engine::general_purpose::STANDARD.encode(k.assertion_key)
                )
            })
            .collect::<Vec<_>>()
            .join(",")
    }

    /// Parses `id:base64key,...` of exactly 32-byte subkeys (an origin's `TOLLGATE_ORIGIN_KEYS`).
    pub fn parse(text: &str) -> Result<Self, KeyringError> {
        let mut keys: Vec<(Arc<str>, HmacSha256)> = Vec::new();
        for (id, secret) in parse_entries(text)? {
            let secret: [u8; 32] =
                secret
                    .try_into()
                    .map_err(|s: Vec<u8>| KeyringError::WrongLength {
                        id: id.clone(),
                        len: s.len(),
                    })?;
            if keys.iter().any(|(k, _)| **k == *id) {
                return Err(KeyringError::DuplicateId { id });
            }
            keys.push((id.into(), crate::keyring::mac(&secret)));
        }
        if keys.is_empty() {
            return Err(KeyringError::Empty);
        }
        Ok(AssertionKeys { keys })
    }

    /// Signs an assertion with the first key; returns its text form.
    pub fn sign(&self, parts: &Parts<'_>) -> String {
        let mut bin = Vec::with_capacity(160);
        let Some((id, mac)) = self.keys.first() else {
            return String::new();
        };
        bin.extend_from_slice(MAGIC);
        bin.push(FORMAT);
        bin.short_str(id);
        bin.varint(parts.issued_at);
        bin.varint(parts.lifetime);
        bin.extend_from_slice(&parts.token_id.0);
        bin.push(parts.kind.code());
        bin.extend_from_slice(&request_hash(parts.method, parts.path));
        bin.short_str(parts.subject);
        bin.push(u8::try_from(parts.roles.len()).unwrap_or(u8::MAX));
        for role in parts.roles {
            bin.short_str(role);
        }
        let tag = mac.clone().chain_update(&bin).finalize().into_bytes();
        bin.extend_from_slice(&tag);
        URL_SAFE_NO_PAD.encode(bin)
    }

    /// Checks an assertion for a request with `method` and `path` at `now` (Unix seconds),
    /// tolerating clocks `leeway` seconds apart. Never panics.
    pub fn verify(
        &self,
        text: &str,
        method: &str,
        path: &str,
        now: u64,
        leeway: u64,
    ) -> Result<Identity, AssertionError> {
        if text.len() > MAX_BINARY_LEN.div_ceil(3) * 4 {
            return Err(AssertionError::Malformed);
        }
        let bin = URL_SAFE_NO_PAD
            .decode(text)
            .map_err(|_| AssertionError::Malformed)?;
        let body_len = bin
            .len()
            .checked_sub(TAG_LEN)
            .ok_or(AssertionError::Malformed)?;
        let (body, tag) = bin.split_at(body_len);
        let mut r = Reader::new(body);
        if r.bytes(3)? != MAGIC || r.u8()? != FORMAT {
            return Err(AssertionError::Malformed);
        }
        let key_id = r.short_str(MAX_KEY_ID_LEN, valid_key_id)?;
        let (_, mac) = self
            .keys
            .iter()
            .find(|(id, _)| &**id == key_id)
            .ok_or(AssertionError::UnknownKey)?;
        mac.clone()
            .chain_update(body)
            .verify_slice(tag)
            .map_err(|_| AssertionError::BadSignature)?;
        let identity = read_signed(&mut r)?;
        r.finish()?;
        if identity.1 != request_hash(method, path) {
            return Err(AssertionError::WrongRequest);
        }
        let identity = identity.0;
        if identity.issued_at > now.saturating_add(leeway) {
            return Err(AssertionError::NotYetValid);
        }
        if now >= identity.expires_at.saturating_add(leeway) {
            return Err(AssertionError::Expired);
        }
        Ok(identity)
    }
}

/// Reads the signed fields after the key id; returns the identity and the request hash.
fn read_signed(r: &mut Reader<'_>) -> Result<(Identity, [u8; REQUEST_LEN]), AssertionError> {
    let issued_at = r.varint()?;
    let lifetime = r.varint()?;
    if lifetime == 0 || lifetime > MAX_LIFETIME {
        return Err(AssertionError::Malformed);
    }
    let token_id = TokenId(r.array()?);
    let kind = Kind::from_code(r.u8()?).ok_or(AssertionError::Malformed)?;
    let request = r.array::<REQUEST_LEN>()?;
    let subject = r.short_str(MAX_SUBJECT_LEN, valid_subject)?.to_owned();
    let count = usize::from(r.u8()?);
    if count > MAX_ROLES {
        return Err(AssertionError::Malformed);
    }
    let mut roles: Vec<String> = Vec::with_capacity(count);
    for _ in 0..count {
        let role = r.short_str(MAX_ROLE_LEN, valid_role)?;
        if roles.last().is_some_and(|p| role <= p.as_str()) {
            return Err(AssertionError::Malformed);
        }
        roles.push(role.to_owned());
    }
    let expires_at = issued_at
        .checked_add(lifetime)
        .ok_or(AssertionError::Malformed)?;
    let identity = Identity {
        subject,
        roles,
        kind,
        token_id,
        issued_at,
        expires_at,
    };
    Ok((identity, request))
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    const K1: &str = "k1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
    const NOW: u64 = 1_750_000_000;

    fn parts<'a>(roles: &'a [&'a str], path: &'a str) -> Parts<'a> {
        Parts {
            token_id: TokenId([7; 16]),
            subject: "alice",
            kind: Kind::Personal,
            roles,
            method: "GET",
            path,
            issued_at: NOW,
            lifetime: 60,
        }
    }

    fn edge_keys() -> AssertionKeys {
        AssertionKeys::from_keyring(&Keyring::parse(K1).unwrap())
    }

    /// What an origin holds: only the exported subkeys.
    fn origin_keys() -> AssertionKeys {
        AssertionKeys::parse(&AssertionKeys::export(&Keyring::parse(K1).unwrap())).unwrap()
    }

    #[test]
    fn the_origin_accepts_what_the_edge_signs() {
        let text = edge_keys().sign(&parts(&["a", "b"], "/x/y"));
        let id = origin_keys()
            .verify(&text, "GET", "/x/y", NOW + 10, 5)
            .unwrap();
        assert_eq!(id.subject, "alice");
        assert_eq!(id.roles, ["a", "b"]);
        assert_eq!((id.kind, id.token_id), (Kind::Personal, TokenId([7; 16])));
        assert_eq!((id.issued_at, id.expires_at), (NOW, NOW + 60));
        assert!(id.has_role("b") && !id.has_role("c"));
        assert!(text.len() < 200, "{}", text.len());
    }

    #[test]
    fn each_check_refuses() {
        let keys = origin_keys();
        let text = edge_keys().sign(&parts(&["a"], "/x"));
        let check = |t: &str, m: &str, p: &str, now: u64| keys.verify(t, m, p, now, 5);
        assert_eq!(
            check(&text, "GET", "/y", NOW),
            Err(AssertionError::WrongRequest)
        );
        assert_eq!(
            check(&text, "POST", "/x", NOW),
            Err(AssertionError::WrongRequest)
        );
        assert_eq!(
            check(&text, "GET", "/x/", NOW),
            Err(AssertionError::WrongRequest)
        );
        assert_eq!(
            check(&text, "GET", "/x", NOW + 65),
            Err(AssertionError::Expired)
        );
        assert!(check(&text, "GET", "/x", NOW + 64).is_ok());
        assert_eq!(
            check(&text, "GET", "/x", NOW - 6),
            Err(AssertionError::NotYetValid)
        );
        let other =
            AssertionKeys::parse("k1:ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=").unwrap();
        assert_eq!(
            other.verify(&text, "GET", "/x", NOW, 5),
            Err(AssertionError::BadSignature)
        );
        let unknown =
            AssertionKeys::parse("k9:ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=").unwrap();
        assert_eq!(
            unknown.verify(&text, "GET", "/x", NOW, 5),
            Err(AssertionError::UnknownKey)
        );
        let mut bin = URL_SAFE_NO_PAD.decode(&text).unwrap();
        for i in 0..bin.len() {
            bin[i] ^= 0x20;
            let t = URL_SAFE_NO_PAD.encode(&bin);
            assert!(check(&t, "GET", "/x", NOW).is_err(), "byte {i}");
            bin[i] ^= 0x20;
        }
        for bad in ["", "x", "!!!!", &text[..text.len() - 1]] {
            assert!(check(bad, "GET", "/x", NOW).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_origin_key_is_not_the_token_key() {
        let keyring = Keyring::parse(K1).unwrap();
        let exported = AssertionKeys::export(&keyring);
        assert!(!exported.contains("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="));
        // Parsing the exported subkeys as a keyring gives an authority that cannot mint
        // tokens the real keyring accepts.
        let impostor = crate::Authority::new(Keyring::parse(&exported).unwrap());
        let claims = crate::Claims {
            token_id: TokenId([1; 16]),
            subject: "mallory".into(),
            kind: Kind::Personal,
            roles: vec!["admin".into()],
            issued_at: NOW,
            expires_at: NOW + 60,
        };
        let forged = impostor.mint(&claims).unwrap();
        assert_eq!(
            crate::Authority::new(keyring)
                .verify(&forged, NOW, &crate::RevocationList::default())
                .err(),
            Some(crate::VerifyError::BadSignature)
        );
    }

    #[test]
    fn bad_origin_key_text_is_refused() {
        for text in [
            "",
            "k1",
            "k1:AAAA",
            "bad id:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
        ] {
            assert!(AssertionKeys::parse(text).is_err(), "{text}");
        }
        let debug = format!("{:?}", origin_keys());
        assert!(debug.contains("k1") && !debug.contains("AAEC"));
    }
}
