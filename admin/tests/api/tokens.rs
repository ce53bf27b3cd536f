//! The token lifecycle and who may do what to whose tokens.

use std::collections::HashSet;
use std::time::Duration;

use serde_json::{Value, json};
use tollgate_admin::times::{now, parse_time};

use crate::harness::{Admin, Db, both_backends, settings};

fn t(v: &Value) -> i64 {
    parse_time(v.as_str().unwrap()).unwrap()
}

async fn create_list_get_and_batch(db: Db) {
    let a = Admin::start(&db).await;
    let alice = a.user("alice", &["user", "token_creator", "pool:ml"]).await;
    let started = now();
    let (text, rec) = a
        .mint(&alice, json!({"name": "ci", "description": "deploys"}))
        .await;
    assert!(text.starts_with("tg_"));
    assert_eq!(rec["owner"], "alice");
    assert_eq!(rec["kind"], "personal");
    assert_eq!(
        rec["roles"],
        json!(["pool:ml", "token_creator", "user"]),
        "default: all of the owner's roles"
    );
    assert_eq!(rec["state"], "active");
    assert_eq!(rec["enabled"], true);
    assert_eq!(rec["created_by"], "alice");
    assert!(rec["revoked_at"].is_null() && rec["last_used_at"].is_null());
    let ttl = t(&rec["expires_at"]) - t(&rec["created_at"]);
    assert_eq!(ttl, 30 * 86_400, "default TTL is 30 days");
    assert!(t(&rec["created_at"]) >= started);

    // The text works as a bearer token, and the admin never shows it again.
    let me = a.get("/api/v1/me", &text).await.expect(200);
    assert_eq!(me["token"]["name"], "ci");
    assert_eq!(me["token"]["kind"], "personal");
    let id = rec["id"].as_str().unwrap();
    let got = a
        .get(&format!("/api/v1/tokens/{id}"), &alice)
        .await
        .expect(200);
    assert_eq!(got["description"], "deploys");
    assert!(!got.to_string().contains(&text));
    tokio::time::sleep(Duration::from_millis(300)).await;
    let got = a
        .get(&format!("/api/v1/tokens/{id}"), &alice)
        .await
        .expect(200);
    assert!(
        got["last_used_at"].is_string(),
        "last use is recorded: {got}"
    );

    let day = &tollgate_admin::times::rfc3339(now() + 60 * 86_400)[..10];
    let (_, narrow) = a
        .mint(
            &alice,
            json!({"name": "narrow", "roles": ["user"], "expires_at": day}),
        )
        .await;
    assert_eq!(narrow["roles"], json!(["user"]));
    assert_eq!(
        narrow["expires_at"],
        json!(format!("{day}T00:00:00Z")),
        "a date means midnight UTC"
    );
    let (_, dated) = a
        .mint(&alice, json!({"name": "dated", "ttl_seconds": 3600}))
        .await;
    assert_eq!(t(&dated["expires_at"]) - t(&dated["created_at"]), 3600);

    let list = a.get("/api/v1/tokens", &alice).await.expect(200);
    let names: Vec<&str> = list["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["ci", "narrow", "dated"],
        "own tokens, oldest first, sessions left out"
    );
    assert!(list["next_cursor"].is_null());
    let sessions = a
        .get("/api/v1/tokens?kind=session", &alice)
        .await
        .expect(200);
    assert_eq!(sessions["tokens"].as_array().unwrap().len(), 1);

    let bob = a.user("bob", &["user", "token_creator"]).await;
    let (_, bobs) = a.mint(&bob, json!({"name": "ci"})).await;
    let unknown = "0".repeat(32);
    let ids = format!(
        "{},{},{},{unknown}",
        id,
        dated["id"].as_str().unwrap(),
        bobs["id"].as_str().unwrap()
    );
    let batch = a
        .get(&format!("/api/v1/tokens?ids={ids}"), &alice)
        .await
        .expect(200);
    let found: Vec<&str> = batch["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(found, ["ci", "dated"]);
    assert_eq!(
        batch["missing"],
        json!([bobs["id"], unknown]),
        "others' tokens are not revealed"
    );
    let batch = a
        .get(&format!("/api/v1/tokens?ids={ids}"), &a.root)
        .await
        .expect(200);
    assert_eq!(batch["tokens"].as_array().unwrap().len(), 3);
}

async fn pagination_is_stable(db: Db) {
    let a = Admin::start(&db).await;
    let alice = a.user("alice", &["user", "token_creator"]).await;
    for i in 0..7 {
        a.mint(&alice, json!({"name": format!("t{i}")})).await;
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/tokens?limit=3&cursor={c}"),
            None => "/api/v1/tokens?limit=3".to_owned(),
        };
        let page = a.get(&path, &alice).await.expect(200);
        pages += 1;
        for t in page["tokens"].as_array().unwrap() {
            seen.push(t["name"].as_str().unwrap().to_owned());
        }
        if pages == 1 {
            // Changes during paging neither repeat nor skip what was already there.
            a.mint(&alice, json!({"name": "late"})).await;
            let first = a.get("/api/v1/tokens?limit=1", &alice).await.expect(200);
            let id = first["tokens"][0]["id"].as_str().unwrap().to_owned();
            a.delete(&format!("/api/v1/tokens/{id}"), &alice)
                .await
                .expect(204);
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen, ["t0", "t1", "t2", "t3", "t4", "t5", "t6", "late"]);
    assert_eq!(pages, 3);
    let unique: HashSet<_> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len());
}

