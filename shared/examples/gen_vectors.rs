//! Writes `tests/vectors.json`: tokens and revocation lists with the keys and
//! the expected outcome of each. Native and wasm tests both replay the file.
//!
//! Run: `cargo run -p tollgate-shared --example gen_vectors > shared/tests/vectors.json`
//! The keys below are test fixtures, used nowhere else.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test and benchmark code: a failure should stop loudly"
)]

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Value, json};
use tollgate_shared::*;

const KEYS: &str = "k2:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=,k1:HyAhIiMkJSYnKCkqKywtLi8wMTIzNDU2Nzg5Ojs8PT4=";
const OTHER_SAME_ID: &str = "k2:ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=";
const OTHER_ID: &str = "k9:ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=";
const NOW: u64 = 1_800_000_000;
const LEEWAY: u64 = 30;

fn claims(n: u8, subject: &str, kind: Kind, roles: &[&str]) -> Claims {
    Claims {
        token_id: TokenId([n; 16]),
        subject: subject.into(),
        kind,
        roles: roles.iter().map(|r| r.to_string()).collect(),
        issued_at: NOW - 3_600,
        expires_at: NOW + 86_400,
    }
}

/// Re-encodes a token's body after `edit` changed its signed payload, with a correct checksum.
fn reencode(token: &str, edit: impl FnOnce(&mut Vec<u8>)) -> String {
    let (prefix, body) = token.split_once('_').unwrap();
    let mut bin = URL_SAFE_NO_PAD.decode(body).unwrap();
    bin.truncate(bin.len() - 4);
    edit(&mut bin);
    let crc = crc32fast::hash(&bin).to_be_bytes();
    bin.extend_from_slice(&crc);
    format!("{prefix}_{}", URL_SAFE_NO_PAD.encode(bin))
}

fn claims_json(c: &Claims) -> Value {
    json!({
        "token_id": c.token_id.to_string(), "subject": c.subject, "kind": c.kind.as_str(),
        "roles": c.roles, "issued_at": c.issued_at, "expires_at": c.expires_at,
    })
}

