//! A small closed-loop HTTP/1.1 load generator: `connections` keep-alive connections,
//! each sending the next request as soon as the previous answer is read.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper::Request;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

/// What one run achieved.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LoadResult {
    /// Answers with the expected status.
    pub ok: u64,
    /// Other statuses and connection errors.
    pub errors: u64,
    /// Wall time of the run.
    pub elapsed: Duration,
}

impl LoadResult {
    /// Good answers per second.
    pub fn per_second(&self) -> f64 {
        self.ok as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// One kind of request, sent over and over.
#[derive(Debug, Clone)]
pub struct Target {
    /// Server address.
    pub addr: SocketAddr,
    /// Path and query.
    pub path: String,
    /// Extra request headers.
    pub headers: Vec<(String, String)>,
    /// The status counted as success.
    pub expect: u16,
}

/// Sends `target` on `connections` connections for `duration`.
pub async fn run(target: &Target, connections: usize, duration: Duration) -> LoadResult {
    let ok = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let deadline = started + duration;
    let mut tasks = Vec::new();
    for _ in 0..connections {
        let (target, ok, errors) = (target.clone(), ok.clone(), errors.clone());
        tasks.push(tokio::spawn(async move { connection(&target, deadline, &ok, &errors).await }));
    }
    for t in tasks {
        let _ = t.await;
    }
    LoadResult { ok: ok.load(Ordering::Relaxed), errors: errors.load(Ordering::Relaxed), elapsed: started.elapsed() }
}

async fn connection(target: &Target, deadline: Instant, ok: &AtomicU64, errors: &AtomicU64) {
    while Instant::now() < deadline {
        let Ok(stream) = TcpStream::connect(target.addr).await else {
            errors.fetch_add(1, Ordering::Relaxed);
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        let _ = stream.set_nodelay(true);
        let Ok((mut sender, conn)) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await else {
            errors.fetch_add(1, Ordering::Relaxed);
            continue;
        };
        let driver = tokio::spawn(conn);
        while Instant::now() < deadline {
            let mut req = Request::get(target.path.as_str()).header("host", target.addr.to_string());
            for (name, value) in &target.headers {
                req = req.header(name, value);
            }
            let Ok(req) = req.body(Empty::<Bytes>::new()) else { return };
            match sender.send_request(req).await {
                Ok(resp) => {
                    let status = resp.status().as_u16();
                    let drained = resp.into_body().collect().await.is_ok();
                    if status == target.expect && drained {
                        ok.fetch_add(1, Ordering::Relaxed);
                    } else {
                        errors.fetch_add(1, Ordering::Relaxed);
                    }
                }
                Err(_) => {
                    errors.fetch_add(1, Ordering::Relaxed);
                    break;
                }
            }
        }
        driver.abort();
    }
}
