//! A revocation list server the test controls, speaking the admin's contract:
//! `GET /api/v1/revocations` answers the signed list (`RevocationList::encode`) with
//! `ETag: "<sequence>"` and `Cache-Control: no-cache`; `If-None-Match` equal to the
//! current ETag or `?since=<current>` gives 304; `?since=N` for an older version it
//! still has gives a signed `Delta` from N.
//!
//! Every answer, 304 included, carries a freshness statement (`X-Tollgate-Freshness`) signed
//! now for the sequence it answers, as the admin's does.
//!
//! It also takes the edge's usage reports (`POST /api/v1/usage`), keeping those whose signature
//! holds ([`ListServer::reports`]); they are not counted among the list requests it saw.
//!
//! Tests change the list ([`ListServer::update`]), make the server misbehave
//! ([`Misbehave`]), or take it down and up again ([`ListServer::stop`], [`ListServer::restart`]).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use http_body_util::BodyExt as _;
use hyper::{Request, Response};
use tollgate_shared::freshness::HEADER as FRESHNESS;
use tollgate_shared::usage::Report;
use tollgate_shared::{Delta, Entry, Freshness, Keyring, RevocationList, TokenId};

use crate::net::{Body, Handler, Server, full};

/// The path the edge fetches, relative to the admin URL.
pub const PATH: &str = "/api/v1/revocations";
/// Where the edge sends usage reports, relative to the admin URL.
pub const USAGE_PATH: &str = "/api/v1/usage";
/// Content type of list documents.
pub const CONTENT_TYPE: &str = "application/vnd.tollgate.revocations";

/// Ways the server can answer wrongly, to check the edge never applies a bad list.
#[derive(Debug, Clone)]
pub enum Misbehave {
    /// A list at a higher sequence, with no entries, signed by a key the edge does not trust
    /// (same key id, different secret).
    ForgedSignature(Keyring),
    /// The previous version of the list, with the freshness statement it was published with:
    /// what an attacker on the network path could have recorded and now replays.
    Rollback,
    /// 304 Not Modified to every request, without a freshness statement.
    NotModifiedUnsigned,
    /// Correct answers, but with the freshness statement made when the current version was
    /// published (a replayed statement).
    ReplayedStatement,
    /// 200 with bytes that are not a list document.
    Garbage,
    /// This status with a text body.
    Status(u16),
}

/// One request the server received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    /// `?since=` value, if any.
    pub since: Option<u64>,
    /// `If-None-Match` header, if any.
    pub if_none_match: Option<String>,
    /// Status answered.
    pub status: u16,
    /// `full`, `delta`, `not_modified` or `other`.
    pub answer: &'static str,
}

struct State {
    keyring: Keyring,
    versions: BTreeMap<u64, RevocationList>,
    /// When each version was published (Unix seconds).
    published: BTreeMap<u64, u64>,
    misbehave: Option<Misbehave>,
    seen: Vec<Seen>,
    reports: Vec<Report>,
    refuse_reports: bool,
}

impl State {
    fn current(&self) -> RevocationList {
        self.versions
            .last_key_value()
            .map(|(_, l)| l.clone())
            .unwrap_or_default()
    }
}

/// The list server; stopped on drop.
pub struct ListServer {
    server: Server,
    state: Arc<Mutex<State>>,
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

impl ListServer {
    /// Starts on a free port with an empty list at sequence 1, signed with `keyring`.
    pub async fn start(keyring: Keyring) -> std::io::Result<ListServer> {
        let state = Arc::new(Mutex::new(State {
            keyring,
            versions: BTreeMap::from([(1, RevocationList::new(1, now()))]),
            published: BTreeMap::from([(1, now())]),
            misbehave: None,
            seen: Vec::new(),
            reports: Vec::new(),
            refuse_reports: false,
        }));
        let shared = state.clone();
        let handler: Handler = Arc::new(move |req| {
            let state = shared.clone();
            Box::pin(async move {
                if req.uri().path() == USAGE_PATH {
                    take_report(&state, req).await
                } else {
                    answer(&state, &req)
                }
            })
        });
        Ok(ListServer {
            server: Server::start(0, handler).await?,
            state,
        })
    }

    /// The base URL to give the edge as `TOLLGATE_ADMIN_URL`.
    pub fn url(&self) -> String {
        self.server.url()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Publishes a new version: `change` edits a copy of the current list; the sequence goes up by one.
    /// Returns the new sequence number.
    pub fn update(&self, change: impl FnOnce(&mut RevocationList)) -> u64 {
        let mut state = self.lock();
        let mut next = state.current();
        change(&mut next);
        next.sequence += 1;
        next.generated_at = now();
        let sequence = next.sequence;
        state.versions.insert(sequence, next);
        state.published.insert(sequence, now());
        sequence
    }

    /// Publishes a version revoking `id` at once (the token expires at `expires_at`).
    pub fn revoke(&self, id: TokenId, expires_at: u64) -> u64 {
        self.update(|l| l.insert(id, Entry::revoked(expires_at)))
    }

    /// The current sequence number.
    pub fn sequence(&self) -> u64 {
        self.lock().current().sequence
    }

    /// Answers wrongly from now on (`None`: answer correctly again).
    pub fn misbehave(&self, how: Option<Misbehave>) {
        self.lock().misbehave = how;
    }

    /// Requests received so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.lock().seen.clone()
    }

