//! How long a revoked token can still pass, through the real worker under `wrangler dev`:
//! an idle isolate and a burst right after a revocation stay within the use bound (twice the
//! refresh period), and whoever answers the list URL cannot freeze or roll back the list
//! without a fresh signed statement.

use std::time::{Duration, Instant};

use tollgate_e2e::{
    EdgeStack, Keys, ListServer, Misbehave, Origin, Worker, WorkerConfig, client, header,
};
use tollgate_shared::Kind;

/// With `TOLLGATE_REFRESH_SECONDS=1`, the README's bound: a list older than 2 s is refreshed
/// before a request is decided.
const BOUND: Duration = Duration::from_secs(2);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_isolate_refuses_a_revoked_token_at_once() {
    let s = EdgeStack::start(|c| c.var("TOLLGATE_REFRESH_SECONDS", "1")).await;
    let token = s.keys.mint("alice", Kind::Personal, &[], 3600);
    for _ in 0..3 {
        assert_eq!(s.status("/data", &token).await, 200);
        // No traffic for longer than the bound, then a revocation.
        tokio::time::sleep(BOUND + Duration::from_millis(500)).await;
        s.list.revoke(token.id(), token.claims.expires_at);
        assert_eq!(
            s.status("/data", &token).await,
            401,
            "the first request after an idle spell used an old list"
        );
        s.list.update(|l| {
            l.remove(&token.id());
        });
        let back = Instant::now();
        while s.status("/data", &token).await != 200 {
            assert!(
                back.elapsed() < BOUND + Duration::from_secs(2),
                "never un-revoked"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_after_a_revocation_passes_only_within_the_bound_and_shares_one_fetch() {
    let s = EdgeStack::start(|c| c.var("TOLLGATE_REFRESH_SECONDS", "1")).await;
    let token = s.keys.mint("alice", Kind::Personal, &[], 3600);
    assert_eq!(s.status("/data", &token).await, 200);
    tokio::time::sleep(BOUND + Duration::from_millis(500)).await;
    s.list.revoke(token.id(), token.claims.expires_at);
    let fetches_before = s.list.seen().len();
    let burst = (0..24).map(|_| {
        let http = s.http.clone();
        let url = s.worker.url("/data");
        let bearer = token.bearer();
        tokio::spawn(async move {
            http.get(url)
                .header("authorization", bearer)
                .send()
                .await
                .map(|r| r.status().as_u16())
                .unwrap_or(0)
        })
    });
    let mut statuses = Vec::new();
    for task in burst {
        statuses.push(task.await.unwrap());
    }
    assert!(statuses.iter().all(|s| *s == 401), "{statuses:?}");
    let fetches = s.list.seen().len() - fetches_before;
    assert!(
        fetches <= 3,
        "{fetches} list fetches for one burst of 24 requests"
    );

    // Right after a revocation, passes stop within the bound, whatever the traffic.
    let other = s.keys.mint("bob", Kind::Personal, &[], 3600);
    assert_eq!(s.status("/data", &other).await, 200);
    s.list.revoke(other.id(), other.claims.expires_at);
    let revoked_at = Instant::now();
    let mut last_pass = None;
    while revoked_at.elapsed() < BOUND + Duration::from_secs(1) {
        if s.status("/data", &other).await == 200 {
            last_pass = Some(revoked_at.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    if let Some(last) = last_pass {
        assert!(
            last < BOUND,
            "a revoked token passed {last:?} after its revocation"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unsigned_304_forever_fails_closed_after_the_stale_bound() {
    let s = EdgeStack::start(|c| {
        c.var("TOLLGATE_REFRESH_SECONDS", "1")
            .var("TOLLGATE_MAX_STALE_SECONDS", "4")
    })
    .await;
    let token = s.keys.mint("alice", Kind::Personal, &[], 3600);
    assert_eq!(s.status("/data", &token).await, 200);
    for how in [Misbehave::NotModifiedUnsigned, Misbehave::ReplayedStatement] {
        s.list.misbehave(Some(how.clone()));
        let frozen = Instant::now();
        let resp = loop {
            let resp = s.get("/data", Some(&token.bearer())).await;
            if resp.status().as_u16() != 200 {
                break resp;
            }
            assert!(
                frozen.elapsed() < Duration::from_secs(10),
                "{how:?} froze the list"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        assert_eq!(resp.status().as_u16(), 503, "{how:?}");
        assert_eq!(header(&resp, "retry-after").as_deref(), Some("1"));
        let after = frozen.elapsed();
        assert!(
            after >= Duration::from_secs(2),
            "{how:?}: 503 after {after:?}"
        );
        s.list.misbehave(None);
        let back = Instant::now();
        while s.status("/data", &token).await != 200 {
            assert!(
                back.elapsed() < Duration::from_secs(5),
                "no recovery after {how:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    assert!(
        s.worker
            .wait_for_log("carries no freshness statement", Duration::from_secs(5))
            .await
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fresh_isolate_refuses_a_replayed_older_list() {
    let keys = Keys::generate("k1");
    let list = ListServer::start(keys.keyring.clone()).await.unwrap();
    let origin = Origin::start().await.unwrap();
    let token = keys.mint("alice", Kind::Personal, &[], 3600);
    // Sequence 1 (published now) does not list the token; sequence 2 revokes it.
    list.revoke(token.id(), token.claims.expires_at);
    tokio::time::sleep(Duration::from_secs(4)).await;
    // From now on the list URL replays sequence 1 with the statement recorded when it was current.
    list.misbehave(Some(Misbehave::Rollback));
    let config = WorkerConfig::new(&list.url(), &origin.url(), &keys.text)
        .var("TOLLGATE_REFRESH_SECONDS", "1")
        .var("TOLLGATE_MAX_STALE_SECONDS", "3");
    let worker = Worker::start(&config).await.unwrap();
    let http = client();
    let status = worker
        .get(&http, "/data", Some(&token.bearer()))
        .await
        .status()
        .as_u16();
    assert_eq!(status, 503, "the replayed list was accepted");
    assert_eq!(origin.count(), 0);
    assert!(
        worker
            .wait_for_log("freshness statement is", Duration::from_secs(5))
            .await,
        "{}",
        worker.logs()
    );
    list.misbehave(None);
    let back = Instant::now();
    loop {
        let status = worker
            .get(&http, "/data", Some(&token.bearer()))
            .await
            .status()
            .as_u16();
        if status == 401 {
            break;
        }
        assert!(back.elapsed() < Duration::from_secs(5), "still {status}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
