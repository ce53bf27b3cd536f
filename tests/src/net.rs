//! Loopback plumbing: free ports and a tiny HTTP/1.1 server that is stopped on drop.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::task::{JoinHandle, JoinSet};

/// A response body: fixed bytes or a stream.
pub type Body = BoxBody<Bytes, Infallible>;

/// A boxed future answering one request.
pub type Reply = Pin<Box<dyn Future<Output = Response<Body>> + Send>>;

/// Answers requests; cloned into every connection.
pub type Handler = Arc<dyn Fn(Request<Incoming>) -> Reply + Send + Sync>;

/// A body holding `bytes`.
pub fn full(bytes: impl Into<Bytes>) -> Body {
    Full::new(bytes.into()).boxed()
}

/// A port on 127.0.0.1 that was free a moment ago (bind to port 0, read it, release it).
pub fn free_port() -> std::io::Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}

/// An HTTP/1.1 server on 127.0.0.1. Dropping it (or [`stop`](Server::stop)) closes the
/// listener and every open connection at once, as a crashed server would.
pub struct Server {
    addr: SocketAddr,
    handler: Handler,
    task: Option<JoinHandle<()>>,
}

impl Server {
    /// Serves `handler` on `127.0.0.1:port` (0: any free port).
    pub async fn start(port: u16, handler: Handler) -> std::io::Result<Server> {
        let listener = TcpListener::bind(("127.0.0.1", port)).await?;
        let addr = listener.local_addr()?;
        let task = Some(tokio::spawn(accept_loop(listener, handler.clone())));
        Ok(Server {
            addr,
            handler,
            task,
        })
    }

    /// The address it listens on (kept across [`stop`](Server::stop) and [`restart`](Server::restart)).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// True while it accepts connections.
    pub fn is_running(&self) -> bool {
        self.task.is_some()
    }

    /// Closes the listener and drops every connection: clients get "connection refused".
    pub fn stop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }

    /// Listens again on the same port after [`stop`](Server::stop).
    pub async fn restart(&mut self) -> std::io::Result<()> {
        self.stop();
        let mut last = None;
        for _ in 0..50 {
            match TcpListener::bind(self.addr).await {
                Ok(listener) => {
                    self.task = Some(tokio::spawn(accept_loop(listener, self.handler.clone())));
                    return Ok(());
                }
                Err(e) => last = Some(e),
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        Err(last.unwrap_or_else(|| std::io::Error::other("could not rebind")))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

async fn accept_loop(listener: TcpListener, handler: Handler) {
    // Dropping the JoinSet (when this task is aborted) aborts every connection task.
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let handler = handler.clone();
                connections.spawn(async move {
                    let service = service_fn(move |req| {
                        let handler = handler.clone();
                        async move { Ok::<_, Infallible>(handler(req).await) }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

/// A client builder without proxies from the environment. With the admin crate in the build,
/// reqwest is compiled with rustls and no default crypto provider, so this installs one
/// (ignoring "already installed") before any client is built.
pub fn client_builder() -> reqwest::ClientBuilder {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder().no_proxy()
}

/// A plain HTTP client for tests: no proxy from the environment, no redirects followed.
pub fn client() -> reqwest::Client {
    client_builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("a reqwest client with default TLS-free settings always builds")
}

/// An answer read off a raw connection.
#[derive(Debug, Clone)]
pub struct RawResponse {
    /// Status code (0 if the status line could not be read).
    pub status: u16,
    /// Header lines, names lower-cased.
    pub headers: Vec<(String, String)>,
    /// Everything after the headers.
    pub body: String,
}

impl RawResponse {
    /// The first value of header `name` (lower case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Sends `METHOD target HTTP/1.1` exactly as given (no URL parsing or normalisation on the
/// client side, so encoded separators and dot segments arrive as written) with `headers`, and
/// reads the whole answer (`Connection: close`).
pub async fn raw_request(
    addr: &str,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
) -> std::io::Result<RawResponse> {
    use tokio::io::AsyncWriteExt;
    let mut stream = tokio::net::TcpStream::connect(addr).await?;
    let mut request =
        format!("{method} {target} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).await?;
    let raw = tokio::time::timeout(std::time::Duration::from_secs(20), read_answer(&mut stream))
        .await
        .map_err(|_| std::io::Error::other("no complete answer within 20 s"))??;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    Ok(RawResponse {
        status,
        headers,
        body: body.to_owned(),
    })
}

/// Reads one HTTP/1.1 answer: up to the end of its body (`Content-Length`, the last chunk, or
/// the end of the connection), without waiting for the server to close an idle connection.
async fn read_answer(stream: &mut tokio::net::TcpStream) -> std::io::Result<Vec<u8>> {
    use tokio::io::AsyncReadExt;
    let mut raw = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            return Ok(raw);
        }
        raw.extend_from_slice(&buf[..n]);
        let Some(end) = raw.windows(4).position(|w| w == b"\r\n\r\n") else {
            continue;
        };
        let head = String::from_utf8_lossy(&raw[..end]).to_ascii_lowercase();
        let body = &raw[end + 4..];
        let length = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .and_then(|v| v.trim().parse::<usize>().ok());
        let done = match length {
            Some(len) => body.len() >= len,
            None if head.contains("transfer-encoding: chunked") => body.ends_with(b"0\r\n\r\n"),
            None => head.starts_with("http/1.1 304") || head.starts_with("http/1.1 204"),
        };
        if done {
            return Ok(raw);
        }
    }
}
