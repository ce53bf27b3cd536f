//! Route rules: which requests are public and which roles a route needs.
//!
//! `TOLLGATE_POLICY` is a JSON array of rules, tried in order; the first rule
//! whose route matches decides. A request no rule matches needs a valid token
//! and no particular role.
//!
//! ```json
//! [
//!   {"route": "GET /healthz", "public": true},
//!   {"route": "GET /reports/**", "roles": ["reports:read"]},
//!   {"route": "POST,DELETE /orders/*", "roles": ["orders:write"]},
//!   {"route": "* /admin/**", "roles": ["admin"]}
//! ]
//! ```
//!
//! - `route` is `METHODS PATH`. `METHODS` is `*` or a comma-separated list of
//!   upper-case methods; a rule for `GET` also covers `HEAD`.
//! - `PATH` starts with `/`. A `*` segment matches exactly one segment; `**`,
//!   allowed only as the last segment, matches any number of segments (also
//!   none). Other segments match literally, case-sensitively unless the policy
//!   is parsed with [`Case::Insensitive`].
//! - Requests are matched on their [`CanonicalPath`]: decoded once, empty
//!   segments dropped, ambiguous paths already refused, so `/%61dmin` and
//!   `//admin/` meet an `/admin/**` rule and `/admin%2Fusers` never reaches one.
//!   A trailing `/` does not matter: `/reports/` matches `GET /reports`.
//! - `roles`: the token must carry every one of them (an empty list: any valid
//!   token). `public: true`: no token is checked and no identity is added.
//! - `limit` (on a rule with `roles`): `{"requests": N, "period_seconds": 10 | 60}`, N
//!   requests per period for each token on the routes this rule matches; see [`crate::limit`].

use serde::Deserialize;
use tollgate_shared::valid_role;

use crate::limit::{Limit, RawLimit, RouteLimit};
use crate::path::CanonicalPath;

/// Why `TOLLGATE_POLICY` could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    /// Not a JSON array of rule objects with the known fields.
    #[error("not a JSON array of rules ({0})")]
    Json(String),
    /// A rule is wrong; `index` counts from 0.
    #[error("rule {index}: {problem}")]
    Rule {
        /// Position of the rule in the array.
        index: usize,
        /// What is wrong with it.
        problem: String,
    },
}

/// What a matched route requires.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Access {
    /// No token needed; forwarded without identity.
    Public,
    /// A valid token carrying every listed role (ascending, no duplicates).
    Roles(Vec<String>),
}

/// The access required when no rule matches: any valid token.
pub static ANY_VALID_TOKEN: Access = Access::Roles(Vec::new());

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Literal(String),
    One,
    Rest,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Rule {
    /// `None`: any method.
    methods: Option<Vec<String>>,
    segments: Vec<Segment>,
    access: Access,
    limit: Option<Limit>,
}

/// How literal segments compare with request segments.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Case {
    /// Byte for byte (the default).
    #[default]
    Sensitive,
    /// After Unicode lower-casing both sides, for origins that route case-insensitively.
    Insensitive,
}

/// Parsed route rules, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Policy {
    rules: Vec<Rule>,
    case: Case,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    route: String,
    #[serde(default)]
    public: bool,
    roles: Option<Vec<String>>,
    limit: Option<RawLimit>,
}

impl Policy {
    /// Parses the JSON form described in the module documentation, matching case-sensitively.
    pub fn parse(text: &str) -> Result<Policy, PolicyError> {
        Self::parse_with(text, Case::Sensitive)
    }

    /// Parses the JSON form, comparing literal segments as `case` says.
    pub fn parse_with(text: &str, case: Case) -> Result<Policy, PolicyError> {
        let raw: Vec<RawRule> =
            serde_json::from_str(text).map_err(|e| PolicyError::Json(e.to_string()))?;
        let rules = raw
            .into_iter()
            .enumerate()
            .map(|(index, r)| {
                Rule::parse(r, case).map_err(|problem| PolicyError::Rule { index, problem })
            })
            .collect::<Result<_, _>>()?;
        Ok(Policy { rules, case })
    }

    /// Number of rules.
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    /// True if there are no rules (every request needs a valid token).
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// What a request with this (upper-case) method and canonical path requires.
    pub fn access(&self, method: &str, path: &CanonicalPath) -> &Access {
        self.route(method, path).0
    }

