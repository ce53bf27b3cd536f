//! Edge worker figures under `wrangler dev` on workerd:
//! - requests/s with a valid token, on a route with a per-token limit in force (counted in the
//!   rate-limit Durable Object) and usage reports on (every 5 s, to the list server, which checks
//!   and keeps them), against the same build with `TOLLGATE_BENCHMARK_PASSTHROUGH=true`
//!   (no verification, no limit, no reports) in the same run, alternating rounds so both see the
//!   same machine, and the ratio;
//! - revoke-to-refusal time: from publishing a revocation at the list server to the first 401;
//! - revocation propagation through the real admin: `POST /api/v1/tokens/{id}/revoke`, then poll
//!   the edge until 401, over `TOLLGATE_BENCH_REVOCATIONS` (default 100) revocations, p50 and p99.
//!
//! `cargo bench -p tollgate-e2e --bench edge`. Tunables (environment): `TOLLGATE_BENCH_SECONDS` (per round,
//! default 3), `TOLLGATE_BENCH_ROUNDS` (default 6; more, shorter rounds even out a noisy machine), `TOLLGATE_BENCH_CONNECTIONS` (default 16),
//! `TOLLGATE_BENCH_LIST_ENTRIES` (revoked ids in the list, default 10000), `TOLLGATE_BENCH_LOAD`
//! (`wrk` to use Debian's `wrk -t2`, `rust` for the built-in generator; default: `wrk` when on `PATH`),
//! `TOLLGATE_BENCH_MODE` (`alternate`, the default: one variant at a time, order alternating per round;
//! `together`: both at once, so both see exactly the same machine, each with about half of it).

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use serde_json::json;
use tollgate_e2e::load::{self, LoadResult, Target};
use tollgate_e2e::{Admin, Keys, ListServer, Origin, Worker, WorkerConfig, client, now};
use tollgate_shared::{Entry, Kind, TokenId};

fn setting(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The verifying worker's policy: `/bench` with a limit far above what the run sends, so every
/// request is counted by the limiter and none is refused.
const BENCH_POLICY: &str = r#"[{"route": "GET /bench", "roles": [], "limit": {"requests": 1000000, "period_seconds": 60}}]"#;

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(bench());
}

fn addr(worker: &Worker) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], worker.port()))
}

