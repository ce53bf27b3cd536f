//! The `Authorization` header and the query string: reading the bearer token never panics,
//! agrees with `is_bearer`, and returns a piece of the header; the query check looks at every
//! `&`-separated pair independently.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tollgate_edge::bearer::{InvalidRequest, check_query, is_bearer, token};
use tollgate_shared::has_valid_checksum;

const PREFIX: &str = "tg";

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };

    let bearer = is_bearer(text);
    match token(Some(text)) {
        Ok(Some(t)) => {
            assert!(bearer, "a token read from a non-Bearer value: {text:?}");
            assert!(
                !t.is_empty() && text.contains(t),
                "{t:?} is not part of {text:?}"
            );
            assert!(!t.contains([' ', '\t']), "token with whitespace: {t:?}");
            assert_eq!(token(Some(&format!("Bearer {t}"))), Ok(Some(t)));
        }
        Ok(None) => assert!(!bearer, "a Bearer value read as no token: {text:?}"),
        Err(_) => assert!(
            bearer || text.trim_matches([' ', '\t']).is_empty(),
            "a non-Bearer value refused: {text:?}"
        ),
    }

    let verdict = check_query(Some(text), PREFIX);
    if text.eq_ignore_ascii_case("access_token") || has_valid_checksum(text, PREFIX) {
        assert_eq!(verdict, Err(InvalidRequest::TokenInQuery), "{text:?}");
    }
    if let Some((a, b)) = text.split_once('&') {
        let parts = check_query(Some(a), PREFIX).is_err() || check_query(Some(b), PREFIX).is_err();
        assert_eq!(
            verdict.is_err(),
            parts,
            "{text:?}: pairs judged differently together"
        );
    }
});