    /// What a request requires, and the limit its token is held to on this route, if any.
    pub fn route(&self, method: &str, path: &CanonicalPath) -> (&Access, Option<RouteLimit>) {
        let lowered: Vec<String>;
        let segments = match self.case {
            Case::Sensitive => path.segments(),
            Case::Insensitive => {
                lowered = path.segments().iter().map(|s| s.to_lowercase()).collect();
                &lowered
            }
        };
        self.rules
            .iter()
            .enumerate()
            .find(|(_, r)| r.matches_method(method) && matches(&r.segments, segments))
            .map_or((&ANY_VALID_TOKEN, None), |(rule, r)| {
                let limit = r.limit.map(|limit| RouteLimit { rule, limit });
                (&r.access, limit)
            })
    }
}

impl Rule {
    fn parse(raw: RawRule, case: Case) -> Result<Rule, String> {
        let (methods, path) = raw.route.trim().split_once(' ').ok_or_else(|| {
            "route must be \"METHODS /path\", e.g. \"GET /reports/**\"".to_owned()
        })?;
        let methods = parse_methods(methods)?;
        let segments = parse_path(path.trim(), case)?;
        let access = match (raw.public, raw.roles) {
            (true, None) => Access::Public,
            (true, Some(_)) => return Err("a public rule cannot require roles".into()),
            (false, None) => {
                return Err("give \"roles\" (a list, may be empty) or \"public\": true".into());
            }
            (false, Some(mut roles)) => {
                if let Some(bad) = roles.iter().find(|r| !valid_role(r)) {
                    return Err(format!(
                        "invalid role {bad:?} (1-64 of A-Z a-z 0-9 . _ : / -)"
                    ));
                }
                roles.sort();
                roles.dedup();
                Access::Roles(roles)
            }
        };
        let limit = match (&access, raw.limit) {
            (_, None) => None,
            (Access::Public, Some(_)) => {
                return Err("a public rule cannot carry a limit: limits count per token".into());
            }
            (Access::Roles(_), Some(raw)) => Some(Limit::parse(&raw)?),
        };
        Ok(Rule {
            methods,
            segments,
            access,
            limit,
        })
    }

    fn matches_method(&self, method: &str) -> bool {
        match &self.methods {
            None => true,
            Some(list) => list
                .iter()
                .any(|m| m == method || (method == "HEAD" && m == "GET")),
        }
    }
}

fn parse_methods(text: &str) -> Result<Option<Vec<String>>, String> {
    if text == "*" {
        return Ok(None);
    }
    let methods: Vec<String> = text.split(',').map(|m| m.trim().to_owned()).collect();
    if let Some(bad) = methods
        .iter()
        .find(|m| m.is_empty() || !m.bytes().all(|b| b.is_ascii_uppercase()))
    {
        return Err(format!(
            "invalid method {bad:?} (use upper-case names like GET, or *)"
        ));
    }
    Ok(Some(methods))
}

fn parse_path(path: &str, case: Case) -> Result<Vec<Segment>, String> {
    if !path.starts_with('/') {
        return Err(format!("path {path:?} must start with /"));
    }
    if path.contains(['?', '#', '%', ' ', '\\', ';']) || path.chars().any(char::is_control) {
        return Err(format!(
            "path {path:?} must not contain ? # % \\ ; spaces or control characters"
        ));
    }
    let parts: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let last = parts.len().saturating_sub(1);
    parts
        .iter()
        .enumerate()
        .map(|(i, part)| match *part {
            "*" => Ok(Segment::One),
            "**" if i == last => Ok(Segment::Rest),
            "**" => Err("** is only allowed as the last segment".to_owned()),
            "." | ".." => Err(format!("path {path:?} must not contain . or .. segments")),
            p if p.contains('*') => Err(format!("segment {p:?}: * must be a whole segment")),
            p if case == Case::Insensitive => Ok(Segment::Literal(p.to_lowercase())),
            p => Ok(Segment::Literal(p.to_owned())),
        })
        .collect()
}

