//! The revocation list at the edge worker under `wrangler dev` (workerd): revocations take effect
//! within the refresh period, the last good list outlives an unreachable admin until the stale
//! bound, and bad lists are never applied.

use std::time::{Duration, Instant};

use tollgate_e2e::{EdgeStack, Keys, Misbehave, header};
use tollgate_shared::Kind;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoked_token_is_refused_within_the_refresh_bound() {
    let s = EdgeStack::start(|c| c.var("TOLLGATE_REFRESH_SECONDS", "1")).await;
    let token = s.keys.mint("alice", Kind::Personal, &[], 3600);
    assert_eq!(s.status("/data", &token).await, 200);
    // Let a refresh or two go by, so the edge holds the list and asks with If-None-Match / since.
    for _ in 0..3 {
        tokio::time::sleep(Duration::from_millis(600)).await;
        assert_eq!(s.status("/data", &token).await, 200);
    }
    let revoked_at = Instant::now();
    let sequence = s.list.revoke(token.id(), token.claims.expires_at);
    let elapsed = loop {
        let status = s.status("/data", &token).await;
        if status == 401 {
            break revoked_at.elapsed();
        }
        assert_eq!(status, 200);
        assert!(
            revoked_at.elapsed() < Duration::from_secs(10),
            "revocation never took effect"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    println!("revoke-to-refusal: {} ms", elapsed.as_millis());
    assert!(
        elapsed <= Duration::from_millis(2_500),
        "took {elapsed:?}; refresh period is 1 s"
    );

    let seen = s.list.seen();
    assert_eq!(
        seen.first().map(|r| (r.since, r.answer)),
        Some((None, "full")),
        "{seen:?}"
    );
    assert!(
        seen.iter()
            .any(|r| r.answer == "not_modified" && r.if_none_match.as_deref() == Some("\"1\"")),
        "unchanged lists are answered 304: {seen:?}"
    );
    assert!(
        seen.iter()
            .any(|r| r.answer == "delta" && r.since == Some(sequence - 1)),
        "the change came as a delta: {seen:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_down_keeps_the_last_good_list_then_fails_closed() {
    let mut s = EdgeStack::start(|c| {
        c.var("TOLLGATE_REFRESH_SECONDS", "1")
            .var("TOLLGATE_MAX_STALE_SECONDS", "3")
    })
    .await;
    let revoked = s.keys.mint("bob", Kind::Personal, &[], 3600);
    let good = s.keys.mint("alice", Kind::Personal, &[], 3600);
    s.list.revoke(revoked.id(), revoked.claims.expires_at);
    assert_eq!(s.status("/data", &revoked).await, 401);
    assert_eq!(s.status("/data", &good).await, 200);

    s.list.stop();
    let down_at = Instant::now();
    // Within the stale bound the last good list is used: the revocation still holds, good tokens pass.
    while down_at.elapsed() < Duration::from_millis(1_500) {
        assert_eq!(s.status("/data", &revoked).await, 401);
        assert_eq!(s.status("/data", &good).await, 200);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let resp = loop {
        let resp = s.get("/data", Some(&good.bearer())).await;
        if resp.status().as_u16() != 200 {
            break resp;
        }
        assert!(
            down_at.elapsed() < Duration::from_secs(8),
            "never failed closed"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let failed_after = down_at.elapsed();
    assert!(
        failed_after >= Duration::from_millis(1_900),
        "failed closed too early: {failed_after:?}"
    );
    assert_eq!(resp.status().as_u16(), 503);
    assert_eq!(header(&resp, "retry-after").as_deref(), Some("1"));
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["code"], "revocation_list_unavailable");
    let forwarded = s.origin.count();
    assert_eq!(s.status("/data", &good).await, 503);
    assert_eq!(
        s.origin.count(),
        forwarded,
        "nothing is forwarded while failing closed"
    );
    assert!(
        s.worker
            .wait_for_log("revocation list refresh failed", Duration::from_secs(5))
            .await
    );

    s.list.restart().await.unwrap();
    let back = Instant::now();
    while s.status("/data", &good).await != 200 {
        assert!(
            back.elapsed() < Duration::from_secs(5),
            "did not recover after the list came back"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(s.status("/data", &revoked).await, 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_lists_are_never_applied() {
    let s = EdgeStack::start(|c| c.var("TOLLGATE_REFRESH_SECONDS", "1")).await;
    let revoked = s.keys.mint("bob", Kind::Personal, &[], 3600);
    let good = s.keys.mint("alice", Kind::Personal, &[], 3600);
    s.list.revoke(revoked.id(), revoked.claims.expires_at);
    assert_eq!(s.status("/data", &revoked).await, 401);

    let forger = Keys::generate("k1").keyring;
    for how in [
        Misbehave::ForgedSignature(forger),
        Misbehave::Rollback,
        Misbehave::Garbage,
        Misbehave::Status(500),
    ] {
        let served_before = s.list.seen().len();
        s.list.misbehave(Some(how.clone()));
        let started = Instant::now();
        while started.elapsed() < Duration::from_millis(2_500) {
            assert_eq!(
                s.status("/data", &revoked).await,
                401,
                "{how:?} was applied"
            );
            assert_eq!(s.status("/data", &good).await, 200);
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(
            s.list.seen().len() > served_before,
            "the edge kept asking during {how:?}"
        );
    }
    assert!(
        s.worker
            .wait_for_log("the admin answered 500", Duration::from_secs(5))
            .await
    );
    let logs = s.worker.logs();
    assert!(logs.contains("code=bad_signature"), "{logs}");
    assert!(logs.contains("code=stale"), "{logs}");
    assert!(logs.contains("code=malformed"), "{logs}");
    assert!(logs.contains("the admin answered 500"), "{logs}");

    s.list.misbehave(None);
    let unrevoked = s.list.update(|l| {
        l.remove(&revoked.id());
    });
    let started = Instant::now();
    while s.status("/data", &revoked).await != 200 {
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "good list (sequence {unrevoked}) not applied"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_list_at_all_fails_closed() {
    let mut s = EdgeStack::start(|c| c).await;
    let token = s.keys.mint("alice", Kind::Personal, &[], 3600);
    s.list.stop();
    let resp = s.get("/data", Some(&token.bearer())).await;
    assert_eq!(resp.status().as_u16(), 503);
    assert_eq!(header(&resp, "retry-after").as_deref(), Some("1"));
    assert_eq!(
        s.get("/healthz", None).await.status().as_u16(),
        200,
        "public routes need no list"
    );
    assert_eq!(s.origin.count(), 1);
    s.list.restart().await.unwrap();
    let started = Instant::now();
    while s.status("/data", &token).await != 200 {
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "did not recover"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
