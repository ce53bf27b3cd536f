//! A small blocking HTTP client for the admin API: bearer authentication, JSON in and out,
//! and the conventions' error body turned into [`ClientError::Refused`].

use std::time::Duration;

use reqwest::Method;
use reqwest::blocking::{Client as Http, Response};
use serde::Serialize;
use serde_json::Value;
use tollgate_api::tokens::Empty;

/// How long one request may take.
const TIMEOUT: Duration = Duration::from_secs(60);

/// A request did not succeed. Never carries the token.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The server answered with an error status; `code` and `message` come from its JSON body.
    #[error("{code}: {message} (HTTP {status})")]
    Refused {
        status: u16,
        code: String,
        message: String,
    },
    /// No answer: connection refused, DNS, TLS, timeout.
    #[error("cannot reach {url}: {reason}")]
    Unreachable { url: String, reason: String },
    /// The server answered something that is not the API's JSON.
    #[error("unexpected answer from {url}: {reason}")]
    BadAnswer { url: String, reason: String },
}

/// Checks and normalises an admin URL: `http(s)://host[:port][/path]`, without a trailing slash.
/// Without a scheme, `https://` is assumed, and `http://` for a loopback host.
pub fn normalize_url(text: &str) -> Result<String, String> {
    let text = text.trim().trim_end_matches('/');
    let with_scheme;
    let text = if text.contains("://") {
        text
    } else {
        let scheme = if is_loopback_host(text) {
            "http"
        } else {
            "https"
        };
        with_scheme = format!("{scheme}://{text}");
        &with_scheme
    };
    let url = reqwest::Url::parse(text).map_err(|e| format!("invalid URL {text:?}: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(format!(
            "invalid URL {text:?}: expected http://HOST[:PORT] or https://HOST[:PORT]"
        ));
    }
    if !url.username().is_empty()
        || url.password().is_some()
        || url.query().is_some()
        || url.fragment().is_some()
    {
        return Err(format!(
            "invalid URL {text:?}: no credentials, query or fragment, please"
        ));
    }
    Ok(url.as_str().trim_end_matches('/').to_owned())
}

/// True if `host_and_rest` (`host[:port][/path]`, no scheme) names this machine.
fn is_loopback_host(host_and_rest: &str) -> bool {
    let authority = host_and_rest.split('/').next().unwrap_or_default();
    let host = if let Some(v6) = authority.strip_prefix('[') {
        v6.split(']').next().unwrap_or_default()
    } else {
        authority.rsplit_once(':').map_or(authority, |(h, _)| h)
    };
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// True if `url` sends credentials in clear text to another machine.
pub fn is_cleartext_remote(url: &str) -> bool {
    url.strip_prefix("http://")
        .is_some_and(|rest| !is_loopback_host(rest))
}

/// Describes a transport error with its causes (e.g. "connection refused").
fn reason(e: &reqwest::Error) -> String {
    let mut parts = Vec::new();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        let text = s.to_string();
        if !parts.contains(&text) {
            parts.push(text);
        }
        source = s.source();
    }
    if e.is_timeout() {
        parts.insert(0, "timed out".to_owned());
    }
    if parts.is_empty() {
        e.to_string()
    } else {
        parts.join(": ")
    }
}

/// What renews a session that ended: the long-lived token it was exchanged for, and what to
/// do with the new session's answer (`{token, record}`), e.g. save it.
pub struct Renewal {
    pub token: String,
    pub save: fn(base: &str, answer: &Value) -> Result<String, ClientError>,
}

/// A connection to one admin, optionally with a bearer token.
pub struct Client {
    http: Http,
    base: String,
    token: std::cell::RefCell<Option<String>>,
    renewal: Option<Renewal>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("base", &self.base)
            .field("token", &self.token.borrow().as_ref().map(|_| "<hidden>"))
            .finish()
    }
}

impl Client {
    /// A client for the admin at `base` (already normalised).
    pub fn new(base: &str, token: Option<String>) -> Result<Client, ClientError> {
        // rustls needs a process-wide crypto provider; ignore "already installed".
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = Http::builder()
            .timeout(TIMEOUT)
            .user_agent(concat!("tollgate/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ClientError::Unreachable {
                url: base.to_owned(),
                reason: reason(&e),
            })?;
        if token.is_some() && is_cleartext_remote(base) {
            eprintln!(
                "warning: sending a token to {base} over plain http; anyone on the network path can read it (use https://)"
            );
        }
        Ok(Client {
            http,
            base: base.to_owned(),
            token: std::cell::RefCell::new(token),
            renewal: None,
        })
    }

    /// The same client, renewing its session once with `renewal` when the admin answers that
    /// it expired or was revoked.
    pub fn with_renewal(mut self, renewal: Renewal) -> Client {
        self.renewal = Some(renewal);
        self
    }

    /// Exchanges the renewal token for a new session, saves it and uses it from now on.
    fn renew(&self, renewal: &Renewal) -> Result<(), ClientError> {
        let exchange = Client::new(&self.base, Some(renewal.token.clone()))?;
        let answer = exchange.post("/api/v1/sessions", &Empty {})?;
        let token = (renewal.save)(&self.base, &answer)?;
        *self.token.borrow_mut() = Some(token);
        Ok(())
    }

