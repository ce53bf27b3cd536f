//! Which request headers reach the origin, and the identity headers the edge adds.
//!
//! Every incoming `X-Tollgate-*` header is dropped before the edge adds its
//! own, so an origin can trust them. An `Authorization` header that uses the
//! Bearer scheme or holds a token anywhere (a combined `Basic x, Bearer tg_...`,
//! a token as a `Basic` password) is dropped too: the origin learns who called
//! from the identity headers and never sees a token. Headers that make some
//! frameworks route on another method or path than the one the policy decided
//! on (`X-HTTP-Method-Override` and its variants, `X-Original-URL`,
//! `X-Rewrite-URL`) are dropped. Hop-by-hop headers and `Host` are left to the
//! runtime's own connection to the origin.

use tollgate_shared::Verified;
use tollgate_shared::assertion::{AssertionKeys, Parts};

use crate::bearer;

/// Request headers some frameworks read to route on another method or path; never forwarded.
pub const REROUTING: [&str; 6] = [
    "x-http-method-override",
    "x-http-method",
    "x-method-override",
    "x-original-method",
    "x-original-url",
    "x-rewrite-url",
];

/// Prefix of the headers only the edge may set (lower case).
pub const IDENTITY_PREFIX: &str = "x-tollgate-";
/// The token's subject (user or service account).
pub const SUBJECT: &str = "X-Tollgate-Subject";
/// The token id, 32 lowercase hex digits.
pub const TOKEN_ID: &str = "X-Tollgate-Token-Id";
/// The token's roles after cut-offs, comma-separated, ascending.
pub const ROLES: &str = "X-Tollgate-Roles";
/// `session`, `personal` or `service`.
pub const KIND: &str = "X-Tollgate-Kind";

const HOP_BY_HOP: [&str; 9] = [
    "connection",
    "keep-alive",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "host",
    "content-length",
];

/// True for a header name the edge owns (`X-Tollgate-*`, any case).
pub fn is_identity(name: &str) -> bool {
    name.get(..IDENTITY_PREFIX.len())
        .is_some_and(|p| p.eq_ignore_ascii_case(IDENTITY_PREFIX))
}

/// Decides header by header what is forwarded to the origin.
#[derive(Debug, Clone)]
pub struct ForwardFilter<'a> {
    /// Extra hop-by-hop names listed in the request's `Connection` header (lower case).
    connection_listed: Vec<String>,
    /// The token prefix, to recognise tokens inside `Authorization` values.
    prefix: &'a str,
}

