//! Users, roles, and role removal and deactivation reaching tokens and the revocation list.

use serde_json::json;
use tollgate_admin::times::now;
use tollgate_shared::{Authority, VerifyError};

use crate::harness::{Admin, Db, PASSWORD, both_backends, keyring};

async fn users_are_created_listed_and_changed(db: Db) {
    let a = Admin::start(&db).await;
    let r = a
        .post(
            "/api/v1/users",
            &a.root,
            json!({"name": "alice", "password": PASSWORD}),
        )
        .await
        .expect(201);
    assert_eq!(r["roles"], json!(["user"]), "new users get the user role");
    assert_eq!(r["active"], true);
    assert_eq!(r["service_account"], false);
    assert!(r.get("password_hash").is_none() && !r.to_string().contains("argon2"));
    a.post(
        "/api/v1/users",
        &a.root,
        json!({"name": "bob", "password": PASSWORD, "roles": ["pool:ml", "user"]}),
    )
    .await
    .expect(201);
    let got = a.get("/api/v1/users/bob", &a.root).await.expect(200);
    assert_eq!(got["roles"], json!(["pool:ml", "user"]));
    let page = a.get("/api/v1/users?limit=2", &a.root).await.expect(200);
    let names: Vec<_> = page["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names, ["alice", "bob"]);
    let cursor = page["next_cursor"].as_str().unwrap();
    let page = a
        .get(&format!("/api/v1/users?limit=2&cursor={cursor}"), &a.root)
        .await
        .expect(200);
    assert_eq!(page["users"][0]["name"], "root");
    assert!(page["next_cursor"].is_null());

    let r = a
        .patch(
            "/api/v1/users/alice",
            &a.root,
            json!({"add_roles": ["token_creator"]}),
        )
        .await
        .expect(200);
    assert_eq!(r["roles"], json!(["token_creator", "user"]));
    let r = a
        .patch(
            "/api/v1/users/alice",
            &a.root,
            json!({"roles": ["token_creator", "user", "team:a"]}),
        )
        .await
        .expect(200);
    assert_eq!(r["roles"], json!(["team:a", "token_creator", "user"]));
    a.patch(
        "/api/v1/users/alice",
        &a.root,
        json!({"password": "another password"}),
    )
    .await
    .expect(200);
    a.login("alice", "another password").await;

    // Non-admins see themselves only and change nothing.
    let bob = a.login("bob", PASSWORD).await;
    a.get("/api/v1/users/alice", &bob)
        .await
        .expect_error(404, "not_found");
    let mine = a.get("/api/v1/users", &bob).await.expect(200);
    assert_eq!(mine["users"].as_array().unwrap().len(), 1);
    a.get("/api/v1/users/bob", &bob).await.expect(200);
    a.patch("/api/v1/users/bob", &bob, json!({"add_roles": ["admin"]}))
        .await
        .expect_error(403, "forbidden");
    a.post(
        "/api/v1/users",
        &bob,
        json!({"name": "eve", "password": PASSWORD}),
    )
    .await
    .expect_error(403, "forbidden");

    // The last active admin stays.
    a.patch(
        "/api/v1/users/root",
        &a.root,
        json!({"remove_roles": ["admin"]}),
    )
    .await
    .expect_error(409, "last_admin");
    a.patch("/api/v1/users/root", &a.root, json!({"active": false}))
        .await
        .expect_error(409, "last_admin");
    a.patch(
        "/api/v1/users/bob",
        &a.root,
        json!({"add_roles": ["admin"]}),
    )
    .await
    .expect(200);
    a.patch(
        "/api/v1/users/root",
        &a.root,
        json!({"remove_roles": ["admin"]}),
    )
    .await
    .expect(200);
    a.get("/api/v1/users", &a.root).await.expect(200);
    a.post(
        "/api/v1/users",
        &a.root,
        json!({"name": "eve", "password": PASSWORD}),
    )
    .await
    .expect_error(403, "forbidden");

    let bob = a.login("bob", PASSWORD).await;
    let events = a
        .get("/api/v1/audit?action=user.roles", &bob)
        .await
        .expect(200);
    assert!(events["events"].as_array().unwrap().iter().any(
        |e| e["target"] == "root" && e["detail"].as_str().unwrap().contains("removed [admin]")
    ));
}

async fn removing_a_role_reaches_tokens_and_the_list(db: Db) {
    let a = Admin::start(&db).await;
    let alice = a.user("alice", &["user", "token_creator", "pool:ml"]).await;
    let (text, rec) = a.mint(&alice, json!({"name": "ml"})).await;
    let id = rec["id"].as_str().unwrap();
    assert_eq!(rec["roles"], json!(["pool:ml", "token_creator", "user"]));
    let before = a.sequence().await;
    let removed_at = now();

    let r = a
        .patch(
            "/api/v1/users/alice",
            &a.root,
            json!({"remove_roles": ["pool:ml"]}),
        )
        .await;
    r.expect(200);
    assert_eq!(
        r.header("x-tollgate-revocation-sequence"),
        Some((before + 1).to_string())
    );

    // At the admin, at once: the token's record and its identity lose the role.
    let got = a
        .get(&format!("/api/v1/tokens/{id}"), &alice)
        .await
        .expect(200);
    assert_eq!(got["roles"], json!(["token_creator", "user"]));
    assert_eq!(
        a.get("/api/v1/me", &text).await.expect(200)["token"]["roles"],
        json!(["token_creator", "user"])
    );
    a.post(
        "/api/v1/tokens",
        &text,
        json!({"name": "x", "roles": ["pool:ml"]}),
    )
    .await
    .expect_error(403, "role_not_held");

    // At the edge, through the list: a cut-off for alice's tokens issued so far.
    let (seq, list, _) = a.revocations().await;
    assert_eq!(seq, before + 1);
    let rule = list.subject_rule("alice").expect("a rule for alice");
    let cut = *rule.drop_roles.get("pool:ml").unwrap();
    assert!(cut > removed_at as u64 && cut <= now() as u64 + 1);
    assert!(
        rule.expires_at >= cut - 1 + 90 * 86_400,
        "the rule outlives every token it affects"
    );
    let verified = Authority::new(keyring())
        .verify(&text, now() as u64, &list)
        .unwrap();
    assert_eq!(verified.claims().roles, ["token_creator", "user"]);

    // Tokens minted afterwards are not affected by the cut-off.
    a.patch(
        "/api/v1/users/alice",
        &a.root,
        json!({"add_roles": ["pool:ml"]}),
    )
    .await
    .expect(200);
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let alice = a.login("alice", PASSWORD).await;
    let (fresh, _) = a.mint(&alice, json!({"name": "ml2"})).await;
    let (_, list, _) = a.revocations().await;
    let verified = Authority::new(keyring())
        .verify(&fresh, now() as u64, &list)
        .unwrap();
    assert!(verified.has_role("pool:ml"));
}

async fn deactivation_voids_tokens(db: Db) {
    let a = Admin::start(&db).await;
    let bob = a.user("bob", &["user", "token_creator"]).await;
    let (text, _) = a.mint(&bob, json!({"name": "t"})).await;
    a.patch("/api/v1/users/bob", &a.root, json!({"active": false}))
        .await
        .expect(200);
    a.get("/api/v1/me", &text)
        .await
        .expect_error(401, "user_deactivated");
    let body = serde_json::to_vec(&json!({"username": "bob", "password": PASSWORD})).unwrap();
    a.raw("POST", "/api/v1/login", None, Some(body), &[])
        .await
        .expect_error(401, "invalid_credentials");
    let (_, list, _) = a.revocations().await;
    assert!(list.subject_rule("bob").unwrap().void_before > 0);
    assert_eq!(
        Authority::new(keyring())
            .verify(&text, now() as u64, &list)
            .unwrap_err(),
        VerifyError::Revoked
    );

    // Reactivated: new logins work, tokens from before stay void.
    a.patch("/api/v1/users/bob", &a.root, json!({"active": true}))
        .await
        .expect(200);
    a.get("/api/v1/me", &text)
        .await
        .expect_error(401, "revoked");
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let session = a.login("bob", PASSWORD).await;
    a.get("/api/v1/me", &session).await.expect(200);
}

both_backends!(
    users_are_created_listed_and_changed,
    removing_a_role_reaches_tokens_and_the_list,
    deactivation_voids_tokens
);
