//! Identity assertions: verification never panics and only returns well-formed identities that
//! are the canonical encoding of what they say; a signed assertion verifies back to its parts,
//! for its own request only, within its lifetime only, and with the subkeys an origin holds.
//!
//! Two paths per input: the bytes as `TEXT METHOD PATH` (when UTF-8; split at NUL bytes or
//! newlines), and the bytes as a recipe for `Parts` that are signed and verified.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use tollgate_shared::assertion::{AssertionKeys, Parts};
use tollgate_shared::{
    AssertionError, Identity, Keyring, Kind, TokenId, valid_role, valid_subject,
};

/// The test keyring used across the repository's tests (one key, `k1`).
const KEYS: &str = "k1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
/// "Now" for assertion text read from the input; the seed corpus holds assertions valid then.
const NOW: u64 = 1_800_000_000;
const LEEWAY: u64 = 5;
/// Longest lifetime `verify` accepts (a day).
const MAX_LIFETIME: u64 = 86_400;

const SUBJECT_CHARS: &[u8] =
    b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._@+:-";
const ROLE_CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._:/-";
const METHOD_CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ";
/// Printable ASCII, no NUL (a NUL in the method could move bytes between method and path).
const PATH_CHARS: &[u8] =
    b"/abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~%!$&'()*+,;=:@ ?#";

/// What the edge holds (from the keyring) and what an origin holds (the exported subkeys).
fn keys() -> &'static (AssertionKeys, AssertionKeys) {
    static KEYS_: OnceLock<(AssertionKeys, AssertionKeys)> = OnceLock::new();
    KEYS_.get_or_init(|| {
        let keyring = Keyring::parse(KEYS).expect("test keyring");
        let edge = AssertionKeys::from_keyring(&keyring);
        let origin = AssertionKeys::parse(&AssertionKeys::export(&keyring))
            .expect("exported assertion keys do not parse");
        (edge, origin)
    })
}

/// Verifies with the origin's keys (and, if `both`, the edge's, which must agree); checks what
/// verifies.
fn check_text(
    text: &str,
    method: &str,
    path: &str,
    now: u64,
    leeway: u64,
    both: bool,
) -> Result<Identity, AssertionError> {
    let (edge, origin) = keys();
    let result = origin.verify(text, method, path, now, leeway);
    if both {
        assert_eq!(
            edge.verify(text, method, path, now, leeway),
            result,
            "edge and origin keys disagree on {text:?}"
        );
    }
    let Ok(id) = &result else {
        return result;
    };
    assert!(valid_subject(&id.subject), "invalid subject: {id:?}");
    assert!(id.roles.len() <= 16, "too many roles: {id:?}");
    assert!(
        id.roles.iter().all(|r| valid_role(r)),
        "invalid role: {id:?}"
    );
    assert!(
        id.roles.windows(2).all(|w| w[0] < w[1]),
        "roles not strictly ascending: {id:?}"
    );
    let lifetime = id
        .expires_at
        .checked_sub(id.issued_at)
        .unwrap_or_else(|| panic!("expires before issued: {id:?}"));
    assert!(
        (1..=MAX_LIFETIME).contains(&lifetime),
        "lifetime out of range: {id:?}"
    );
    assert!(
        id.issued_at <= now.saturating_add(leeway) && now < id.expires_at.saturating_add(leeway),
        "accepted outside its lifetime at {now} (leeway {leeway}): {id:?}"
    );
    let roles: Vec<&str> = id.roles.iter().map(String::as_str).collect();
    let again = edge.sign(&Parts {
        token_id: id.token_id,
        subject: &id.subject,
        kind: id.kind,
        roles: &roles,
        method,
        path,
        issued_at: id.issued_at,
        lifetime,
    });
    assert_eq!(
        again, text,
        "a verified assertion is not the canonical encoding of {id:?}"
    );
    result
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
    fn u64(&mut self) -> u64 {
        u64::from_le_bytes(self.array())
    }
    /// `min`..=`max` characters of `chars`.
    fn name(&mut self, chars: &[u8], min: usize, max: usize) -> String {
        let len = min + usize::from(self.u8()) % (max - min + 1);
        (0..len)
            .map(|_| char::from(chars[usize::from(self.u8()) % chars.len()]))
            .collect()
    }
}

/// A different string: one input-chosen character replaced or appended.
fn other(s: &str, chars: &[u8], input: &mut Input<'_>) -> String {
    let mut bytes = s.as_bytes().to_vec();
    let at = usize::from(input.u8()) % (bytes.len() + 1);
    let c = chars[usize::from(input.u8()) % chars.len()];
    if at == bytes.len() || bytes[at] == c {
        bytes.push(c);
    } else {
        bytes[at] = c;
    }
    String::from_utf8(bytes).expect("ASCII")
}