async fn authorization_matrix(db: Db) {
    let a = Admin::start(&db).await;
    let user = a.user("uma", &["user"]).await;
    let creator = a.user("carl", &["user", "token_creator", "pool:ml"]).await;
    let other = a.user("olga", &["user", "token_creator", "pool:db"]).await;
    let (_, olgas) = a.mint(&other, json!({"name": "olgas"})).await;
    let oid = olgas["id"].as_str().unwrap();

    // A plain user makes tokens for itself (the default), never for others, and sees only its
    // own.
    a.post("/api/v1/tokens", &user, json!({"name": "x"}))
        .await
        .expect(201);
    a.post(
        "/api/v1/tokens",
        &user,
        json!({"name": "y", "user": "carl"}),
    )
    .await
    .expect_error(403, "forbidden");
    let own = a.get("/api/v1/tokens", &user).await.expect(200)["tokens"].clone();
    assert_eq!(own.as_array().unwrap().len(), 1);
    assert_eq!(own[0]["owner"], "uma");

    // A token creator: its own tokens, only roles it holds, never others' tokens.
    let (_, mine) = a
        .mint(&creator, json!({"name": "mine", "roles": ["pool:ml"]}))
        .await;
    let mid = mine["id"].as_str().unwrap();
    a.post(
        "/api/v1/tokens",
        &creator,
        json!({"name": "y", "roles": ["pool:db"]}),
    )
    .await
    .expect_error(403, "role_not_held");
    a.post(
        "/api/v1/tokens",
        &creator,
        json!({"name": "y", "roles": ["admin"]}),
    )
    .await
    .expect_error(403, "role_not_held");
    a.post(
        "/api/v1/tokens",
        &creator,
        json!({"name": "y", "user": "olga"}),
    )
    .await
    .expect_error(403, "forbidden");
    a.get("/api/v1/tokens?user=olga", &creator)
        .await
        .expect_error(403, "forbidden");
    for (method, path) in [
        ("GET", format!("/api/v1/tokens/{oid}")),
        ("PATCH", format!("/api/v1/tokens/{oid}")),
        ("DELETE", format!("/api/v1/tokens/{oid}")),
        ("POST", format!("/api/v1/tokens/{oid}/revoke")),
        ("POST", format!("/api/v1/tokens/{oid}/regenerate")),
    ] {
        let body = (method == "PATCH").then(|| json!({"description": "mine now"}));
        a.call(method, &path, &creator, body)
            .await
            .expect_error(404, "not_found");
    }
    // A token can only pass on what it carries: a narrow token cannot mint a broader one.
    let (narrow, _) = a
        .mint(
            &creator,
            json!({"name": "narrow", "roles": ["token_creator"]}),
        )
        .await;
    a.post(
        "/api/v1/tokens",
        &narrow,
        json!({"name": "wide", "roles": ["pool:ml"]}),
    )
    .await
    .expect_error(403, "role_not_held");
    let (_, nested) = a.mint(&narrow, json!({"name": "nested"})).await;
    assert_eq!(nested["roles"], json!(["token_creator"]));
    // Owners shorten, only admins extend.
    let later = tollgate_admin::times::rfc3339(now() + 86_400 * 40);
    a.patch(
        &format!("/api/v1/tokens/{mid}"),
        &creator,
        json!({"expires_at": later}),
    )
    .await
    .expect_error(403, "cannot_extend");
    a.patch(
        &format!("/api/v1/tokens/{mid}"),
        &creator,
        json!({"ttl_seconds": 600}),
    )
    .await
    .expect(200);

    // An admin: everyone's tokens, tokens for others with their roles, extensions.
    let all = a.get("/api/v1/tokens", &a.root).await.expect(200);
    assert!(all["tokens"].as_array().unwrap().len() >= 3);
    let olgas_only = a.get("/api/v1/tokens?user=olga", &a.root).await.expect(200);
    assert_eq!(olgas_only["tokens"].as_array().unwrap().len(), 1);
    let (for_olga_text, for_olga) = a
        .mint(
            &a.root,
            json!({"name": "from-admin", "user": "olga", "roles": ["pool:db"]}),
        )
        .await;
    assert_eq!(for_olga["owner"], "olga");
    assert_eq!(for_olga["created_by"], "root");
    a.post(
        "/api/v1/tokens",
        &a.root,
        json!({"name": "z", "user": "olga", "roles": ["pool:ml"]}),
    )
    .await
    .expect_error(403, "role_not_held");
    a.post(
        "/api/v1/tokens",
        &a.root,
        json!({"name": "z", "user": "ghost"}),
    )
    .await
    .expect_error(404, "not_found");
    assert_eq!(
        a.get("/api/v1/me", &for_olga_text).await.expect(200)["user"]["name"],
        "olga"
    );
    let r = a
        .patch(
            &format!("/api/v1/tokens/{mid}"),
            &a.root,
            json!({"expires_at": later}),
        )
        .await
        .expect(200);
    assert_eq!(r["expires_at"], json!(later));
    let too_late = tollgate_admin::times::rfc3339(now() + 86_400 * 91);
    a.patch(
        &format!("/api/v1/tokens/{mid}"),
        &a.root,
        json!({"expires_at": too_late}),
    )
    .await
    .expect_error(422, "expiry_too_far");
    a.post(&format!("/api/v1/tokens/{oid}/revoke"), &a.root, json!({}))
        .await
        .expect(200);

    // Refusals are audited.
    let denied = a.get("/api/v1/audit?actor=carl", &a.root).await.expect(200);
    assert!(
        denied["events"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["outcome"] == "denied" && e["action"] == "token.create")
    );
}

