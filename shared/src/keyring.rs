//! The keyring: several HMAC keys by id, one of them used for signing.
//!
//! Keys arrive as text, `id:base64key,id:base64key,...` (the `TOLLGATE_KEYS`
//! format). The **first** entry signs; the others only verify. Rotation is:
//! add the new key after the current one, deploy everywhere, move it to the
//! front, and later drop the old one.

use base64::Engine as _;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::tag::TagKey;

/// HMAC-SHA256 with its inner and outer pads already absorbed.
pub(crate) type HmacSha256 = Hmac<Sha256>;

/// Shortest key accepted, in bytes.
pub const MIN_KEY_LEN: usize = 32;
/// Longest key id, in bytes.
pub const MAX_KEY_ID_LEN: usize = 16;

const TOKEN_DOMAIN: &[u8] = b"tollgate/token/v1";
const LIST_DOMAIN: &[u8] = b"tollgate/revocation-list/v1";
const FRESHNESS_DOMAIN: &[u8] = b"tollgate/freshness/v1";
const USAGE_DOMAIN: &[u8] = b"tollgate/usage-report/v1";
/// Origins hold only this derivation (`tollgate keys derive-origin`).
pub(crate) const ASSERTION_DOMAIN: &[u8] = b"tollgate/origin-assertion/v1";

/// Why a keyring could not be built. Never contains key material.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyringError {
    /// No keys were given.
    #[error("the keyring is empty")]
    Empty,
    /// An entry is not of the form `id:base64key`.
    #[error("keyring entry {index} is not of the form id:base64key")]
    BadEntry { index: usize },
    /// A key id is empty, too long or uses characters outside `[A-Za-z0-9._-]`.
    #[error("keyring entry {index} has an invalid key id (1-16 of A-Z a-z 0-9 . _ -)")]
    BadKeyId { index: usize },
    /// The key is not valid base64.
    #[error("key {id:?} is not valid base64")]
    BadBase64 { id: String },
    /// The key is shorter than [`MIN_KEY_LEN`].
    #[error("key {id:?} is {len} bytes; at least 32 are required")]
    TooShort { id: String, len: usize },
    /// Two entries share an id.
    #[error("key id {id:?} appears twice")]
    DuplicateId { id: String },
    /// A derived key (an origin's) that is not exactly 32 bytes.
    #[error("key {id:?} is {len} bytes; derived keys are exactly 32")]
    WrongLength { id: String, len: usize },
}

/// One key, held only as precomputed HMAC states for each purpose.
#[derive(Clone)]
pub(crate) struct Key {
    pub(crate) id: std::sync::Arc<str>,
    /// Mints token tags (the reference implementation).
    pub(crate) token_mac: HmacSha256,
    /// Checks token tags: the same HMAC on precomputed pad states.
    pub(crate) token_tag: TagKey,
    pub(crate) list_mac: HmacSha256,
    /// Signs "sequence N is current as of T" statements.
    pub(crate) freshness_mac: HmacSha256,
    /// Signs the usage reports the edge sends the admin.
    pub(crate) usage_mac: HmacSha256,
    /// The origin-assertion subkey; an origin gets this and nothing else.
    pub(crate) assertion_key: [u8; 32],
}

/// Keys by id; the first one signs. `Debug` shows ids only.
#[derive(Clone)]
pub struct Keyring {
    keys: Vec<Key>,
}

impl core::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Keyring")
            .field("key_ids", &self.key_ids().collect::<Vec<_>>())
            .finish()
    }
}

/// True if `id` is a valid key id: 1-16 of `A-Z a-z 0-9 . _ -`.
pub fn valid_key_id(id: &str) -> bool {
    crate::token::valid_name(id, MAX_KEY_ID_LEN, crate::token::KEY_ID_CHAR)
}

/// The 32-byte subkey for one purpose: HMAC-SHA256(secret, domain).
#[allow(
    clippy::expect_used,
    reason = "HMAC accepts keys of any length: new_from_slice cannot fail"
)]
pub(crate) fn derive(secret: &[u8], domain: &[u8]) -> [u8; 32] {
    HmacSha256::new_from_slice(secret)
        .expect("HMAC accepts keys of any length")
        .chain_update(domain)
        .finalize()
        .into_bytes()
        .into()
}

#[allow(
    clippy::expect_used,
    reason = "HMAC accepts keys of any length: new_from_slice cannot fail"
)]
pub(crate) fn mac(subkey: &[u8; 32]) -> HmacSha256 {
    HmacSha256::new_from_slice(subkey).expect("HMAC accepts keys of any length")
}

impl Keyring {
    /// Parses `id:base64key,...`; whitespace around entries is ignored.
    pub fn parse(text: &str) -> Result<Self, KeyringError> {
        Self::from_keys(parse_entries(text)?)
    }