fn main() {
    let ring = Keyring::parse(KEYS).unwrap();
    let a = Authority::new(ring.clone()).with_leeway(LEEWAY);
    let alice = claims(1, "alice", Kind::Personal, &["user", "pool:ml-team"]);
    let valid = a.mint(&alice).unwrap();

    // Lists
    let empty = RevocationList::new(1, NOW);
    let mut list = RevocationList::new(42, NOW);
    list.insert(TokenId([2; 16]), Entry::revoked(NOW + 86_400));
    list.insert(
        TokenId([3; 16]),
        Entry {
            state: EntryState::Disabled,
            expires_at: NOW + 86_400,
        },
    );
    list.insert(
        TokenId([4; 16]),
        Entry {
            state: EntryState::Revoked { from: NOW + 60 },
            expires_at: NOW + 86_400,
        },
    );
    list.insert(
        TokenId([5; 16]),
        Entry {
            state: EntryState::ExpiryChanged,
            expires_at: NOW - 100,
        },
    );
    let mut rule = SubjectRule {
        expires_at: NOW + 90 * 86_400,
        ..Default::default()
    };
    rule.drop_roles.insert("admin".into(), NOW - 10);
    list.set_subject("carol".into(), rule);
    list.set_subject(
        "dave".into(),
        SubjectRule {
            void_before: NOW - 10,
            expires_at: NOW + 90 * 86_400,
            ..Default::default()
        },
    );
    let mut next = list.clone();
    next.sequence = 43;
    next.remove(&TokenId([3; 16]));
    next.insert(TokenId([6; 16]), Entry::revoked(NOW + 500));
    let delta = Delta::between(&list, &next);

    let list_bytes = list.encode(&ring);
    let mut tampered = list_bytes.clone();
    tampered[30] ^= 0x01;
    let foreign = list.encode(&Keyring::parse(OTHER_ID).unwrap());
    let forged = list.encode(&Keyring::parse(OTHER_SAME_ID).unwrap());

    let lists = vec![
        json!({"name": "empty", "document": STANDARD.encode(empty.encode(&ring)), "expect": "full", "sequence": 1, "entries": 0}),
        json!({"name": "main", "document": STANDARD.encode(&list_bytes), "expect": "full", "sequence": 42, "entries": 4}),
        json!({"name": "delta_42_43", "document": STANDARD.encode(delta.encode(&ring)), "expect": "delta", "base": 42, "sequence": 43, "apply_to": "main", "entries": 4}),
        json!({"name": "tampered", "document": STANDARD.encode(&tampered), "expect": "bad_signature"}),
        json!({"name": "forged_same_key_id", "document": STANDARD.encode(&forged), "expect": "bad_signature"}),
        json!({"name": "unknown_key", "document": STANDARD.encode(&foreign), "expect": "unknown_key"}),
        json!({"name": "truncated", "document": STANDARD.encode(&list_bytes[..20]), "expect": "malformed"}),
    ];

    let t = |n: u8, subject: &str, roles: &[&str]| {
        a.mint(&claims(n, subject, Kind::Service, roles)).unwrap()
    };
    let mut flipped: Vec<char> = valid.chars().collect();
    flipped[20] = if flipped[20] == 'x' { 'y' } else { 'x' };
    let tokens = vec![
        json!({"name": "valid", "token": valid, "now": NOW, "list": "empty", "expect": "ok", "claims": claims_json(&alice), "key_id": "k2"}),
        json!({"name": "valid_old_key", "token": a.mint_with_key(&alice, "k1").unwrap(), "now": NOW, "list": "main", "expect": "ok", "claims": claims_json(&alice), "key_id": "k1"}),
        json!({"name": "wrong_prefix", "token": valid.replacen("tg_", "gh_", 1), "now": NOW, "list": "empty", "expect": "malformed"}),
        json!({"name": "truncated_one_char", "token": &valid[..valid.len() - 1], "now": NOW, "list": "empty", "expect": "malformed"}),
        json!({"name": "truncated_three_bytes", "token": &valid[..valid.len() - 4], "now": NOW, "list": "empty", "expect": "bad_checksum"}),
        json!({"name": "not_base64url", "token": format!("{}+{}", &valid[..30], &valid[31..]), "now": NOW, "list": "empty", "expect": "malformed"}),
        json!({"name": "empty", "token": "", "now": NOW, "list": "empty", "expect": "malformed"}),
        json!({"name": "unknown_version", "token": reencode(&valid, |b| b[0] = 2), "now": NOW, "list": "empty", "expect": "malformed"}),
        json!({"name": "trailing_byte", "token": reencode(&valid, |b| { let tag = b.split_off(b.len() - 32); b.push(0); b.extend(tag); }), "now": NOW, "list": "empty", "expect": "malformed"}),
        json!({"name": "flipped_char", "token": flipped.iter().collect::<String>(), "now": NOW, "list": "empty", "expect": "bad_checksum"}),
        json!({"name": "unknown_key", "token": Authority::new(Keyring::parse(OTHER_ID).unwrap()).mint(&alice).unwrap(), "now": NOW, "list": "empty", "expect": "unknown_key"}),
        json!({"name": "wrong_key_same_id", "token": Authority::new(Keyring::parse(OTHER_SAME_ID).unwrap()).mint(&alice).unwrap(), "now": NOW, "list": "empty", "expect": "bad_signature"}),
        json!({"name": "tampered_payload", "token": reencode(&valid, |b| b[10] ^= 1), "now": NOW, "list": "empty", "expect": "bad_signature"}),
        json!({"name": "expired", "token": valid, "now": NOW + 86_400 + LEEWAY, "list": "empty", "expect": "expired"}),
        json!({"name": "within_leeway", "token": valid, "now": NOW + 86_400 + LEEWAY - 1, "list": "empty", "expect": "ok", "claims": claims_json(&alice), "key_id": "k2"}),
        json!({"name": "not_yet_valid", "token": valid, "now": NOW - 3_600 - LEEWAY - 1, "list": "empty", "expect": "not_yet_valid"}),
        json!({"name": "revoked", "token": t(2, "bob", &[]), "now": NOW, "list": "main", "expect": "revoked"}),
        json!({"name": "disabled", "token": t(3, "bob", &[]), "now": NOW, "list": "main", "expect": "disabled"}),
        json!({"name": "re_enabled_by_delta", "token": t(3, "bob", &[]), "now": NOW, "list": "delta_42_43", "expect": "ok"}),
        json!({"name": "revoked_by_delta", "token": t(6, "bob", &[]), "now": NOW, "list": "delta_42_43", "expect": "revoked"}),
        json!({"name": "in_grace", "token": t(4, "bob", &[]), "now": NOW + 59, "list": "main", "expect": "ok"}),
        json!({"name": "after_grace", "token": t(4, "bob", &[]), "now": NOW + 60, "list": "main", "expect": "revoked"}),
        json!({"name": "expiry_shortened", "token": t(5, "bob", &[]), "now": NOW, "list": "main", "expect": "expired"}),
        json!({"name": "role_dropped", "token": t(7, "carol", &["admin", "user"]), "now": NOW, "list": "main", "expect": "ok", "roles": ["user"]}),
        json!({"name": "subject_void", "token": t(8, "dave", &["user"]), "now": NOW, "list": "main", "expect": "revoked"}),
    ];

    let doc = json!({
        "about": "Known-answer vectors for the Tollgate token format and revocation list. Keys are test fixtures.",
        "keys": KEYS, "prefix": "tg", "leeway": LEEWAY, "lists": lists, "tokens": tokens,
    });
    println!("{}", serde_json::to_string_pretty(&doc).unwrap());
}
