//! The revocation list endpoint: what it publishes, ETag/304, `?since=` deltas, and a new
//! version for every change that must reach the edge.

use serde_json::json;
use tollgate_admin::times::{now, parse_time};
use tollgate_shared::{Document, EntryState, RevocationList, TokenId};

use crate::harness::{Admin, Db, Resp, both_backends, keyring};

fn id(v: &serde_json::Value) -> TokenId {
    v["id"].as_str().unwrap().parse().unwrap()
}

async fn entries_follow_the_contract(db: Db) {
    let a = Admin::start(&db).await;
    let alice = a.user("alice", &["user", "token_creator"]).await;
    let (_, revoked) = a.mint(&alice, json!({"name": "r"})).await;
    let (_, disabled) = a.mint(&alice, json!({"name": "d"})).await;
    let (_, shortened) = a.mint(&alice, json!({"name": "s"})).await;
    let (_, extended) = a
        .mint(&alice, json!({"name": "e", "ttl_seconds": 3600}))
        .await;
    let (_, regenerated) = a.mint(&alice, json!({"name": "g"})).await;
    let (_, plain) = a.mint(&alice, json!({"name": "p"})).await;
    let exp = |v: &serde_json::Value| parse_time(v["expires_at"].as_str().unwrap()).unwrap() as u64;

    a.post(
        &format!("/api/v1/tokens/{}/revoke", id(&revoked)),
        &alice,
        json!({}),
    )
    .await
    .expect(200);
    a.patch(
        &format!("/api/v1/tokens/{}", id(&disabled)),
        &alice,
        json!({"enabled": false}),
    )
    .await
    .expect(200);
    let new_short = a
        .patch(
            &format!("/api/v1/tokens/{}", id(&shortened)),
            &alice,
            json!({"ttl_seconds": 86_400}),
        )
        .await
        .expect(200);
    let new_long = a
        .patch(
            &format!("/api/v1/tokens/{}", id(&extended)),
            &a.root,
            json!({"ttl_seconds": 7200}),
        )
        .await
        .expect(200);
    let r = a
        .post(
            &format!("/api/v1/tokens/{}/regenerate", id(&regenerated)),
            &alice,
            json!({"grace_seconds": 600}),
        )
        .await
        .expect(201);
    let grace = parse_time(r["previous"]["grace_until"].as_str().unwrap()).unwrap() as u64;

    let (_, list, _) = a.revocations().await;
    let e = |t: &serde_json::Value| {
        *list
            .get(&id(t))
            .unwrap_or_else(|| panic!("{} is not listed", t["name"]))
    };
    assert_eq!(
        (e(&revoked).state, e(&revoked).expires_at),
        (EntryState::Revoked { from: 0 }, exp(&revoked))
    );
    assert_eq!(
        (e(&disabled).state, e(&disabled).expires_at),
        (EntryState::Disabled, exp(&disabled))
    );
    // A shortening is published at once as a revocation from the new expiry, listed until the
    // signed expiry: dropping the entry can never bring the token back before then.
    assert_eq!(
        (e(&shortened).state, e(&shortened).expires_at),
        (
            EntryState::Revoked {
                from: exp(&new_short)
            },
            exp(&shortened)
        )
    );
    assert_eq!(
        (e(&extended).state, e(&extended).expires_at),
        (EntryState::ExpiryChanged, exp(&new_long))
    );
    assert_eq!(
        (e(&regenerated).state, e(&regenerated).expires_at),
        (EntryState::Revoked { from: grace }, exp(&regenerated))
    );
    assert!(list.get(&id(&plain)).is_none());
    assert!(list.get(&id(&r["record"])).is_none());
    assert_eq!(list.len(), 5);

    // Re-enabling takes the token off the list again.
    a.patch(
        &format!("/api/v1/tokens/{}", id(&disabled)),
        &alice,
        json!({"enabled": true}),
    )
    .await
    .expect(200);
    let (_, list, _) = a.revocations().await;
    assert!(list.get(&id(&disabled)).is_none());
    // The signature is checked with the keyring: another key refuses it.
    let (_, _, bytes) = a.revocations().await;
    let other =
        tollgate_shared::Keyring::parse("k1:ZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmY=").unwrap();
    assert!(Document::decode(&bytes, &other).is_err());
}

