//! Replays `assertion_vectors.json` natively and (with `wasm-bindgen-test`) as WebAssembly:
//! the origin subkey derivation, freshness statements and identity assertions, byte for byte.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test and benchmark code: a failure should stop loudly"
)]

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use serde_json::Value;
use tollgate_shared::assertion::{AssertionKeys, Parts};
use tollgate_shared::*;

const VECTORS: &str = include_str!("assertion_vectors.json");

fn load() -> (Value, Keyring) {
    let v: Value = serde_json::from_str(VECTORS).unwrap();
    let ring = Keyring::parse(v["keys"].as_str().unwrap()).unwrap();
    (v, ring)
}

#[test]
fn origin_subkeys_are_derived_as_recorded() {
    let (v, ring) = load();
    assert_eq!(
        AssertionKeys::export(&ring),
        v["origin_keys"].as_str().unwrap()
    );
}

#[test]
fn freshness_statements() {
    let (v, ring) = load();
    for case in v["freshness"].as_array().unwrap() {
        let text = case["text"].as_str().unwrap();
        let got = Freshness::verify(text, &ring);
        match case["expect"].as_str().unwrap() {
            "ok" => {
                let f = got.unwrap();
                assert_eq!(f.sequence, case["sequence"].as_u64().unwrap());
                assert_eq!(f.as_of, case["as_of"].as_u64().unwrap());
                assert_eq!(f.sign(&ring), text, "signing is deterministic");
            }
            "bad_signature" => assert_eq!(got, Err(FreshnessError::BadSignature)),
            "malformed" => assert_eq!(got, Err(FreshnessError::Malformed)),
            other => panic!("unknown expectation {other}"),
        }
    }
}

#[test]
fn assertions_sign_and_verify_as_recorded() {
    let (v, ring) = load();
    let edge = AssertionKeys::from_keyring(&ring);
    let origin = AssertionKeys::parse(v["origin_keys"].as_str().unwrap()).unwrap();
    let other = AssertionKeys::from_keyring(
        &Keyring::parse("k2:ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=").unwrap(),
    );
    let leeway = v["leeway"].as_u64().unwrap();
    for case in v["assertions"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let roles: Vec<&str> = case["roles"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r.as_str().unwrap())
            .collect();
        let kind: Kind = case["kind"].as_str().unwrap().parse().unwrap();
        let token_id: TokenId = case["token_id"].as_str().unwrap().parse().unwrap();
        let parts = Parts {
            token_id,
            subject: case["subject"].as_str().unwrap(),
            kind,
            roles: &roles,
            method: case["method"].as_str().unwrap(),
            path: case["path"].as_str().unwrap(),
            issued_at: case["issued_at"].as_u64().unwrap(),
            lifetime: case["lifetime"].as_u64().unwrap(),
        };
        let text = case["text"].as_str().unwrap();
        assert_eq!(edge.sign(&parts), text, "{name}: the encoding changed");
        for check in case["checks"].as_array().unwrap() {
            let keys = if check["check"] == "other_key" {
                &other
            } else {
                &origin
            };
            let got = keys.verify(
                text,
                check["method"].as_str().unwrap(),
                check["path"].as_str().unwrap(),
                check["now"].as_u64().unwrap(),
                leeway,
            );
            let expect = check["expect"].as_str().unwrap();
            assert_eq!(
                got.as_ref().map_or_else(|e| e.code().as_str(), |_| "ok"),
                expect,
                "{name} {check}"
            );
            if let Ok(identity) = got {
                assert_eq!(identity.subject, parts.subject);
                assert_eq!(identity.roles, roles);
                assert_eq!((identity.kind, identity.token_id), (kind, token_id));
                assert_eq!(identity.expires_at, parts.issued_at + parts.lifetime);
            }
        }
    }
}