fn sign_path(data: &[u8]) {
    let mut input = Input(data);
    let flags = input.u8();
    let token_id = TokenId(input.array());
    let kind = [Kind::Session, Kind::Personal, Kind::Service][usize::from(input.u8()) % 3];
    let issued_at = match flags % 3 {
        0 => u64::from(input.u32()),
        1 => u64::MAX - u64::from(input.u32()),
        _ => input.u64(),
    };
    // Mostly in range; 0 and just over a day now and then.
    let lifetime = u64::from(input.u32()) % (MAX_LIFETIME + 16);
    let leeway = u64::from(input.u8());
    let subject = input.name(SUBJECT_CHARS, 1, 64);
    let mut roles: Vec<String> = (0..input.u8() % 17)
        .map(|_| input.name(ROLE_CHARS, 1, 64))
        .collect();
    roles.sort();
    roles.dedup();
    let method = input.name(METHOD_CHARS, 0, 12);
    let path = input.name(PATH_CHARS, 0, 80);
    let role_refs: Vec<&str> = roles.iter().map(String::as_str).collect();
    let parts = Parts {
        token_id,
        subject: &subject,
        kind,
        roles: &role_refs,
        method: &method,
        path: &path,
        issued_at,
        lifetime,
    };
    let text = keys().0.sign(&parts);

    let expires_at = issued_at.checked_add(lifetime);
    let result = check_text(&text, &method, &path, issued_at, leeway, true);
    let (Some(expires_at), 1..=MAX_LIFETIME) = (expires_at, lifetime) else {
        assert_eq!(
            result,
            Err(AssertionError::Malformed),
            "accepted with lifetime {lifetime} from {issued_at}"
        );
        return;
    };
    let expected = Identity {
        subject: subject.clone(),
        roles: roles.clone(),
        kind,
        token_id,
        issued_at,
        expires_at,
    };
    assert_eq!(
        result,
        Ok(expected.clone()),
        "sign + verify changed {parts:?}"
    );

    // Another request.
    let other_path = other(&path, PATH_CHARS, &mut input);
    assert_eq!(
        check_text(&text, &method, &other_path, issued_at, leeway, false),
        Err(AssertionError::WrongRequest),
        "signed for {path:?}, accepted for {other_path:?}"
    );
    let other_method = other(&method, METHOD_CHARS, &mut input);
    assert_eq!(
        check_text(&text, &other_method, &path, issued_at, leeway, false),
        Err(AssertionError::WrongRequest),
        "signed for {method:?}, accepted for {other_method:?}"
    );

    // The edges of the lifetime, leeway included.
    let end = expires_at.saturating_add(leeway);
    assert_eq!(
        check_text(&text, &method, &path, end, leeway, false),
        Err(AssertionError::Expired),
        "accepted at {end}: {expected:?}, leeway {leeway}"
    );
    assert_eq!(
        check_text(&text, &method, &path, end - 1, leeway, false),
        Ok(expected.clone())
    );
    if let Some(early) = issued_at.checked_sub(leeway) {
        assert_eq!(
            check_text(&text, &method, &path, early, leeway, false),
            Ok(expected.clone())
        );
        if let Some(too_early) = early.checked_sub(1) {
            assert_eq!(
                check_text(&text, &method, &path, too_early, leeway, false),
                Err(AssertionError::NotYetValid),
                "accepted at {too_early}: {expected:?}, leeway {leeway}"
            );
        }
    }

    // One character replaced (printable ASCII): refused, unless the text is unchanged.
    let mut bytes = text.clone().into_bytes();
    let at = usize::from(input.u16()) % bytes.len();
    bytes[at] = 0x20 + input.u8() % 0x5f;
    let mutated = String::from_utf8(bytes).expect("printable ASCII");
    let again = check_text(&mutated, &method, &path, issued_at, leeway, true);
    if mutated == text {
        assert_eq!(again, Ok(expected));
    } else {
        assert!(
            again.is_err(),
            "one replaced character still verifies: {text} -> {mutated}"
        );
    }
}

fuzz_target!(|data: &[u8]| {
    if let Ok(input) = std::str::from_utf8(data) {
        let mut fields = input.splitn(3, ['\0', '\n']);
        let text = fields.next().unwrap_or("");
        let method = fields.next().unwrap_or("");
        let path = fields.next().unwrap_or("");
        let _ = check_text(text, method, path, NOW, LEEWAY, true);
    }
    sign_path(data);
});
