//! Signed revocation-list documents: decoding never panics, whatever decodes re-encodes to the
//! same bytes, and lists and deltas built through the public API survive encode + decode.
//!
//! The HMAC is checked before the body is parsed and cannot be computed outside the crate, so
//! raw fuzzed bytes rarely get past it. The input is therefore also read as a recipe: it builds
//! a list (and, for a delta, a changed copy of it) through the API, which is encoded, decoded and
//! compared, then damaged in a few input-chosen places; a damaged document must never decode.
#![no_main]

use std::collections::BTreeMap;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use tollgate_shared::{
    Delta, Document, Entry, EntryState, Keyring, RevocationList, SubjectRule, TokenId,
};

/// The test keyring used across the repository's tests (one key, `k1`).
const KEYS: &str = "k1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

const SUBJECT_CHARS: &[u8] =
    b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._@+:-";
const ROLE_CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._:/-";

fn keyring() -> &'static Keyring {
    static KEYRING: OnceLock<Keyring> = OnceLock::new();
    KEYRING.get_or_init(|| Keyring::parse(KEYS).expect("test keyring"))
}

/// Decodes `bytes`; whatever decodes must re-encode to exactly `bytes` (one encoding per document).
fn check_decoded(bytes: &[u8]) -> Option<Document> {
    let keyring = keyring();
    let doc = Document::decode(bytes, keyring).ok()?;
    let again = match &doc {
        Document::Full(list) => list.encode(keyring),
        Document::Delta(delta) => delta.encode(keyring),
    };
    assert!(
        again == bytes,
        "a decoded document re-encodes differently:\n  in:  {bytes:02x?}\n  out: {again:02x?}"
    );
    Some(doc)
}

/// Reads values from the input, zero-padded once it runs out.
struct Input<'a> {
    data: &'a [u8],
    /// Scale of the times read: 0 plain u32, 1 up to just below 2^62, 2 up to 2^64.
    scale: u8,
}

