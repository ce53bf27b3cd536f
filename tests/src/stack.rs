//! An edge stack for tests: a revocation list server, a recording origin and the worker under
//! `wrangler dev`, wired together with a fresh keyring.

use crate::{Keys, ListServer, Minted, Origin, Worker, WorkerConfig, client};

/// The route policy end-to-end tests use: a public health check and two role-guarded areas.
pub const TEST_POLICY: &str = r#"[
    {"route": "GET /healthz", "public": true},
    {"route": "* /admin/**", "roles": ["admin"]},
    {"route": "GET /reports/**", "roles": ["reports:read", "staff"]}
]"#;

/// The running pieces; all stopped when dropped.
pub struct EdgeStack {
    /// The keyring the worker trusts, and a minter for it.
    pub keys: Keys,
    /// The revocation list server (the worker's `TOLLGATE_ADMIN_URL`).
    pub list: ListServer,
    /// The origin (the worker's `TOLLGATE_ORIGIN_URL`).
    pub origin: Origin,
    /// `wrangler dev`.
    pub worker: Worker,
    /// A client without proxies or redirects.
    pub http: reqwest::Client,
}

impl EdgeStack {
    /// Starts everything with [`TEST_POLICY`]; `tune` adjusts the worker's settings.
    pub async fn start(tune: impl FnOnce(WorkerConfig) -> WorkerConfig) -> EdgeStack {
        let keys = Keys::generate("k1");
        let list = ListServer::start(keys.keyring.clone())
            .await
            .expect("list server starts");
        let origin = Origin::start().await.expect("origin starts");
        let config = WorkerConfig::new(&list.url(), &origin.url(), &keys.text)
            .var("TOLLGATE_POLICY", TEST_POLICY);
        let worker = Worker::start(&tune(config))
            .await
            .expect("wrangler dev starts");
        EdgeStack {
            keys,
            list,
            origin,
            worker,
            http: client(),
        }
    }

    /// `GET path` through the worker, with an `Authorization` header if given.
    pub async fn get(&self, path: &str, authorization: Option<&str>) -> reqwest::Response {
        self.worker.get(&self.http, path, authorization).await
    }

    /// The status of `GET path` with `token`.
    pub async fn status(&self, path: &str, token: &Minted) -> u16 {
        self.get(path, Some(&token.bearer()))
            .await
            .status()
            .as_u16()
    }
}

/// A response header as text.
pub fn header(resp: &reqwest::Response, name: &str) -> Option<String> {
    resp.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}
