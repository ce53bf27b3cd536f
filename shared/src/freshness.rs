//! Signed freshness statements: "list sequence N is current as of time T".
//!
//! The admin adds one to every answer of its list endpoint, 304 included
//! ([`HEADER`]). Without it, whoever answers the list URL could replay an old
//! signed list, or answer 304 forever, and the edge would never notice. The
//! edge accepts a list (or a 304) only together with a statement for exactly
//! that sequence, recent enough, signed with the keyring's freshness subkey:
//! a token tag or a list signature can never pass as one.
//!
//! ```text
//! "TGFS" format:u8=1 key_id:len8+bytes sequence:u64be as_of:u64be
//! tag: HMAC-SHA256(freshness key of key_id, everything above)   32 bytes
//! ```
//! Sent as unpadded base64url; one encoding per statement, trailing bytes rejected.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::Mac;

use crate::codec::{Reader, Writer};
use crate::keyring::{Keyring, MAX_KEY_ID_LEN, valid_key_id};

/// The response header that carries the statement.
pub const HEADER: &str = "X-Tollgate-Freshness";

const MAGIC: &[u8; 4] = b"TGFS";
const FORMAT: u8 = 1;
const TAG_LEN: usize = 32;
/// Longest text accepted: magic, format, the longest key id, two times, tag.
const MAX_TEXT_LEN: usize = (4 + 1 + 1 + MAX_KEY_ID_LEN + 16 + TAG_LEN).div_ceil(3) * 4;

/// What a statement says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Freshness {
    /// The list's sequence number that was current.
    pub sequence: u64,
    /// When it was current (the signer's clock, Unix seconds).
    pub as_of: u64,
}

/// Why a statement was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FreshnessError {
    /// Not a well-formed statement.
    #[error("the freshness statement is malformed")]
    Malformed,
    /// Signed with a key id the keyring does not hold.
    #[error("the freshness statement was signed with an unknown key")]
    UnknownKey,
    /// The signature does not match.
    #[error("the freshness statement's signature is invalid")]
    BadSignature,
}

impl Freshness {
    /// Signs the statement with the keyring's signing key; returns its text form.
    pub fn sign(&self, keyring: &Keyring) -> String {
        let key = keyring.signing();
        let mut bin = Vec::with_capacity(64 + TAG_LEN);
        bin.extend_from_slice(MAGIC);
        bin.push(FORMAT);
        bin.short_str(&key.id);
        bin.extend_from_slice(&self.sequence.to_be_bytes());
        bin.extend_from_slice(&self.as_of.to_be_bytes());
        let tag = key
            .freshness_mac
            .clone()
            .chain_update(&bin)
            .finalize()
            .into_bytes();
        bin.extend_from_slice(&tag);
        URL_SAFE_NO_PAD.encode(bin)
    }

    /// Checks the signature of a statement's text form and reads it. Never panics.
    pub fn verify(text: &str, keyring: &Keyring) -> Result<Freshness, FreshnessError> {
        if text.len() > MAX_TEXT_LEN {
            return Err(FreshnessError::Malformed);
        }
        let bin = URL_SAFE_NO_PAD
            .decode(text)
            .map_err(|_| FreshnessError::Malformed)?;
        let body_len = bin
            .len()
            .checked_sub(TAG_LEN)
            .ok_or(FreshnessError::Malformed)?;
        let (body, tag) = bin.split_at(body_len);
        let mut r = Reader::new(body);
        let malformed = |_| FreshnessError::Malformed;
        if r.bytes(4).map_err(malformed)? != MAGIC || r.u8().map_err(malformed)? != FORMAT {
            return Err(FreshnessError::Malformed);
        }
        let key_id = r
            .short_str(MAX_KEY_ID_LEN, valid_key_id)
            .map_err(malformed)?;
        let sequence = r.u64().map_err(malformed)?;
        let as_of = r.u64().map_err(malformed)?;
        r.finish().map_err(malformed)?;
        let key = keyring
            .get(key_id.as_bytes())
            .ok_or(FreshnessError::UnknownKey)?;
        key.freshness_mac
            .clone()
            .chain_update(body)
            .verify_slice(tag)
            .map_err(|_| FreshnessError::BadSignature)?;
        Ok(Freshness { sequence, as_of })
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    const K1: &str = "k1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
    const K1_OTHER: &str = "k1:ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=";

    fn ring(text: &str) -> Keyring {
        Keyring::parse(text).unwrap()
    }

    #[test]
    fn round_trip() {
        let f = Freshness {
            sequence: 42,
            as_of: 1_750_000_000,
        };
        let text = f.sign(&ring(K1));
        assert!(text.len() <= MAX_TEXT_LEN, "{}", text.len());
        assert_eq!(Freshness::verify(&text, &ring(K1)), Ok(f));
    }

    #[test]
    fn other_keys_and_tampering_are_refused() {
        let text = Freshness {
            sequence: 7,
            as_of: 9,
        }
        .sign(&ring(K1));
        assert_eq!(
            Freshness::verify(&text, &ring(K1_OTHER)),
            Err(FreshnessError::BadSignature)
        );
        let other_id = ring("k2:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=");
        assert_eq!(
            Freshness::verify(&text, &other_id),
            Err(FreshnessError::UnknownKey)
        );
        let mut bin = URL_SAFE_NO_PAD.decode(&text).unwrap();
        for i in 0..bin.len() {
            bin[i] ^= 0x01;
            let changed = URL_SAFE_NO_PAD.encode(&bin);
            assert!(Freshness::verify(&changed, &ring(K1)).is_err(), "byte {i}");
            bin[i] ^= 0x01;
        }
        for bad in ["", "!!", &text[..text.len() - 2], &format!("{text}AA")] {
            assert!(Freshness::verify(bad, &ring(K1)).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_tag_made_with_another_purpose_key_never_passes() {
        let keyring = ring(K1);
        let text = Freshness {
            sequence: 5,
            as_of: 6,
        }
        .sign(&keyring);
        let mut bin = URL_SAFE_NO_PAD.decode(&text).unwrap();
        let body_len = bin.len() - TAG_LEN;
        let key = keyring.signing();
        for other in [&key.list_mac, &key.token_mac] {
            let tag = other
                .clone()
                .chain_update(&bin[..body_len])
                .finalize()
                .into_bytes();
            bin[body_len..].copy_from_slice(&tag);
            assert_eq!(
                Freshness::verify(&URL_SAFE_NO_PAD.encode(&bin), &keyring),
                Err(FreshnessError::BadSignature)
            );
        }
    }
}