impl Input<'_> {
    fn array<const N: usize>(&mut self) -> [u8; N] {
        let mut out = [0u8; N];
        let n = N.min(self.data.len());
        out[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
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
    fn time(&mut self) -> u64 {
        let t = u64::from(self.u32());
        match self.scale {
            0 => t,
            1 => t << 30,
            _ => t << 32,
        }
    }
    fn name(&mut self, chars: &[u8], max: usize) -> String {
        let len = 1 + usize::from(self.u8()) % max;
        (0..len)
            .map(|_| char::from(chars[usize::from(self.u8()) % chars.len()]))
            .collect()
    }
    fn entry(&mut self) -> (TokenId, Entry) {
        let id = TokenId(self.array());
        let state = match self.u8() % 4 {
            0 => EntryState::Revoked { from: 0 },
            1 => EntryState::Disabled,
            2 => EntryState::Revoked { from: self.time() },
            _ => EntryState::ExpiryChanged,
        };
        let expires_at = self.time();
        (id, Entry { state, expires_at })
    }
    fn subject(&mut self) -> (String, SubjectRule) {
        let name = self.name(SUBJECT_CHARS, 16);
        let void_before = self.time();
        let expires_at = self.time();
        let drop_roles: BTreeMap<String, u64> = (0..self.u8() % 4)
            .map(|_| (self.name(ROLE_CHARS, 16), self.time()))
            .collect();
        let rule = SubjectRule {
            void_before,
            drop_roles,
            expires_at,
        };
        (name, rule)
    }
}

fn build_list(input: &mut Input<'_>) -> RevocationList {
    let mut list = RevocationList::new(u64::from(input.u32()), input.time());
    for _ in 0..input.u8() % 16 {
        let (id, entry) = input.entry();
        list.insert(id, entry);
    }
    for _ in 0..input.u8() % 4 {
        let (name, rule) = input.subject();
        list.set_subject(name, rule);
    }
    list
}

/// A later version of `old`: entries and subject rules added, changed and removed.
fn change_list(old: &RevocationList, input: &mut Input<'_>) -> RevocationList {
    let mut new = old.clone();
    new.sequence = old.sequence + 1 + u64::from(input.u8());
    new.generated_at = input.time();
    for _ in 0..input.u8() % 8 {
        // Existing keys sorted: the subjects' map iterates in a random order.
        let mut ids: Vec<TokenId> = new.entries().map(|(id, _)| *id).collect();
        ids.sort();
        let mut names: Vec<String> = new.subjects().map(|(s, _)| s.clone()).collect();
        names.sort();
        let pick = usize::from(input.u8());
        match input.u8() % 5 {
            0 if !ids.is_empty() => {
                new.remove(&ids[pick % ids.len()]);
            }
            1 if !ids.is_empty() => {
                let (_, entry) = input.entry();
                new.insert(ids[pick % ids.len()], entry);
            }
            2 if !names.is_empty() => {
                new.remove_subject(&names[pick % names.len()]);
            }
            3 => {
                let (name, rule) = input.subject();
                new.set_subject(name, rule);
            }
            _ => {
                let (id, entry) = input.entry();
                new.insert(id, entry);
            }
        }
    }
    new
}

/// A delta with its lists in the encoder's order, for comparison.
fn sorted(mut d: Delta) -> Delta {
    d.upserts.sort_by_key(|(id, e)| (e.expires_at, *id));
    d.removed.sort();
    d.subjects.sort_by(|a, b| a.0.cmp(&b.0));
    d.removed_subjects.sort();
    d
}

/// Damages `bytes` in a few input-chosen places; the result must not decode.
fn damage(bytes: &[u8], input: &mut Input<'_>) {
    let mut damaged = bytes.to_vec();
    for _ in 0..1 + input.u8() % 3 {
        let at = usize::from(input.u16()) % (damaged.len() + 1);
        match input.u8() % 4 {
            0 if at < damaged.len() => damaged[at] ^= input.u8() | 1,
            1 => damaged.truncate(at),
            2 => damaged.insert(at, input.u8()),
            _ if at < damaged.len() => {
                damaged.remove(at);
            }
            _ => damaged.push(input.u8()),
        }
    }
    let decoded = check_decoded(&damaged);
    assert!(
        damaged == bytes || decoded.is_none(),
        "a damaged document still decodes:\n  signed:  {bytes:02x?}\n  damaged: {damaged:02x?}"
    );
}

fuzz_target!(|data: &[u8]| {
    // 1. The bytes as a document.
    let _ = check_decoded(data);

    // 2. The bytes as a recipe for a document.
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let mut input = Input {
        data: rest,
        scale: (flags >> 1) % 3,
    };
    let keyring = keyring();
    let old = build_list(&mut input);
    let bytes = if flags & 1 == 0 {
        let bytes = old.encode(keyring);
        let doc = check_decoded(&bytes).expect("a list's own encoding does not decode");
        assert_eq!(
            doc,
            Document::Full(old.clone()),
            "a list changed in encode + decode"
        );
        let mut held = RevocationList::default();
        assert_eq!(held.update(doc), Ok(old.sequence > 0));
        if old.sequence > 0 {
            assert_eq!(held, old, "updating to a full list does not give the list");
        }
        bytes
    } else {
        let new = change_list(&old, &mut input);
        let delta = Delta::between(&old, &new);
        let bytes = delta.encode(keyring);
        let doc = check_decoded(&bytes).expect("a delta's own encoding does not decode");
        let Document::Delta(decoded) = doc.clone() else {
            panic!("a delta decodes as a full list");
        };
        assert_eq!(
            sorted(decoded),
            sorted(delta),
            "a delta changed in encode + decode"
        );
        let mut held = old.clone();
        assert_eq!(held.update(doc), Ok(true));
        assert_eq!(held, new, "old + decoded delta is not the new list");
        bytes
    };
    damage(&bytes, &mut input);
});
