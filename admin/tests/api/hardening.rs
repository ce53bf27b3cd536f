//! Holes found by trying the admin as an attacker would: cached token texts, a world-readable
//! database, and metrics labels a caller can grow without bound.

use std::os::unix::fs::PermissionsExt;

use serde_json::json;

use crate::harness::{Admin, Db, both_backends};

/// Login, create and regenerate carry token text: no cache may keep them (RFC 6749 §5.1).
async fn token_answers_are_never_cached(db: Db) {
    let a = Admin::start(&db).await;
    let alice = a.user("alice", &["user", "token_creator"]).await;
    let login = a
        .raw(
            "POST",
            "/api/v1/login",
            None,
            Some(
                serde_json::to_vec(
                    &json!({"username": "alice", "password": crate::harness::PASSWORD}),
                )
                .unwrap(),
            ),
            &[],
        )
        .await;
    let create = a
        .post("/api/v1/tokens", &alice, json!({"name": "ci"}))
        .await;
    let id = create.expect(201)["record"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let regenerate = a
        .post(
            &format!("/api/v1/tokens/{id}/regenerate"),
            &alice,
            json!({}),
        )
        .await;
    for (what, r) in [
        ("login", &login),
        ("create", &create),
        ("regenerate", &regenerate),
    ] {
        assert!(r.status < 300, "{what}: {}", r.status);
        assert_eq!(
            r.header("cache-control").as_deref(),
            Some("no-store"),
            "{what}"
        );
        assert_eq!(r.header("pragma").as_deref(), Some("no-cache"), "{what}");
    }
    // The revocation list keeps its own revalidation policy.
    let list = a.raw("GET", "/api/v1/revocations", None, None, &[]).await;
    assert_eq!(list.header("cache-control").as_deref(), Some("no-cache"));
}

/// Every distinct method string used to become a permanent metrics label.
async fn made_up_methods_do_not_grow_the_metrics(db: Db) {
    let a = Admin::start(&db).await;
    let before = a.raw("GET", "/metrics", None, None, &[]).await.body.len();
    for i in 0..50 {
        let method = format!("M{i}{}", "X".repeat(2000));
        a.raw(&method, "/api/v1/me", None, None, &[]).await;
    }
    let text = String::from_utf8(a.raw("GET", "/metrics", None, None, &[]).await.body).unwrap();
    assert!(!text.contains("XXXX"), "a made-up method became a label");
    assert!(text.contains("method=\"other\""));
    assert!(
        text.len() < before + 4096,
        "/metrics grew from {before} to {} bytes",
        text.len()
    );
}

/// PostgreSQL answered 500 to U+0000 in any string it looked up. Now both stores give the same
/// 4xx, and a login with such a name is refused, counted and audited like any other.
async fn nul_characters_get_a_4xx_on_every_store(db: Db) {
    let mut s = crate::harness::settings(&db);
    s.login_attempts = 2;
    let a = Admin::with(s).await;
    let alice = a.user("alice", &["user", "token_creator"]).await;
    let login = |name: &'static str| {
        let body = serde_json::to_vec(&json!({"username": name, "password": "x"})).unwrap();
        let a = &a;
        async move { a.raw("POST", "/api/v1/login", None, Some(body), &[]).await }
    };
    login("a\u{0}b")
        .await
        .expect_error(401, "invalid_credentials");
    login("a\u{0}b")
        .await
        .expect_error(401, "invalid_credentials");
    login("a\u{0}b")
        .await
        .expect_error(429, "too_many_attempts");
    let events = a
        .get("/api/v1/audit?action=login", &a.root)
        .await
        .expect(200);
    let failures = events["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["outcome"] == "failure")
        .count();
    assert_eq!(failures, 3, "{events}");
    for path in [
        "/api/v1/users/a%00b",
        "/api/v1/tokens?user=a%00b",
        "/api/v1/audit?actor=a%00b",
        "/api/v1/audit?cursor=%00",
        "/api/v1/tokens/a%00b",
    ] {
        a.get(path, &a.root)
            .await
            .expect_error(400, "invalid_character");
    }
    a.post(
        "/api/v1/tokens",
        &alice,
        json!({"name": "ci", "description": "a\u{0}b"}),
    )
    .await
    .expect_error(400, "invalid_character");
    a.post(
        "/api/v1/users",
        &a.root,
        json!({"name": "x\u{0}", "password": "long enough pw", "roles": []}),
    )
    .await
    .expect_error(400, "invalid_character");
    // Nothing was half-done: the admin still answers normally.
    a.get("/api/v1/users/alice", &a.root).await.expect(200);
}

/// Challenges as the edge gives them (RFC 6750 §3).
async fn challenges_match_the_edge(db: Db) {
    let a = Admin::start(&db).await;
    let alice = a.user("alice", &["user"]).await;
    let challenge = |r: &crate::harness::Resp| r.header("www-authenticate").unwrap_or_default();
    let r = a
        .raw(
            "GET",
            "/api/v1/me",
            None,
            None,
            &[("authorization", "Bearer a b")],
        )
        .await;
    r.expect_error(400, "invalid_request");
    assert!(
        challenge(&r).contains("error=\"invalid_request\""),
        "{}",
        challenge(&r)
    );
    let body = serde_json::to_vec(&json!({"username": "alice", "password": "wrong"})).unwrap();
    let r = a.raw("POST", "/api/v1/login", None, Some(body), &[]).await;
    r.expect_error(401, "invalid_credentials");
    assert_eq!(
        challenge(&r),
        "Bearer realm=\"tollgate\"",
        "a password is not a bearer token"
    );
    let r = a
        .post(
            "/api/v1/users",
            &alice,
            json!({"name": "x", "password": "long enough pw", "roles": []}),
        )
        .await;
    assert_eq!(r.status, 403);
    assert!(
        challenge(&r).contains("error=\"insufficient_scope\""),
        "{}",
        challenge(&r)
    );
    let r = a.get("/api/v1/me", "tg_garbage").await;
    assert_eq!(r.status, 401);
    assert!(challenge(&r).contains("error=\"invalid_token\""));
}

/// An owner re-enabled a token an admin had disabled, and regenerate laundered disabled or
/// shortened tokens into fresh ones with the full original lifetime.
async fn owners_cannot_undo_an_admins_decision(db: Db) {
    let a = Admin::start(&db).await;
    let alice = a.user("alice", &["user", "token_creator"]).await;
    let (text, rec) = a
        .mint(&alice, json!({"name": "ci", "ttl_seconds": 30 * 86_400}))
        .await;
    let id = rec["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/tokens/{id}");
    a.patch(&path, &a.root, json!({"enabled": false}))
        .await
        .expect(200);
    a.patch(&path, &alice, json!({"enabled": true}))
        .await
        .expect_error(403, "disabled_by_admin");
    a.get("/api/v1/me", &text)
        .await
        .expect_error(401, "disabled");
    a.post(&format!("{path}/regenerate"), &alice, json!({}))
        .await
        .expect_error(409, "token_disabled");
    a.patch(&path, &a.root, json!({"enabled": true}))
        .await
        .expect(200);
    // The owner's own disable is the owner's to undo.
    a.patch(&path, &alice, json!({"enabled": false}))
        .await
        .expect(200);
    a.patch(&path, &alice, json!({"enabled": true}))
        .await
        .expect(200);

    // An admin shortens the token; regenerating keeps the shortened expiry.
    let short = tollgate_admin::times::rfc3339(tollgate_admin::times::now() + 3600);
    a.patch(&path, &a.root, json!({"expires_at": short}))
        .await
        .expect(200);
    let r = a
        .post(&format!("{path}/regenerate"), &alice, json!({}))
        .await
        .expect(201);
    assert_eq!(r["record"]["expires_at"], json!(short), "{r}");
    let nid = r["record"]["id"].as_str().unwrap().to_owned();
    a.post(
        &format!("/api/v1/tokens/{nid}/regenerate"),
        &alice,
        json!({"ttl_seconds": 30 * 86_400}),
    )
    .await
    .expect_error(422, "expiry_too_far");
}

/// A user with 21 roles got a session without some of them, silently.
async fn a_session_carries_every_role_or_none_is_granted(db: Db) {
    let a = Admin::start(&db).await;
    let many: Vec<String> = (0..17).map(|i| format!("team:{i:02}")).collect();
    a.post(
        "/api/v1/users",
        &a.root,
        json!({"name": "wide", "password": crate::harness::PASSWORD, "roles": many}),
    )
    .await
    .expect_error(422, "too_many_roles");
    let long: Vec<String> = (0..4).map(|i| format!("{i}{}", "r".repeat(40))).collect();
    a.post(
        "/api/v1/users",
        &a.root,
        json!({"name": "wide", "password": crate::harness::PASSWORD, "roles": long}),
    )
    .await
    .expect_error(422, "too_many_roles");
    // As many roles as a session can carry whole.
    let mut sixteen: Vec<String> = (0..10).map(|i| format!("t{i}")).collect();
    sixteen.extend(["user".to_owned(), "token_creator".to_owned()]);
    a.post(
        "/api/v1/users",
        &a.root,
        json!({"name": "wide", "password": crate::harness::PASSWORD, "roles": sixteen}),
    )
    .await
    .expect(201);
    let two_long = [
        format!("a{}", "x".repeat(40)),
        format!("b{}", "x".repeat(40)),
    ];
    a.patch(
        "/api/v1/users/wide",
        &a.root,
        json!({"add_roles": two_long}),
    )
    .await
    .expect_error(422, "too_many_roles");
    let session = a.login("wide", crate::harness::PASSWORD).await;
    let me = a.get("/api/v1/me", &session).await.expect(200);
    assert_eq!(
        me["token"]["roles"], me["user"]["roles"],
        "the session carries every role"
    );
    assert_eq!(
        me["token"]["roles"].as_array().map(Vec::len),
        Some(12),
        "{me}"
    );
    a.mint(&session, json!({"name": "ok"})).await;
}

/// Names that only look alike: `ADMIN` beside `admin`, bidirectional and zero-width characters;
/// and a service account turned into a person stays managed by no one.
async fn names_that_look_alike_are_refused(db: Db) {
    let a = Admin::start(&db).await;
    let alice = a.user("alice", &["user", "token_creator"]).await;
    for name in ["ALICE", "Alice", "aLiCe"] {
        a.post(
            "/api/v1/users",
            &a.root,
            json!({"name": name, "password": crate::harness::PASSWORD, "roles": ["user"]}),
        )
        .await
        .expect_error(409, "user_exists");
    }
    for name in [
        "ci\u{202E}gpj.exe",
        "ci\u{200B}",
        "\u{2066}deploy",
        "de\u{FEFF}ploy",
        "x\u{00AD}y",
    ] {
        a.post("/api/v1/tokens", &alice, json!({"name": name}))
            .await
            .expect_error(422, "invalid_name");
    }
    a.post(
        "/api/v1/tokens",
        &alice,
        json!({"name": "déploiement 2026"}),
    )
    .await
    .expect(201);
    a.post(
        "/api/v1/users",
        &alice,
        json!({"name": "svc-ci", "service_account": true, "roles": ["user"]}),
    )
    .await
    .expect(201);
    let v = a
        .patch(
            "/api/v1/users/svc-ci",
            &a.root,
            json!({"service_account": false, "password": crate::harness::PASSWORD}),
        )
        .await
        .expect(200);
    assert_eq!(v["manager"], serde_json::Value::Null, "{v}");
    a.get("/api/v1/users/svc-ci", &alice)
        .await
        .expect_error(404, "not_found");
}

/// 40 concurrent wrong passwords were all checked against a limit of 10, and 3 000 audit rows
/// were written in 2 s: now attempts are counted before the check and audited once per window.
async fn a_burst_of_guesses_is_counted_before_checking(db: Db) {
    let mut s = crate::harness::settings(&db);
    s.login_attempts = 10;
    let a = Admin::with(s).await;
    a.user("alice", &["user"]).await;
    let body = |password: &str| {
        serde_json::to_vec(&json!({"username": "alice", "password": password})).unwrap()
    };
    let guesses = (0..40).map(|i| {
        let http = a.http.clone();
        let url = format!("{}/api/v1/login", a.base);
        let body = body(&format!("guess {i}"));
        tokio::spawn(async move {
            http.post(url)
                .body(body)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        })
    });
    let mut statuses = Vec::new();
    for g in guesses {
        statuses.push(g.await.unwrap());
    }
    let checked = statuses.iter().filter(|s| **s == 401).count();
    let held = statuses.iter().filter(|s| **s == 429).count();
    assert!(checked <= 10, "{checked} passwords checked: {statuses:?}");
    assert_eq!(checked + held, 40, "{statuses:?}");
    let right = a
        .raw(
            "POST",
            "/api/v1/login",
            None,
            Some(body(crate::harness::PASSWORD)),
            &[],
        )
        .await;
    right.expect_error(429, "too_many_attempts");
    let events = a
        .get("/api/v1/audit?action=login&limit=1000", &a.root)
        .await
        .expect(200);
    let held_rows = events["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["detail"] == "too many failed attempts")
        .count();
    assert_eq!(held_rows, 1, "one audit row per held-off window: {events}");
}

/// After deactivate and reactivate, old tokens were refused but still listed as `active`.
async fn a_record_says_what_the_edge_will_do(db: Db) {
    let a = Admin::start(&db).await;
    let alice = a.user("alice", &["user", "token_creator"]).await;
    let (text, rec) = a.mint(&alice, json!({"name": "old"})).await;
    let id = rec["id"].as_str().unwrap().to_owned();
    a.patch("/api/v1/users/alice", &a.root, json!({"active": false}))
        .await
        .expect(200);
    a.patch("/api/v1/users/alice", &a.root, json!({"active": true}))
        .await
        .expect(200);
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    a.get("/api/v1/me", &text)
        .await
        .expect_error(401, "revoked");
    let got = a
        .get(&format!("/api/v1/tokens/{id}"), &a.root)
        .await
        .expect(200);
    assert_eq!(got["state"], "revoked", "{got}");
    let list = a
        .get("/api/v1/tokens?user=alice", &a.root)
        .await
        .expect(200);
    let listed: Vec<_> = list["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["id"] == id.as_str())
        .collect();
    assert_eq!(listed.len(), 1, "{list}");
    assert_eq!(listed[0]["state"], "revoked");
    let batch = a
        .get(&format!("/api/v1/tokens?ids={id}"), &a.root)
        .await
        .expect(200);
    assert_eq!(batch["tokens"][0]["state"], "revoked", "{batch}");
    // A token made after the reactivation is active, and says so.
    let session = a.login("alice", crate::harness::PASSWORD).await;
    let (new_text, new) = a.mint(&session, json!({"name": "new"})).await;
    a.get("/api/v1/me", &new_text).await.expect(200);
    let got = a
        .get(
            &format!("/api/v1/tokens/{}", new["id"].as_str().unwrap()),
            &a.root,
        )
        .await
        .expect(200);
    assert_eq!(got["state"], "active");
}

/// An admin's password reset left existing sessions valid.
async fn a_password_reset_ends_the_sessions(db: Db) {
    let a = Admin::start(&db).await;
    let alice = a.user("alice", &["user", "token_creator"]).await;
    let other = a.login("alice", crate::harness::PASSWORD).await;
    let (personal, _) = a.mint(&alice, json!({"name": "laptop"})).await;
    let before = a.sequence().await;
    a.patch(
        "/api/v1/users/alice",
        &a.root,
        json!({"password": "a brand new passphrase"}),
    )
    .await
    .expect(200);
    for session in [&alice, &other] {
        a.get("/api/v1/me", session)
            .await
            .expect_error(401, "revoked");
    }
    a.get("/api/v1/me", &personal).await.expect(200);
    assert!(
        a.sequence().await > before,
        "the ended sessions reach the edge"
    );
    let (_, list, _) = a.revocations().await;
    assert_eq!(list.len(), 2, "both sessions are listed");
    a.login("alice", "a brand new passphrase").await;
}

/// A token creator's service account kept roles the creator lost and stayed usable after the
/// creator was deactivated; its own service accounts too.
async fn service_accounts_lose_what_their_manager_loses(db: Db) {
    let a = Admin::start(&db).await;
    let carol = a.user("carol", &["user", "token_creator", "deploy"]).await;
    let svc = json!({"name": "svc-a", "service_account": true, "roles": ["user", "token_creator", "deploy"]});
    a.post("/api/v1/users", &carol, svc).await.expect(201);
    let (svc_token, _) = a
        .mint(
            &carol,
            json!({"name": "a", "user": "svc-a", "roles": ["user", "token_creator", "deploy"]}),
        )
        .await;
    // The service account made its own service account (a chain).
    let sub = json!({"name": "svc-b", "service_account": true, "roles": ["user", "deploy"]});
    a.post("/api/v1/users", &svc_token, sub).await.expect(201);
    let (sub_token, _) = a
        .mint(
            &svc_token,
            json!({"name": "b", "user": "svc-b", "roles": ["user", "deploy"]}),
        )
        .await;

    a.patch(
        "/api/v1/users/carol",
        &a.root,
        json!({"remove_roles": ["deploy"]}),
    )
    .await
    .expect(200);
    for (name, token) in [("svc-a", &svc_token), ("svc-b", &sub_token)] {
        let u = a
            .get(&format!("/api/v1/users/{name}"), &a.root)
            .await
            .expect(200);
        assert!(
            !u["roles"].as_array().unwrap().contains(&json!("deploy")),
            "{u}"
        );
        let me = a.get("/api/v1/me", token).await.expect(200);
        assert!(
            !me["token"]["roles"]
                .as_array()
                .unwrap()
                .contains(&json!("deploy")),
            "{me}"
        );
    }
    let (_, list, _) = a.revocations().await;
    for name in ["svc-a", "svc-b"] {
        let rule = list
            .subject_rule(name)
            .unwrap_or_else(|| panic!("no rule for {name}"));
        assert!(rule.drop_roles.contains_key("deploy"), "{name}");
    }

    a.patch("/api/v1/users/carol", &a.root, json!({"active": false}))
        .await
        .expect(200);
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    for token in [&svc_token, &sub_token] {
        a.get("/api/v1/me", token)
            .await
            .expect_error(401, "user_deactivated");
    }
    let (_, list, _) = a.revocations().await;
    for name in ["svc-a", "svc-b"] {
        let u = a
            .get(&format!("/api/v1/users/{name}"), &a.root)
            .await
            .expect(200);
        assert_eq!(u["active"], false, "{u}");
        let rule = list.subject_rule(name).unwrap();
        assert!(rule.void_before > 0, "{name}: the edge voids its tokens");
    }
}

/// The manager re-activated a service account an admin had deactivated.
async fn only_an_admin_undoes_an_admins_deactivation(db: Db) {
    let a = Admin::start(&db).await;
    let dave = a.user("dave", &["user", "token_creator"]).await;
    a.post(
        "/api/v1/users",
        &dave,
        json!({"name": "svc-d", "service_account": true, "roles": ["user"]}),
    )
    .await
    .expect(201);
    a.patch("/api/v1/users/svc-d", &a.root, json!({"active": false}))
        .await
        .expect(200);
    a.patch("/api/v1/users/svc-d", &dave, json!({"active": true}))
        .await
        .expect_error(403, "deactivated_by_admin");
    a.patch("/api/v1/users/svc-d", &a.root, json!({"active": true}))
        .await
        .expect(200);
    // The manager's own deactivation is the manager's to undo.
    a.patch("/api/v1/users/svc-d", &dave, json!({"active": false}))
        .await
        .expect(200);
    a.patch("/api/v1/users/svc-d", &dave, json!({"active": true}))
        .await
        .expect(200);
}

/// A session could mint a 90-day token that outlived the logout and a password reset. A token
/// made with a session may not outlive it unless the session is fresh (a password typed within
/// the re-authentication window); a personal token is not bound by the rule.
async fn a_stale_session_cannot_outlive_itself(db: Db) {
    let mut settings = crate::harness::settings(&db);
    settings.reauth_window = 1;
    let a = Admin::with(settings).await;
    let alice = a.user("alice", &["user", "token_creator"]).await;
    // Fresh: the person just typed the password.
    let (personal, _) = a
        .mint(&alice, json!({"name": "fresh", "ttl_seconds": 30 * 86_400}))
        .await;
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let r = a
        .post(
            "/api/v1/tokens",
            &alice,
            json!({"name": "long", "ttl_seconds": 30 * 86_400}),
        )
        .await;
    r.expect_error(403, "reauthentication_required");
    let (_, old) = a.mint(&personal, json!({"name": "victim"})).await;
    let id = old["id"].as_str().unwrap();
    a.post(
        &format!("/api/v1/tokens/{id}/regenerate"),
        &alice,
        json!({}),
    )
    .await
    .expect_error(403, "reauthentication_required");
    // Within the session's own lifetime, a stale session may still mint.
    let short = a
        .post(
            "/api/v1/tokens",
            &alice,
            json!({"name": "short", "ttl_seconds": 600}),
        )
        .await
        .expect(201);
    assert_eq!(short["record"]["name"], "short");
    // A personal token is a credential of its own, not a session.
    a.mint(
        &personal,
        json!({"name": "from-token", "ttl_seconds": 30 * 86_400}),
    )
    .await;
    // Logging in again re-authenticates.
    let again = a.login("alice", crate::harness::PASSWORD).await;
    a.mint(&again, json!({"name": "long", "ttl_seconds": 30 * 86_400}))
        .await;
    let denied = a
        .get("/api/v1/audit?action=token.create", &a.root)
        .await
        .expect(200);
    assert!(
        denied["events"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["outcome"] == "denied"),
        "the refusal is audited"
    );
}

both_backends!(
    a_stale_session_cannot_outlive_itself,
    only_an_admin_undoes_an_admins_deactivation,
    service_accounts_lose_what_their_manager_loses,
    a_password_reset_ends_the_sessions,
    a_record_says_what_the_edge_will_do,
    a_burst_of_guesses_is_counted_before_checking,
    names_that_look_alike_are_refused,
    a_session_carries_every_role_or_none_is_granted,
    owners_cannot_undo_an_admins_decision,
    challenges_match_the_edge,
    token_answers_are_never_cached,
    made_up_methods_do_not_grow_the_metrics,
    nul_characters_get_a_4xx_on_every_store
);

/// The SQLite file and its WAL hold password hashes and the audit log: owner only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sqlite_files_are_private() {
    let db = Db::sqlite().await;
    let path = db.url.trim_start_matches("sqlite://").to_owned();
    let a = Admin::start(&db).await;
    a.user("alice", &["user"]).await;
    for file in [path.clone(), format!("{path}-wal"), format!("{path}-shm")] {
        let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{file} is {mode:o}");
    }
    a.stop().await;

    // An existing file created with a lax umask is narrowed on start.
    let lax = Db::sqlite().await;
    let lax_path = lax.url.trim_start_matches("sqlite://").to_owned();
    std::fs::write(&lax_path, b"").unwrap();
    std::fs::set_permissions(&lax_path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let a = Admin::start(&lax).await;
    let mode = std::fs::metadata(&lax_path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    a.stop().await;
}