async fn bench() {
    let seconds = setting("TOLLGATE_BENCH_SECONDS", 3);
    let rounds = setting("TOLLGATE_BENCH_ROUNDS", 6).max(1);
    let connections = setting("TOLLGATE_BENCH_CONNECTIONS", 16) as usize;
    let entries = setting("TOLLGATE_BENCH_LIST_ENTRIES", 10_000);

    let keys = Keys::generate("k1");
    let list = ListServer::start(keys.keyring.clone())
        .await
        .expect("list server");
    list.update(|l| {
        for _ in 0..entries {
            l.insert(
                TokenId::random().expect("random"),
                Entry::revoked(now() + 86_400),
            );
        }
    });
    let origin = Origin::start_unrecorded().await.expect("origin");
    let base = WorkerConfig::new(&list.url(), &origin.url(), &keys.text);
    let verified = Worker::start(&base.clone().var("TOLLGATE_POLICY", BENCH_POLICY))
        .await
        .expect("wrangler dev (verifying)");
    let passthrough = Worker::start(&base.clone().var("TOLLGATE_BENCHMARK_PASSTHROUGH", "true"))
        .await
        .expect("wrangler dev (passthrough)");

    let token = keys.mint("bench", Kind::Personal, &["user"], 3600);
    let headers = vec![("authorization".to_owned(), token.bearer())];
    let verify_target = Target {
        addr: addr(&verified),
        path: "/bench".into(),
        headers: headers.clone(),
        expect: 200,
    };
    let pass_target = Target {
        addr: addr(&passthrough),
        path: "/bench".into(),
        headers,
        expect: 200,
    };

    println!(
        "edge throughput through wrangler dev: {connections} connections, {rounds} rounds x {seconds} s per variant, \
         list of {entries} revoked ids"
    );
    let use_wrk = match std::env::var("TOLLGATE_BENCH_LOAD").as_deref() {
        Ok("rust") => false,
        Ok("wrk") => true,
        _ => std::process::Command::new("wrk")
            .arg("--version")
            .output()
            .is_ok(),
    };
    println!(
        "load generator: {}",
        if use_wrk {
            "wrk -t2"
        } else {
            "built-in (tokio + hyper)"
        }
    );
    let run = |target: Target, duration: Duration| async move {
        if use_wrk {
            tokio::task::spawn_blocking(move || load::run_wrk(&target, 2, connections, duration))
                .await
                .ok()
                .flatten()
                .expect("wrk ran and printed its report")
        } else {
            load::run(&target, connections, duration).await
        }
    };
    let warmup = Duration::from_secs(2);
    run(verify_target.clone(), warmup).await;
    run(pass_target.clone(), warmup).await;

    let per_round = Duration::from_secs(seconds);
    let together = std::env::var("TOLLGATE_BENCH_MODE").as_deref() == Ok("together");
    println!(
        "mode: {}",
        if together {
            "both variants loaded at the same time (each gets about half the machine)"
        } else {
            "variants loaded in turn, order alternating per round"
        }
    );
    let (mut v_total, mut p_total) = (Vec::new(), Vec::new());
    let (mut v_cpu, mut p_cpu) = (Duration::ZERO, Duration::ZERO);
    for round in 0..rounds {
        let (v0, p0) = (verified.cpu_time(), passthrough.cpu_time());
        let (v, p) = if together {
            tokio::join!(
                run(verify_target.clone(), per_round),
                run(pass_target.clone(), per_round)
            )
        } else if round % 2 == 0 {
            let v = run(verify_target.clone(), per_round).await;
            (v, run(pass_target.clone(), per_round).await)
        } else {
            let p = run(pass_target.clone(), per_round).await;
            (run(verify_target.clone(), per_round).await, p)
        };
        v_cpu += verified.cpu_time().saturating_sub(v0);
        p_cpu += passthrough.cpu_time().saturating_sub(p0);
        println!(
            "  round {}: verified {:8.1} req/s ({} errors)   passthrough {:8.1} req/s ({} errors)",
            round + 1,
            v.per_second(),
            v.errors,
            p.per_second(),
            p.errors
        );
        v_total.push(v);
        p_total.push(p);
    }
    let rate = |runs: &[LoadResult]| {
        let ok: u64 = runs.iter().map(|r| r.ok).sum();
        let secs: f64 = runs.iter().map(|r| r.elapsed.as_secs_f64()).sum();
        ok as f64 / secs
    };
    let errors: u64 = v_total.iter().chain(&p_total).map(|r| r.errors).sum();
    let (v, p) = (rate(&v_total), rate(&p_total));
    println!("verified (valid token)      {v:8.1} req/s");
    println!("passthrough (no verifying)  {p:8.1} req/s");
    let mut ratios: Vec<f64> = v_total
        .iter()
        .zip(&p_total)
        .map(|(v, p)| v.per_second() / p.per_second().max(1e-9))
        .collect();
    ratios.sort_by(f64::total_cmp);
    println!(
        "ratio verified/passthrough  {:.3}   (median of per-round ratios {:.3}; errors: {errors})",
        v / p,
        ratios[ratios.len() / 2]
    );
    // CPU spent by wrangler dev (node + workerd) per answered request: steadier than req/s on a
    // shared machine, since time the scheduler gives to other work is not counted.
    let per_request = |cpu: Duration, runs: &[LoadResult]| {
        cpu.as_secs_f64() * 1e6 / runs.iter().map(|r| r.ok).sum::<u64>().max(1) as f64
    };
    let (vc, pc) = (per_request(v_cpu, &v_total), per_request(p_cpu, &p_total));
    println!(
        "CPU per request in wrangler dev: verified {vc:.0} us, passthrough {pc:.0} us, \
         ratio passthrough/verified {:.3}",
        pc / vc
    );
    tokio::time::sleep(Duration::from_secs(6)).await;
    let reports = list.reports();
    let counted: u64 = reports.iter().flat_map(|r| &r.uses).map(|u| u.count).sum();
    println!(
        "usage reports taken from the verifying worker: {} ({counted} requests counted)",
        reports.len()
    );

    // Revoke-to-refusal, with the default refresh period (1 s).
    let http = client();
    let mut samples = Vec::new();
    for i in 0..7u64 {
        let victim = keys.mint("victim", Kind::Personal, &[], 3600);
        let get = || {
            http.get(verified.url("/bench"))
                .header("authorization", victim.bearer())
                .send()
        };
        assert_eq!(get().await.map(|r| r.status().as_u16()).ok(), Some(200));
        // Spread the revocations over the refresh cycle.
        tokio::time::sleep(Duration::from_millis(150 * i + 100)).await;
        let revoked_at = Instant::now();
        list.revoke(victim.id(), victim.claims.expires_at);
        samples.push(
            until_refused(revoked_at, || async {
                get().await.map(|r| r.status().as_u16()).unwrap_or(0)
            })
            .await,
        );
    }
    samples.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "revoke-to-refusal (refresh period 1 s, {} revocations): min {:.0} ms, median {:.0} ms, max {:.0} ms",
        samples.len(),
        ms(samples[0]),
        ms(samples[samples.len() / 2]),
        ms(samples[samples.len() - 1])
    );

    drop(verified);
    drop(passthrough);
    propagation_through_the_admin(setting("TOLLGATE_BENCH_REVOCATIONS", 100) as usize).await;
}

