//! Usage reports from the edge (`POST /api/v1/usage`), the daily counts they add up to
//! (`GET /api/v1/tokens/{id}/usage`), and listings by last use.

use serde_json::{Value, json};
use tollgate_shared::usage::{
    CONTENT_TYPE, Counters, MAX_REPORT_BYTES, Reason, Report, ReporterId, TokenUse,
};
use tollgate_shared::{ErrorCode, Keyring, Kind, TokenId};

use crate::harness::{Admin, Db, Resp, both_backends, keyring};
use crate::metrics::sample;

/// Same key id as the test keyring, another secret: what a forger without the key would sign with.
const FORGED: &str = "k1:ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=";
const DAY: u64 = 86_400;

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn rfc3339(t: u64) -> String {
    time::OffsetDateTime::from_unix_timestamp(t as i64)
        .unwrap()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap()
}

fn date(t: u64) -> String {
    rfc3339(t)[..10].to_owned()
}

fn report(reporter: u8, sequence: u64, sent_at: u64, uses: &[(&str, u64, u64)]) -> Report {
    Report {
        reporter: ReporterId([reporter; 16]),
        sequence,
        sent_at,
        uses: uses
            .iter()
            .map(|(id, count, last_seen)| TokenUse {
                token_id: id.parse::<TokenId>().unwrap(),
                kind: Kind::Personal,
                count: *count,
                last_seen: *last_seen,
            })
            .collect(),
        counters: Counters {
            verified: uses.iter().map(|u| u.1).sum(),
            refused: vec![(Reason::Code(ErrorCode::Revoked), 2)],
            rate_limited: 1,
        },
    }
}

async fn send(a: &Admin, body: Vec<u8>, content_type: &str) -> Resp {
    a.raw(
        "POST",
        "/api/v1/usage",
        None,
        Some(body),
        &[("content-type", content_type)],
    )
    .await
}

async fn take(a: &Admin, r: &Report, keys: &Keyring) -> Resp {
    send(a, r.sign(keys), CONTENT_TYPE).await
}

async fn usage(a: &Admin, token: &str, id: &str, query: &str) -> Value {
    a.get(&format!("/api/v1/tokens/{id}/usage{query}"), token)
        .await
        .expect(200)
}

