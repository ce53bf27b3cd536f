//! Bad input: the conventions' JSON error with the right 4xx, and nothing changed.

use serde_json::json;

use crate::harness::{Admin, Db, PASSWORD, both_backends};

/// Method, path, body, expected status and error code.
type Case = (&'static str, String, Option<Vec<u8>>, u16, &'static str);

async fn bad_requests_change_nothing(db: Db) {
    let a = Admin::start(&db).await;
    let alice = a.user("alice", &["user", "token_creator"]).await;
    let bob = a.user("bob", &["user", "token_creator"]).await;
    let (_, mine) = a.mint(&alice, json!({"name": "taken"})).await;
    let (_, bobs) = a.mint(&bob, json!({"name": "bobs"})).await;
    let my_id = mine["id"].as_str().unwrap().to_owned();
    let bob_id = bobs["id"].as_str().unwrap().to_owned();
    let nobody = "f".repeat(32);
    let huge = format!(
        "{{\"name\": \"big\", \"description\": \"{}\"}}",
        "x".repeat(70 * 1024)
    );

    let cases: Vec<Case> = vec![
        (
            "POST",
            "/api/v1/tokens".into(),
            Some(b"{\"name\": ".to_vec()),
            400,
            "malformed_json",
        ),
        (
            "POST",
            "/api/v1/tokens".into(),
            Some(b"not json".to_vec()),
            400,
            "malformed_json",
        ),
        (
            "POST",
            "/api/v1/tokens".into(),
            Some(br#"{"name": "x", "scopes": ["all"]}"#.to_vec()),
            400,
            "unknown_field",
        ),
        (
            "POST",
            "/api/v1/tokens".into(),
            Some(br#"{"name": 5}"#.to_vec()),
            400,
            "invalid_body",
        ),
        (
            "POST",
            "/api/v1/tokens".into(),
            Some(br#"{}"#.to_vec()),
            400,
            "invalid_body",
        ),
        (
            "POST",
            "/api/v1/tokens".into(),
            Some(format!(r#"{{"name": "{}"}}"#, "n".repeat(65)).into_bytes()),
            422,
            "invalid_name",
        ),
        (
            "POST",
            "/api/v1/tokens".into(),
            Some(format!(r#"{{"name": "d", "description": "{}"}}"#, "d".repeat(257)).into_bytes()),
            422,
            "invalid_description",
        ),
        (
            "POST",
            "/api/v1/tokens".into(),
            Some(huge.into_bytes()),
            413,
            "body_too_large",
        ),
        (
            "POST",
            "/api/v1/tokens".into(),
            Some(br#"{"name": "p", "expires_at": "2001-01-01"}"#.to_vec()),
            422,
            "expiry_in_past",
        ),
        (
            "POST",
            "/api/v1/tokens".into(),
            Some(br#"{"name": "p", "expires_at": "someday"}"#.to_vec()),
            422,
            "invalid_expiry",
        ),
        (
            "POST",
            "/api/v1/tokens".into(),
            Some(br#"{"name": "p", "ttl_seconds": 31536000}"#.to_vec()),
            422,
            "expiry_too_far",
        ),
        (
            "POST",
            "/api/v1/tokens".into(),
            Some(br#"{"name": "p", "ttl_seconds": -5}"#.to_vec()),
            400,
            "invalid_body",
        ),
        (
            "POST",
            "/api/v1/tokens".into(),
            Some(br#"{"name": "p", "ttl_seconds": 60, "expires_at": "2099-01-01"}"#.to_vec()),
            422,
            "conflicting_expiry",
        ),
        (
            "POST",
            "/api/v1/tokens".into(),
            Some(br#"{"name": "taken"}"#.to_vec()),
            409,
            "name_taken",
        ),
        (
            "POST",
            "/api/v1/tokens".into(),
            Some(br#"{"name": "p", "roles": ["admin"]}"#.to_vec()),
            403,
            "role_not_held",
        ),
        (
            "POST",
            "/api/v1/tokens".into(),
            Some(br#"{"name": "p", "roles": ["bad role"]}"#.to_vec()),
            422,
            "invalid_role",
        ),
        (
            "POST",
            "/api/v1/tokens".into(),
            Some(br#"{"name": "p", "user": "bob"}"#.to_vec()),
            403,
            "forbidden",
        ),
        (
            "GET",
            format!("/api/v1/tokens/{bob_id}"),
            None,
            404,
            "not_found",
        ),
        (
            "PATCH",
            format!("/api/v1/tokens/{bob_id}"),
            Some(br#"{"enabled": false}"#.to_vec()),
            404,
            "not_found",
        ),
        (
            "POST",
            format!("/api/v1/tokens/{bob_id}/revoke"),
            None,
            404,
            "not_found",
        ),
        (
            "POST",
            format!("/api/v1/tokens/{bob_id}/regenerate"),
            None,
            404,
            "not_found",
        ),
        (
            "DELETE",
            format!("/api/v1/tokens/{bob_id}"),
            None,
            404,
            "not_found",
        ),
        (
            "GET",
            format!("/api/v1/tokens/{nobody}"),
            None,
            404,
            "not_found",
        ),
        (
            "DELETE",
            format!("/api/v1/tokens/{nobody}"),
            None,
            404,
            "not_found",
        ),
        (
            "GET",
            "/api/v1/tokens/not-an-id".into(),
            None,
            400,
            "invalid_id",
        ),
        (
            "POST",
            format!("/api/v1/tokens/{my_id}/revoke"),
            Some(br#"{"why": "x"}"#.to_vec()),
            400,
            "unknown_field",
        ),
        (
            "PATCH",
            format!("/api/v1/tokens/{my_id}"),
            Some(b"{}".to_vec()),
            422,
            "nothing_to_change",
        ),
        (
            "PATCH",
            format!("/api/v1/tokens/{my_id}"),
            Some(br#"{"expires_at": "2001-01-01"}"#.to_vec()),
            422,
            "expiry_in_past",
        ),
        (
            "PATCH",
            format!("/api/v1/tokens/{my_id}"),
            Some(br#"{"ttl_seconds": 99999999}"#.to_vec()),
            403,
            "cannot_extend",
        ),
        (
            "PATCH",
            format!("/api/v1/tokens/{my_id}"),
            Some(br#"{"name": "renamed"}"#.to_vec()),
            400,
            "unknown_field",
        ),
        (
            "PATCH",
            format!("/api/v1/tokens/{my_id}"),
            Some(br#"{"roles": ["user"]}"#.to_vec()),
            400,
            "unknown_field",
        ),
        (
            "GET",
            "/api/v1/tokens?limit=0".into(),
            None,
            400,
            "invalid_limit",
        ),
        (
            "GET",
            "/api/v1/tokens?cursor=garbage".into(),
            None,
            400,
            "invalid_cursor",
        ),
        (
            "GET",
            "/api/v1/tokens?colour=red".into(),
            None,
            400,
            "invalid_query",
        ),
        (
            "GET",
            "/api/v1/tokens?ids=nothex".into(),
            None,
            400,
            "invalid_id",
        ),
        (
            "GET",
            "/api/v1/tokens?user=bob".into(),
            None,
            403,
            "forbidden",
        ),
        (
            "POST",
            "/api/v1/users".into(),
            Some(br#"{"name": "x", "password": "password1"}"#.to_vec()),
            403,
            "forbidden",
        ),
        // What the OpenAPI document says the server must refuse, it refuses (api_fuzz.rs).
        (
            "POST",
            "/api/v1/tokens".into(),
            Some(br#"{"name": "n", "expires_at": null}"#.to_vec()),
            400,
            "invalid_body",
        ),
        (
            "PATCH",
            format!("/api/v1/tokens/{my_id}"),
            Some(br#"{"description": null}"#.to_vec()),
            400,
            "invalid_body",
        ),
        (
            "POST",
            format!("/api/v1/tokens/{my_id}/regenerate"),
            Some(br#"{"ttl_seconds": 1.5}"#.to_vec()),
            400,
            "invalid_body",
        ),
        (
            "GET",
            format!("/api/v1/tokens?ids={my_id},"),
            None,
            400,
            "invalid_id",
        ),
        (
            "GET",
            format!("/api/v1/tokens?ids=%20{my_id}"),
            None,
            400,
            "invalid_id",
        ),
        (
            "GET",
            "/api/v1/tokens?cursor=djE6AAAA".into(),
            None,
            422,
            "unknown_cursor",
        ),
        (
            "GET",
            "/api/v1/revocations?since=-1".into(),
            None,
            400,
            "invalid_query",
        ),
        (
            "GET",
            "/api/v1/revocations?since=9223372036854775808".into(),
            None,
            400,
            "invalid_query",
        ),
        ("GET", "/api/v1/nowhere".into(), None, 404, "not_found"),
        (
            "PUT",
            "/api/v1/tokens".into(),
            None,
            405,
            "method_not_allowed",
        ),
    ];
    for (method, path, body, status, code) in cases {
        let before = a.state().await;
        let r = a.raw(method, &path, Some(&alice), body, &[]).await;
        assert_eq!(
            (r.status, r.code().as_str()),
            (status, code),
            "{method} {path}: {}",
            String::from_utf8_lossy(&r.body)
        );
        assert_eq!(
            r.header("content-type").as_deref(),
            Some("application/json"),
            "{method} {path}"
        );
        assert_eq!(a.state().await, before, "{method} {path} changed the store");
    }

    // Admin-side user input.
    let user_cases: Vec<(&str, String, serde_json::Value, u16, &str)> = vec![
        (
            "POST",
            "/api/v1/users".into(),
            json!({"name": "bad name", "password": PASSWORD}),
            422,
            "invalid_name",
        ),
        (
            "POST",
            "/api/v1/users".into(),
            json!({"name": "short", "password": "short"}),
            422,
            "invalid_password",
        ),
        (
            "POST",
            "/api/v1/users".into(),
            json!({"name": "nopw"}),
            422,
            "password_required",
        ),
        (
            "POST",
            "/api/v1/users".into(),
            json!({"name": "alice", "password": PASSWORD}),
            409,
            "user_exists",
        ),
        (
            "POST",
            "/api/v1/users".into(),
            json!({"name": "r", "password": PASSWORD, "roles": ["a,b"]}),
            422,
            "invalid_role",
        ),
        (
            "POST",
            "/api/v1/users".into(),
            json!({"name": "r", "password": PASSWORD, "admin": true}),
            400,
            "unknown_field",
        ),
        (
            "PATCH",
            "/api/v1/users/alice".into(),
            json!({}),
            422,
            "nothing_to_change",
        ),
        (
            "PATCH",
            "/api/v1/users/alice".into(),
            json!({"roles": ["user"], "add_roles": ["x"]}),
            422,
            "conflicting_fields",
        ),
        (
            "PATCH",
            "/api/v1/users/ghost".into(),
            json!({"active": false}),
            404,
            "not_found",
        ),
    ];
    for (method, path, body, status, code) in user_cases {
        let before = a.state().await;
        let r = a.call(method, &path, &a.root, Some(body)).await;
        assert_eq!(
            (r.status, r.code().as_str()),
            (status, code),
            "{method} {path}: {}",
            String::from_utf8_lossy(&r.body)
        );
        assert_eq!(a.state().await, before, "{method} {path} changed the store");
    }
}

async fn openapi_matches_the_routes(db: Db) {
    let a = Admin::start(&db).await;
    let doc = a
        .raw("GET", "/api/v1/openapi.json", None, None, &[])
        .await
        .expect(200);
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().unwrap();
    let mut count = 0;
    for (path, item) in paths {
        for method in item.as_object().unwrap().keys() {
            count += 1;
            let concrete = path
                .replace("{id}", &"0".repeat(32))
                .replace("{name}", "nobody");
            let r = a
                .raw(&method.to_uppercase(), &concrete, Some(&a.root), None, &[])
                .await;
            assert_ne!(
                r.status, 405,
                "{method} {path} is documented but not routed"
            );
            if r.status == 404 {
                assert_ne!(
                    r.json()["error"]["message"],
                    "no such route",
                    "{method} {path} is documented but not routed"
                );
            }
        }
    }
    assert_eq!(count, 25);
    // And nothing undocumented answers.
    for (method, path) in [
        ("GET", "/api/v1/login"),
        ("POST", "/api/v1/me"),
        ("GET", "/api/v1/admin"),
    ] {
        let r = a.raw(method, path, Some(&a.root), None, &[]).await;
        assert!(
            r.status == 404 || r.status == 405,
            "{method} {path}: {}",
            r.status
        );
    }
}

async fn health_and_metrics(db: Db) {
    let a = Admin::start(&db).await;
    let h = a.raw("GET", "/healthz", None, None, &[]).await.expect(200);
    assert_eq!(h["status"], "ok");
    let alice = a.user("alice", &["user", "token_creator"]).await;
    let (_, rec) = a.mint(&alice, json!({"name": "m"})).await;
    a.post(
        &format!("/api/v1/tokens/{}/revoke", rec["id"].as_str().unwrap()),
        &alice,
        json!({}),
    )
    .await
    .expect(200);
    a.get("/api/v1/tokens/zzz", &alice).await;
    let r = a.raw("GET", "/metrics", None, None, &[]).await;
    assert_eq!(r.status, 200);
    assert!(r.header("content-type").unwrap().starts_with("text/plain"));
    let text = String::from_utf8(r.body).unwrap();
    assert!(
        text.contains(
            r#"tollgate_http_requests_total{method="POST",route="/api/v1/tokens",status="201"} 1"#
        ),
        "{text}"
    );
    assert!(text.contains(r#"tollgate_http_requests_total{method="GET",route="/api/v1/tokens/{id}",status="400"} 1"#), "{text}");
    assert!(text.contains("tollgate_tokens_issued_total{kind=\"personal\"} 1"));
    assert!(text.contains("tollgate_tokens_issued_total{kind=\"session\"} 2"));
    assert!(text.contains("tollgate_revocations_total 1"));
    assert!(!text.contains("tg_"), "no token text in metrics");
}

both_backends!(
    bad_requests_change_nothing,
    openapi_matches_the_routes,
    health_and_metrics
);