async fn patch_revoke_and_delete(db: Db) {
    let a = Admin::start(&db).await;
    let alice = a.user("alice", &["user", "token_creator"]).await;
    let (text, rec) = a.mint(&alice, json!({"name": "ci"})).await;
    let id = rec["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/tokens/{id}");

    let before = a.sequence().await;
    let r = a
        .patch(&path, &alice, json!({"description": "new words"}))
        .await;
    assert_eq!(r.expect(200)["description"], "new words");
    assert_eq!(
        r.header("x-tollgate-revocation-sequence"),
        None,
        "a description does not touch the list"
    );
    assert_eq!(a.sequence().await, before);

    let r = a.patch(&path, &alice, json!({"enabled": false})).await;
    assert_eq!(r.expect(200)["state"], "disabled");
    assert_eq!(
        r.header("x-tollgate-revocation-sequence"),
        Some((before + 1).to_string())
    );

    let r = a
        .post(&format!("{path}/revoke"), &alice, json!({}))
        .await
        .expect(200);
    assert_eq!(r["state"], "revoked");
    assert_eq!(r["revoked_by"], "alice");
    assert!(r["revoked_at"].is_string());
    a.get("/api/v1/me", &text)
        .await
        .expect_error(401, "revoked");
    a.post(&format!("{path}/revoke"), &alice, json!({}))
        .await
        .expect_error(409, "already_revoked");
    a.patch(&path, &alice, json!({"enabled": true}))
        .await
        .expect_error(409, "token_revoked");

    // Revoked tokens leave the default listing, and free their name.
    assert_eq!(
        a.get("/api/v1/tokens", &alice).await.expect(200)["tokens"],
        json!([])
    );
    let with = a
        .get("/api/v1/tokens?include_revoked=true", &alice)
        .await
        .expect(200);
    assert_eq!(with["tokens"][0]["id"], json!(id));
    let (_, again) = a.mint(&alice, json!({"name": "ci"})).await;

    // Delete: revoked at once and gone from every listing.
    let gid = again["id"].as_str().unwrap();
    a.delete(&format!("/api/v1/tokens/{gid}"), &alice)
        .await
        .expect(204);
    a.get(&format!("/api/v1/tokens/{gid}"), &alice)
        .await
        .expect_error(404, "not_found");
    a.delete(&format!("/api/v1/tokens/{gid}"), &alice)
        .await
        .expect_error(404, "not_found");
    let with = a
        .get("/api/v1/tokens?include_revoked=true", &alice)
        .await
        .expect(200);
    assert!(
        with["tokens"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["id"] != json!(gid))
    );
    let (_, list, _) = a.revocations().await;
    assert!(
        list.get(&gid.parse().unwrap()).is_some(),
        "a deleted token is listed as revoked"
    );
}

