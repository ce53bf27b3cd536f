//! Freshness statements: verification never panics, a statement that verifies is the one
//! canonical encoding of what it says, and a signed statement survives sign + verify but not a
//! changed character.
//!
//! Two paths per input: the bytes as statement text (when UTF-8), and the bytes as a recipe
//! (sequence, as_of, then where and what to change in the signed text).
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use tollgate_shared::{Freshness, Keyring};

/// The test keyring used across the repository's tests (one key, `k1`).
const KEYS: &str = "k1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

fn keyring() -> &'static Keyring {
    static KEYRING: OnceLock<Keyring> = OnceLock::new();
    KEYRING.get_or_init(|| Keyring::parse(KEYS).expect("test keyring"))
}

/// Whatever verifies is exactly what signing its value gives (one encoding per statement).
fn check_text(text: &str) -> Option<Freshness> {
    let keyring = keyring();
    let f = Freshness::verify(text, keyring).ok()?;
    assert_eq!(
        f.sign(keyring),
        text,
        "a verified statement is not the canonical encoding of {f:?}"
    );
    Some(f)
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
    fn u64(&mut self) -> u64 {
        u64::from_le_bytes(self.array())
    }
}

fn sign_path(data: &[u8]) {
    let mut input = Input(data);
    let f = Freshness {
        sequence: input.u64(),
        as_of: input.u64(),
    };
    let text = f.sign(keyring());
    assert_eq!(
        check_text(&text),
        Some(f),
        "a signed statement does not verify back: {f:?} -> {text}"
    );

    // One character replaced (printable ASCII): must fail, unless the text is unchanged.
    let mut bytes = text.clone().into_bytes();
    let at = usize::from(input.u16()) % bytes.len();
    bytes[at] = 0x20 + input.u8() % 0x5f;
    let mutated = String::from_utf8(bytes).expect("printable ASCII");
    let again = check_text(&mutated);
    if mutated == text {
        assert_eq!(again, Some(f));
    } else {
        assert_eq!(
            again, None,
            "one replaced character still verifies: {text} -> {mutated}"
        );
    }
}

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        check_text(text);
    }
    sign_path(data);
});
