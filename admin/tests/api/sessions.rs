//! `POST /api/v1/sessions`: a personal or service token exchanged for a session that never
//! outlives it, never counts as a password login, and ends with it.

use serde_json::json;
use tollgate_admin::times::parse_time;
use tollgate_shared::TokenId;

use crate::harness::{Admin, Db, both_backends};

fn expiry(record: &serde_json::Value) -> i64 {
    parse_time(record["expires_at"].as_str().unwrap()).unwrap()
}

fn listed(list: &tollgate_shared::RevocationList, record: &serde_json::Value) -> bool {
    let id: TokenId = record["id"].as_str().unwrap().parse().unwrap();
    list.get(&id).is_some()
}

/// Exchanges `token`; returns (session text, its record).
async fn exchange(a: &Admin, token: &str) -> (String, serde_json::Value) {
    let r = a.call("POST", "/api/v1/sessions", token, None).await;
    assert_eq!(r.header("cache-control").as_deref(), Some("no-store"));
    assert_eq!(r.header("pragma").as_deref(), Some("no-cache"));
    let v = r.expect(200);
    (v["token"].as_str().unwrap().to_owned(), v["record"].clone())
}

async fn a_token_is_exchanged_for_a_session_that_ends_with_it(db: Db) {
    let a = Admin::start(&db).await;
    let alice = a.user("alice", &["user", "token_creator"]).await;
    let (pat, parent) = a
        .mint(
            &alice,
            json!({"name": "p", "ttl_seconds": 600, "roles": ["user"]}),
        )
        .await;
    let (session, record) = exchange(&a, &pat).await;
    assert_eq!(record["kind"], "session");
    assert_eq!(record["roles"], json!(["user"]));
    assert!(expiry(&record) <= expiry(&parent));
    let me = a.get("/api/v1/me", &session).await.expect(200);
    assert_eq!(me["token"]["kind"], "session");
    assert_eq!(me["user"]["name"], "alice");
    a.call("POST", "/api/v1/sessions", &session, None)
        .await
        .expect_error(409, "session_token");
    // Never a fresh login: it may not mint a token that outlives the token it stands for.
    a.post(
        "/api/v1/tokens",
        &session,
        json!({"name": "long", "ttl_seconds": 86_400}),
    )
    .await
    .expect_error(403, "reauthentication_required");
    a.post(
        "/api/v1/tokens",
        &session,
        json!({"name": "short", "ttl_seconds": 60}),
    )
    .await
    .expect(201);
}

async fn revoking_the_token_ends_its_sessions(db: Db) {
    let a = Admin::start(&db).await;
    let bob = a.user("bob", &["user", "token_creator"]).await;
    let (pat, parent) = a.mint(&bob, json!({"name": "p"})).await;
    let (session, record) = exchange(&a, &pat).await;
    let (other, other_record) = exchange(&a, &pat).await;
    a.get("/api/v1/me", &session).await.expect(200);
    let path = format!("/api/v1/tokens/{}", parent["id"].as_str().unwrap());
    a.post(&format!("{path}/revoke"), &bob, json!({}))
        .await
        .expect(200);
    a.get("/api/v1/me", &session)
        .await
        .expect_error(401, "revoked");
    a.get("/api/v1/me", &other)
        .await
        .expect_error(401, "revoked");
    let (_, list, _) = a.revocations().await;
    assert!(listed(&list, &record) && listed(&list, &other_record));
}

async fn disabling_or_shortening_the_token_ends_its_sessions(db: Db) {
    let a = Admin::start(&db).await;
    let carol = a.user("carol", &["user", "token_creator"]).await;
    let (pat, parent) = a.mint(&carol, json!({"name": "p"})).await;
    let path = format!("/api/v1/tokens/{}", parent["id"].as_str().unwrap());
    let (session, record) = exchange(&a, &pat).await;
    a.patch(&path, &carol, json!({"enabled": false}))
        .await
        .expect(200);
    a.get("/api/v1/me", &session)
        .await
        .expect_error(401, "revoked");
    let (_, list, _) = a.revocations().await;
    assert!(listed(&list, &record));
    a.patch(&path, &carol, json!({"enabled": true}))
        .await
        .expect(200);
    a.get("/api/v1/me", &session)
        .await
        .expect_error(401, "revoked");
    // A shorter expiry than the session's ends it too.
    let (session, record) = exchange(&a, &pat).await;
    a.patch(&path, &carol, json!({"ttl_seconds": 60}))
        .await
        .expect(200);
    a.get("/api/v1/me", &session)
        .await
        .expect_error(401, "revoked");
    let (_, list, _) = a.revocations().await;
    assert!(listed(&list, &record));
}

/// Changes the token `id` in the store behind the admin's back, as a change that skipped the
/// revocation step would.
async fn disable_in_store(db: &Db, id: &str) {
    use sqlx::Connection as _;
    let sql = "UPDATE tokens SET enabled = false WHERE id = $1";
    if db.is_postgres() {
        let mut c = sqlx::PgConnection::connect(&db.url).await.unwrap();
        sqlx::query(sql).bind(id).execute(&mut c).await.unwrap();
    } else {
        let mut c = sqlx::SqliteConnection::connect(&db.url).await.unwrap();
        sqlx::query(sql).bind(id).execute(&mut c).await.unwrap();
    }
}

async fn a_session_is_refused_once_its_token_is_unusable(db: Db) {
    let a = Admin::start(&db).await;
    let dave = a.user("dave", &["user"]).await;
    let (pat, parent) = a.mint(&dave, json!({"name": "p"})).await;
    let (session, _) = exchange(&a, &pat).await;
    a.get("/api/v1/me", &session).await.expect(200);
    disable_in_store(&db, parent["id"].as_str().unwrap()).await;
    a.get("/api/v1/me", &session)
        .await
        .expect_error(401, "revoked");
}

both_backends!(
    a_session_is_refused_once_its_token_is_unusable,
    a_token_is_exchanged_for_a_session_that_ends_with_it,
    revoking_the_token_ends_its_sessions,
    disabling_or_shortening_the_token_ends_its_sessions,
);
