//! Reading the bearer token from a request (RFC 6750, header form only).

use base64::Engine as _;
use tollgate_shared::token::is_b64token;
use tollgate_shared::{ErrorCode, contains_token};

/// Why a request's credentials are unusable: answered with 400 `invalid_request`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum InvalidRequest {
    /// `Authorization: Bearer` without a well-formed token after it.
    #[error("the Authorization header is not a well-formed Bearer credential")]
    MalformedHeader,
    /// A token in the query string (`access_token=` or anything shaped like a token).
    #[error("tokens are only accepted in the Authorization header, not in the query string")]
    TokenInQuery,
    /// A token in a path segment.
    #[error("tokens are only accepted in the Authorization header, not in the path")]
    TokenInPath,
}

impl InvalidRequest {
    /// A stable snake_case code for logs and JSON bodies.
    pub fn code(self) -> ErrorCode {
        match self {
            InvalidRequest::MalformedHeader => ErrorCode::MalformedAuthorization,
            InvalidRequest::TokenInQuery => ErrorCode::TokenInQuery,
            InvalidRequest::TokenInPath => ErrorCode::TokenInPath,
        }
    }
}

/// The token from an `Authorization` header value.
///
/// `Ok(None)`: no header, or another scheme (e.g. `Basic`): the request
/// carries no bearer token. `Err`: a `Bearer` credential that is not one
/// `b64token` (RFC 6750 §2.1), or an empty header.
pub fn token(authorization: Option<&str>) -> Result<Option<&str>, InvalidRequest> {
    let Some(value) = authorization else {
        return Ok(None);
    };
    let value = value.trim_matches(|c| c == ' ' || c == '\t');
    if value.is_empty() {
        return Err(InvalidRequest::MalformedHeader);
    }
    let (scheme, rest) = value.split_once(' ').unwrap_or((value, ""));
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Ok(None);
    }
    let token = rest.trim_start_matches(' ');
    if is_b64token(token) {
        Ok(Some(token))
    } else {
        Err(InvalidRequest::MalformedHeader)
    }
}

/// True if the header value uses the Bearer scheme (whatever follows).
pub fn is_bearer(authorization: &str) -> bool {
    let value = authorization.trim_matches([' ', '\t']);
    value.eq_ignore_ascii_case("bearer")
        || value
            .get(..7)
            .is_some_and(|s| s.eq_ignore_ascii_case("bearer "))
}

/// Refuses a query string that carries a token: an `access_token` parameter
/// (RFC 6750 §2.3), or any name or value that checks out as a token with
/// `prefix` (so tokens never end up in URLs the origin logs).
pub fn check_query(query: Option<&str>, prefix: &str) -> Result<(), InvalidRequest> {
    let Some(query) = query else { return Ok(()) };
    for pair in query.split('&') {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let name = decode(name);
        if name.eq_ignore_ascii_case("access_token")
            || contains_token(&decode(value), prefix)
            || contains_token(&name, prefix)
        {
            return Err(InvalidRequest::TokenInQuery);
        }
    }
    Ok(())
}

/// True if an `Authorization` value holds a token with `prefix` anywhere: as a `Bearer`
/// credential, inside a combined value (`Basic x, Bearer tg_...`), or as the user or password of
/// `Basic` credentials. Such a value never reaches the origin.
pub fn carries_token(authorization: &str, prefix: &str) -> bool {
    if contains_token(authorization, prefix) {
        return true;
    }
    authorization.split(',').any(|credential| {
        let mut words = credential.split_whitespace();
        let is_basic = words
            .next()
            .is_some_and(|scheme| scheme.eq_ignore_ascii_case("basic"));
        is_basic
            && words.next().is_some_and(|b64| {
                base64::engine::general_purpose::STANDARD
                    .decode(b64)
                    .is_ok_and(|raw| contains_token(&String::from_utf8_lossy(&raw), prefix))
            })
    })
}