/// A report is taken once; unsigned, forged, replayed, stale, oversized and mistyped ones are
/// refused with their own code and change nothing.
async fn reports_are_taken_once_and_bad_ones_change_nothing(db: Db) {
    let a = Admin::start(&db).await;
    let alice = a.user("alice", &["user"]).await;
    let (_, record) = a.mint(&alice, json!({"name": "ci"})).await;
    let id = record["id"].as_str().unwrap().to_owned();
    let t = now();
    let first = report(1, 1, t, &[(&id, 7, t - 3)]);
    take(&a, &first, &keyring()).await.expect(204);
    let u = usage(&a, &alice, &id, "").await;
    assert_eq!(u["total"], 7);
    assert_eq!(u["days"].as_array().unwrap().len(), 30);
    assert_eq!(u["days"][29], json!({"date": date(t - 3), "requests": 7}));
    assert_eq!(u["last_used_at"], rfc3339(t - 3));
    let record = a
        .get(&format!("/api/v1/tokens/{id}"), &alice)
        .await
        .expect(200);
    assert_eq!(record["last_used_at"], rfc3339(t - 3));

    let refused = [
        (take(&a, &first, &keyring()).await, 409, "replayed_batch"),
        (
            take(
                &a,
                &report(1, 2, t, &[(&id, 5, t)]),
                &Keyring::parse(FORGED).unwrap(),
            )
            .await,
            401,
            "bad_signature",
        ),
        (
            take(
                &a,
                &report(1, 2, t, &[(&id, 5, t)]),
                &Keyring::parse("k7:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=").unwrap(),
            )
            .await,
            401,
            "unknown_key",
        ),
        (
            send(
                &a,
                br#"{"uses": [{"token_id": "x", "count": 1000}]}"#.to_vec(),
                CONTENT_TYPE,
            )
            .await,
            401,
            "malformed",
        ),
        (
            take(&a, &report(1, 3, t - 400, &[(&id, 5, t)]), &keyring()).await,
            409,
            "replayed_batch",
        ),
        (
            send(&a, vec![0; MAX_REPORT_BYTES + 1], CONTENT_TYPE).await,
            413,
            "body_too_large",
        ),
        (
            send(
                &a,
                report(1, 4, t, &[(&id, 5, t)]).sign(&keyring()),
                "application/json",
            )
            .await,
            415,
            "unsupported_media_type",
        ),
    ];
    for (r, status, code) in &refused {
        r.expect_error(*status, code);
    }
    let u = usage(&a, &alice, &id, "").await;
    assert_eq!(u["total"], 7, "no refused report changed anything");
    assert_eq!(u["last_used_at"], rfc3339(t - 3));

    // Later reports of the same isolate, and another isolate's first, add up.
    take(&a, &report(1, 9, t, &[(&id, 2, t - 1)]), &keyring())
        .await
        .expect(204);
    take(&a, &report(2, 1, t, &[(&id, 1, t - DAY)]), &keyring())
        .await
        .expect(204);
    let u = usage(&a, &alice, &id, "").await;
    assert_eq!(u["total"], 10);
    assert_eq!(u["days"][28]["requests"], 1);
    assert_eq!(u["days"][29]["requests"], 9);
    assert_eq!(u["last_used_at"], rfc3339(t - 1), "never moved back");

    let metrics = String::from_utf8(a.raw("GET", "/metrics", None, None, &[]).await.body).unwrap();
    for (series, want) in [
        (r#"tollgate_usage_reports_total{outcome="taken"}"#, 3.0),
        // The oversized one was refused by the body limit, before the handler saw it.
        (r#"tollgate_usage_reports_total{outcome="refused"}"#, 6.0),
        (
            r#"tollgate_edge_token_requests_total{kind="personal"}"#,
            10.0,
        ),
        (r#"tollgate_edge_token_requests_total{kind="service"}"#, 0.0),
        ("tollgate_edge_verified_total", 10.0),
        ("tollgate_edge_rate_limited_total", 3.0),
        (r#"tollgate_edge_refused_total{reason="revoked"}"#, 6.0),
    ] {
        assert_eq!(sample(&metrics, series), Some(want), "{series}\n{metrics}");
    }
}

/// `GET /api/v1/tokens/{id}/usage` answers every day of a range, for those who may see the
/// token, and refuses ranges it cannot answer.
async fn usage_covers_a_range_of_days(db: Db) {
    let a = Admin::start(&db).await;
    let alice = a.user("alice", &["user"]).await;
    let bob = a.user("bob", &["user"]).await;
    let (_, record) = a.mint(&alice, json!({"name": "ci"})).await;
    let id = record["id"].as_str().unwrap().to_owned();
    let t = now();
    take(
        &a,
        &report(1, 1, t, &[(&id, 3, t - 3 * DAY), (&id, 4, t)]),
        &keyring(),
    )
    .await
    .expect(204);
    let q = format!("?from={}&to={}", date(t - 4 * DAY), date(t - 2 * DAY));
    let u = usage(&a, &alice, &id, &q).await;
    assert_eq!(u["from"], date(t - 4 * DAY));
    assert_eq!(
        u["days"],
        json!([
            {"date": date(t - 4 * DAY), "requests": 0},
            {"date": date(t - 3 * DAY), "requests": 3},
            {"date": date(t - 2 * DAY), "requests": 0},
        ])
    );
    assert_eq!(u["total"], 3);
    let u = usage(&a, &a.root, &id, "").await;
    assert_eq!(u["total"], 7, "admins see every token's use");
    a.get(&format!("/api/v1/tokens/{id}/usage"), &bob)
        .await
        .expect_error(404, "not_found");
    a.get(&format!("/api/v1/tokens/{id}/usage?from=yesterday"), &alice)
        .await
        .expect_error(400, "invalid_query");
    a.get(&format!("/api/v1/tokens/{id}/usage?lots=1"), &alice)
        .await
        .expect_error(400, "invalid_query");
    let backwards = format!("?from={}&to={}", date(t), date(t - DAY));
    a.get(&format!("/api/v1/tokens/{id}/usage{backwards}"), &alice)
        .await
        .expect_error(422, "invalid");
    a.get(
        &format!("/api/v1/tokens/{id}/usage?from=2000-01-01"),
        &alice,
    )
    .await
    .expect_error(422, "invalid");
}

/// Listings sort by last use (never used first) across pages, and filter tokens unused for a
/// while (a token created within that while is not unused for it).
async fn listings_sort_by_last_use_and_find_unused_tokens(db: Db) {
    let a = Admin::start(&db).await;
    let alice = a.user("alice", &["user"]).await;
    let mut ids = Vec::new();
    for name in ["recent", "never", "old"] {
        let (_, record) = a.mint(&alice, json!({"name": name})).await;
        ids.push(record["id"].as_str().unwrap().to_owned());
    }
    let t = now();
    let (recent, old) = (&ids[0], &ids[2]);
    let mut uses = vec![
        (recent.as_str(), 1, t - 20),
        (old.as_str(), 1, t - 40 * DAY),
    ];
    uses.sort_by(|x, y| x.0.cmp(y.0));
    take(&a, &report(1, 1, t, &uses), &keyring())
        .await
        .expect(204);

    let names = |v: &Value| -> Vec<String> {
        v["tokens"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["name"].as_str().unwrap().to_owned())
            .collect()
    };
    let all = a
        .get("/api/v1/tokens?sort=last_used", &alice)
        .await
        .expect(200);
    assert_eq!(names(&all), ["never", "old", "recent"]);
    let mut paged = Vec::new();
    let mut query = "/api/v1/tokens?sort=last_used&limit=1".to_owned();
    loop {
        let page = a.get(&query, &alice).await.expect(200);
        paged.extend(names(&page));
        match page["next_cursor"].as_str() {
            Some(c) => query = format!("/api/v1/tokens?sort=last_used&limit=1&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(paged, ["never", "old", "recent"]);
    let unused = a
        .get("/api/v1/tokens?unused_for=30d", &alice)
        .await
        .expect(200);
    assert_eq!(names(&unused), ["old"]);
    let unused = a
        .get("/api/v1/tokens?unused_for=10s&sort=last_used", &alice)
        .await
        .expect(200);
    assert_eq!(names(&unused), ["old", "recent"]);
    for bad in ["sort=newest", "unused_for=soon", "unused_for=-1d"] {
        a.get(&format!("/api/v1/tokens?{bad}"), &alice)
            .await
            .expect_error(400, "invalid_query");
    }
    // A cursor of one order is not a position in the other.
    let page = a.get("/api/v1/tokens?limit=1", &alice).await.expect(200);
    let c = page["next_cursor"].as_str().unwrap();
    a.get(&format!("/api/v1/tokens?sort=last_used&cursor={c}"), &alice)
        .await
        .expect_error(422, "unknown_cursor");
}

both_backends!(
    reports_are_taken_once_and_bad_ones_change_nothing,
    usage_covers_a_range_of_days,
    listings_sort_by_last_use_and_find_unused_tokens,
);