/// Polls `status` every 5 ms until it answers 401; returns the time since `revoked_at`.
async fn until_refused<F: std::future::Future<Output = u16>>(
    revoked_at: Instant,
    status: impl Fn() -> F,
) -> Duration {
    while status().await != 401 {
        assert!(
            revoked_at.elapsed() < Duration::from_secs(30),
            "revocation never took effect"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    revoked_at.elapsed()
}

/// Revokes tokens through the real admin and polls a worker fed by it until each is refused.
async fn propagation_through_the_admin(count: usize) {
    let keys = Keys::generate("k1");
    let admin = Admin::start(&keys.text).await;
    let origin = Origin::start_unrecorded().await.expect("origin");
    let worker = Worker::start(&WorkerConfig::new(&admin.url(), &origin.url(), &keys.text))
        .await
        .expect("wrangler dev");
    let root = admin.login_admin().await;
    let http = client();
    let mut samples = Vec::with_capacity(count);
    for i in 0..count {
        let (token, id) = root.create_token(&format!("victim-{i}"), json!({})).await;
        let status = || async {
            http.get(worker.url("/bench"))
                .bearer_auth(&token)
                .send()
                .await
                .map(|r| r.status().as_u16())
                .unwrap_or(0)
        };
        assert_eq!(status().await, 200, "a fresh token is accepted");
        // Spread the revocations over the refresh cycle.
        tokio::time::sleep(Duration::from_millis(37 * (i as u64 % 27))).await;
        let revoked_at = Instant::now();
        root.call(
            "POST",
            &format!("/api/v1/tokens/{id}/revoke"),
            Some(json!({})),
        )
        .await;
        samples.push(until_refused(revoked_at, status).await);
    }
    samples.sort();
    let pick =
        |q: f64| samples[((samples.len() as f64 * q).ceil() as usize).clamp(1, samples.len()) - 1];
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "revocation propagation admin -> edge (refresh period 1 s, {} revocations): p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms",
        samples.len(),
        ms(pick(0.50)),
        ms(pick(0.99)),
        ms(samples[samples.len() - 1])
    );
}