/// The answer carries a freshness statement, signed with the keyring, that `sequence` is
/// current now: without it the edge accepts neither a list nor a 304.
fn assert_fresh(r: &Resp, sequence: u64) {
    let text = r
        .header("x-tollgate-freshness")
        .expect("a freshness statement");
    let f = tollgate_shared::Freshness::verify(&text, &keyring()).expect("signed with the keyring");
    assert_eq!(f.sequence, sequence);
    let now = u64::try_from(now()).unwrap();
    assert!(
        f.as_of <= now && f.as_of + 5 >= now,
        "as of {}, now {now}",
        f.as_of
    );
}

async fn etag_304_and_deltas(db: Db) {
    let a = Admin::start(&db).await;
    let alice = a.user("alice", &["user", "token_creator"]).await;
    let (seq0, list0, _) = a.revocations().await;
    let etag = format!("\"{seq0}\"");
    let r = a
        .raw(
            "GET",
            "/api/v1/revocations",
            None,
            None,
            &[("if-none-match", &etag)],
        )
        .await;
    assert_eq!(r.status, 304);
    assert_eq!(r.header("etag"), Some(etag.clone()));
    assert!(r.body.is_empty());
    assert_fresh(&r, seq0);
    assert_eq!(
        a.raw(
            "GET",
            &format!("/api/v1/revocations?since={seq0}"),
            None,
            None,
            &[]
        )
        .await
        .status,
        304
    );

    let mut ids = Vec::new();
    for i in 0..4 {
        let (_, rec) = a.mint(&alice, json!({"name": format!("t{i}")})).await;
        ids.push(id(&rec));
    }
    a.post(
        &format!("/api/v1/tokens/{}/revoke", ids[0]),
        &alice,
        json!({}),
    )
    .await
    .expect(200);
    a.patch(
        &format!("/api/v1/tokens/{}", ids[1]),
        &alice,
        json!({"enabled": false}),
    )
    .await
    .expect(200);
    let (seq1, list1, _) = a.revocations().await;
    assert_eq!(seq1, seq0 + 2);
    assert_eq!(
        a.raw(
            "GET",
            "/api/v1/revocations",
            None,
            None,
            &[("if-none-match", &etag)]
        )
        .await
        .status,
        200
    );

    a.patch(
        &format!("/api/v1/tokens/{}", ids[1]),
        &alice,
        json!({"enabled": true}),
    )
    .await
    .expect(200);
    a.delete(&format!("/api/v1/tokens/{}", ids[2]), &alice)
        .await
        .expect(204);
    a.patch(
        "/api/v1/users/alice",
        &a.root,
        json!({"remove_roles": ["token_creator"]}),
    )
    .await
    .expect(200);
    let (seq2, full2, _) = a.revocations().await;
    assert_eq!(seq2, seq1 + 3);

    // A delta from each older version brings a client to exactly the full list.
    for (since, held) in [(seq0, list0), (seq1, list1)] {
        let r = a
            .raw(
                "GET",
                &format!("/api/v1/revocations?since={since}"),
                None,
                None,
                &[],
            )
            .await;
        assert_eq!(r.status, 200);
        assert_eq!(r.header("etag"), Some(format!("\"{seq2}\"")));
        assert_eq!(r.header("x-tollgate-document").as_deref(), Some("delta"));
        assert_fresh(&r, seq2);
        let doc = Document::decode(&r.body, &keyring()).unwrap();
        let Document::Delta(d) = &doc else {
            panic!("expected a delta")
        };
        assert_eq!((d.base_sequence, d.sequence), (since, seq2));
        let mut client: RevocationList = held;
        assert!(client.update(doc).unwrap());
        assert_eq!(client, full2, "delta from {since}");
    }
    assert!(full2.get(&ids[1]).is_none(), "re-enabled");
    assert!(full2.get(&ids[2]).is_some(), "deleted");
    assert!(full2.subject_rule("alice").is_some());

    // Unknown or future versions get the full list; junk is a 400.
    for since in [seq2 + 100, 0] {
        let r = a
            .raw(
                "GET",
                &format!("/api/v1/revocations?since={since}"),
                None,
                None,
                &[],
            )
            .await;
        assert_eq!(r.status, 200);
        assert!(matches!(
            Document::decode(&r.body, &keyring()).unwrap(),
            Document::Full(_)
        ));
    }
    a.raw("GET", "/api/v1/revocations?since=abc", None, None, &[])
        .await
        .expect_error(400, "invalid_query");
    a.raw("GET", "/api/v1/revocations?sinse=1", None, None, &[])
        .await
        .expect_error(400, "invalid_query");
}

