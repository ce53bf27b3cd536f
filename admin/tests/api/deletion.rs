//! Deleting accounts with their tokens, handing a service account to another manager, and the
//! service account a token creation makes.

use serde_json::{Value, json};
use tollgate_admin::times::now;
use tollgate_shared::{Authority, VerifyError};

use crate::harness::{Admin, Db, PASSWORD, both_backends, keyring};

/// The audit events with `action`, as the bootstrap admin reads them.
async fn events(a: &Admin, action: &str) -> Vec<Value> {
    let page = a
        .get(&format!("/api/v1/audit?action={action}"), &a.root)
        .await
        .expect(200);
    page["events"].as_array().unwrap().clone()
}

async fn deleting_an_account_revokes_its_tokens_everywhere(db: Db) {
    let a = Admin::start(&db).await;
    let tc = a.user("tc", &["user", "token_creator"]).await;
    // `create_service_account` makes the missing account, managed by the caller, in one step.
    let (first, rec) = a
        .mint(
            &tc,
            json!({"name": "deploy", "user": "bot", "create_service_account": true}),
        )
        .await;
    assert_eq!(
        (&rec["owner"], &rec["kind"]),
        (&json!("bot"), &json!("service"))
    );
    let bot = a.get("/api/v1/users/bot", &tc).await.expect(200);
    assert_eq!(bot["manager"], "tc");
    assert_eq!(bot["roles"], json!(["user"]));
    assert_eq!(bot["service_account"], true);
    let created = events(&a, "user.create").await;
    assert!(
        created
            .iter()
            .any(|e| e["target"] == "bot" && e["actor"] == "tc")
    );
    // Once it exists, the same request mints as for any owner.
    let (second, rec2) = a
        .mint(
            &tc,
            json!({"name": "nightly", "user": "bot", "create_service_account": true}),
        )
        .await;
    let ids = [rec["id"].as_str().unwrap(), rec2["id"].as_str().unwrap()];
    assert_eq!(
        events(&a, "user.create")
            .await
            .iter()
            .filter(|e| e["target"] == "bot")
            .count(),
        1
    );

    let before = a.sequence().await;
    let deleted_at = now();
    let r = a.delete("/api/v1/users/bot", &tc).await;
    r.expect(204);
    assert_eq!(
        r.header("x-tollgate-revocation-sequence"),
        Some((before + 1).to_string())
    );

    // At the admin: the tokens are refused and recorded as revoked; the account is gone.
    for text in [&first, &second] {
        a.get("/api/v1/me", text).await.expect_error(401, "revoked");
    }
    for id in ids {
        let got = a
            .get(&format!("/api/v1/tokens/{id}"), &a.root)
            .await
            .expect(200);
        assert_eq!(got["state"], "revoked");
        assert_eq!(got["revoked_by"], "tc");
    }
    a.get("/api/v1/users/bot", &a.root)
        .await
        .expect_error(404, "not_found");
    let users = a.get("/api/v1/users", &a.root).await.expect(200);
    assert!(!users.to_string().contains("\"bot\""));

    // At the edge: the tokens are listed as revoked and the name is cut off.
    let (seq, list, _) = a.revocations().await;
    assert_eq!(seq, before + 1);
    let rule = list.subject_rule("bot").expect("a rule for bot");
    assert!(rule.void_before > deleted_at as u64);
    for text in [&first, &second] {
        assert_eq!(
            Authority::new(keyring())
                .verify(text, now() as u64, &list)
                .unwrap_err(),
            VerifyError::Revoked
        );
    }

    // One audit row for the deletion, one for each token it revoked.
    let deletions = events(&a, "user.delete").await;
    assert_eq!(deletions.len(), 1);
    assert_eq!(deletions[0]["target"], "bot");
    assert!(
        deletions[0]["detail"]
            .as_str()
            .unwrap()
            .contains("2 token(s)")
    );
    let revocations = events(&a, "token.revoke").await;
    for id in ids {
        assert!(
            revocations
                .iter()
                .any(|e| e["target"] == id && e["subject"] == "bot")
        );
    }
    assert!(
        events(&a, "token.create")
            .await
            .iter()
            .any(|e| e["subject"] == "bot")
    );

    // The name stays reserved, in any case, so nothing can revive the old tokens.
    for name in ["bot", "BOT"] {
        a.post(
            "/api/v1/users",
            &a.root,
            json!({"name": name, "service_account": true}),
        )
        .await
        .expect_error(409, "user_exists");
    }
    a.post(
        "/api/v1/tokens",
        &tc,
        json!({"name": "again", "user": "bot", "create_service_account": true}),
    )
    .await
    .expect_error(409, "user_exists");
    a.post(
        "/api/v1/tokens",
        &a.root,
        json!({"name": "again", "user": "bot"}),
    )
    .await
    .expect_error(404, "not_found");
    a.delete("/api/v1/users/bot", &a.root)
        .await
        .expect_error(404, "not_found");
    a.get("/api/v1/me", &first)
        .await
        .expect_error(401, "revoked");
}

