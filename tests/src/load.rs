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
        tasks.push(tokio::spawn(async move {
            connection(&target, deadline, &ok, &errors).await
        }));
    }
    for t in tasks {
        let _ = t.await;
    }
    LoadResult {
        ok: ok.load(Ordering::Relaxed),
        errors: errors.load(Ordering::Relaxed),
        elapsed: started.elapsed(),
    }
}

async fn connection(target: &Target, deadline: Instant, ok: &AtomicU64, errors: &AtomicU64) {
    while Instant::now() < deadline {
        let Ok(stream) = TcpStream::connect(target.addr).await else {
            errors.fetch_add(1, Ordering::Relaxed);
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        let _ = stream.set_nodelay(true);
        let Ok((mut sender, conn)) =
            hyper::client::conn::http1::handshake(TokioIo::new(stream)).await
        else {
            errors.fetch_add(1, Ordering::Relaxed);
            continue;
        };
        let driver = tokio::spawn(conn);
        while Instant::now() < deadline {
            let mut req =
                Request::get(target.path.as_str()).header("host", target.addr.to_string());
            for (name, value) in &target.headers {
                req = req.header(name, value);
            }
            let Ok(req) = req.body(Empty::<Bytes>::new()) else {
                return;
            };
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

/// Runs the same load with `wrk` (if it is on `PATH`): `threads` threads, `connections` connections.
/// Returns `None` when `wrk` is missing or its output cannot be read.
pub fn run_wrk(
    target: &Target,
    threads: usize,
    connections: usize,
    duration: Duration,
) -> Option<LoadResult> {
    let mut cmd = std::process::Command::new("wrk");
    cmd.args(["-t", &threads.to_string(), "-c", &connections.to_string()])
        .args(["-d", &format!("{}s", duration.as_secs().max(1))]);
    for (name, value) in &target.headers {
        cmd.args(["-H", &format!("{name}: {value}")]);
    }
    let out = cmd
        .arg(format!("http://{}{}", target.addr, target.path))
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    parse_wrk(&String::from_utf8_lossy(&out.stdout))
}

/// Reads `N requests in S`, `Non-2xx or 3xx responses: M` and socket errors from `wrk`'s report.
pub fn parse_wrk(report: &str) -> Option<LoadResult> {
    let mut total = None;
    let mut elapsed = None;
    let mut errors = 0u64;
    for line in report.lines().map(str::trim) {
        if let Some((n, rest)) = line.split_once(" requests in ") {
            total = n.trim().parse::<u64>().ok();
            let secs = rest.split(',').next()?.trim();
            elapsed = match secs.strip_suffix("ms") {
                Some(ms) => ms.parse::<f64>().ok().map(|v| v / 1000.0),
                None => secs.strip_suffix('s').and_then(|s| s.parse::<f64>().ok()),
            }
            .or_else(|| {
                secs.strip_suffix('m')
                    .and_then(|m| m.parse::<f64>().ok())
                    .map(|v| v * 60.0)
            });
        } else if let Some(n) = line.strip_prefix("Non-2xx or 3xx responses:") {
            errors += n.trim().parse::<u64>().unwrap_or(0);
        } else if let Some(list) = line.strip_prefix("Socket errors:") {
            errors += list
                .split(',')
                .filter_map(|p| p.split_whitespace().last()?.parse::<u64>().ok())
                .sum::<u64>();
        }
    }
    let total = total?;
    Some(LoadResult {
        ok: total.saturating_sub(errors),
        errors,
        elapsed: Duration::from_secs_f64(elapsed?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_wrk_report() {
        let report = "Running 5s test @ http://127.0.0.1:1/bench\n  2 threads and 16 connections\n\
            Thread Stats   Avg      Stdev     Max   +/- Stdev\n    Latency    11.90ms    3.10ms  40.00ms   80.00%\n\
            6123 requests in 5.01s, 1.20MB read\n  Socket errors: connect 0, read 2, write 0, timeout 1\n\
            Non-2xx or 3xx responses: 4\nRequests/sec:   1222.15\nTransfer/sec:    245.00KB\n";
        let r = parse_wrk(report).unwrap();
        assert_eq!((r.ok, r.errors), (6116, 7));
        assert!((r.elapsed.as_secs_f64() - 5.01).abs() < 1e-9);
        assert!(parse_wrk("garbage").is_none());
    }
}
