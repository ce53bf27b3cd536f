//! Login, bearer checks and /me.

use serde_json::json;
use tollgate_shared::{Authority, Claims, Keyring, Kind, TokenId};

use crate::harness::{ADMIN, ADMIN_PASSWORD, Admin, Db, PASSWORD, Resp, both_backends, settings};

async fn login_issues_a_session_and_me_describes_it(db: Db) {
    let a = Admin::start(&db).await;
    let me = a.get("/api/v1/me", &a.root).await.expect(200);
    assert_eq!(me["user"]["name"], ADMIN);
    assert_eq!(
        me["user"]["roles"],
        json!(["admin", "token_creator", "user"])
    );
    assert_eq!(me["token"]["kind"], "session");
    assert_eq!(
        me["token"]["roles"],
        json!(["admin", "token_creator", "user"])
    );
    assert_eq!(me["token"]["id"].as_str().unwrap().len(), 32);

    let alice = a.user("alice", &["user", "pool:ml"]).await;
    let me = a.get("/api/v1/me", &alice).await.expect(200);
    assert_eq!(me["user"]["name"], "alice");
    assert_eq!(me["user"]["has_password"], true);
    assert_eq!(me["token"]["roles"], json!(["pool:ml", "user"]));
    assert!(me["token"]["expires_at"].as_str().unwrap().ends_with('Z'));
}