fn matches(pattern: &[Segment], path: &[String]) -> bool {
    match (pattern.split_first(), path.split_first()) {
        (None, None) => true,
        (Some((Segment::Rest, _)), _) => true,
        (Some((Segment::One, p)), Some((_, rest))) => matches(p, rest),
        (Some((Segment::Literal(lit), p)), Some((seg, rest))) => lit == seg && matches(p, rest),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;
    use crate::path::canonicalize;

    const SAMPLE: &str = r#"[
        {"route": "GET /healthz", "public": true},
        {"route": "GET /reports/**", "roles": ["reports:read"]},
        {"route": "POST,DELETE /orders/*", "roles": ["orders:write", "orders:write"]},
        {"route": "* /admin/**", "roles": ["admin", "audit"]},
        {"route": "* /docs/*/public", "public": true}
    ]"#;

    fn acc<'a>(p: &'a Policy, method: &str, path: &str) -> &'a Access {
        p.access(method, &canonicalize(path).unwrap())
    }

    fn roles(list: &[&str]) -> Access {
        Access::Roles(list.iter().map(|s| (*s).to_owned()).collect())
    }

    #[test]
    fn first_matching_rule_decides() {
        let p = Policy::parse(SAMPLE).unwrap();
        assert_eq!(p.len(), 5);
        assert_eq!(acc(&p, "GET", "/healthz"), &Access::Public);
        assert_eq!(
            acc(&p, "HEAD", "/healthz"),
            &Access::Public,
            "GET rules cover HEAD"
        );
        assert_eq!(acc(&p, "POST", "/healthz"), &ANY_VALID_TOKEN);
        assert_eq!(acc(&p, "GET", "/reports"), &roles(&["reports:read"]));
        assert_eq!(
            acc(&p, "GET", "/reports/2024/q1.csv"),
            &roles(&["reports:read"])
        );
        assert_eq!(acc(&p, "PUT", "/reports/x"), &ANY_VALID_TOKEN);
        assert_eq!(acc(&p, "DELETE", "/orders/17"), &roles(&["orders:write"]));
        assert_eq!(
            acc(&p, "DELETE", "/orders"),
            &ANY_VALID_TOKEN,
            "* needs one segment"
        );
        assert_eq!(acc(&p, "DELETE", "/orders/17/items"), &ANY_VALID_TOKEN);
        assert_eq!(acc(&p, "PATCH", "/admin"), &roles(&["admin", "audit"]));
        assert_eq!(acc(&p, "GET", "/docs/v1/public"), &Access::Public);
        assert_eq!(acc(&p, "GET", "/docs/v1/private"), &ANY_VALID_TOKEN);
        assert_eq!(acc(&p, "GET", "/"), &ANY_VALID_TOKEN);
    }

    #[test]
    fn encoded_and_doubled_slashes_do_not_dodge_rules() {
        let p = Policy::parse(SAMPLE).unwrap();
        assert_eq!(
            acc(&p, "GET", "/%61dmin/users"),
            &roles(&["admin", "audit"])
        );
        assert_eq!(
            acc(&p, "GET", "//admin//users/"),
            &roles(&["admin", "audit"])
        );
        assert_eq!(
            acc(&p, "GET", "/Admin/users"),
            &ANY_VALID_TOKEN,
            "matching is case-sensitive"
        );
        assert_eq!(acc(&p, "GET", "/health%7A"), &Access::Public);
        assert_eq!(acc(&p, "GET", "/admin/"), &roles(&["admin", "audit"]));
        assert_eq!(
            acc(&p, "GET", "/healthz/"),
            &Access::Public,
            "a trailing / does not matter"
        );
    }

    #[test]
    fn empty_policy_needs_a_token_everywhere() {
        let p = Policy::parse("[]").unwrap();
        assert!(p.is_empty());
        assert_eq!(acc(&p, "GET", "/anything"), &ANY_VALID_TOKEN);
        assert_eq!(acc(&Policy::default(), "OPTIONS", "/"), &ANY_VALID_TOKEN);
    }

    #[test]
    fn root_and_catch_all_patterns() {
        let p =
            Policy::parse(r#"[{"route":"GET /","public":true},{"route":"* /**","roles":["x"]}]"#)
                .unwrap();
        assert_eq!(acc(&p, "GET", "/"), &Access::Public);
        assert_eq!(acc(&p, "GET", "//"), &Access::Public);
        assert_eq!(acc(&p, "GET", "/a/b"), &roles(&["x"]));
    }

    #[test]
    fn bad_policies_say_which_rule() {
        let cases = [
            (r#"{"route":"GET /"}"#, None),
            (r#"[{"route":"GET /","public":true,"extra":1}]"#, None),
            (r#"[{"route":"GET"," public":true}]"#, None),
            (r#"[{"route":"/x","public":true}]"#, Some(0)),
            (
                r#"[{"route":"GET /x","public":true},{"route":"get /x","public":true}]"#,
                Some(1),
            ),
            (r#"[{"route":"GET x","public":true}]"#, Some(0)),
            (r#"[{"route":"GET /**/x","public":true}]"#, Some(0)),
            (r#"[{"route":"GET /a*","public":true}]"#, Some(0)),
            (r#"[{"route":"GET /a?b","public":true}]"#, Some(0)),
            (r#"[{"route":"GET /a/../b","public":true}]"#, Some(0)),
            (r#"[{"route":"GET /x"}]"#, Some(0)),
            (r#"[{"route":"GET /x","public":true,"roles":[]}]"#, Some(0)),
            (r#"[{"route":"GET /x","roles":["bad role"]}]"#, Some(0)),
            (r#"[{"route":"GET, /x","roles":[]}]"#, Some(0)),
        ];
        for (text, rule) in cases {
            let err = Policy::parse(text).unwrap_err();
            match (rule, &err) {
                (None, PolicyError::Json(_)) => {}
                (Some(i), PolicyError::Rule { index, .. }) if *index == i => {}
                _ => panic!("{text}: unexpected {err:?}"),
            }
        }
    }

    #[test]
    fn case_insensitive_policies_fold_both_sides() {
        let p = Policy::parse_with(SAMPLE, Case::Insensitive).unwrap();
        assert_eq!(acc(&p, "GET", "/Admin/users"), &roles(&["admin", "audit"]));
        assert_eq!(acc(&p, "GET", "/ADMIN"), &roles(&["admin", "audit"]));
        assert_eq!(acc(&p, "GET", "/HealthZ"), &Access::Public);
        let kelvin =
            Policy::parse_with(r#"[{"route":"* /k/**","roles":["r"]}]"#, Case::Insensitive)
                .unwrap();
        assert_eq!(
            acc(&kelvin, "GET", "/%E2%84%AA/x"),
            &roles(&["r"]),
            "the Kelvin sign folds to k"
        );
    }

    #[test]
    fn rule_paths_refuse_what_requests_cannot_carry() {
        for route in ["GET /a;b", "GET /a\\b", "GET /a\tb"] {
            let text = serde_json::json!([{"route": route, "public": true}]).to_string();
            assert!(Policy::parse(&text).is_err(), "{route}");
        }
    }

    #[test]
    fn limits_belong_to_their_rule() {
        let p = Policy::parse(
            r#"[
                {"route": "GET /healthz", "public": true},
                {"route": "GET /api/**", "roles": [], "limit": {"requests": 5, "period_seconds": 10}},
                {"route": "* /api/**", "roles": ["writer"]}
            ]"#,
        )
        .unwrap();
        let path = |p| canonicalize(p).unwrap();
        let (access, limit) = p.route("GET", &path("/api/x"));
        assert_eq!(access, &Access::Roles(vec![]));
        assert_eq!(
            limit,
            Some(RouteLimit {
                rule: 1,
                limit: Limit {
                    requests: 5,
                    period_s: 10
                }
            })
        );
        assert_eq!(p.route("HEAD", &path("/api/x")).1.map(|l| l.rule), Some(1));
        assert_eq!(p.route("POST", &path("/api/x")).1, None);
        assert_eq!(p.route("GET", &path("/other")).1, None);
        for bad in [
            r#"[{"route": "GET /a", "public": true, "limit": {"requests": 5, "period_seconds": 10}}]"#,
            r#"[{"route": "GET /a", "roles": [], "limit": {"requests": 5, "period_seconds": 30}}]"#,
            r#"[{"route": "GET /a", "roles": [], "limit": {"requests": 0, "period_seconds": 10}}]"#,
            r#"[{"route": "GET /a", "roles": [], "limit": {"requests": 5}}]"#,
            r#"[{"route": "GET /a", "roles": [], "limit": {"requests": 5, "period_seconds": 10, "burst": 2}}]"#,
        ] {
            assert!(Policy::parse(bad).is_err(), "{bad}");
        }
    }
}
