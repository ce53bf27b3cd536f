//! The real admin service for system tests: `tollgate_admin::Server` in this process, on a SQLite
//! file in a scratch directory and a 127.0.0.1 port, driven over HTTP like any client would.
//! It can be stopped and started again on the same port and database (admin down, key rotation).

use std::net::SocketAddr;

use serde_json::{Value, json};
use tollgate_admin::config::BootstrapAdmin;
use tollgate_admin::{Server, Settings};
use tollgate_shared::Keyring;

/// The bootstrap admin's name and password.
pub const ADMIN_USER: &str = "admin";
/// The bootstrap admin's password.
pub const ADMIN_PASSWORD: &str = "correct horse battery staple";

/// A running (or stopped) admin; stopped when dropped.
pub struct Admin {
    server: Option<Server>,
    addr: SocketAddr,
    database_url: String,
    keys: String,
    _dir: tempfile::TempDir,
}

impl Admin {
    /// Starts an admin on a fresh SQLite file with keyring `keys` (`TOLLGATE_KEYS` text).
    pub async fn start(keys: &str) -> Admin {
        let dir = tempfile::Builder::new()
            .prefix("tollgate-admin-")
            .tempdir()
            .expect("scratch dir");
        let database_url = format!("sqlite://{}", dir.path().join("tollgate.db").display());
        let mut admin = Admin {
            server: None,
            addr: "127.0.0.1:0".parse().expect("address"),
            database_url,
            keys: keys.to_owned(),
            _dir: dir,
        };
        admin.restart().await;
        admin
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops the server (requests in flight finish); the database is kept.
    pub async fn stop(&mut self) {
        if let Some(server) = self.server.take() {
            server.stop().await;
        }
    }

    /// Starts it again on the same port and database.
    pub async fn restart(&mut self) {
        self.stop().await;
        let keyring = Keyring::parse(&self.keys).expect("test keyring");
        let mut settings = Settings::new(self.database_url.clone(), keyring);
        settings.listen = self.addr;
        settings.bootstrap_admin = Some(BootstrapAdmin {
            username: ADMIN_USER.into(),
            password: ADMIN_PASSWORD.into(),
        });
        let server = Server::start(settings).await.expect("the admin starts");
        self.addr = server.addr();
        self.server = Some(server);
    }

    /// Restarts with another keyring (signing-key rotation).
    pub async fn restart_with_keys(&mut self, keys: &str) {
        self.keys = keys.to_owned();
        self.restart().await;
    }

    /// A client logged in as the bootstrap admin.
    pub async fn login_admin(&self) -> AdminClient {
        self.login(ADMIN_USER, ADMIN_PASSWORD).await
    }

    /// A client logged in with a password.
    pub async fn login(&self, user: &str, password: &str) -> AdminClient {
        let mut c = AdminClient {
            base: self.url(),
            http: crate::client(),
            token: String::new(),
        };
        let session = c
            .call(
                "POST",
                "/api/v1/login",
                Some(json!({"username": user, "password": password})),
            )
            .await;
        c.token = session["token"]
            .as_str()
            .expect("login answers a token")
            .to_owned();
        c
    }
}

/// An HTTP client of the admin API with a bearer token.
pub struct AdminClient {
    base: String,
    http: reqwest::Client,
    /// The session token this client authenticates with.
    pub token: String,
}

impl AdminClient {
    /// Calls the API and returns the JSON answer; panics with the answer on a non-2xx status.
    pub async fn call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let (status, value) = self.try_call(method, path, body).await;
        assert!(
            (200..300).contains(&status),
            "{method} {path} -> {status}: {value}"
        );
        value
    }

    /// Calls the API; returns the status and the JSON answer (`null` when empty).
    pub async fn try_call(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if !self.token.is_empty() {
            req = req.bearer_auth(&self.token);
        }
        if let Some(body) = body {
            req = req.json(&body);
        }
        let resp = req.send().await.expect("the admin answers");
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap_or_default();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// Creates a user with a password and roles.
    pub async fn create_user(&self, name: &str, password: &str, roles: &[&str]) {
        self.call(
            "POST",
            "/api/v1/users",
            Some(json!({"name": name, "password": password, "roles": roles})),
        )
        .await;
    }

    /// Creates a token (`extra` fields are merged into the request); returns `(token text, id)`.
    pub async fn create_token(&self, name: &str, extra: Value) -> (String, String) {
        let mut body = json!({"name": name});
        if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
            b.extend(e.clone());
        }
        let minted = self.call("POST", "/api/v1/tokens", Some(body)).await;
        (
            minted["token"].as_str().expect("token text").to_owned(),
            minted["record"]["id"]
                .as_str()
                .expect("token id")
                .to_owned(),
        )
    }
}
