//! The decision for one request, before and after the revocation list is consulted.
//!
//! [`classify`] needs no list: it canonicalises the path (refusing ambiguous
//! ones), refuses tokens in the URL, recognises public routes and the
//! introspection endpoint, and finds the bearer token. The path it returns is
//! the one the policy decided on and the only one the origin may receive.
//! [`authorize`] verifies that token against the list and the route's roles.

use tollgate_shared::{Authority, RevocationList, Verified};

use crate::bearer::{self, InvalidRequest};
use crate::config::Config;
use crate::limit::RouteLimit;
use crate::path::{CanonicalPath, canonicalize};
use crate::policy::Access;
use crate::refusal::Refusal;

/// Where services ask the edge about a token (RFC 7662 shape).
pub const INTROSPECT_PATH: &str = "/.well-known/tollgate/introspect";

/// The parts of a request the decision depends on.
#[derive(Debug, Clone, Copy)]
pub struct Incoming<'a> {
    /// Upper-case method.
    pub method: &'a str,
    /// Percent-encoded path as received, starting with `/`.
    pub path: &'a str,
    /// Raw query string, without `?`.
    pub query: Option<&'a str>,
    /// The `Authorization` header.
    pub authorization: Option<&'a str>,
}

/// The path (at least `/`) and query of an absolute URL as the runtime serialises it.
pub fn path_and_query(url: &str) -> (&str, Option<&str>) {
    let after_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
    let target = after_scheme
        .find('/')
        .and_then(|i| after_scheme.get(i..))
        .unwrap_or("/");
    let target = target.split_once('#').map_or(target, |(t, _)| t);
    match target.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (target, None),
    }
}

/// What to do with a request that passed the checks needing no list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step<'a> {
    /// Forward without identity: a public route, or the benchmark passthrough.
    Forward,
    /// Verify the token, require these roles, then forward with identity.
    Verify {
        /// The bearer token text.
        token: &'a str,
        /// Roles the route requires (ascending).
        roles: &'a [String],
        /// The limit the token is held to on this route, if any.
        limit: Option<RouteLimit>,
    },
    /// Answer the introspection endpoint for this token.
    Introspect {
        /// The bearer token text.
        token: &'a str,
    },
}

/// What [`classify`] decided: the step, and the canonical path it decided on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision<'a> {
    /// What to do next.
    pub step: Step<'a>,
    /// The path the policy matched; forward exactly [`CanonicalPath::as_str`].
    pub path: CanonicalPath,
}

/// Decides what a request needs, refusing it at once when no list could change the answer.
pub fn classify<'a>(config: &'a Config, req: &Incoming<'a>) -> Result<Decision<'a>, Refusal> {
    let path = canonicalize(req.path).map_err(Refusal::AmbiguousPath)?;
    let step = if config.passthrough {
        Step::Forward
    } else {
        step(config, req, &path)?
    };
    Ok(Decision { step, path })
}

fn step<'a>(
    config: &'a Config,
    req: &Incoming<'a>,
    path: &CanonicalPath,
) -> Result<Step<'a>, Refusal> {
    let prefix = config.authority.prefix();
    if path
        .segments()
        .iter()
        .any(|s| tollgate_shared::contains_token(s, prefix))
    {
        return Err(Refusal::InvalidRequest(InvalidRequest::TokenInPath));
    }
    bearer::check_query(req.query, prefix).map_err(Refusal::InvalidRequest)?;
    if path.as_str() == INTROSPECT_PATH {
        if !matches!(req.method, "GET" | "HEAD") {
            return Err(Refusal::MethodNotAllowed("GET, HEAD"));
        }
        let token = bearer::token(req.authorization).map_err(Refusal::InvalidRequest)?;
        return token
            .map(|token| Step::Introspect { token })
            .ok_or(Refusal::MissingToken);
    }
    match config.policy.route(req.method, path) {
        (Access::Public, _) => Ok(Step::Forward),
        (Access::Roles(roles), limit) => {
            let token = bearer::token(req.authorization).map_err(Refusal::InvalidRequest)?;
            token
                .map(|token| Step::Verify {
                    token,
                    roles,
                    limit,
                })
                .ok_or(Refusal::MissingToken)
        }
    }
}