    /// Builds a keyring from `(id, secret)` pairs; the first pair signs.
    pub fn from_keys(
        keys: impl IntoIterator<Item = (String, Vec<u8>)>,
    ) -> Result<Self, KeyringError> {
        let mut out: Vec<Key> = Vec::new();
        for (index, (id, secret)) in keys.into_iter().enumerate() {
            if !valid_key_id(&id) {
                return Err(KeyringError::BadKeyId { index });
            }
            if secret.len() < MIN_KEY_LEN {
                return Err(KeyringError::TooShort {
                    id,
                    len: secret.len(),
                });
            }
            if out.iter().any(|k| *k.id == *id) {
                return Err(KeyringError::DuplicateId { id });
            }
            let token_key = derive(&secret, TOKEN_DOMAIN);
            out.push(Key {
                token_mac: mac(&token_key),
                token_tag: TagKey::new(&token_key),
                list_mac: mac(&derive(&secret, LIST_DOMAIN)),
                freshness_mac: mac(&derive(&secret, FRESHNESS_DOMAIN)),
                usage_mac: mac(&derive(&secret, USAGE_DOMAIN)),
                assertion_key: derive(&secret, ASSERTION_DOMAIN),
                id: id.into(),
            });
        }
        if out.is_empty() {
            return Err(KeyringError::Empty);
        }
        Ok(Keyring { keys: out })
    }

    /// The id of the key that signs new tokens and lists.
    #[allow(
        clippy::indexing_slicing,
        reason = "a Keyring is never empty: from_keys refuses an empty list"
    )]
    pub fn signing_key_id(&self) -> &str {
        &self.keys[0].id
    }

    /// All key ids, signing key first.
    pub fn key_ids(&self) -> impl Iterator<Item = &str> {
        self.keys.iter().map(|k| &*k.id)
    }

    pub(crate) fn keys(&self) -> impl Iterator<Item = &Key> {
        self.keys.iter()
    }

    #[allow(
        clippy::indexing_slicing,
        reason = "a Keyring is never empty: from_keys refuses an empty list"
    )]
    pub(crate) fn signing(&self) -> &Key {
        &self.keys[0]
    }

    pub(crate) fn get(&self, id: &[u8]) -> Option<&Key> {
        self.keys.iter().find(|k| k.id.as_bytes() == id)
    }
}

/// The `(id, key)` pairs of `id:base64key,...` text, in order; empty entries are skipped.
/// Lengths and duplicate ids are the caller's to check.
pub(crate) fn parse_entries(text: &str) -> Result<Vec<(String, Vec<u8>)>, KeyringError> {
    let mut keys = Vec::new();
    for (index, entry) in text.split(',').map(str::trim).enumerate() {
        if entry.is_empty() {
            continue;
        }
        let (id, b64) = entry
            .split_once(':')
            .ok_or(KeyringError::BadEntry { index })?;
        if !valid_key_id(id) {
            return Err(KeyringError::BadKeyId { index });
        }
        let secret =
            decode_key(b64.trim()).ok_or_else(|| KeyringError::BadBase64 { id: id.to_owned() })?;
        keys.push((id.to_owned(), secret));
    }
    Ok(keys)
}

fn decode_key(b64: &str) -> Option<Vec<u8>> {
    use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
    let cfg = GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent);
    GeneralPurpose::new(&base64::alphabet::STANDARD, cfg)
        .decode(b64)
        .or_else(|_| GeneralPurpose::new(&base64::alphabet::URL_SAFE, cfg).decode(b64))
        .ok()
}

/// A fresh random 32-byte key from the operating system's generator.
pub fn generate_key() -> Result<[u8; 32], getrandom::Error> {
    let mut key = [0u8; 32];
    getrandom::fill(&mut key)?;
    Ok(key)
}

/// A fresh keyring entry, `id:base64key`, ready for `TOLLGATE_KEYS`.
pub fn generate_entry(id: &str) -> Result<String, getrandom::Error> {
    let key = generate_key()?;
    Ok(format!(
        "{id}:{}",
        base64::engine::general_purpose::STANDARD.encode(key)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    const K32: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

    #[test]
    fn parses_several_keys_first_signs() {
        let ring = Keyring::parse(&format!("new:{K32}, old:{K32}")).unwrap();
        assert_eq!(ring.signing_key_id(), "new");
        assert_eq!(ring.key_ids().collect::<Vec<_>>(), ["new", "old"]);
        assert!(ring.get(b"old").is_some());
        assert!(ring.get(b"gone").is_none());
    }

    #[test]
    fn rejects_bad_keyrings() {
        assert_eq!(Keyring::parse("").unwrap_err(), KeyringError::Empty);
        assert_eq!(
            Keyring::parse("nocolon").unwrap_err(),
            KeyringError::BadEntry { index: 0 }
        );
        assert_eq!(
            Keyring::parse(&format!("bad id:{K32}")).unwrap_err(),
            KeyringError::BadKeyId { index: 0 }
        );
        assert!(matches!(
            Keyring::parse("k:!!!").unwrap_err(),
            KeyringError::BadBase64 { .. }
        ));
        assert_eq!(
            Keyring::parse("k:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHg==").unwrap_err(),
            KeyringError::TooShort {
                id: "k".into(),
                len: 31
            }
        );
        assert!(matches!(
            Keyring::parse(&format!("k:{K32},k:{K32}")).unwrap_err(),
            KeyringError::DuplicateId { .. }
        ));
    }

    #[test]
    fn debug_never_shows_key_material() {
        let ring = Keyring::parse(&format!("k1:{K32}")).unwrap();
        let shown = format!("{ring:?}");
        assert!(shown.contains("k1") && !shown.contains("AAEC"));
    }

    #[test]
    fn generated_entries_parse() {
        let a = generate_entry("k1").unwrap();
        let b = generate_entry("k1").unwrap();
        assert_ne!(a, b);
        assert!(Keyring::parse(&a).is_ok());
    }
}
