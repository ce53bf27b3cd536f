//! Admin benchmarks, printed as figures:
//! - token minting throughput over HTTP on SQLite (`POST /api/v1/tokens`, keep-alive clients);
//! - the revocation list at 100 000 entries: size, the time to build it from the store, and
//!   serve times: cached, after one more revocation (incremental), and as a one-change delta.
//!
//! Run with `cargo bench -p tollgate-admin --bench admin`. `BENCH_SECONDS` (default 5) sets the
//! length of the throughput run, `BENCH_CLIENTS` (default 16) the concurrent connections.

mod common;

use std::io::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use common::{KEYS, env_num, login, settings};
use serde_json::json;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tollgate_admin::Server;
use tollgate_admin::revocation::Publisher;
use tollgate_admin::revocation::entries::{ListColumns, derive};
use tollgate_admin::rules::roles::Roles;
use tollgate_admin::store::list::{self, Change};
use tollgate_admin::store::tokens::{self, TokenRow};
use tollgate_admin::times::UnixTime;
use tollgate_shared::{Document, Keyring, TokenId};

const ENTRIES: usize = 100_000;

async fn start(dir: &std::path::Path) -> Server {
    let mut s = settings(format!("sqlite://{}", dir.join("bench.db").display()));
    s.list_maintenance_interval = Duration::from_secs(3600);
    Server::start(s).await.unwrap()
}

/// A minimal HTTP/1.1 keep-alive client, so the load generator takes as little of the two
/// cores as possible (as `wrk` would).
struct Conn {
    stream: BufReader<TcpStream>,
    request: Vec<u8>,
}

impl Conn {
    async fn open(addr: std::net::SocketAddr) -> Conn {
        let stream = TcpStream::connect(addr).await.unwrap();
        stream.set_nodelay(true).unwrap();
        Conn {
            stream: BufReader::new(stream),
            request: Vec::with_capacity(1024),
        }
    }

    /// Sends a POST and returns the status; the body is read and dropped.
    async fn post(&mut self, path: &str, token: &str, body: &[u8]) -> std::io::Result<u16> {
        self.request.clear();
        write!(
            self.request,
            "POST {path} HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            body.len()
        )?;
        self.request.extend_from_slice(body);
        self.stream.get_mut().write_all(&self.request).await?;
        let mut line = String::new();
        self.stream.read_line(&mut line).await?;
        let status: u16 = line
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let mut length = 0usize;
        loop {
            line.clear();
            self.stream.read_line(&mut line).await?;
            if line == "\r\n" || line.is_empty() {
                break;
            }
            if let Some((k, v)) = line.split_once(':') {
                if k.eq_ignore_ascii_case("content-length") {
                    length = v.trim().parse().unwrap_or(0);
                }
            }
        }
        let mut body = vec![0u8; length];
        self.stream.read_exact(&mut body).await?;
        Ok(status)
    }
}