/// Form-urlencoded decoding (`+` is a space, `%XX` a byte); bad escapes are kept as they are.
fn decode(s: &str) -> String {
    if !s.contains(['%', '+']) {
        return s.to_owned();
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (b, hex) {
            (b'%', Some(v)) => {
                out.push(v);
                i += 3;
            }
            (b'+', _) => {
                out.push(b' ');
                i += 1;
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;
    use tollgate_shared::{Authority, Claims, Keyring, Kind, TokenId};

    fn a_token(prefix: &str) -> String {
        let keyring = Keyring::parse("k1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=").unwrap();
        let claims = Claims {
            token_id: TokenId([7; 16]),
            subject: "alice".into(),
            kind: Kind::Personal,
            roles: vec![],
            issued_at: 1_700_000_000,
            expires_at: 1_800_000_000,
        };
        Authority::new(keyring)
            .with_prefix(prefix)
            .unwrap()
            .mint(&claims)
            .unwrap()
    }

    #[test]
    fn reads_the_bearer_token() {
        assert_eq!(
            token(Some("Bearer tg_abc-DEF.123")),
            Ok(Some("tg_abc-DEF.123"))
        );
        assert_eq!(token(Some("bearer   tg_abc==")), Ok(Some("tg_abc==")));
        assert_eq!(token(Some("BEARER x/y+z~")), Ok(Some("x/y+z~")));
    }

    #[test]
    fn no_header_or_other_scheme_is_no_token() {
        assert_eq!(token(None), Ok(None));
        assert_eq!(token(Some("Basic YWxpY2U6cHc=")), Ok(None));
        assert_eq!(token(Some("Bearertg_abc")), Ok(None));
    }

    #[test]
    fn malformed_bearer_credentials_are_invalid_requests() {
        for value in [
            "",
            "  ",
            "Bearer",
            "Bearer ",
            "Bearer a b",
            "Bearer tg_a,Bearer tg_b",
            "Bearer ===",
            "Bearer tg_é",
            "Bearer a=b",
        ] {
            assert_eq!(
                token(Some(value)),
                Err(InvalidRequest::MalformedHeader),
                "{value:?}"
            );
        }
    }

    #[test]
    fn recognises_the_bearer_scheme() {
        assert!(is_bearer("Bearer x"));
        assert!(is_bearer("bearer"));
        assert!(!is_bearer("Basic x"));
        assert!(!is_bearer("Bearerx"));
        assert!(!is_bearer(""));
    }

    #[test]
    fn tokens_in_the_query_are_refused() {
        let t = a_token("tg");
        assert_eq!(check_query(None, "tg"), Ok(()));
        assert_eq!(check_query(Some("a=1&b=tg_nottoken"), "tg"), Ok(()));
        assert_eq!(
            check_query(Some("access_token=whatever"), "tg"),
            Err(InvalidRequest::TokenInQuery)
        );
        assert_eq!(
            check_query(Some("x=1&Access_Token"), "tg"),
            Err(InvalidRequest::TokenInQuery)
        );
        assert_eq!(
            check_query(Some("access%5Ftoken=1"), "tg"),
            Err(InvalidRequest::TokenInQuery)
        );
        assert_eq!(
            check_query(Some(&format!("key={t}")), "tg"),
            Err(InvalidRequest::TokenInQuery)
        );
        assert_eq!(
            check_query(Some(&t), "tg"),
            Err(InvalidRequest::TokenInQuery)
        );
        let acme = a_token("acme");
        assert_eq!(
            check_query(Some(&format!("key={acme}")), "acme"),
            Err(InvalidRequest::TokenInQuery)
        );
        assert_eq!(
            check_query(Some(&format!("key={acme}")), "tg"),
            Ok(()),
            "other prefixes are not ours"
        );
    }

    #[test]
    fn tokens_are_found_in_any_authorization_value() {
        let t = a_token("tg");
        let basic = |user_pass: &str| {
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(user_pass)
            )
        };
        for value in [
            format!("Bearer {t}"),
            format!("Basic YWxpY2U6cHc=, Bearer {t}"),
            format!("Bearer {t}, Basic YWxpY2U6cHc="),
            format!("Token token={t}"),
            basic(&format!("alice:{t}")),
            basic(&format!("{t}:x-oauth-basic")),
            format!("Digest x, {}", basic(&format!("ci:{t}"))),
        ] {
            assert!(carries_token(&value, "tg"), "{value}");
        }
        for value in ["Basic YWxpY2U6cHc=", "Bearer tg_notatoken", "Basic !!!", ""] {
            assert!(!carries_token(value, "tg"), "{value}");
        }
    }

    #[test]
    fn tokens_inside_query_values_are_refused() {
        let t = a_token("tg");
        assert_eq!(
            check_query(Some(&format!("q=see+{t}+here")), "tg"),
            Err(InvalidRequest::TokenInQuery)
        );
    }

    #[test]
    fn decoding_handles_bad_escapes() {
        assert_eq!(decode("a+b%20c%zz%4"), "a b c%zz%4");
        assert_eq!(decode("%e9"), "\u{fffd}");
    }
}
