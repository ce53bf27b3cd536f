//! How fast the admin takes the edge's usage reports (`POST /api/v1/usage`), against
//! `GET /healthz` (one store round trip) measured the same way in the same run.
//!
//! Each report carries `BENCH_USES` (default 100) token-days, for tokens that exist; `BENCH_CLIENTS`
//! (default 8) isolates send at once, each with its own reporter id and sequence, for
//! `BENCH_SECONDS` (default 5) per variant. SQLite always; PostgreSQL too when
//! `TOLLGATE_TEST_DATABASE_URL` is set. `cargo bench -p tollgate-admin --bench usage`.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use common::{KEYS, env_num, login, settings};
use serde_json::json;
use tollgate_admin::Server;
use tollgate_shared::usage::{CONTENT_TYPE, Counters, Report, ReporterId, TokenUse};
use tollgate_shared::{Keyring, Kind, TokenId};

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// Token ids minted through the API, ascending (as a report lists them).
async fn mint(http: &reqwest::Client, base: &str, n: u64) -> Vec<TokenId> {
    let session = login(http, base).await;
    let mut ids = Vec::new();
    for i in 0..n {
        let minted: serde_json::Value = http
            .post(format!("{base}/api/v1/tokens"))
            .bearer_auth(&session)
            .json(&json!({"name": format!("t{i}")}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        ids.push(minted["record"]["id"].as_str().unwrap().parse().unwrap());
    }
    ids.sort_by_key(|id: &TokenId| id.0);
    ids
}

/// Requests per second over `seconds` from `clients` loops of `send`; the count of failures.
async fn rate<F, Fut>(clients: u64, seconds: u64, send: F) -> (f64, u64)
where
    F: Fn(u64, u64) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = bool> + Send,
{
    let send = Arc::new(send);
    let (ok, failed) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let until = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let tasks: Vec<_> = (0..clients)
        .map(|c| {
            let (send, ok, failed) = (send.clone(), ok.clone(), failed.clone());
            tokio::spawn(async move {
                let mut i = 0;
                while Instant::now() < until {
                    i += 1;
                    let counter = if send(c, i).await { &ok } else { &failed };
                    counter.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    for t in tasks {
        let _ = t.await;
    }
    let elapsed = started.elapsed().as_secs_f64();
    (
        ok.load(Ordering::Relaxed) as f64 / elapsed,
        failed.load(Ordering::Relaxed),
    )
}

async fn bench(label: &str, database: String) {
    let server = Server::start(settings(database)).await.unwrap();
    let base = server.url();
    let http = reqwest::Client::new();
    let uses = env_num("BENCH_USES", 100);
    let clients = env_num("BENCH_CLIENTS", 8);
    let seconds = env_num("BENCH_SECONDS", 5);
    let ids = Arc::new(mint(&http, &base, uses).await);
    // Every run gets reporter ids of its own, so a second run on the same database is not a replay.
    let run = now().to_be_bytes();

    let (url, client, keyring) = (
        format!("{base}/api/v1/usage"),
        http.clone(),
        Keyring::parse(KEYS).unwrap(),
    );
    let (reports, failed) = rate(clients, seconds, move |c, i| {
        let mut reporter = [c as u8; 16];
        reporter[8..].copy_from_slice(&run);
        let t = now();
        let report = Report {
            reporter: ReporterId(reporter),
            sequence: i,
            sent_at: t,
            uses: ids
                .iter()
                .map(|id| TokenUse {
                    token_id: *id,
                    kind: Kind::Personal,
                    count: 3,
                    last_seen: t,
                })
                .collect(),
            counters: Counters::default(),
        };
        let body = report.sign(&keyring);
        let (url, client) = (url.clone(), client.clone());
        async move {
            client
                .post(&url)
                .header("content-type", CONTENT_TYPE)
                .body(body)
                .send()
                .await
                .is_ok_and(|r| r.status().as_u16() == 204)
        }
    })
    .await;
    let (health_url, client) = (format!("{base}/healthz"), http.clone());
    let (health, _) = rate(clients, seconds, move |_, _| {
        let (url, client) = (health_url.clone(), client.clone());
        async move {
            client
                .get(&url)
                .send()
                .await
                .is_ok_and(|r| r.status().is_success())
        }
    })
    .await;
    println!(
        "{label}: usage reports of {uses} token-days, {clients} isolates at once: {reports:.0} reports/s \
         ({:.0} token-days/s, {failed} refused or failed); GET /healthz {health:.0}/s; ratio {:.3}",
        reports * uses as f64,
        reports / health
    );
    server.stop().await;
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let dir = tempfile::tempdir().unwrap();
        bench(
            "SQLite",
            format!("sqlite://{}", dir.path().join("usage.db").display()),
        )
        .await;
        if let Ok(base) = std::env::var("TOLLGATE_TEST_DATABASE_URL") {
            // A schema of its own, dropped afterwards.
            use sqlx::Connection as _;
            let schema = format!("tg_bench_usage_{}", now());
            let mut conn = sqlx::PgConnection::connect(&base).await.unwrap();
            let create = format!("CREATE SCHEMA {schema}");
            sqlx::query(sqlx::AssertSqlSafe(create))
                .execute(&mut conn)
                .await
                .unwrap();
            let sep = if base.contains('?') { '&' } else { '?' };
            bench(
                "PostgreSQL",
                format!("{base}{sep}options=-c%20search_path%3D{schema}"),
            )
            .await;
            let drop = format!("DROP SCHEMA {schema} CASCADE");
            sqlx::query(sqlx::AssertSqlSafe(drop))
                .execute(&mut conn)
                .await
                .unwrap();
        }
    });
}