async fn mint_throughput() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path()).await;
    let http = reqwest::Client::new();
    let token = Arc::new(login(&http, &server.url()).await);
    let clients = env_num("BENCH_CLIENTS", 16) as usize;
    let seconds = env_num("BENCH_SECONDS", 5);
    let counter = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let measuring = Arc::new(AtomicBool::new(false));
    let mut tasks = Vec::new();
    for c in 0..clients {
        let (addr, token) = (server.addr(), token.clone());
        let (counter, errors, stop, measuring) = (
            counter.clone(),
            errors.clone(),
            stop.clone(),
            measuring.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut conn = Conn::open(addr).await;
            let mut i = 0u64;
            while !stop.load(Ordering::Relaxed) {
                i += 1;
                let body = format!(r#"{{"name":"c{c}-{i}","ttl_seconds":3600}}"#);
                match conn.post("/api/v1/tokens", &token, body.as_bytes()).await {
                    Ok(201) => {
                        if measuring.load(Ordering::Relaxed) {
                            counter.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    _ => {
                        errors.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_secs(1)).await; // warm-up
    measuring.store(true, Ordering::Relaxed);
    let started = Instant::now();
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    measuring.store(false, Ordering::Relaxed);
    let elapsed = started.elapsed().as_secs_f64();
    let minted = counter.load(Ordering::Relaxed);
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        let _ = t.await;
    }
    let listed = server.state().store.clone();
    let stored = tollgate_admin::store::audit::count(&listed).await.unwrap();
    println!(
        "mint over HTTP (SQLite, {clients} keep-alive connections, {seconds} s): {minted} tokens, {:.0} tokens/s, {} errors ({stored} audit events)",
        minted as f64 / elapsed,
        errors.load(Ordering::Relaxed)
    );
    server.stop().await;
}

/// Inserts `n` revoked tokens straight into the store (expiries spread over 90 days), each
/// batch in one transaction that also publishes it as a new list version, as the API does.
async fn seed_revoked(server: &Server, n: usize) {
    let store = &server.state().store;
    let now = tollgate_admin::times::now();
    let mut written = 0;
    while written < n {
        let mut tx = store.write().await.unwrap();
        let batch = (n - written).min(10_000);
        let mut ids = Vec::with_capacity(batch);
        for i in 0..batch {
            let k = (written + i) as i64;
            let expires_at = UnixTime::from_secs(now + 3600 + (k * 7919) % (90 * 86_400));
            let mut row = TokenRow {
                seq: 0,
                id: TokenId::random().unwrap().to_string(),
                owner: "root".into(),
                name: format!("seed-{k}"),
                description: String::new(),
                kind: tollgate_shared::Kind::Personal,
                roles: Roles::from_stored("user").unwrap(),
                created_by: "root".into(),
                issued_at: UnixTime::from_secs(now - 60),
                signed_expires_at: expires_at,
                expires_at,
                enabled: true,
                revoked_at: Some(UnixTime::from_secs(now)),
                revoked_by: Some("root".into()),
                revoked_from: None,
                deleted_at: None,
                last_used_at: None,
                replaces: None,
                replaced_by: None,
                list_kind: tollgate_admin::revocation::entries::ListKind::NotListed,
                list_from: 0,
                list_expires: 0,
                disabled_by_admin: false,
            };
            let ListColumns {
                kind,
                from,
                expires,
            } = derive(&row);
            (row.list_kind, row.list_from, row.list_expires) = (kind, from, expires);
            tokens::insert(&mut tx, &row).await.unwrap();
            ids.push((row.id, row.list_expires));
        }
        let changes: Vec<Change<'_>> = ids
            .iter()
            .map(|(id, expires_at)| Change::Token {
                id,
                expires_at: *expires_at,
            })
            .collect();
        list::bump(&mut tx, now, &changes).await.unwrap();
        written += batch;
        tx.commit().await.unwrap();
    }
}

async fn timed_get(http: &reqwest::Client, url: &str) -> (Duration, Vec<u8>, String) {
    let started = Instant::now();
    let r = http.get(url).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let kind = r
        .headers()
        .get("x-tollgate-document")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    let body = r.bytes().await.unwrap().to_vec();
    (started.elapsed(), body, kind)
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

async fn revocation_list() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path()).await;
    let seeding = Instant::now();
    seed_revoked(&server, ENTRIES).await;
    println!(
        "seeded {ENTRIES} revoked tokens in {:.1} s",
        seeding.elapsed().as_secs_f64()
    );
    // Building the document from the store: what each server does once, in the background,
    // when it starts (later versions are reached incrementally).
    let store = server.state().store.clone();
    let current = list::current(&store).await.unwrap();
    let started = Instant::now();
    let built = Publisher::new(Keyring::parse(KEYS).unwrap())
        .at_least(&store, current)
        .await
        .unwrap();
    let build = started.elapsed();
    assert_eq!(built.list.len(), ENTRIES);

    let http = reqwest::Client::new();
    let url = format!("{}/api/v1/revocations", server.url());
    let keyring = Keyring::parse(KEYS).unwrap();
    let (first, body, _) = timed_get(&http, &url).await;
    let Document::Full(list) = Document::decode(&body, &keyring).unwrap() else {
        panic!("full list expected")
    };
    assert_eq!(list.len(), ENTRIES);
    let sequence = list.sequence;
    println!(
        "revocation list at {} entries: {} bytes ({:.2} MiB, {:.1} bytes/entry)",
        list.len(),
        body.len(),
        body.len() as f64 / (1024.0 * 1024.0),
        body.len() as f64 / list.len() as f64
    );
    println!(
        "  build from the store (once per server start, off the request path): {}",
        ms(build)
    );
    println!(
        "  serve, first fetch (catches up on the 100 000 changes since the server warmed up): {}",
        ms(first)
    );

    let mut cached = Vec::new();
    for _ in 0..30 {
        cached.push(timed_get(&http, &url).await.0);
    }
    cached.sort();
    println!(
        "  serve, cached (median of 30):        {}   (max {})",
        ms(cached[15]),
        ms(cached[29])
    );

    // One more revocation through the API, then the next full fetch and a delta.
    let token = login(&http, &server.url()).await;
    let r: serde_json::Value = http
        .post(format!("{}/api/v1/tokens", server.url()))
        .bearer_auth(&token)
        .json(&json!({"name": "one-more"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = r["record"]["id"].as_str().unwrap();
    let revoked = http
        .post(format!("{}/api/v1/tokens/{id}/revoke", server.url()))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), 200);
    let (delta_time, delta, kind) = timed_get(&http, &format!("{url}?since={sequence}")).await;
    assert_eq!(kind, "delta");
    println!(
        "  serve, delta after one revocation:   {} ({} bytes, includes the incremental update)",
        ms(delta_time),
        delta.len()
    );
    let mut after = Vec::new();
    for _ in 0..10 {
        after.push(timed_get(&http, &url).await.0);
    }
    after.sort();
    println!(
        "  serve, full after the change (median of 10): {}",
        ms(after[5])
    );
    server.stop().await;
}

fn main() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    println!(
        "admin benchmarks ({} CPUs)",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    runtime.block_on(mint_throughput());
    runtime.block_on(revocation_list());
}
