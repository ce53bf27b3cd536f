//! A test origin that records every request it receives.
//!
//! Routes:
//! - `/stream`: answers `first\n` at once, then `second\n` only after [`Origin::release_stream`];
//!   a client that reads `first` before releasing proves the edge streams.
//! - `/status/<code>`: answers with that status.
//! - `/redirect`: 302 to `/elsewhere`.
//! - anything else: 200 `origin saw <METHOD> <path>`.
//!
//! Every answer carries `X-Origin: tollgate-test-origin` and `X-Origin-Route`: the path as a
//! WSGI application or nginx would route it ([`wsgi_route`]: every escape decoded, `%2F`
//! included, then `.` and `..` resolved), so a test sees where a request would really land.

use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::body::Frame;
use hyper::{Request, Response};
use tokio::sync::{Notify, mpsc};

use crate::net::{Body, Handler, Server, full};

/// Header every origin answer carries.
pub const ORIGIN_HEADER: &str = "x-origin";
/// Header naming the route a decoding origin would serve.
pub const ROUTE_HEADER: &str = "x-origin-route";

/// The path as WSGI servers (`PATH_INFO`) and nginx see it: percent-decoded once, `%2F` becoming
/// `/`, then dot segments resolved. Invalid escapes are kept as they are.
pub fn wsgi_route(path: &str) -> String {
    let bytes = path.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(v)) => {
                decoded.push(v);
                i += 3;
            }
            (b, _) => {
                decoded.push(b);
                i += 1;
            }
        }
    }
    let decoded = String::from_utf8_lossy(&decoded).replace('\\', "/");
    let mut out: Vec<&str> = Vec::new();
    for segment in decoded.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                out.pop();
            }
            s => out.push(s),
        }
    }
    format!("/{}", out.join("/"))
}

/// One request as the origin received it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    /// Method.
    pub method: String,
    /// Path and query, as sent.
    pub target: String,
    /// Headers in arrival order, names lower-cased.
    pub headers: Vec<(String, String)>,
    /// The whole body.
    pub body: Vec<u8>,
}

impl Received {
    /// The first value of header `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every header whose name starts with `prefix` (any case).
    pub fn headers_starting_with(&self, prefix: &str) -> Vec<(String, String)> {
        let prefix = prefix.to_ascii_lowercase();
        self.headers
            .iter()
            .filter(|(n, _)| n.starts_with(&prefix))
            .cloned()
            .collect()
    }
}

#[derive(Default)]
struct State {
    record: bool,
    received: Mutex<Vec<Received>>,
    release: Notify,
}

/// The origin server; stopped on drop.
pub struct Origin {
    server: Server,
    state: Arc<State>,
}

impl Origin {
    /// Starts on a free port of 127.0.0.1, recording every request.
    pub async fn start() -> std::io::Result<Origin> {
        Self::start_with(true).await
    }

    /// Starts without recording requests (for load tests).
    pub async fn start_unrecorded() -> std::io::Result<Origin> {
        Self::start_with(false).await
    }

    async fn start_with(record: bool) -> std::io::Result<Origin> {
        let state = Arc::new(State {
            record,
            ..State::default()
        });
        let shared = state.clone();
        let handler: Handler = Arc::new(move |req| {
            let state = shared.clone();
            Box::pin(async move { answer(state, req).await })
        });
        Ok(Origin {
            server: Server::start(0, handler).await?,
            state,
        })
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        self.server.url()
    }

    /// Everything received so far, oldest first.
    pub fn received(&self) -> Vec<Received> {
        self.state
            .received
            .lock()
            .map(|r| r.clone())
            .unwrap_or_default()
    }

    /// The most recent request, if any.
    pub fn last(&self) -> Option<Received> {
        self.received().pop()
    }

    /// Number of requests received.
    pub fn count(&self) -> usize {
        self.state
            .received
            .lock()
            .map(|r| r.len())
            .unwrap_or_default()
    }

    /// Lets a pending `/stream` answer send its second chunk.
    pub fn release_stream(&self) {
        self.state.release.notify_one();
    }
}

async fn answer(state: Arc<State>, req: Request<hyper::body::Incoming>) -> Response<Body> {
    let (parts, body) = req.into_parts();
    let body = body
        .collect()
        .await
        .map(|b| b.to_bytes().to_vec())
        .unwrap_or_default();
    let target = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_default();
    let headers = parts
        .headers
        .iter()
        .map(|(n, v)| {
            (
                n.as_str().to_owned(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let method = parts.method.as_str().to_owned();
    if state.record {
        if let Ok(mut r) = state.received.lock() {
            r.push(Received {
                method: method.clone(),
                target: target.clone(),
                headers,
                body,
            });
        }
    }
    let path = parts.uri.path();
    let route = wsgi_route(path);
    let builder = Response::builder()
        .header(ORIGIN_HEADER, "tollgate-test-origin")
        .header(ROUTE_HEADER, route.as_str());
    let response = if path == "/stream" {
        let (tx, rx) = mpsc::channel::<Bytes>(2);
        tokio::spawn(async move {
            let _ = tx.send(Bytes::from_static(b"first\n")).await;
            state.release.notified().await;
            let _ = tx.send(Bytes::from_static(b"second\n")).await;
        });
        builder
            .header("content-type", "text/plain")
            .body(ChannelBody(rx).boxed())
    } else if let Some(code) = path
        .strip_prefix("/status/")
        .and_then(|c| c.parse::<u16>().ok())
    {
        builder.status(code).body(full(format!("status {code}")))
    } else if path == "/redirect" {
        builder
            .status(302)
            .header("location", "/elsewhere")
            .body(full(""))
    } else {
        builder
            .header("content-type", "text/plain")
            .body(full(format!("origin saw {method} {target}")))
    };
    response.unwrap_or_else(|_| Response::new(full("origin failed to build a response")))
}

/// A response body fed chunk by chunk through a channel.
struct ChannelBody(mpsc::Receiver<Bytes>);

impl hyper::body::Body for ChannelBody {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        self.0
            .poll_recv(cx)
            .map(|chunk| chunk.map(|b| Ok(Frame::data(b))))
    }
}

#[cfg(test)]
mod tests {
    use super::wsgi_route;

    #[test]
    fn routes_like_a_decoding_origin() {
        assert_eq!(wsgi_route("/admin%2Fusers"), "/admin/users");
        assert_eq!(wsgi_route("/public/..%2Fadmin/users"), "/admin/users");
        assert_eq!(wsgi_route("/a/%2e%2e/b"), "/b");
        assert_eq!(wsgi_route("/a%5C..%5Cadmin"), "/admin");
        assert_eq!(wsgi_route("/x%zz"), "/x%zz");
    }
}
