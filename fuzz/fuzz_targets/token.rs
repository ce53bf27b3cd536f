//! Token text: the structural check, the checksum check and full verification must agree,
//! and a token that verifies is the one canonical encoding of its claims.
//!
//! Two paths per input: the bytes as token text (when UTF-8), and the bytes as claims that are
//! minted, verified, and then checked as text again, unchanged and with one character replaced.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use tollgate_shared::{
    Authority, Claims, Keyring, Kind, RevocationList, TokenId, has_valid_checksum, is_well_formed,
};

/// The test keyring used across the repository's tests (one key, `k1`).
const KEYS: &str = "k1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
const PREFIX: &str = "tg";
/// "Now" for token text read from the input; the seed corpus holds tokens valid then.
const NOW: u64 = 1_800_000_000;

const SUBJECT_CHARS: &[u8] =
    b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._@+:-";
const ROLE_CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._:/-";

fn authority() -> &'static Authority {
    static AUTHORITY: OnceLock<Authority> = OnceLock::new();
    AUTHORITY.get_or_init(|| Authority::new(Keyring::parse(KEYS).expect("test keyring")))
}

/// The invariants that tie the three views of one text together.
fn check_text(text: &str, now: u64) {
    let authority = authority();
    let well_formed = is_well_formed(text, PREFIX);
    let checksum = has_valid_checksum(text, PREFIX);
    assert!(
        well_formed || !checksum,
        "has_valid_checksum without is_well_formed: {text:?}"
    );
    let Ok(verified) = authority.verify(text, now, &RevocationList::default()) else {
        return;
    };
    assert!(checksum, "verifies without a valid checksum: {text:?}");
    let claims = verified.claims();
    assert!(
        claims.roles.windows(2).all(|w| w[0] < w[1]),
        "roles not strictly ascending: {claims:?}"
    );
    assert!(
        claims.issued_at < claims.expires_at,
        "issued_at >= expires_at: {claims:?}"
    );
    let again = authority
        .mint_with_key(&claims, verified.key_id())
        .unwrap_or_else(|e| panic!("verified claims do not mint again ({e:?}): {claims:?}"));
    assert_eq!(
        again, text,
        "a verified token is not the canonical encoding of its claims"
    );
}

/// Reads fixed-size values from the input, zero-padded once it runs out.
struct Input<'a>(&'a [u8]);

impl Input<'_> {
    fn array<const N: usize>(&mut self) -> [u8; N] {
        let mut out = [0u8; N];
        let n = N.min(self.0.len());
        out[..n].copy_from_slice(&self.0[..n]);
        self.0 = &self.0[n..];
        out
    }
    fn u8(&mut self) -> u8 {
        self.array::<1>()[0]
    }
    fn u16(&mut self) -> u16 {
        u16::from_le_bytes(self.array())
    }
    fn u32(&mut self) -> u32 {
        u32::from_le_bytes(self.array())
    }
    /// 1..=`max` characters of `chars`.
    fn name(&mut self, chars: &[u8], max: usize) -> String {
        let len = 1 + usize::from(self.u8()) % max;
        (0..len)
            .map(|_| char::from(chars[usize::from(self.u8()) % chars.len()]))
            .collect()
    }
}

/// Claims from the input, mostly valid; minted, verified and checked as text.
fn mint_path(data: &[u8]) {
    let mut input = Input(data);
    let token_id = TokenId(input.array());
    let kind = [Kind::Session, Kind::Personal, Kind::Service][usize::from(input.u8()) % 3];
    let issued_at = u64::from(input.u32());
    let expires_at = issued_at + u64::from(input.u32());
    let subject = input.name(SUBJECT_CHARS, 64);
    let roles = (0..input.u8() % 20)
        .map(|_| input.name(ROLE_CHARS, 64))
        .collect();
    let claims = Claims {
        token_id,
        subject,
        kind,
        roles,
        issued_at,
        expires_at,
    };
    let authority = authority();
    let Ok(token) = authority.mint(&claims) else {
        return;
    };
    assert!(
        expires_at > issued_at && expires_at <= u64::from(u32::MAX),
        "minted with a bad expiry: {claims:?}"
    );
    assert!(
        is_well_formed(&token, PREFIX),
        "minted token not well formed: {token}"
    );
    assert!(
        has_valid_checksum(&token, PREFIX),
        "minted token has a bad checksum: {token}"
    );
    let verified = authority
        .verify(&token, issued_at, &RevocationList::default())
        .unwrap_or_else(|e| panic!("a token just minted does not verify ({e:?}): {claims:?}"));
    let mut expected = claims.clone();
    expected.roles.sort();
    expected.roles.dedup();
    assert_eq!(
        verified.claims(),
        expected,
        "claims changed by mint + verify"
    );
    assert_eq!(verified.key_id(), "k1");
    check_text(&token, issued_at);

    // One character replaced: the checksum (CRC-32 catches any change of 6 bits or fewer)
    // and so verification must fail, unless the text is unchanged.
    let mut bytes = token.clone().into_bytes();
    let at = usize::from(input.u16()) % bytes.len();
    bytes[at] = 0x20 + input.u8() % 0x5f;
    let mutated = String::from_utf8(bytes).expect("printable ASCII");
    check_text(&mutated, issued_at);
    if mutated != token {
        assert!(
            !has_valid_checksum(&mutated, PREFIX),
            "one replaced character kept the checksum valid: {token} -> {mutated}"
        );
    }
}

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        check_text(text, NOW);
    }
    mint_path(data);
});