impl<'a> ForwardFilter<'a> {
    /// A filter for a request whose `Connection` header (if any) is `connection`, for tokens
    /// with `prefix`.
    pub fn new(connection: Option<&str>, prefix: &'a str) -> Self {
        let connection_listed = connection
            .map(|v| {
                v.split(',')
                    .map(|t| t.trim().to_ascii_lowercase())
                    .filter(|t| !t.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        ForwardFilter {
            connection_listed,
            prefix,
        }
    }

    /// True if the header `name: value` should reach the origin.
    pub fn keep(&self, name: &str, value: &str) -> bool {
        if is_identity(name) {
            return false;
        }
        if name.eq_ignore_ascii_case("authorization")
            && (bearer::is_bearer(value) || bearer::carries_token(value, self.prefix))
        {
            return false;
        }
        !HOP_BY_HOP.iter().any(|h| name.eq_ignore_ascii_case(h))
            && !REROUTING.iter().any(|h| name.eq_ignore_ascii_case(h))
            && !self
                .connection_listed
                .iter()
                .any(|h| name.eq_ignore_ascii_case(h))
    }
}

/// The four identity headers for a verified token, in a fixed order. Roles come out of
/// verification ascending and unique, with any cut by the revocation list already gone.
pub fn identity(verified: &Verified) -> [(&'static str, String); 4] {
    let mut roles = String::new();
    for role in verified.roles() {
        if !roles.is_empty() {
            roles.push(',');
        }
        roles.push_str(role);
    }
    [
        (SUBJECT, verified.subject().to_owned()),
        (TOKEN_ID, verified.token_id().to_string()),
        (ROLES, roles),
        (KIND, verified.kind().as_str().to_owned()),
    ]
}

/// The request as the origin receives it, which the assertion binds.
#[derive(Debug, Clone, Copy)]
pub struct OriginRequest<'a> {
    /// Upper-case method.
    pub method: &'a str,
    /// Origin base path followed by the canonical request path.
    pub path: &'a str,
}

/// The `X-Tollgate-Assertion` value for `verified` calling `request` at `now` (Unix seconds).
pub fn assertion(
    keys: &AssertionKeys,
    verified: &Verified,
    request: OriginRequest<'_>,
    now: u64,
    lifetime: u64,
) -> String {
    let roles: Vec<&str> = verified.roles().collect();
    keys.sign(&Parts {
        token_id: verified.token_id(),
        subject: verified.subject(),
        kind: verified.kind(),
        roles: &roles,
        method: request.method,
        path: request.path,
        issued_at: now,
        lifetime,
    })
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;
    use tollgate_shared::{Authority, Claims, Keyring, Kind, RevocationList, TokenId};

    fn authority() -> Authority {
        Authority::new(Keyring::parse("k1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=").unwrap())
    }

    fn minted(claims: &Claims) -> String {
        authority().mint(claims).unwrap()
    }

    /// `claims` minted and verified, as the edge would hold them.
    fn verified(claims: &Claims) -> Verified {
        authority()
            .verify(
                &minted(claims),
                claims.issued_at,
                &RevocationList::default(),
            )
            .unwrap()
    }

    #[test]
    fn identity_headers_are_recognised_in_any_case() {
        for name in [
            "X-Tollgate-Subject",
            "x-tollgate-roles",
            "X-TOLLGATE-anything",
            "x-tollgate-",
        ] {
            assert!(is_identity(name), "{name}");
        }
        for name in [
            "X-Tollgate",
            "X-Toll-Gate-Subject",
            "Tollgate-Subject",
            "",
            "x-tollgat",
        ] {
            assert!(!is_identity(name), "{name}");
        }
    }

    #[test]
    fn forwarding_drops_identity_bearer_and_hop_by_hop_headers() {
        let f = ForwardFilter::new(Some("keep-alive, X-Secret-Hop"), "tg");
        assert!(!f.keep("X-Tollgate-Subject", "root"));
        assert!(!f.keep("x-TOLLGATE-roles", "admin"));
        assert!(!f.keep("Authorization", "Bearer tg_abc"));
        assert!(!f.keep("authorization", "bearer"));
        assert!(f.keep("Authorization", "Basic YWxpY2U6cHc="));
        assert!(!f.keep("Host", "edge.example"));
        assert!(!f.keep("Transfer-Encoding", "chunked"));
        assert!(!f.keep("x-secret-hop", "1"));
        assert!(f.keep("Content-Type", "application/json"));
        assert!(f.keep("Accept", "*/*"));
        assert!(f.keep("X-Request-Id", "42"));
        assert!(ForwardFilter::new(None, "tg").keep("X-Secret-Hop", "1"));
        for name in [
            "X-HTTP-Method-Override",
            "x-http-method",
            "X-Method-Override",
            "X-Original-URL",
            "x-rewrite-url",
        ] {
            assert!(!f.keep(name, "DELETE"), "{name}");
        }
    }

    #[test]
    fn authorization_values_holding_a_token_are_dropped() {
        let claims = Claims {
            token_id: TokenId([1; 16]),
            subject: "alice".into(),
            kind: Kind::Personal,
            roles: vec![],
            issued_at: 1,
            expires_at: 2,
        };
        let token = minted(&claims);
        let f = ForwardFilter::new(None, "tg");
        assert!(!f.keep(
            "Authorization",
            &format!("Basic YWxpY2U6cHc=, Bearer {token}")
        ));
        assert!(!f.keep("Authorization", &format!("Token {token}")));
        assert!(f.keep("Authorization", "Basic YWxpY2U6cHc="));
    }

    #[test]
    fn identity_headers_from_claims() {
        let claims = Claims {
            token_id: TokenId([0xab; 16]),
            subject: "svc:billing".into(),
            kind: Kind::Service,
            roles: vec!["writer".into(), "reader".into(), "admin".into()],
            issued_at: 1,
            expires_at: 2,
        };
        let h = identity(&verified(&claims));
        assert_eq!(h[0], (SUBJECT, "svc:billing".to_owned()));
        assert_eq!(h[1], (TOKEN_ID, "ab".repeat(16)));
        assert_eq!(h[2], (ROLES, "admin,reader,writer".to_owned()));
        assert_eq!(h[3], (KIND, "service".to_owned()));
        assert!(h.iter().all(|(n, _)| is_identity(n)));
    }

    #[test]
    fn the_assertion_carries_the_verified_identity_for_this_request() {
        let claims = Claims {
            token_id: TokenId([0xcd; 16]),
            subject: "svc:ci".into(),
            kind: Kind::Service,
            roles: vec!["deploy".into(), "read".into()],
            issued_at: 1_000,
            expires_at: 9_000,
        };
        let keyring = Keyring::parse("k1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=").unwrap();
        let edge = AssertionKeys::from_keyring(&keyring);
        let origin = AssertionKeys::parse(&AssertionKeys::export(&keyring)).unwrap();
        let request = OriginRequest {
            method: "POST",
            path: "/base/deploy/1",
        };
        let text = assertion(&edge, &verified(&claims), request, 2_000, 60);
        let id = origin
            .verify(&text, "POST", "/base/deploy/1", 2_010, 5)
            .unwrap();
        assert_eq!(
            (id.subject.as_str(), id.kind, id.token_id),
            ("svc:ci", Kind::Service, TokenId([0xcd; 16]))
        );
        assert_eq!(id.roles, ["deploy", "read"]);
        assert_eq!(id.expires_at, 2_060);
        assert!(origin.verify(&text, "POST", "/deploy/1", 2_010, 5).is_err());
    }

    #[test]
    fn no_roles_gives_an_empty_roles_header() {
        let claims = Claims {
            token_id: TokenId([0; 16]),
            subject: "alice".into(),
            kind: Kind::Session,
            roles: vec![],
            issued_at: 1,
            expires_at: 2,
        };
        let h = identity(&verified(&claims));
        assert_eq!(h[2].1, "");
        assert_eq!(h[3].1, "session");
    }
}