async fn who_may_delete_whom(db: Db) {
    let a = Admin::start(&db).await;
    let tc = a.user("tc", &["user", "token_creator"]).await;
    let plain = a.user("plain", &["user"]).await;
    a.user("alice", &["user"]).await;
    a.mint(
        &tc,
        json!({"name": "t", "user": "bot", "create_service_account": true}),
    )
    .await;

    a.delete("/api/v1/users/root", &a.root)
        .await
        .expect_error(403, "forbidden");
    a.delete("/api/v1/users/alice", &tc)
        .await
        .expect_error(404, "not_found");
    a.delete("/api/v1/users/plain", &plain)
        .await
        .expect_error(403, "forbidden");
    a.delete("/api/v1/users/alice", &plain)
        .await
        .expect_error(404, "not_found");
    a.delete("/api/v1/users/bot", &plain)
        .await
        .expect_error(404, "not_found");
    // A plain user may not make a service account on the way to a token.
    a.post(
        "/api/v1/tokens",
        &plain,
        json!({"name": "t", "user": "bot2", "create_service_account": true}),
    )
    .await
    .expect_error(403, "forbidden");
    a.post(
        "/api/v1/tokens",
        &tc,
        json!({"name": "t", "create_service_account": true}),
    )
    .await
    .expect_error(422, "conflicting_fields");
    // A person who still manages a service account stays until it is handed on or deleted.
    a.delete("/api/v1/users/tc", &a.root)
        .await
        .expect_error(409, "manages_service_accounts");
    // An account an admin deactivated is the admin's to delete.
    a.patch("/api/v1/users/bot", &a.root, json!({"active": false}))
        .await
        .expect(200);
    a.delete("/api/v1/users/bot", &tc)
        .await
        .expect_error(403, "deactivated_by_admin");
    let denied = events(&a, "user.delete").await;
    assert!(
        denied
            .iter()
            .any(|e| e["outcome"] == "denied" && e["actor"] == "tc")
    );
    a.delete("/api/v1/users/bot", &a.root).await.expect(204);
    // A person's sessions end with the account.
    a.delete("/api/v1/users/tc", &a.root).await.expect(204);
    a.get("/api/v1/me", &tc).await.expect_error(401, "revoked");
    let body = serde_json::to_vec(&json!({"username": "tc", "password": PASSWORD})).unwrap();
    a.raw("POST", "/api/v1/login", None, Some(body), &[])
        .await
        .expect_error(401, "invalid_credentials");
}

async fn an_admin_hands_a_service_account_on(db: Db) {
    let a = Admin::start(&db).await;
    let tc = a.user("tc", &["deploy", "token_creator", "user"]).await;
    let bob = a.user("bob", &["user"]).await;
    a.post(
        "/api/v1/users",
        &tc,
        json!({"name": "bot", "service_account": true, "roles": ["deploy", "user"]}),
    )
    .await
    .expect(201);
    let to_bob = json!({"manager": "bob"});
    a.patch("/api/v1/users/bot", &tc, to_bob.clone())
        .await
        .expect_error(403, "forbidden");
    a.patch("/api/v1/users/bot", &bob, to_bob.clone())
        .await
        .expect_error(404, "not_found");
    // A service account never holds a role its manager lacks.
    a.patch("/api/v1/users/bot", &a.root, to_bob.clone())
        .await
        .expect_error(403, "role_not_held");
    for not_a_person in ["bot", "nobody"] {
        a.patch(
            "/api/v1/users/bot",
            &a.root,
            json!({"manager": not_a_person}),
        )
        .await
        .expect_error(422, "invalid_user");
    }
    a.patch("/api/v1/users/bob", &a.root, json!({"manager": "tc"}))
        .await
        .expect_error(422, "conflicting_fields");
    a.patch(
        "/api/v1/users/bot",
        &a.root,
        json!({"manager": "bob", "remove_roles": ["deploy"]}),
    )
    .await
    .expect(200);
    let bot = a.get("/api/v1/users/bot", &bob).await.expect(200);
    assert_eq!(bot["manager"], "bob");
    assert_eq!(bot["roles"], json!(["user"]));
    a.get("/api/v1/users/bot", &tc)
        .await
        .expect_error(404, "not_found");
    let updates = events(&a, "user.update").await;
    assert!(updates.iter().any(
        |e| e["target"] == "bot" && e["detail"].as_str().unwrap().contains("manager tc -> bob")
    ));
    // tc manages nothing now, and may go.
    a.delete("/api/v1/users/tc", &a.root).await.expect(204);
}

both_backends!(
    deleting_an_account_revokes_its_tokens_everywhere,
    who_may_delete_whom,
    an_admin_hands_a_service_account_on
);
