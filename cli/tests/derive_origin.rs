//! `tollgate keys derive-origin`: prints the origin's assertion keys, which check what the edge
//! signs with the same keyring and hold none of the keyring's key material.

use std::process::{Command, Output};

use tollgate_shared::assertion::{AssertionKeys, Parts};
use tollgate_shared::{Keyring, Kind, TokenId};

const SECRET: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
const OLD_SECRET: &str = "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=";
const NOW: u64 = 1_750_000_000;

fn derive(env_keys: Option<&str>, args: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_tollgate"));
    command
        .args(["keys", "derive-origin"])
        .args(args)
        .env_remove("TOLLGATE_KEYS")
        .env_remove("TOLLGATE_KEYS_FILE");
    if let Some(keys) = env_keys {
        command.env("TOLLGATE_KEYS", keys);
    }
    command.output().unwrap()
}

fn sign(keyring: &Keyring, path: &str) -> String {
    AssertionKeys::from_keyring(keyring).sign(&Parts {
        token_id: TokenId([3; 16]),
        subject: "alice",
        kind: Kind::Personal,
        roles: &["read"],
        method: "GET",
        path,
        issued_at: NOW,
        lifetime: 60,
    })
}

/// Parses what the command printed; checks it verifies the edge's assertions and leaks nothing.
fn check_origin_keys(out: &Output, keyring: &Keyring) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let printed = String::from_utf8(out.stdout.clone()).unwrap();
    assert!(!printed.contains(SECRET) && !printed.contains(OLD_SECRET));
    assert!(!printed.contains(&SECRET[..16]) && !printed.contains(&OLD_SECRET[..16]));
    let origin = AssertionKeys::parse(printed.trim()).unwrap();
    let assertion = sign(keyring, "/hello");
    let caller = origin
        .verify(&assertion, "GET", "/hello", NOW + 1, 5)
        .unwrap();
    assert_eq!(caller.subject, "alice");
    assert!(origin.verify(&assertion, "GET", "/other", NOW, 5).is_err());
}

#[test]
fn derive_origin_prints_keys_that_check_the_edges_assertions() {
    let text = format!("k1:{SECRET}");
    let keyring = Keyring::parse(&text).unwrap();
    check_origin_keys(&derive(Some(&text), &[]), &keyring);

    // Through a file, which wins over the variable.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("keys");
    std::fs::write(&file, format!("{text}\n")).unwrap();
    let out = derive(Some("bad"), &["--keys-file", file.to_str().unwrap()]);
    check_origin_keys(&out, &keyring);

    // While rotating, the origin holds every key: assertions signed with the old one still pass.
    let rotating = format!("k2:{SECRET},k1:{OLD_SECRET}");
    let out = derive(Some(&rotating), &[]);
    check_origin_keys(&out, &Keyring::parse(&rotating).unwrap());
    let origin = AssertionKeys::parse(String::from_utf8(out.stdout).unwrap().trim()).unwrap();
    let old = Keyring::parse(&format!("k1:{OLD_SECRET}")).unwrap();
    assert!(
        origin
            .verify(&sign(&old, "/x"), "GET", "/x", NOW, 5)
            .is_ok()
    );
}

#[test]
fn derive_origin_refuses_a_missing_or_bad_keyring_without_echoing_it() {
    let out = derive(None, &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("TOLLGATE_KEYS") && stderr.contains("--keys-file"),
        "{stderr}"
    );

    let short = "c2VjcmV0LXNlY3JldC1zZWNyZXQ=";
    for bad in [
        format!("k1:{short}"),
        format!("k1:{short}!!"),
        short.to_owned(),
    ] {
        let out = derive(Some(&bad), &[]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(out.stdout.is_empty());
        assert!(stderr.contains("TOLLGATE_KEYS"), "{stderr}");
        assert!(!stderr.contains("c2Vj"), "{stderr}");
    }

    let out = derive(None, &["--keys-file", "/nonexistent/tollgate/keys"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/tollgate/keys"));

    // `--help` names the variable but never shows its value.
    let out = derive(Some(&format!("k1:{SECRET}")), &["--help"]);
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(
        help.contains("TOLLGATE_KEYS") && !help.contains(&SECRET[..16]),
        "{help}"
    );
}
