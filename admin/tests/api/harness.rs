//! The test harness: a fresh store per test (a SQLite file in a temporary directory, or a
//! PostgreSQL schema of its own), an in-process server on 127.0.0.1:0 that is stopped when the
//! test ends (also on failure), and a small HTTP client.

use std::time::Duration;

use reqwest::Method;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};
use sqlx::Connection;
use tollgate_admin::config::BootstrapAdmin;
use tollgate_admin::{Server, Settings};
use tollgate_shared::{Document, Keyring, RevocationList};

/// The keyring every test server signs with.
pub const KEYS: &str = "k1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
pub const ADMIN: &str = "root";
pub const ADMIN_PASSWORD: &str = "root-password";
/// Password of users the tests create.
pub const PASSWORD: &str = "correct horse battery";

pub fn keyring() -> Keyring {
    Keyring::parse(KEYS).unwrap()
}

/// An HTTP client (TLS is never used against the test servers, but the client needs a provider).
pub fn http_client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

/// A store of its own for one test.
pub struct Db {
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    pg: Option<(String, String)>,
}

impl Db {
    /// A new SQLite file.
    pub async fn sqlite() -> Db {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("tollgate.db").display());
        Db {
            url,
            _dir: Some(dir),
            pg: None,
        }
    }

    /// A new schema on `TOLLGATE_TEST_DATABASE_URL`; `None` if the variable is not set.
    /// When it is set, failing to reach the database fails the test.
    pub async fn postgres() -> Option<Db> {
        let base = std::env::var("TOLLGATE_TEST_DATABASE_URL")
            .ok()
            .filter(|v| !v.is_empty())?;
        let schema = format!("tg_test_{}", random_hex(8));
        let mut conn = sqlx::PgConnection::connect(&base)
            .await
            .unwrap_or_else(|e| {
                panic!("TOLLGATE_TEST_DATABASE_URL is set but PostgreSQL is unreachable: {e}")
            });
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
            .execute(&mut conn)
            .await
            .unwrap();
        conn.close().await.ok();
        let sep = if base.contains('?') { '&' } else { '?' };
        let url = format!("{base}{sep}options=-c%20search_path%3D{schema}");
        Some(Db {
            url,
            _dir: None,
            pg: Some((base, schema)),
        })
    }
}

impl Db {
    /// True for a PostgreSQL store.
    pub fn is_postgres(&self) -> bool {
        self.pg.is_some()
    }
}

impl Drop for Db {
    fn drop(&mut self) {
        if let Some((base, schema)) = self.pg.take() {
            // A runtime of its own: Drop cannot await, and may run while a test panics.
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                rt.block_on(async {
                    if let Ok(mut c) = sqlx::PgConnection::connect(&base).await {
                        let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                            "DROP SCHEMA {schema} CASCADE"
                        )))
                        .execute(&mut c)
                        .await;
                    }
                });
            })
            .join();
        }
    }
}

pub fn random_hex(bytes: usize) -> String {
    let mut b = vec![0u8; bytes];
    getrandom::fill(&mut b).unwrap();
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// An HTTP answer.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|_| {
            panic!(
                "not JSON ({}): {}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    /// The conventions' error code (and checks the error shape).
    pub fn code(&self) -> String {
        let v = self.json();
        assert!(
            v["error"]["message"].is_string(),
            "error without message: {v}"
        );
        v["error"]["code"]
            .as_str()
            .unwrap_or_else(|| panic!("no error code: {v}"))
            .to_owned()
    }

    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
    }

    /// Asserts the status and error code.
    #[track_caller]
    pub fn expect_error(&self, status: u16, code: &str) {
        assert_eq!(
            (self.status, self.code().as_str()),
            (status, code),
            "body: {}",
            String::from_utf8_lossy(&self.body)
        );
    }

    #[track_caller]
    pub fn expect(&self, status: u16) -> Value {
        assert_eq!(
            self.status,
            status,
            "body: {}",
            String::from_utf8_lossy(&self.body)
        );
        if self.body.is_empty() {
            Value::Null
        } else {
            self.json()
        }
    }
}

/// A running admin and a client for it.
pub struct Admin {
    pub server: Server,
    pub base: String,
    pub http: reqwest::Client,
    /// A session of the bootstrap admin.
    pub root: String,
}

/// Settings for a test server on `db`.
pub fn settings(db: &Db) -> Settings {
    let mut s = Settings::new(db.url.clone(), keyring());
    s.listen = "127.0.0.1:0".parse().unwrap();
    s.bootstrap_admin = Some(BootstrapAdmin {
        username: ADMIN.into(),
        password: ADMIN_PASSWORD.into(),
    });
    s.list_maintenance_interval = Duration::from_secs(3600);
    s
}

impl Admin {
    pub async fn start(db: &Db) -> Admin {
        Self::with(settings(db)).await
    }

    pub async fn with(settings: Settings) -> Admin {
        let server = Server::start(settings).await.expect("server starts");
        let base = server.url();
        let http = http_client();
        let mut admin = Admin {
            server,
            base,
            http,
            root: String::new(),
        };
        admin.root = admin.login(ADMIN, ADMIN_PASSWORD).await;
        admin
    }

    /// Stops the server and waits for it.
    pub async fn stop(self) {
        self.server.stop().await;
    }