    /// Refuses usage reports (503) from now on, or takes them again.
    pub fn refuse_reports(&self, refuse: bool) {
        self.lock().refuse_reports = refuse;
    }

    /// The usage reports taken so far, in arrival order.
    pub fn reports(&self) -> Vec<Report> {
        self.lock().reports.clone()
    }

    /// Takes the server down: connections are refused until [`restart`](Self::restart).
    pub fn stop(&mut self) {
        self.server.stop();
    }

    /// Listens again on the same port.
    pub async fn restart(&mut self) -> std::io::Result<()> {
        self.server.restart().await
    }
}

async fn take_report(state: &Mutex<State>, req: Request<hyper::body::Incoming>) -> Response<Body> {
    let body = match req.into_body().collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => return status(400),
    };
    let mut state = state
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if state.refuse_reports {
        return status(503);
    }
    match Report::verify(&body, &state.keyring) {
        Ok(report) => {
            state.reports.push(report);
            status(204)
        }
        Err(_) => status(401),
    }
}

fn status(code: u16) -> Response<Body> {
    Response::builder()
        .status(code)
        .body(full(""))
        .unwrap_or_else(|_| Response::new(full("")))
}

fn since(req: &Request<hyper::body::Incoming>) -> Option<u64> {
    req.uri()
        .query()?
        .split('&')
        .find_map(|p| p.strip_prefix("since="))
        .and_then(|v| v.parse().ok())
}

fn answer(state: &Mutex<State>, req: &Request<hyper::body::Incoming>) -> Response<Body> {
    let mut state = state
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let since = since(req);
    let if_none_match = req
        .headers()
        .get("if-none-match")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let current = state.current();
    let etag = format!("\"{}\"", current.sequence);
    let published = |sequence: u64| state.published.get(&sequence).copied().unwrap_or_default();
    let statement_time = match state.misbehave {
        Some(Misbehave::ReplayedStatement) => published(current.sequence),
        _ => now(),
    };
    let fresh = |sequence: u64, as_of: u64| Freshness { sequence, as_of }.sign(&state.keyring);
    let statement = fresh(current.sequence, statement_time);
    let document = |body: Vec<u8>, sequence: u64, statement: &str| {
        Response::builder()
            .header("content-type", CONTENT_TYPE)
            .header("etag", format!("\"{sequence}\""))
            .header("cache-control", "no-cache")
            .header(FRESHNESS, statement)
            .body(full(body))
    };
    let (response, what) = if req.uri().path() != PATH {
        (
            Response::builder().status(404).body(full("not found")),
            "other",
        )
    } else {
        match state.misbehave.clone() {
            Some(Misbehave::ForgedSignature(forger)) => {
                let forged = RevocationList::new(current.sequence + 100, now());
                let statement = Freshness {
                    sequence: forged.sequence,
                    as_of: now(),
                }
                .sign(&forger);
                (
                    document(forged.encode(&forger), forged.sequence, &statement),
                    "full",
                )
            }
            Some(Misbehave::Rollback) => {
                let previous = state
                    .versions
                    .range(..current.sequence)
                    .next_back()
                    .map(|(_, l)| l.clone());
                let previous = previous.unwrap_or_else(|| RevocationList::new(0, now()));
                let recorded = fresh(previous.sequence, published(previous.sequence));
                (
                    document(
                        previous.encode(&state.keyring),
                        previous.sequence,
                        &recorded,
                    ),
                    "full",
                )
            }
            Some(Misbehave::NotModifiedUnsigned) => (
                Response::builder()
                    .status(304)
                    .header("etag", &etag)
                    .body(full("")),
                "not_modified",
            ),
            Some(Misbehave::Garbage) => (
                Response::builder()
                    .header("content-type", CONTENT_TYPE)
                    .body(full(&b"<html>502 Bad Gateway</html>"[..])),
                "other",
            ),
            Some(Misbehave::Status(code)) => (
                Response::builder().status(code).body(full("broken")),
                "other",
            ),
            None | Some(Misbehave::ReplayedStatement)
                if since == Some(current.sequence)
                    || if_none_match.as_deref() == Some(etag.as_str()) =>
            {
                (
                    Response::builder()
                        .status(304)
                        .header("etag", &etag)
                        .header("cache-control", "no-cache")
                        .header(FRESHNESS, &statement)
                        .body(full("")),
                    "not_modified",
                )
            }
            None | Some(Misbehave::ReplayedStatement) => match since
                .and_then(|n| state.versions.get(&n))
                .filter(|old| old.sequence < current.sequence)
            {
                Some(old) => (
                    document(
                        Delta::between(old, &current).encode(&state.keyring),
                        current.sequence,
                        &statement,
                    ),
                    "delta",
                ),
                None => (
                    document(current.encode(&state.keyring), current.sequence, &statement),
                    "full",
                ),
            },
        }
    };
    let response = response.unwrap_or_else(|_| Response::new(full("")));
    state.seen.push(Seen {
        since,
        if_none_match,
        status: response.status().as_u16(),
        answer: what,
    });
    response
}
