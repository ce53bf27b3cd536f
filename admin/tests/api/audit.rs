//! The audit log: every change appended with actor, target, time and outcome; admins read all,
//! others their own.

use serde_json::{Value, json};

use crate::harness::{Admin, Db, PASSWORD, both_backends};

async fn changes_are_audited_and_visible_to_the_right_people(db: Db) {
    let a = Admin::start(&db).await;
    let alice = a.user("alice", &["user", "token_creator", "pool:x"]).await;
    let bob = a.user("bob", &["user", "token_creator"]).await;
    let (_, t) = a.mint(&alice, json!({"name": "a1"})).await;
    let id = t["id"].as_str().unwrap().to_owned();
    a.patch(
        &format!("/api/v1/tokens/{id}"),
        &alice,
        json!({"description": "x"}),
    )
    .await
    .expect(200);
    let r = a
        .post(
            &format!("/api/v1/tokens/{id}/regenerate"),
            &alice,
            json!({}),
        )
        .await
        .expect(201);
    let new_id = r["record"]["id"].as_str().unwrap().to_owned();
    a.post(
        &format!("/api/v1/tokens/{new_id}/revoke"),
        &alice,
        json!({}),
    )
    .await
    .expect(200);
    a.delete(&format!("/api/v1/tokens/{new_id}"), &alice)
        .await
        .expect(204);
    a.patch(
        "/api/v1/users/alice",
        &a.root,
        json!({"remove_roles": ["pool:x"]}),
    )
    .await
    .expect(200);
    let body =
        serde_json::to_vec(&json!({"username": "alice", "password": "wrong password"})).unwrap();
    a.raw("POST", "/api/v1/login", None, Some(body), &[])
        .await
        .expect_error(401, "invalid_credentials");
    a.mint(&bob, json!({"name": "b1"})).await;
    a.post(
        "/api/v1/tokens",
        &bob,
        json!({"name": "b2", "roles": ["admin"]}),
    )
    .await
    .expect_error(403, "role_not_held");

    let all = a.get("/api/v1/audit?limit=1000", &a.root).await.expect(200);
    let events = all["events"].as_array().unwrap();
    let find = |action: &str, target: &str| -> Value {
        events
            .iter()
            .find(|e| e["action"] == action && e["target"] == target)
            .unwrap_or_else(|| panic!("no {action} on {target} in {all}"))
            .clone()
    };
    for (action, target, actor) in [
        ("token.create", id.as_str(), "alice"),
        ("token.update", id.as_str(), "alice"),
        ("token.regenerate", id.as_str(), "alice"),
        ("token.revoke", new_id.as_str(), "alice"),
        ("token.delete", new_id.as_str(), "alice"),
        ("user.roles", "alice", "root"),
        ("user.create", "alice", "root"),
    ] {
        let e = find(action, target);
        assert_eq!(e["actor"], actor, "{action}");
        assert_eq!(e["outcome"], "success", "{action}");
        assert!(e["at"].as_str().unwrap().ends_with('Z'));
    }
    assert!(
        events
            .iter()
            .any(|e| e["action"] == "login" && e["actor"] == "alice" && e["outcome"] == "success")
    );
    assert!(
        events
            .iter()
            .any(|e| e["action"] == "login" && e["actor"] == "alice" && e["outcome"] == "failure")
    );
    assert!(
        events.iter().any(|e| e["action"] == "token.create"
            && e["actor"] == "bob"
            && e["outcome"] == "denied")
    );
    let ids: Vec<i64> = events.iter().map(|e| e["id"].as_i64().unwrap()).collect();
    assert!(ids.windows(2).all(|w| w[0] > w[1]), "newest first");
    assert!(
        !all.to_string().contains("tg_"),
        "no token text in the audit log"
    );
    assert!(!all.to_string().contains(PASSWORD));

    // Alice sees her own events (including the admin's change to her roles), not Bob's.
    let own = a.get("/api/v1/audit?limit=1000", &alice).await.expect(200);
    let own = own["events"].as_array().unwrap();
    assert!(own.iter().any(|e| e["action"] == "user.roles"));
    assert!(
        own.iter()
            .all(|e| e["actor"] == "alice" || e["subject"] == "alice"),
        "{own:?}"
    );
    assert!(
        a.get("/api/v1/audit?actor=bob", &alice).await.expect(200)["events"]
            .as_array()
            .unwrap()
            .is_empty()
    );

    // Pages follow each other without overlap.
    let p1 = a.get("/api/v1/audit?limit=3", &a.root).await.expect(200);
    let c = p1["next_cursor"].as_str().unwrap();
    let p2 = a
        .get(&format!("/api/v1/audit?limit=3&cursor={c}"), &a.root)
        .await
        .expect(200);
    assert!(p1["events"][2]["id"].as_i64().unwrap() > p2["events"][0]["id"].as_i64().unwrap());
    assert_eq!(p1["events"][0]["id"], all["events"][0]["id"]);
    assert_eq!(p2["events"][0]["id"], all["events"][3]["id"]);
}

both_backends!(changes_are_audited_and_visible_to_the_right_people);