/// Verifies `token` at `now` (Unix seconds) against `list` and checks it carries every role in `roles`.
pub fn authorize(
    authority: &Authority,
    token: &str,
    roles: &[String],
    list: &RevocationList,
    now: u64,
) -> Result<Verified, Refusal> {
    let verified = authority
        .verify(token, now, list)
        .map_err(Refusal::InvalidToken)?;
    if roles.iter().all(|r| verified.has_role(r)) {
        Ok(verified)
    } else {
        Err(Refusal::InsufficientScope(roles.to_vec()))
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;
    use crate::path::AmbiguousPath;
    use std::collections::BTreeMap;
    use tollgate_shared::{Claims, Entry, Kind, SubjectRule, TokenId, VerifyError};

    const KEYS: &str = "k1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
    const NOW: u64 = 1_750_000_000;
    const POLICY: &str = r#"[
        {"route": "GET /healthz", "public": true},
        {"route": "* /admin/**", "roles": ["admin"]},
        {"route": "GET /reports/**", "roles": ["reports:read", "staff"]}
    ]"#;

    fn config(passthrough: bool) -> Config {
        Config::from_lookup(|name| {
            Some(match name {
                "TOLLGATE_ADMIN_URL" => "http://127.0.0.1:1".into(),
                "TOLLGATE_ORIGIN_URL" => "http://127.0.0.1:2".into(),
                "TOLLGATE_KEYS" => KEYS.into(),
                "TOLLGATE_POLICY" => POLICY.into(),
                "TOLLGATE_BENCHMARK_PASSTHROUGH" => passthrough.to_string(),
                _ => return None,
            })
        })
        .unwrap()
    }

    fn claims(roles: &[&str]) -> Claims {
        Claims {
            token_id: TokenId([9; 16]),
            subject: "alice".into(),
            kind: Kind::Personal,
            roles: roles.iter().map(|r| (*r).to_owned()).collect(),
            issued_at: NOW - 100,
            expires_at: NOW + 3600,
        }
    }

    fn mint(c: &Config, roles: &[&str]) -> String {
        c.authority.mint(&claims(roles)).unwrap()
    }

    fn req<'a>(
        method: &'a str,
        path: &'a str,
        query: Option<&'a str>,
        auth: Option<&'a str>,
    ) -> Incoming<'a> {
        Incoming {
            method,
            path,
            query,
            authorization: auth,
        }
    }

    fn step_of<'a>(c: &'a Config, r: &Incoming<'a>) -> Result<Step<'a>, Refusal> {
        classify(c, r).map(|d| d.step)
    }

    #[test]
    fn encoded_separators_and_dot_segments_never_reach_a_rule() {
        let c = config(false);
        let t = format!("Bearer {}", mint(&c, &["user"]));
        for path in [
            "/admin%2Fusers",
            "/reports%2Fq1",
            "/public/..%2Fadmin/users",
            "/healthz/%2e%2e/admin",
            "/admin;x=1/users",
            "/a%00",
            "/a%zz",
            "/admin%252Fusers",
        ] {
            for auth in [None, Some(t.as_str())] {
                assert!(
                    matches!(
                        classify(&c, &req("GET", path, None, auth)),
                        Err(Refusal::AmbiguousPath(_))
                    ),
                    "{path}"
                );
            }
        }
        assert_eq!(
            classify(&c, &req("GET", "/healthz%2F..", None, None)).map(|d| d.step),
            Err(Refusal::AmbiguousPath(AmbiguousPath::Separator))
        );
        assert_eq!(
            Refusal::AmbiguousPath(AmbiguousPath::Separator).status(),
            400
        );
    }

    #[test]
    fn the_forwarded_path_is_the_one_decided_on() {
        let c = config(false);
        let d = classify(
            &c,
            &req("GET", "//%61dmin//users/", None, Some("Bearer tg_x")),
        )
        .unwrap();
        let admin = vec!["admin".to_owned()];
        assert_eq!(
            d.step,
            Step::Verify {
                token: "tg_x",
                roles: &admin,
                limit: None
            }
        );
        assert_eq!(d.path.as_str(), "/admin/users/");
        let d = classify(&c, &req("GET", "/%68ealthz", None, None)).unwrap();
        assert_eq!((d.step, d.path.as_str()), (Step::Forward, "/healthz"));
    }

    #[test]
    fn tokens_in_the_path_are_refused_everywhere() {
        let c = config(false);
        let t = mint(&c, &[]);
        for path in [
            format!("/x/{t}"),
            format!("/healthz/{t}.json"),
            format!("/files/key={t}"),
            format!("/{}", t.replace('_', "%5F")),
        ] {
            assert_eq!(
                step_of(&c, &req("GET", &path, None, None)),
                Err(Refusal::InvalidRequest(InvalidRequest::TokenInPath)),
                "{path}"
            );
        }
        assert_eq!(
            step_of(&c, &req("GET", "/healthz", None, None)),
            Ok(Step::Forward)
        );
    }

    #[test]
    fn splits_request_urls() {
        assert_eq!(
            path_and_query("http://edge.example/a/b?x=1&y"),
            ("/a/b", Some("x=1&y"))
        );
        assert_eq!(path_and_query("https://edge.example"), ("/", None));
        assert_eq!(path_and_query("http://127.0.0.1:8787/?"), ("/", Some("")));
        assert_eq!(path_and_query("http://h/p#frag"), ("/p", None));
        assert_eq!(path_and_query("http://h/p?q=a/b#f"), ("/p", Some("q=a/b")));
    }

    #[test]
    fn public_routes_are_forwarded_without_a_token() {
        let c = config(false);
        assert_eq!(
            step_of(&c, &req("GET", "/healthz", None, None)),
            Ok(Step::Forward)
        );
        assert_eq!(
            step_of(&c, &req("GET", "/healthz", None, Some("Bearer junk"))),
            Ok(Step::Forward)
        );
    }

    #[test]
    fn protected_routes_need_a_bearer_token() {
        let c = config(false);
        assert_eq!(
            step_of(&c, &req("GET", "/x", None, None)),
            Err(Refusal::MissingToken)
        );
        assert_eq!(
            step_of(&c, &req("GET", "/x", None, Some("Basic abc"))),
            Err(Refusal::MissingToken)
        );
        assert_eq!(
            step_of(&c, &req("GET", "/x", None, Some("Bearer a b"))),
            Err(Refusal::InvalidRequest(InvalidRequest::MalformedHeader))
        );
        let roles = ["admin".to_owned()];
        assert_eq!(
            step_of(&c, &req("POST", "/admin/users", None, Some("Bearer tg_x"))),
            Ok(Step::Verify {
                token: "tg_x",
                roles: &roles,
                limit: None
            })
        );
    }

    #[test]
    fn tokens_in_the_query_are_refused_everywhere() {
        let c = config(false);
        let t = mint(&c, &[]);
        let q = format!("token={t}");
        for path in ["/x", "/healthz", INTROSPECT_PATH] {
            assert_eq!(
                step_of(&c, &req("GET", path, Some(&q), None)),
                Err(Refusal::InvalidRequest(InvalidRequest::TokenInQuery)),
                "{path}"
            );
        }
    }

    #[test]
    fn introspection_endpoint() {
        let c = config(false);
        assert_eq!(
            step_of(&c, &req("GET", INTROSPECT_PATH, None, Some("Bearer tg_x"))),
            Ok(Step::Introspect { token: "tg_x" })
        );
        assert_eq!(
            step_of(&c, &req("GET", INTROSPECT_PATH, None, None)),
            Err(Refusal::MissingToken)
        );
        assert_eq!(
            step_of(&c, &req("POST", INTROSPECT_PATH, None, Some("Bearer tg_x"))),
            Err(Refusal::MethodNotAllowed("GET, HEAD"))
        );
    }

    #[test]
    fn passthrough_skips_every_check() {
        let c = config(true);
        assert_eq!(
            step_of(
                &c,
                &req("GET", "/admin", Some("access_token=x"), Some("Bearer a b"))
            ),
            Ok(Step::Forward)
        );
    }

    #[test]
    fn authorize_checks_token_then_roles() {
        let c = config(false);
        let list = RevocationList::default();
        let need = vec!["reports:read".to_owned(), "staff".to_owned()];
        let good = mint(&c, &["reports:read", "staff", "x"]);
        assert_eq!(
            authorize(&c.authority, &good, &need, &list, NOW)
                .unwrap()
                .subject(),
            "alice"
        );
        let partial = mint(&c, &["reports:read"]);
        assert_eq!(
            authorize(&c.authority, &partial, &need, &list, NOW),
            Err(Refusal::InsufficientScope(need.clone()))
        );
        assert_eq!(
            authorize(&c.authority, &partial, &[], &list, NOW).map(|v| v.claims().roles),
            Ok(vec!["reports:read".into()])
        );
        assert_eq!(
            authorize(&c.authority, "tg_garbage", &[], &list, NOW),
            Err(Refusal::InvalidToken(VerifyError::Malformed))
        );
        assert_eq!(
            authorize(&c.authority, &good, &[], &list, NOW + 7200),
            Err(Refusal::InvalidToken(VerifyError::Expired))
        );
    }

    #[test]
    fn the_list_revokes_and_drops_roles() {
        let c = config(false);
        let token = mint(&c, &["admin"]);
        let admin = vec!["admin".to_owned()];
        let mut list = RevocationList::new(2, NOW);
        list.set_subject(
            "alice".into(),
            SubjectRule {
                void_before: 0,
                drop_roles: BTreeMap::from([("admin".into(), NOW)]),
                expires_at: NOW + 9999,
            },
        );
        assert_eq!(
            authorize(&c.authority, &token, &admin, &list, NOW),
            Err(Refusal::InsufficientScope(admin.clone()))
        );
        assert!(authorize(&c.authority, &token, &[], &list, NOW).is_ok());
        list.insert(TokenId([9; 16]), Entry::revoked(NOW + 3600));
        assert_eq!(
            authorize(&c.authority, &token, &[], &list, NOW),
            Err(Refusal::InvalidToken(VerifyError::Revoked))
        );
    }
}