async fn regenerate_without_and_with_grace(db: Db) {
    let a = Admin::start(&db).await;
    let alice = a.user("alice", &["user", "token_creator"]).await;
    let (old_text, old) = a
        .mint(
            &alice,
            json!({"name": "deploy", "description": "d", "roles": ["user"], "ttl_seconds": 7200}),
        )
        .await;
    let oid = old["id"].as_str().unwrap().to_owned();

    let r = a
        .post(
            &format!("/api/v1/tokens/{oid}/regenerate"),
            &alice,
            json!({}),
        )
        .await
        .expect(201);
    let new_text = r["token"].as_str().unwrap().to_owned();
    assert_ne!(new_text, old_text);
    assert_eq!(r["record"]["name"], "deploy");
    assert_eq!(r["record"]["description"], "d");
    assert_eq!(r["record"]["roles"], json!(["user"]));
    assert_eq!(r["record"]["replaces"], json!(oid));
    assert_eq!(
        t(&r["record"]["expires_at"]),
        t(&old["expires_at"]),
        "the new token ends when the old one would have"
    );
    assert_eq!(r["previous"]["replaced_by"], r["record"]["id"]);
    assert_eq!(r["previous"]["state"], "revoked");
    a.get("/api/v1/me", &old_text)
        .await
        .expect_error(401, "revoked");
    a.get("/api/v1/me", &new_text).await.expect(200);
    a.post(
        &format!("/api/v1/tokens/{oid}/regenerate"),
        &alice,
        json!({}),
    )
    .await
    .expect_error(409, "token_revoked");

    // With grace the old token keeps working until the grace ends, at the admin and in the list.
    let nid = r["record"]["id"].as_str().unwrap().to_owned();
    let r = a
        .post(
            &format!("/api/v1/tokens/{nid}/regenerate"),
            &alice,
            json!({"grace_seconds": 3}),
        )
        .await
        .expect(201);
    let newest = r["token"].as_str().unwrap().to_owned();
    assert_eq!(r["previous"]["state"], "grace");
    let grace_until = t(&r["previous"]["grace_until"]);
    a.get("/api/v1/me", &new_text).await.expect(200);
    a.get("/api/v1/me", &newest).await.expect(200);
    let (_, list, _) = a.revocations().await;
    let entry = list.get(&nid.parse().unwrap()).unwrap();
    assert_eq!(
        entry.state,
        tollgate_shared::EntryState::Revoked {
            from: grace_until as u64
        }
    );
    tokio::time::sleep(Duration::from_secs((grace_until - now() + 1).max(0) as u64)).await;
    a.get("/api/v1/me", &new_text)
        .await
        .expect_error(401, "revoked");
    a.get("/api/v1/me", &newest).await.expect(200);

    a.post(
        &format!("/api/v1/tokens/{oid}/regenerate"),
        &alice,
        json!({"grace_seconds": 999_999_999}),
    )
    .await
    .expect_error(422, "grace_too_long");
    let sessions = a
        .get("/api/v1/tokens?kind=session", &alice)
        .await
        .expect(200);
    let sid = sessions["tokens"][0]["id"].as_str().unwrap();
    a.post(
        &format!("/api/v1/tokens/{sid}/regenerate"),
        &alice,
        json!({}),
    )
    .await
    .expect_error(409, "session_token");
}

