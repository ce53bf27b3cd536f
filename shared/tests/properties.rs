//! Property tests: round trips, tamper detection, and no panics on any input.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test and benchmark code: a failure should stop loudly"
)]
#![cfg(not(target_arch = "wasm32"))]

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use proptest::prelude::*;
use tollgate_shared::*;

const KEYS: &str = "k1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
const B64URL: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

fn authority() -> Authority {
    Authority::new(Keyring::parse(KEYS).unwrap()).with_leeway(0)
}

fn arb_claims() -> impl Strategy<Value = Claims> {
    (
        any::<[u8; 16]>(),
        "[A-Za-z0-9._@+:-]{1,24}",
        prop_oneof![
            Just(Kind::Session),
            Just(Kind::Personal),
            Just(Kind::Service)
        ],
        proptest::collection::btree_set("[A-Za-z0-9._:/-]{1,12}", 0..5),
        0u64..(1 << 31),
        1u64..(1 << 30),
    )
        .prop_map(|(id, subject, kind, roles, issued_at, ttl)| Claims {
            token_id: TokenId(id),
            subject,
            kind,
            roles: roles.into_iter().collect(),
            issued_at,
            expires_at: issued_at + ttl,
        })
}

proptest! {
    #[test]
    fn mint_verify_round_trip(c in arb_claims()) {
        let a = authority();
        let t = a.mint(&c).unwrap();
        prop_assert!(t.len() < 260);
        prop_assert!(regex::Regex::new(&token_pattern("tg")).unwrap().is_match(&t));
        let v = a.verify(&t, c.issued_at, &RevocationList::default()).unwrap();
        prop_assert_eq!(v.subject(), c.subject.as_str());
        prop_assert!(v.roles().eq(c.roles.iter().map(String::as_str)));
        prop_assert!(c.roles.iter().all(|r| v.has_role(r)) && !v.has_role("not-a-role-here"));
        prop_assert_eq!(v.claims(), c);
    }

    #[test]
    fn any_single_changed_char_is_rejected(c in arb_claims(), pos in any::<prop::sample::Index>(), ch in 0usize..64) {
        let a = authority();
        let t = a.mint(&c).unwrap();
        let i = pos.index(t.len());
        let new = B64URL.as_bytes()[ch] as char;
        prop_assume!(t.as_bytes()[i] as char != new);
        let mut changed = t.clone().into_bytes();
        changed[i] = new as u8;
        let changed = String::from_utf8(changed).unwrap();
        prop_assert!(a.verify(&changed, c.issued_at, &RevocationList::default()).is_err());
    }

    #[test]
    fn any_truncation_is_rejected(c in arb_claims(), cut in any::<prop::sample::Index>()) {
        let a = authority();
        let t = a.mint(&c).unwrap();
        let short = &t[..cut.index(t.len())];
        prop_assert!(a.verify(short, c.issued_at, &RevocationList::default()).is_err());
    }

    #[test]
    fn verify_never_panics(s in "\\PC{0,300}") {
        let _ = authority().verify(&s, 0, &RevocationList::default());
    }

    /// Bodies with a correct checksum reach the payload parser: it must not panic.
    #[test]
    fn verify_never_panics_on_checksummed_garbage(bytes in proptest::collection::vec(any::<u8>(), 40..190)) {
        let mut bin = bytes;
        let crc = crc32fast::hash(&bin).to_be_bytes();
        bin.extend_from_slice(&crc);
        let t = format!("tg_{}", URL_SAFE_NO_PAD.encode(&bin));
        prop_assert!(authority().verify(&t, 0, &RevocationList::default()).is_err());
    }

    /// The documented regular expression matches exactly the well-formed shapes.
    #[test]
    fn pattern_matches_exactly_the_well_formed(body in "[A-Za-z0-9_-]{85,262}", prefix in "(tg|xx)") {
        let text = format!("{prefix}_{body}");
        let re = regex::Regex::new(&token_pattern("tg")).unwrap();
        prop_assert_eq!(re.is_match(&text), is_well_formed(&text, "tg"), "{}", text.len());
    }
}

#[test]
fn pattern_accepts_canonical_tails_only() {
    let re = regex::Regex::new(&token_pattern("tg")).unwrap();
    let t = authority()
        .mint(&Claims {
            token_id: TokenId([9; 16]),
            subject: "ab".into(),
            kind: Kind::Personal,
            roles: vec![],
            issued_at: 1,
            expires_at: 2,
        })
        .unwrap();
    assert!(re.is_match(&t) && is_well_formed(&t, "tg"));
    // A body of 4k+2 characters whose last character carries non-zero spare bits is not canonical.
    let body = format!("{}AB", "A".repeat(92));
    assert!(!re.is_match(&format!("tg_{body}")) && !is_well_formed(&format!("tg_{body}"), "tg"));
    let body = format!("{}AA", "A".repeat(92));
    assert!(re.is_match(&format!("tg_{body}")) && is_well_formed(&format!("tg_{body}"), "tg"));
}