async fn every_edge_visible_change_bumps_the_sequence(db: Db) {
    let a = Admin::start(&db).await;
    let alice = a.user("alice", &["user", "token_creator", "pool:x"]).await;
    let (_, t1) = a.mint(&alice, json!({"name": "t1"})).await;
    let (_, t2) = a.mint(&alice, json!({"name": "t2"})).await;
    let (_, t3) = a.mint(&alice, json!({"name": "t3"})).await;
    let mut last = a.sequence().await;
    let steps: Vec<(&str, String, Option<serde_json::Value>, bool)> = vec![
        (
            "PATCH",
            format!("/api/v1/tokens/{}", id(&t1)),
            Some(json!({"description": "no bump"})),
            false,
        ),
        (
            "PATCH",
            format!("/api/v1/tokens/{}", id(&t1)),
            Some(json!({"enabled": false})),
            true,
        ),
        (
            "PATCH",
            format!("/api/v1/tokens/{}", id(&t1)),
            Some(json!({"enabled": true})),
            true,
        ),
        (
            "PATCH",
            format!("/api/v1/tokens/{}", id(&t1)),
            Some(json!({"ttl_seconds": 5000})),
            true,
        ),
        (
            "POST",
            format!("/api/v1/tokens/{}/revoke", id(&t1)),
            Some(json!({})),
            true,
        ),
        (
            "POST",
            format!("/api/v1/tokens/{}/regenerate", id(&t2)),
            None,
            true,
        ),
        ("DELETE", format!("/api/v1/tokens/{}", id(&t3)), None, true),
        (
            "PATCH",
            "/api/v1/users/alice".to_owned(),
            Some(json!({"add_roles": ["pool:y"]})),
            false,
        ),
        (
            "PATCH",
            "/api/v1/users/alice".to_owned(),
            Some(json!({"remove_roles": ["pool:x"]})),
            true,
        ),
        (
            "PATCH",
            "/api/v1/users/alice".to_owned(),
            Some(json!({"active": false})),
            true,
        ),
    ];
    for (method, path, body, bumps) in steps {
        let token = if path.contains("/users/") {
            &a.root
        } else {
            &alice
        };
        let r = a.call(method, &path, token, body).await;
        assert!(
            r.status < 300,
            "{method} {path}: {} {}",
            r.status,
            String::from_utf8_lossy(&r.body)
        );
        let seq = a.sequence().await;
        let expected = if bumps { last + 1 } else { last };
        assert_eq!(seq, expected, "{method} {path}");
        if bumps {
            assert_eq!(
                r.header("x-tollgate-revocation-sequence"),
                Some(seq.to_string()),
                "{method} {path}"
            );
        }
        last = seq;
    }
    let (_, list, _) = a.revocations().await;
    assert!(list.generated_at >= now() as u64 - 60);
}

both_backends!(
    entries_follow_the_contract,
    etag_304_and_deltas,
    every_edge_visible_change_bumps_the_sequence
);