    pub async fn raw(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<Vec<u8>>,
        headers: &[(&str, &str)],
    ) -> Resp {
        // Over the smallest body limit the server has (64 KiB, and usage reports' own).
        let limit = (64 * 1024).min(tollgate_shared::usage::MAX_REPORT_BYTES);
        let oversized = body.as_ref().is_some_and(|b| b.len() > limit);
        let build = || {
            let mut req = self.http.request(
                Method::from_bytes(method.as_bytes()).unwrap(),
                format!("{}{}", self.base, path),
            );
            if let Some(t) = token {
                req = req.bearer_auth(t);
            }
            if let Some(b) = body.clone() {
                // JSON unless the caller names its own content type.
                if !headers
                    .iter()
                    .any(|(k, _)| k.eq_ignore_ascii_case("content-type"))
                {
                    req = req.header("content-type", "application/json");
                }
                req = req.body(b);
            }
            for (k, v) in headers {
                req = req.header(*k, *v);
            }
            if oversized {
                // The server closes the connection after its 413: keep it out of the pool, so
                // the next request does not meet a connection already closed.
                req = req.header("connection", "close");
            }
            req
        };
        // The server answers an oversized body (413) without reading it all and closes the
        // connection; on a busy machine the client may see the reset before the answer. Such a
        // body is sent again, and so is a GET that met a pooled connection the server had just
        // closed (it changes nothing, so sending it again is safe).
        let mut sent = build().send().await;
        for attempt in 1..=10 {
            if sent.is_ok() || !(oversized || method == "GET") {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20 * attempt)).await;
            sent = build().send().await;
        }
        let r = sent.unwrap_or_else(|e| panic!("{method} {path}: not sent: {e:?}"));
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        let body = r.bytes().await.unwrap().to_vec();
        assert!(
            status < 500,
            "{method} {path} answered {status}: {}",
            String::from_utf8_lossy(&body)
        );
        Resp {
            status,
            headers,
            body,
        }
    }

    pub async fn call(&self, method: &str, path: &str, token: &str, body: Option<Value>) -> Resp {
        self.raw(
            method,
            path,
            Some(token),
            body.map(|b| serde_json::to_vec(&b).unwrap()),
            &[],
        )
        .await
    }

    pub async fn get(&self, path: &str, token: &str) -> Resp {
        self.call("GET", path, token, None).await
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> Resp {
        self.call("POST", path, token, Some(body)).await
    }

    pub async fn patch(&self, path: &str, token: &str, body: Value) -> Resp {
        self.call("PATCH", path, token, Some(body)).await
    }

    pub async fn delete(&self, path: &str, token: &str) -> Resp {
        self.call("DELETE", path, token, None).await
    }

    /// Logs in; panics on failure. Retries while the server says too many logins for the name
    /// are running at once (429 with `Retry-After: 1`), as a client should.
    pub async fn login(&self, user: &str, password: &str) -> String {
        for _ in 0..50 {
            let r = self
                .raw(
                    "POST",
                    "/api/v1/login",
                    None,
                    Some(
                        serde_json::to_vec(&json!({"username": user, "password": password}))
                            .unwrap(),
                    ),
                    &[],
                )
                .await;
            if r.status == 429 && r.header("retry-after").as_deref() == Some("1") {
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
            return r.expect(200)["token"].as_str().unwrap().to_owned();
        }
        panic!("login for {user} stayed busy");
    }

    /// Creates a user with `roles` (as the bootstrap admin) and returns a session of theirs.
    pub async fn user(&self, name: &str, roles: &[&str]) -> String {
        self.post(
            "/api/v1/users",
            &self.root,
            json!({"name": name, "password": PASSWORD, "roles": roles}),
        )
        .await
        .expect(201);
        self.login(name, PASSWORD).await
    }

    /// Creates a token; returns (text, record).
    pub async fn mint(&self, token: &str, body: Value) -> (String, Value) {
        let v = self.post("/api/v1/tokens", token, body).await.expect(201);
        (v["token"].as_str().unwrap().to_owned(), v["record"].clone())
    }

    /// Fetches and decodes the full revocation list; returns it with its ETag sequence.
    pub async fn revocations(&self) -> (u64, RevocationList, Vec<u8>) {
        let r = self
            .raw("GET", "/api/v1/revocations", None, None, &[])
            .await;
        assert_eq!(r.status, 200);
        assert_eq!(
            r.header("content-type").as_deref(),
            Some("application/vnd.tollgate.revocations")
        );
        assert_eq!(r.header("cache-control").as_deref(), Some("no-cache"));
        let etag = r.header("etag").unwrap();
        let seq: u64 = etag.trim_matches('"').parse().unwrap();
        let Document::Full(list) = Document::decode(&r.body, &keyring()).unwrap() else {
            panic!("expected a full list")
        };
        assert_eq!(list.sequence, seq);
        (seq, list, r.body)
    }

    /// The current list sequence number.
    pub async fn sequence(&self) -> u64 {
        self.revocations().await.0
    }

    /// A snapshot of everything the API shows (for "nothing changed" checks).
    pub async fn state(&self) -> Value {
        let tokens = self
            .get(
                "/api/v1/tokens?include_revoked=true&kind=all&limit=500",
                &self.root,
            )
            .await
            .expect(200);
        let users = self
            .get("/api/v1/users?limit=500", &self.root)
            .await
            .expect(200);
        let mut tokens = tokens["tokens"].clone();
        // Last-use times move with every call; the rest must not.
        for t in tokens.as_array_mut().unwrap() {
            t.as_object_mut().unwrap().remove("last_used_at");
        }
        json!({"tokens": tokens, "users": users["users"], "list": self.sequence().await})
    }
}

/// Runs each listed test against SQLite and, when `TOLLGATE_TEST_DATABASE_URL` is set, PostgreSQL.
macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(crate::harness::Db::sqlite().await).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let Some(db) = crate::harness::Db::postgres().await else {
                        eprintln!("TOLLGATE_TEST_DATABASE_URL is not set; PostgreSQL case not run");
                        return;
                    };
                    super::$name(db).await
                }
            )*
        }
    };
}
pub(crate) use both_backends;
