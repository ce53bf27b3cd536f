//! Bodies of `GET /.well-known/tollgate/introspect`, in the shape of OAuth token introspection (RFC 7662).
//!
//! A valid token gives `{"active": true, "sub", "jti", "exp", "iat", "scope", "roles", "kind", "token_type"}`
//! (`scope` is the roles, space-separated); any token that fails verification gives `{"active": false}`
//! and nothing else, as RFC 7662 §2.2 asks.

use serde_json::json;
use tollgate_shared::Verified;

/// The body for a verified token.
pub fn active(verified: &Verified) -> String {
    let c = verified.claims();
    json!({
        "active": true,
        "sub": c.subject,
        "jti": c.token_id.to_string(),
        "exp": c.expires_at,
        "iat": c.issued_at,
        "scope": c.roles.join(" "),
        "roles": c.roles,
        "kind": c.kind.as_str(),
        "token_type": "Bearer",
    })
    .to_string()
}

/// The body for a token that is not valid now.
pub fn inactive() -> String {
    json!({"active": false}).to_string()
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;
    use tollgate_shared::{Authority, Claims, Keyring, Kind, RevocationList, TokenId};

    #[test]
    fn active_token_shows_its_claims() {
        let authority = Authority::new(
            Keyring::parse("k1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=").unwrap(),
        );
        let token = authority
            .mint(&Claims {
                token_id: TokenId([0x0f; 16]),
                subject: "svc:ci".into(),
                kind: Kind::Service,
                roles: vec!["read".into(), "deploy".into()],
                issued_at: 10,
                expires_at: 20,
            })
            .unwrap();
        let v = authority
            .verify(&token, 15, &RevocationList::default())
            .unwrap();
        let body: serde_json::Value = serde_json::from_str(&active(&v)).unwrap();
        assert_eq!(body["active"], true);
        assert_eq!(body["sub"], "svc:ci");
        assert_eq!(body["jti"], "0f".repeat(16));
        assert_eq!(
            (body["exp"].as_u64(), body["iat"].as_u64()),
            (Some(20), Some(10))
        );
        assert_eq!(body["scope"], "deploy read");
        assert_eq!(body["roles"], json!(["deploy", "read"]));
        assert_eq!(body["kind"], "service");
    }

    #[test]
    fn inactive_token_shows_nothing_else() {
        assert_eq!(inactive(), r#"{"active":false}"#);
    }
}
