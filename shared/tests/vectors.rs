//! Replays `vectors.json` natively and (with `wasm-bindgen-test`) as WebAssembly,
//! so the admin and the edge can never disagree about a token.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test and benchmark code: a failure should stop loudly"
)]

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use std::collections::HashMap;

use base64::Engine as _;
use serde_json::Value;
use tollgate_shared::*;

const VECTORS: &str = include_str!("vectors.json");

fn load() -> (Value, Authority, Keyring) {
    let v: Value = serde_json::from_str(VECTORS).unwrap();
    let ring = Keyring::parse(v["keys"].as_str().unwrap()).unwrap();
    let a = Authority::new(ring.clone())
        .with_prefix(v["prefix"].as_str().unwrap())
        .unwrap()
        .with_leeway(v["leeway"].as_u64().unwrap());
    (v, a, ring)
}

fn decode(doc: &Value, ring: &Keyring) -> Result<Document, ListError> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(doc["document"].as_str().unwrap())
        .unwrap();
    Document::decode(&bytes, ring)
}

/// Decodes every list vector, applying deltas to the list they name.
fn lists(v: &Value, ring: &Keyring) -> HashMap<String, RevocationList> {
    let mut out: HashMap<String, RevocationList> = HashMap::new();
    for doc in v["lists"].as_array().unwrap() {
        let name = doc["name"].as_str().unwrap().to_owned();
        match (doc["expect"].as_str().unwrap(), decode(doc, ring)) {
            ("full", Ok(Document::Full(list))) => {
                out.insert(name, list);
            }
            ("delta", Ok(delta @ Document::Delta(_))) => {
                let mut list = out[doc["apply_to"].as_str().unwrap()].clone();
                assert_eq!(list.update(delta), Ok(true), "{name}");
                out.insert(name, list);
            }
            (expect, Err(e)) => assert_eq!(e.code(), expect, "{name}"),
            (expect, other) => panic!("{name}: expected {expect}, got {other:?}"),
        }
    }
    out
}

#[test]
fn every_list_vector() {
    let (v, _, ring) = load();
    let lists = lists(&v, &ring);
    for doc in v["lists"].as_array().unwrap() {
        let name = doc["name"].as_str().unwrap();
        if let Some(list) = lists.get(name) {
            assert_eq!(list.sequence, doc["sequence"].as_u64().unwrap(), "{name}");
            assert_eq!(
                list.len() as u64,
                doc["entries"].as_u64().unwrap(),
                "{name}"
            );
        }
    }
    assert_eq!(lists.len(), 3, "three documents decode");
}

#[test]
fn every_token_vector() {
    let (v, a, ring) = load();
    let lists = lists(&v, &ring);
    let mut seen = std::collections::BTreeSet::new();
    for case in v["tokens"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let list = &lists[case["list"].as_str().unwrap()];
        let got = a.verify(
            case["token"].as_str().unwrap(),
            case["now"].as_u64().unwrap(),
            list,
        );
        let expect = case["expect"].as_str().unwrap();
        seen.insert(expect.to_owned());
        match got {
            Ok(verified) => {
                assert_eq!(expect, "ok", "{name}: verified but expected {expect}");
                if let Some(c) = case.get("claims") {
                    assert_eq!(
                        verified.token_id().to_string(),
                        c["token_id"].as_str().unwrap(),
                        "{name}"
                    );
                    assert_eq!(verified.subject(), c["subject"].as_str().unwrap(), "{name}");
                    assert_eq!(
                        verified.kind().as_str(),
                        c["kind"].as_str().unwrap(),
                        "{name}"
                    );
                    assert_eq!(
                        verified.issued_at(),
                        c["issued_at"].as_u64().unwrap(),
                        "{name}"
                    );
                    assert_eq!(
                        verified.expires_at(),
                        c["expires_at"].as_u64().unwrap(),
                        "{name}"
                    );
                    let mut roles: Vec<String> =
                        serde_json::from_value(c["roles"].clone()).unwrap();
                    roles.sort();
                    assert_eq!(verified.roles().collect::<Vec<_>>(), roles, "{name}");
                    assert_eq!(verified.claims().roles, roles, "{name}");
                    assert_eq!(
                        verified.key_id(),
                        case["key_id"].as_str().unwrap(),
                        "{name}"
                    );
                }
                if let Some(roles) = case.get("roles") {
                    let roles: Vec<String> = serde_json::from_value(roles.clone()).unwrap();
                    assert_eq!(verified.claims().roles, roles, "{name}");
                    assert!(roles.iter().all(|r| verified.has_role(r)), "{name}");
                }
            }
            Err(e) => assert_eq!(e.code(), expect, "{name}"),
        }
    }
    // Every failure kind is covered, plus success.
    for e in VerifyError::ALL {
        assert!(
            seen.contains(e.code().as_str()),
            "no vector for {}",
            e.code()
        );
    }
    assert!(seen.contains("ok"));
}

#[test]
fn every_valid_vector_passes_the_scanner_check() {
    let (v, a, _) = load();
    for case in v["tokens"].as_array().unwrap() {
        let token = case["token"].as_str().unwrap();
        let shaped = has_valid_checksum(token, a.prefix());
        let name = case["name"].as_str().unwrap();
        // Malformed payloads inside a well-formed, checksummed body still look like tokens to a scanner.
        let not_a_token = case["expect"] == "bad_checksum"
            || matches!(
                name,
                "wrong_prefix" | "truncated_one_char" | "not_base64url" | "empty"
            );
        assert_eq!(shaped, !not_a_token, "{name}");
    }
}
