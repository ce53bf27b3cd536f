//! Service accounts: no password login, tokens of kind `service`, and creation by token
//! creators limited to roles they hold.

use serde_json::json;

use crate::harness::{Admin, Db, PASSWORD, both_backends};

async fn admins_create_service_accounts_and_their_tokens(db: Db) {
    let a = Admin::start(&db).await;
    let r = a
        .post(
            "/api/v1/users",
            &a.root,
            json!({"name": "ci-bot", "service_account": true, "roles": ["deploy"]}),
        )
        .await
        .expect(201);
    assert_eq!(r["service_account"], true);
    assert_eq!(r["has_password"], false);
    a.post(
        "/api/v1/users",
        &a.root,
        json!({"name": "bot2", "service_account": true, "password": PASSWORD}),
    )
    .await
    .expect_error(422, "password_not_allowed");
    let body = serde_json::to_vec(&json!({"username": "ci-bot", "password": ""})).unwrap();
    a.raw("POST", "/api/v1/login", None, Some(body), &[])
        .await
        .expect_error(401, "invalid_credentials");

    let (text, rec) = a
        .mint(&a.root, json!({"name": "pipeline", "user": "ci-bot"}))
        .await;
    assert_eq!(rec["kind"], "service");
    assert_eq!(rec["owner"], "ci-bot");
    assert_eq!(rec["roles"], json!(["deploy"]));
    let me = a.get("/api/v1/me", &text).await.expect(200);
    assert_eq!(me["user"]["service_account"], true);
    assert_eq!(me["token"]["kind"], "service");
    // A service token without token_creator cannot mint.
    a.post("/api/v1/tokens", &text, json!({"name": "more"}))
        .await
        .expect_error(403, "forbidden");
}

async fn token_creators_manage_their_own_service_accounts(db: Db) {
    let a = Admin::start(&db).await;
    let carl = a.user("carl", &["user", "token_creator", "pool:ml"]).await;
    let olga = a.user("olga", &["user", "token_creator"]).await;
    let plain = a.user("uma", &["user"]).await;
    a.post(
        "/api/v1/users",
        &plain,
        json!({"name": "b0", "service_account": true, "roles": ["user"]}),
    )
    .await
    .expect_error(403, "forbidden");
    a.post(
        "/api/v1/users",
        &carl,
        json!({"name": "b1", "service_account": true, "roles": ["admin"]}),
    )
    .await
    .expect_error(403, "role_not_held");
    a.post(
        "/api/v1/users",
        &carl,
        json!({"name": "human", "password": PASSWORD}),
    )
    .await
    .expect_error(403, "forbidden");
    let r = a
        .post(
            "/api/v1/users",
            &carl,
            json!({"name": "ml-bot", "service_account": true, "roles": ["pool:ml"]}),
        )
        .await
        .expect(201);
    assert_eq!(r["manager"], "carl");

    // Carl mints for it and manages its tokens; Olga cannot.
    let (_, rec) = a
        .mint(&carl, json!({"name": "job", "user": "ml-bot"}))
        .await;
    let id = rec["id"].as_str().unwrap();
    assert_eq!(rec["kind"], "service");
    assert_eq!(
        a.get("/api/v1/tokens?user=ml-bot", &carl).await.expect(200)["tokens"][0]["id"],
        json!(id)
    );
    a.get(&format!("/api/v1/tokens/{id}"), &olga)
        .await
        .expect_error(404, "not_found");
    a.post(
        "/api/v1/tokens",
        &olga,
        json!({"name": "x", "user": "ml-bot"}),
    )
    .await
    .expect_error(403, "forbidden");
    a.get("/api/v1/tokens?user=ml-bot", &olga)
        .await
        .expect_error(403, "forbidden");
    let listed = a.get("/api/v1/users", &carl).await.expect(200);
    let names: Vec<_> = listed["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names, ["carl", "ml-bot"]);

    // Carl may change its roles only within his own, and may deactivate it.
    a.patch(
        "/api/v1/users/ml-bot",
        &carl,
        json!({"add_roles": ["admin"]}),
    )
    .await
    .expect_error(403, "role_not_held");
    a.patch(
        "/api/v1/users/ml-bot",
        &carl,
        json!({"add_roles": ["user"]}),
    )
    .await
    .expect(200);
    a.patch("/api/v1/users/ml-bot", &carl, json!({"active": false}))
        .await
        .expect(200);
    a.patch("/api/v1/users/ml-bot", &olga, json!({"active": true}))
        .await
        .expect_error(404, "not_found");
    // Deactivation voided its token: the record says revoked, and revoking it again conflicts.
    a.post(&format!("/api/v1/tokens/{id}/revoke"), &carl, json!({}))
        .await
        .expect_error(409, "already_revoked");
}

both_backends!(
    admins_create_service_accounts_and_their_tokens,
    token_creators_manage_their_own_service_accounts
);
