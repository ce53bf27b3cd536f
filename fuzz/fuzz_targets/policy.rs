//! Route policies: parsing and matching never panic, and a match depends only on the
//! canonical path.
//!
//! Input: `METHOD PATH` on the first line, the policy JSON after it (no newline: all policy).
#![no_main]

use libfuzzer_sys::fuzz_target;
use tollgate_edge::path::canonicalize;
use tollgate_edge::policy::{Access, Policy};
use tollgate_shared::valid_role;

const REQUESTS: &[(&str, &str)] = &[
    ("GET", "/"),
    ("GET", "/healthz"),
    ("HEAD", "/healthz"),
    ("GET", "/reports/2024/q1.csv"),
    ("POST", "/orders/17"),
    ("DELETE", "/orders/17/items/"),
    ("PATCH", "/%61dmin//users"),
    ("OPTIONS", "//a//b/"),
    ("GET", "/docs/v1/public"),
];

fn check(policy: &Policy, method: &str, raw_path: &str) {
    let Ok(path) = canonicalize(raw_path) else {
        return;
    };
    // The canonical spelling is a fixed point.
    let again = canonicalize(path.as_str())
        .unwrap_or_else(|e| panic!("canonical path {:?} refused: {e}", path.as_str()));
    assert_eq!(
        again, path,
        "canonicalize is not idempotent on {raw_path:?}"
    );

    let access = policy.access(method, &path);
    if let Access::Roles(roles) = access {
        assert!(
            roles.windows(2).all(|w| w[0] < w[1]),
            "roles not ascending and unique: {roles:?}"
        );
        assert!(
            roles.iter().all(|r| valid_role(r)),
            "invalid role in {roles:?}"
        );
    }
    // Empty segments and a trailing slash do not change the decision.
    let padded = format!("//{}/", path.as_str().trim_end_matches('/'));
    let padded = canonicalize(&padded)
        .unwrap_or_else(|e| panic!("padded canonical path {padded:?} refused: {e}"));
    assert_eq!(padded.segments(), path.segments());
    assert_eq!(
        policy.access(method, &padded),
        access,
        "{method} {raw_path:?}: padding the path changed the decision"
    );
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (request, policy_text) = text.split_once('\n').unwrap_or(("", text));
    let Ok(policy) = Policy::parse(policy_text) else {
        return;
    };
    for (method, path) in REQUESTS {
        check(&policy, method, path);
    }
    let (method, path) = request.split_once(' ').unwrap_or((request, "/"));
    check(&policy, method, path);
});
