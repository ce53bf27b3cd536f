//! Writes `tests/assertion_vectors.json`: the origin subkeys derived from a test keyring,
//! freshness statements and identity assertions, with the expected outcome of each check.
//! Native and wasm tests both replay the file.
//!
//! Run: `cargo run -p tollgate-shared --example gen_assertion_vectors > shared/tests/assertion_vectors.json`
//! The keys below are test fixtures, used nowhere else.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test and benchmark code: a failure should stop loudly"
)]

use serde_json::{Value, json};
use tollgate_shared::assertion::{AssertionKeys, Parts};
use tollgate_shared::*;

const KEYS: &str = "k2:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=,k1:HyAhIiMkJSYnKCkqKywtLi8wMTIzNDU2Nzg5Ojs8PT4=";
const OTHER_SAME_ID: &str = "k2:ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=";
const NOW: u64 = 1_800_000_000;

/// Name, subject, kind, roles, method, path.
type Case = (
    &'static str,
    &'static str,
    Kind,
    &'static [&'static str],
    &'static str,
    &'static str,
);

fn outcome<T>(r: Result<T, AssertionError>) -> &'static str {
    r.map_or_else(|e| e.code().as_str(), |_| "ok")
}

fn main() {
    let ring = Keyring::parse(KEYS).unwrap();
    let edge = AssertionKeys::from_keyring(&ring);
    let origin = AssertionKeys::parse(&AssertionKeys::export(&ring)).unwrap();
    let other = AssertionKeys::from_keyring(&Keyring::parse(OTHER_SAME_ID).unwrap());

    let fresh = Freshness {
        sequence: 42,
        as_of: NOW,
    };
    let statement = fresh.sign(&ring);
    let forged = fresh.sign(&Keyring::parse(OTHER_SAME_ID).unwrap());
    let freshness = json!([
        {"name": "good", "sequence": 42, "as_of": NOW, "text": statement, "expect": "ok"},
        {"name": "other_key", "text": forged, "expect": "bad_signature"},
        {"name": "truncated", "text": statement[..statement.len() - 3], "expect": "malformed"},
    ]);

    let cases: [Case; 3] = [
        (
            "alice",
            "alice",
            Kind::Personal,
            &["reports:read", "user"],
            "GET",
            "/reports/2026/q4",
        ),
        (
            "ci",
            "svc:deploy",
            Kind::Service,
            &[],
            "POST",
            "/base/deploy/%C3%A9t%C3%A9",
        ),
        (
            "session",
            "bob@example.com",
            Kind::Session,
            &["admin"],
            "DELETE",
            "/",
        ),
    ];
    let mut assertions: Vec<Value> = Vec::new();
    for (i, (name, subject, kind, roles, method, path)) in cases.into_iter().enumerate() {
        let parts = Parts {
            token_id: TokenId([i as u8 + 1; 16]),
            subject,
            kind,
            roles,
            method,
            path,
            issued_at: NOW,
            lifetime: 60,
        };
        let text = edge.sign(&parts);
        let checks = [
            ("as_signed", method, path, NOW + 30, &origin),
            ("other_path", method, "/elsewhere", NOW, &origin),
            ("other_method", "PATCH", path, NOW, &origin),
            ("expired", method, path, NOW + 66, &origin),
            ("early", method, path, NOW - 6, &origin),
            ("other_key", method, path, NOW, &other),
        ]
        .map(|(check, m, p, now, keys)| {
            json!({"check": check, "method": m, "path": p, "now": now,
                   "expect": outcome(keys.verify(&text, m, p, now, 5))})
        });
        assertions.push(json!({
            "name": name, "token_id": TokenId([i as u8 + 1; 16]).to_string(), "subject": subject,
            "kind": kind.as_str(), "roles": roles, "method": method, "path": path,
            "issued_at": NOW, "lifetime": 60, "text": text, "checks": checks,
        }));
    }
    let doc = json!({
        "about": "Known-answer vectors for Tollgate freshness statements and origin assertions. Keys are test fixtures.",
        "keys": KEYS,
        "origin_keys": AssertionKeys::export(&ring),
        "leeway": 5,
        "freshness": freshness,
        "assertions": assertions,
    });
    println!("{}", serde_json::to_string_pretty(&doc).unwrap());
}