async fn wrong_credentials_are_refused_and_audited(db: Db) {
    let a = Admin::start(&db).await;
    a.user("bob", &["user"]).await;
    for (user, password) in [("bob", "not the password"), ("nobody", PASSWORD), ("", "")] {
        let body = serde_json::to_vec(&json!({"username": user, "password": password})).unwrap();
        let r = a.raw("POST", "/api/v1/login", None, Some(body), &[]).await;
        r.expect_error(401, "invalid_credentials");
        assert!(!String::from_utf8_lossy(&r.body).contains(password) || password.is_empty());
    }
    let events = a
        .get("/api/v1/audit?action=login", &a.root)
        .await
        .expect(200);
    let failures: Vec<_> = events["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["outcome"] == "failure")
        .collect();
    assert_eq!(failures.len(), 3, "{events}");
    assert!(
        failures
            .iter()
            .any(|e| e["actor"] == "bob" && e["detail"] == "wrong password")
    );
    let text = events.to_string();
    assert!(
        !text.contains("not the password") && !text.contains(PASSWORD),
        "no password in the audit log"
    );
}

async fn bearer_tokens_are_checked(db: Db) {
    let a = Admin::start(&db).await;
    // Missing, wrong scheme, garbage.
    let r = a.raw("GET", "/api/v1/me", None, None, &[]).await;
    r.expect_error(401, "missing_token");
    assert!(r.header("www-authenticate").unwrap().starts_with("Bearer"));
    a.raw(
        "GET",
        "/api/v1/me",
        None,
        None,
        &[("authorization", "Basic YTpi")],
    )
    .await
    .expect_error(401, "missing_token");
    let r = a.get("/api/v1/me", "tg_nonsense").await;
    r.expect_error(401, "malformed");
    assert!(
        r.header("www-authenticate")
            .unwrap()
            .contains("invalid_token")
    );

    // A flipped character breaks the checksum; a token from another keyring has an unknown key;
    // a forged token with the right key id fails the signature.
    let mut broken = a.root.clone().into_bytes();
    let i = broken.len() - 10;
    broken[i] = if broken[i] == b'A' { b'B' } else { b'A' };
    a.get("/api/v1/me", std::str::from_utf8(&broken).unwrap())
        .await
        .expect_error(401, "bad_checksum");
    let claims = Claims {
        token_id: TokenId::random().unwrap(),
        subject: ADMIN.into(),
        kind: Kind::Personal,
        roles: vec!["admin".into()],
        issued_at: tollgate_admin::times::now() as u64,
        expires_at: tollgate_admin::times::now() as u64 + 3600,
    };
    let other =
        Authority::new(Keyring::parse("k9:ZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmY=").unwrap());
    a.get("/api/v1/me", &other.mint(&claims).unwrap())
        .await
        .expect_error(401, "unknown_key");
    let forger =
        Authority::new(Keyring::parse("k1:ZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmY=").unwrap());
    a.get("/api/v1/me", &forger.mint(&claims).unwrap())
        .await
        .expect_error(401, "bad_signature");
    // Correctly signed but never issued by this admin: refused by the store check.
    let genuine = Authority::new(crate::harness::keyring());
    a.get("/api/v1/me", &genuine.mint(&claims).unwrap())
        .await
        .expect_error(401, "revoked");
}

async fn token_state_is_checked_on_every_call(db: Db) {
    let a = Admin::start(&db).await;
    let carol = a.user("carol", &["user", "token_creator"]).await;
    let (t, rec) = a.mint(&carol, json!({"name": "ci"})).await;
    let id = rec["id"].as_str().unwrap();
    a.get("/api/v1/me", &t).await.expect(200);

    a.patch(
        &format!("/api/v1/tokens/{id}"),
        &carol,
        json!({"enabled": false}),
    )
    .await
    .expect(200);
    a.get("/api/v1/me", &t).await.expect_error(401, "disabled");
    a.patch(
        &format!("/api/v1/tokens/{id}"),
        &carol,
        json!({"enabled": true}),
    )
    .await
    .expect(200);
    a.get("/api/v1/me", &t).await.expect(200);

    let (short, _) = a
        .mint(&carol, json!({"name": "short", "ttl_seconds": 1}))
        .await;
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    a.get("/api/v1/me", &short)
        .await
        .expect_error(401, "expired");

    a.post(&format!("/api/v1/tokens/{id}/revoke"), &carol, json!({}))
        .await
        .expect(200);
    a.get("/api/v1/me", &t).await.expect_error(401, "revoked");

    // Deactivating the owner stops every token of theirs at once.
    a.patch("/api/v1/users/carol", &a.root, json!({"active": false}))
        .await
        .expect(200);
    a.get("/api/v1/me", &carol)
        .await
        .expect_error(401, "user_deactivated");
}

async fn logout_revokes_the_session(db: Db) {
    let a = Admin::start(&db).await;
    let dave = a.user("dave", &["user", "token_creator"]).await;
    let (personal, _) = a.mint(&dave, json!({"name": "p"})).await;
    a.call("POST", "/api/v1/logout", &personal, None)
        .await
        .expect_error(409, "not_a_session");
    let before = a.sequence().await;
    let r = a.call("POST", "/api/v1/logout", &dave, None).await;
    r.expect(204);
    assert_eq!(
        r.header("x-tollgate-revocation-sequence"),
        Some((before + 1).to_string())
    );
    a.get("/api/v1/me", &dave)
        .await
        .expect_error(401, "revoked");
    a.get("/api/v1/me", &personal).await.expect(200);
}

async fn attempt(a: &Admin, username: &str, password: &str) -> Resp {
    let body = serde_json::to_vec(&json!({"username": username, "password": password})).unwrap();
    a.raw("POST", "/api/v1/login", None, Some(body), &[]).await
}

async fn repeated_failures_hold_off_logins_for_the_name(db: Db) {
    let mut s = settings(&db);
    s.login_attempts = 3;
    s.login_window = 5;
    let a = Admin::with(s).await;
    a.user("bob", &["user"]).await;
    for _ in 0..3 {
        attempt(&a, "bob", "not the password")
            .await
            .expect_error(401, "invalid_credentials");
    }
    // Even the right password is not checked now.
    let r = attempt(&a, "bob", PASSWORD).await;
    r.expect_error(429, "too_many_attempts");
    let retry: u64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=5).contains(&retry), "Retry-After {retry}");
    // Unknown names are held off the same way, so a 429 does not reveal which names exist.
    for _ in 0..3 {
        attempt(&a, "nobody", PASSWORD)
            .await
            .expect_error(401, "invalid_credentials");
    }
    attempt(&a, "nobody", PASSWORD)
        .await
        .expect_error(429, "too_many_attempts");
    // Other names are not affected.
    attempt(&a, ADMIN, ADMIN_PASSWORD).await.expect(200);
    let events = a
        .get("/api/v1/audit?action=login", &a.root)
        .await
        .expect(200);
    let held_off = events["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["outcome"] == "failure" && e["detail"] == "too many failed attempts")
        .count();
    assert_eq!(held_off, 2, "{events}");
    // Once the window has passed, the right password works again.
    tokio::time::sleep(std::time::Duration::from_millis(5100)).await;
    attempt(&a, "bob", PASSWORD).await.expect(200);
}

both_backends!(
    login_issues_a_session_and_me_describes_it,
    wrong_credentials_are_refused_and_audited,
    repeated_failures_hold_off_logins_for_the_name,
    bearer_tokens_are_checked,
    token_state_is_checked_on_every_call,
    logout_revokes_the_session,
);
