//! HMAC-SHA256 of short messages (token payloads) straight on SHA-256's
//! compression function, with the key's inner and outer pad blocks
//! compressed once per key (RFC 2104, section 4).
//!
//! Verifying a token is then two or three compressions and nothing else; the
//! general `hmac` crate, which mints tokens and signs revocation lists, is the
//! reference these tags are tested against.

use sha2::block_api::compress256;
use subtle::ConstantTimeEq;

/// SHA-256's initial hash value (FIPS 180-4, 5.3.3).
const IV: [u32; 8] = [
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
];
const BLOCK: usize = 64;
/// Longest message [`TagKey::tag`] accepts: three blocks less the padding.
pub(crate) const MAX_MESSAGE_LEN: usize = 3 * BLOCK - 9;

/// One HMAC-SHA256 key, held as the hash states after its two pad blocks.
#[derive(Clone)]
pub(crate) struct TagKey {
    inner: [u32; 8],
    outer: [u32; 8],
}

impl TagKey {
    /// Precomputes the pad states for `key` (at most one block long, as derived keys are).
    pub(crate) fn new(key: &[u8; 32]) -> Self {
        let state = |pad: u8| {
            let mut block = [pad; BLOCK];
            block.iter_mut().zip(key).for_each(|(b, k)| *b ^= k);
            let mut state = IV;
            compress256(&mut state, &[block]);
            state
        };
        TagKey {
            inner: state(0x36),
            outer: state(0x5c),
        }
    }

    /// HMAC-SHA256 of `message`; `None` if it is longer than [`MAX_MESSAGE_LEN`].
    #[allow(
        clippy::indexing_slicing,
        reason = "message.len() <= MAX_MESSAGE_LEN, so every index stays inside the three blocks"
    )]
    pub(crate) fn tag(&self, message: &[u8]) -> Option<[u8; 32]> {
        // Inner hash: the pad block is already absorbed, so the length counts one extra block.
        if message.len() > MAX_MESSAGE_LEN {
            return None;
        }
        let mut blocks = [[0u8; BLOCK]; 3];
        let used = (message.len() + 9).div_ceil(BLOCK);
        let flat = blocks.as_flattened_mut();
        flat[..message.len()].copy_from_slice(message);
        flat[message.len()] = 0x80;
        let bits = ((BLOCK + message.len()) as u64 * 8).to_be_bytes();
        flat[used * BLOCK - 8..used * BLOCK].copy_from_slice(&bits);
        let mut inner = self.inner;
        compress256(&mut inner, &blocks[..used]);
        // Outer hash of the 32-byte inner digest, after the outer pad block.
        let mut block = [0u8; BLOCK];
        for (out, word) in block.chunks_exact_mut(4).zip(inner) {
            out.copy_from_slice(&word.to_be_bytes());
        }
        block[32] = 0x80;
        block[56..].copy_from_slice(&((BLOCK as u64 + 32) * 8).to_be_bytes());
        let mut outer = self.outer;
        compress256(&mut outer, &[block]);
        let mut tag = [0u8; 32];
        for (out, word) in tag.chunks_exact_mut(4).zip(outer) {
            out.copy_from_slice(&word.to_be_bytes());
        }
        Some(tag)
    }

    /// True if `tag` is the HMAC of `message`, compared in constant time.
    #[allow(
        clippy::indexing_slicing,
        reason = "indices 8*i+j < 32 for i < 4, j < 8"
    )]
    pub(crate) fn verify(&self, message: &[u8], tag: &[u8]) -> bool {
        let (Some(ours), Ok(theirs)) = (self.tag(message), <&[u8; 32]>::try_from(tag)) else {
            return false;
        };
        // Fold every byte's difference into one word with no early exit, then
        // test that word behind `subtle`'s optimisation barrier.
        let word =
            |b: &[u8; 32], i: usize| u64::from_ne_bytes(core::array::from_fn(|j| b[8 * i + j]));
        let diff = (0..4).fold(0u64, |acc, i| acc | (word(&ours, i) ^ word(theirs, i)));
        bool::from(diff.ct_eq(&0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use hmac::{Hmac, KeyInit, Mac};

    fn reference(key: &[u8; 32], message: &[u8]) -> [u8; 32] {
        Hmac::<sha2::Sha256>::new_from_slice(key)
            .unwrap()
            .chain_update(message)
            .finalize()
            .into_bytes()
            .into()
    }

    #[test]
    fn agrees_with_the_hmac_crate_at_every_length() {
        let key: [u8; 32] = core::array::from_fn(|i| (i * 7 + 3) as u8);
        let tk = TagKey::new(&key);
        let message: Vec<u8> = (0..=MAX_MESSAGE_LEN).map(|i| (i * 31 + 1) as u8).collect();
        for len in 0..=MAX_MESSAGE_LEN {
            let m = &message[..len];
            let tag = tk.tag(m).unwrap();
            assert_eq!(tag, reference(&key, m), "length {len}");
            assert!(tk.verify(m, &tag));
            let mut wrong = tag;
            wrong[len % 32] ^= 1;
            assert!(!tk.verify(m, &wrong));
            assert!(!tk.verify(m, &tag[..31]), "a short tag never matches");
        }
        assert_eq!(tk.tag(&[0; MAX_MESSAGE_LEN + 1]), None);
    }

    #[test]
    fn rfc_4231_case_2_shape() {
        // RFC 4231 test case 2 uses a 4-byte key; zero-padding it to 32 bytes gives the same HMAC.
        let mut key = [0u8; 32];
        key[..4].copy_from_slice(b"Jefe");
        let tag = TagKey::new(&key)
            .tag(b"what do ya want for nothing?")
            .unwrap();
        let hex: String = tag.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            hex,
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[cfg(not(target_arch = "wasm32"))]
    proptest::proptest! {
        #[test]
        fn agrees_with_the_hmac_crate(key in proptest::array::uniform32(0u8..), message in proptest::collection::vec(0u8.., 0..=MAX_MESSAGE_LEN)) {
            proptest::prop_assert_eq!(TagKey::new(&key).tag(&message).unwrap(), reference(&key, &message));
        }
    }
}