    /// The admin URL.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// `GET path?query`, expecting a JSON body.
    pub fn get(&self, path: &str, query: &[(&str, String)]) -> Result<Value, ClientError> {
        self.send(Method::GET, path, query, None)
    }

    /// `POST path` with a JSON body.
    pub fn post(&self, path: &str, body: &impl Serialize) -> Result<Value, ClientError> {
        self.send(Method::POST, path, &[], Some(&self.encode(body)?))
    }

    /// `PATCH path` with a JSON body.
    pub fn patch(&self, path: &str, body: &impl Serialize) -> Result<Value, ClientError> {
        self.send(Method::PATCH, path, &[], Some(&self.encode(body)?))
    }

    /// A request body as JSON (the `tollgate-api` types always encode).
    fn encode(&self, body: &impl Serialize) -> Result<Value, ClientError> {
        serde_json::to_value(body).map_err(|e| ClientError::BadAnswer {
            url: self.base().to_owned(),
            reason: format!("the request could not be encoded: {e}"),
        })
    }

    /// `DELETE path`.
    pub fn delete(&self, path: &str) -> Result<Value, ClientError> {
        self.send(Method::DELETE, path, &[], None)
    }

    /// Sends a request; a success answers its JSON body (`null` when empty). With a renewal,
    /// a session that ended is renewed once and the request sent once more.
    pub fn send(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&Value>,
    ) -> Result<Value, ClientError> {
        match self.send_once(method.clone(), path, query, body) {
            Err(ClientError::Refused {
                status: 401, code, ..
            }) if matches!(code.as_str(), "expired" | "revoked") && self.renewal.is_some() => {
                if let Some(renewal) = &self.renewal {
                    self.renew(renewal)?;
                }
                self.send_once(method, path, query, body)
            }
            other => other,
        }
    }

    fn send_once(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&Value>,
    ) -> Result<Value, ClientError> {
        let url = format!("{}{path}", self.base);
        let mut request = self.http.request(method, &url);
        if !query.is_empty() {
            request = request.query(query);
        }
        if let Some(token) = self.token.borrow().as_ref() {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().map_err(|e| ClientError::Unreachable {
            url: self.base.clone(),
            reason: reason(&e),
        })?;
        self.answer(response)
    }

    fn answer(&self, response: Response) -> Result<Value, ClientError> {
        let status = response.status();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        let bytes = response.bytes().map_err(|e| ClientError::Unreachable {
            url: self.base.clone(),
            reason: reason(&e),
        })?;
        if status.is_success() {
            if bytes.iter().all(u8::is_ascii_whitespace) {
                return Ok(Value::Null);
            }
            return serde_json::from_slice(&bytes).map_err(|e| ClientError::BadAnswer {
                url: self.base.clone(),
                reason: format!("HTTP {status}, not JSON: {e}"),
            });
        }
        let parsed: Option<Value> = serde_json::from_slice(&bytes).ok();
        let error = parsed.as_ref().and_then(|v| v.get("error"));
        let field = |name: &str| {
            error
                .and_then(|e| e.get(name))
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        let when = |message: String| match retry_after {
            Some(s) => format!("{message} (try again in {s} s)"),
            None => message,
        };
        match (field("code"), field("message")) {
            (Some(code), message) => Err(ClientError::Refused {
                status: status.as_u16(),
                code,
                message: when(message.unwrap_or_default()),
            }),
            _ => Err(ClientError::Refused {
                status: status.as_u16(),
                code: format!("http_{}", status.as_u16()),
                message: status
                    .canonical_reason()
                    .unwrap_or("error")
                    .to_ascii_lowercase(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_checked_and_normalised() {
        assert_eq!(
            normalize_url("http://127.0.0.1:8080/").unwrap(),
            "http://127.0.0.1:8080"
        );
        assert_eq!(
            normalize_url(" https://admin.example.com/tollgate/ ").unwrap(),
            "https://admin.example.com/tollgate"
        );
        assert_eq!(
            normalize_url("HTTP://Admin.Example.com").unwrap(),
            "http://admin.example.com"
        );
        assert_eq!(
            normalize_url("127.0.0.1:8080").unwrap(),
            "http://127.0.0.1:8080"
        );
        assert_eq!(
            normalize_url("localhost:8080/").unwrap(),
            "http://localhost:8080"
        );
        assert_eq!(normalize_url("[::1]:8080").unwrap(), "http://[::1]:8080");
        assert_eq!(
            normalize_url("tollgate.example.com").unwrap(),
            "https://tollgate.example.com"
        );
        assert!(is_cleartext_remote("http://tollgate.example.com"));
        assert!(!is_cleartext_remote("http://127.0.0.1:8080"));
        assert!(!is_cleartext_remote("https://tollgate.example.com"));
        assert!(normalize_url("ftp://host").is_err());
        assert!(normalize_url("http://user:pw@host").is_err());
        assert!(normalize_url("http://host/?x=1").is_err());
    }

    #[test]
    fn debug_hides_the_token() {
        let c = Client::new("http://127.0.0.1:1", Some("tg_secret".into())).unwrap();
        assert!(!format!("{c:?}").contains("tg_secret"));
    }
}