async fn ttl_limits_and_the_creation_switch(db: Db) {
    let mut s = settings(&db);
    s.default_ttl = 3600;
    s.max_ttl = 7200;
    let a = Admin::with(s.clone()).await;
    let alice = a.user("alice", &["user", "token_creator"]).await;
    let (_, rec) = a.mint(&alice, json!({"name": "d"})).await;
    assert_eq!(t(&rec["expires_at"]) - t(&rec["created_at"]), 3600);
    a.mint(&alice, json!({"name": "max", "ttl_seconds": 7200}))
        .await;
    a.post(
        "/api/v1/tokens",
        &alice,
        json!({"name": "over", "ttl_seconds": 7201}),
    )
    .await
    .expect_error(422, "expiry_too_far");
    a.stop().await;

    // The same store, with the token API turned off: logins still work, token routes answer 403
    // to everyone but admins; an admin turns it back on at run time (audited).
    s.token_creation = false;
    let a = Admin::with(s).await;
    let alice = a.login("alice", crate::harness::PASSWORD).await;
    a.post("/api/v1/tokens", &alice, json!({"name": "nope"}))
        .await
        .expect_error(403, "token_api_disabled");
    let id = rec["id"].as_str().unwrap();
    for (method, path) in [
        ("GET", "/api/v1/tokens".to_owned()),
        ("GET", format!("/api/v1/tokens/{id}")),
        ("POST", format!("/api/v1/tokens/{id}/regenerate")),
        ("POST", format!("/api/v1/tokens/{id}/revoke")),
        ("DELETE", format!("/api/v1/tokens/{id}")),
    ] {
        a.call(method, &path, &alice, None)
            .await
            .expect_error(403, "token_api_disabled");
    }
    a.get("/api/v1/me", &alice).await.expect(200);
    a.mint(&a.root, json!({"name": "admins-still-can"})).await;
    a.get("/api/v1/settings", &alice)
        .await
        .expect_error(403, "forbidden");
    let settings = a.get("/api/v1/settings", &a.root).await.expect(200);
    assert_eq!(settings["token_api"], false);
    let on = a
        .patch("/api/v1/settings", &a.root, json!({"token_api": true}))
        .await
        .expect(200);
    assert_eq!(
        (&on["token_api"], &on["token_api_changed_by"]),
        (&json!(true), &json!("root"))
    );
    a.post(&format!("/api/v1/tokens/{id}/revoke"), &alice, json!({}))
        .await
        .expect(200);
    let audit = a
        .get("/api/v1/audit?action=settings.update", &a.root)
        .await
        .expect(200);
    assert_eq!(audit["events"][0]["detail"], "token_api true");
}

/// Who makes personal tokens is a setting: everyone (the default, as OSMO and Rancher), or only
/// token creators (as Determined); an admin's token carries `admin` only when asked for by name.
async fn personal_tokens_and_least_privilege(db: Db) {
    let a = Admin::start(&db).await;
    let (_, root_default) = a.mint(&a.root, json!({"name": "root-default"})).await;
    assert!(
        !root_default["roles"]
            .as_array()
            .unwrap()
            .contains(&json!("admin")),
        "{root_default}"
    );
    let (_, root_admin) = a
        .mint(&a.root, json!({"name": "root-admin", "roles": ["admin"]}))
        .await;
    assert_eq!(root_admin["roles"], json!(["admin"]));
    a.stop().await;

    let mut settings = crate::harness::settings(&db);
    settings.personal_tokens = tollgate_admin::config::PersonalTokens::TokenCreators;
    let a = Admin::with(settings).await;
    let uma = a.user("uma2", &["user"]).await;
    a.post("/api/v1/tokens", &uma, json!({"name": "x"}))
        .await
        .expect_error(403, "forbidden");
}

/// `?name=` finds the live token of a name (among one owner's with `user`); `?id_prefix=` the
/// tokens whose id starts so; both keep to what the caller may see.
async fn lookup_by_name_and_id_prefix(db: Db) {
    let a = Admin::start(&db).await;
    let alice = a.user("alice", &["user", "token_creator"]).await;
    let bob = a.user("bob", &["user"]).await;
    let (_, old) = a.mint(&alice, json!({"name": "ci"})).await;
    let old_id = old["id"].as_str().unwrap();
    let regenerated = a
        .post(
            &format!("/api/v1/tokens/{old_id}/regenerate"),
            &alice,
            json!({"grace_seconds": 3600}),
        )
        .await
        .expect(201);
    let new_id = regenerated["record"]["id"].as_str().unwrap();
    let (_, bobs) = a.mint(&bob, json!({"name": "ci"})).await;
    let ids = |page: &Value| -> Vec<String> {
        page["tokens"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["id"].as_str().unwrap().to_owned())
            .collect()
    };

    // The live one only, not the old token in its grace period; with include_revoked, both.
    let page = a
        .get("/api/v1/tokens?name=ci&user=alice", &alice)
        .await
        .expect(200);
    assert_eq!(ids(&page), [new_id]);
    let page = a
        .get(
            "/api/v1/tokens?name=ci&user=alice&include_revoked=true",
            &alice,
        )
        .await
        .expect(200);
    assert_eq!(ids(&page).len(), 2);
    // Bob's lookup finds his own token of that name, never alice's.
    let page = a.get("/api/v1/tokens?name=ci", &bob).await.expect(200);
    assert_eq!(ids(&page), [bobs["id"].as_str().unwrap()]);
    let prefix = &new_id[..8];
    let page = a
        .get(&format!("/api/v1/tokens?id_prefix={prefix}"), &bob)
        .await
        .expect(200);
    assert!(ids(&page).is_empty(), "another's token is not revealed");
    let page = a
        .get(&format!("/api/v1/tokens?id_prefix={prefix}"), &alice)
        .await
        .expect(200);
    assert_eq!(ids(&page), [new_id]);

    for bad in [
        "id_prefix=0123456",
        "id_prefix=0123456G",
        "id_prefix=ABCDEF01",
    ] {
        a.get(&format!("/api/v1/tokens?{bad}"), &alice)
            .await
            .expect_error(400, "invalid_query");
    }
    a.get("/api/v1/tokens?name=%20ci", &alice)
        .await
        .expect_error(422, "invalid_name");
}

both_backends!(
    lookup_by_name_and_id_prefix,
    personal_tokens_and_least_privilege,
    create_list_get_and_batch,
    pagination_is_stable,
    authorization_matrix,
    patch_revoke_and_delete,
    regenerate_without_and_with_grace,
    ttl_limits_and_the_creation_switch,
);
