//! The `tollgate` binary: `serve` configured from the environment (first admin's generated
//! password printed once to stderr, graceful stop on SIGTERM, JSON logs) and `keys generate`.

use std::cell::RefCell;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use tollgate_shared::Keyring;

const KEYS: &str = "k1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

/// A child process killed when dropped, so a failing test never leaves a server behind.
struct Running {
    child: Child,
    lines: mpsc::Receiver<String>,
    /// Every line [`Running::wait_for`] read.
    seen: RefCell<Vec<String>>,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Running {
    /// Waits for a stderr line containing `needle`; returns it.
    fn wait_for(&self, needle: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.seen.borrow_mut().push(line.clone());
                    if line.contains(needle) {
                        return line;
                    }
                }
                Err(_) => break,
            }
        }
        panic!("no stderr line containing {needle:?}");
    }

    fn rest(&self) -> Vec<String> {
        self.lines.try_iter().collect()
    }

    /// Stops the server with SIGTERM and returns every line it wrote.
    fn stop(mut self) -> Vec<String> {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        assert!(wait_exit(&mut self.child).success());
        let mut all = self.seen.take();
        // The reader thread ends at EOF, which closes the channel.
        all.extend(self.lines.iter());
        all
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn serve(db: &str, port: u16) -> Running {
    serve_with(db, port, &[])
}

fn serve_with(db: &str, port: u16, vars: &[(&str, &str)]) -> Running {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tollgate"))
        .arg("serve")
        .env_remove("TOLLGATE_BOOTSTRAP_ADMIN")
        .env_remove("TOLLGATE_KEYS_FILE")
        .env("TOLLGATE_KEYS", KEYS)
        .env("TOLLGATE_DATABASE_URL", db)
        .env("TOLLGATE_LISTEN", format!("127.0.0.1:{port}"))
        .env("TOLLGATE_LOG", "info")
        .envs(vars.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    Running {
        child,
        lines,
        seen: RefCell::new(Vec::new()),
    }
}

fn wait_exit(child: &mut Child) -> std::process::ExitStatus {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(Instant::now() < deadline, "the server did not stop");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[tokio::test]
async fn serve_bootstraps_an_admin_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("fresh.db").display());
    let port = free_port();
    let mut server = serve(&db, port);
    let line = server.wait_for("created the first admin");
    let password = line
        .split('`')
        .nth(3)
        .expect("the password between backticks")
        .to_owned();
    server.wait_for("listening");

    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::new();
    let base = format!("http://127.0.0.1:{port}");
    assert_eq!(
        http.get(format!("{base}/healthz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let r = http
        .post(format!("{base}/api/v1/login"))
        .json(&serde_json::json!({"username": "admin", "password": password}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let token = r.json::<serde_json::Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        server
            .rest()
            .iter()
            .all(|l| !l.contains(&token) && !l.contains(&password)),
        "no secret in the log"
    );

    let status = Command::new("kill")
        .args(["-TERM", &server.child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = wait_exit(&mut server.child);
    assert!(exit.success(), "graceful stop exits 0, got {exit:?}");
    drop(server);

    // Started again on the same store: no new admin, and the first one still logs in.
    let port = free_port();
    let server = serve(&db, port);
    server.wait_for("listening");
    assert!(
        server
            .rest()
            .iter()
            .all(|l| !l.contains("created the first admin"))
    );
    let r = http
        .post(format!("http://127.0.0.1:{port}/api/v1/login"))
        .json(&serde_json::json!({"username": "admin", "password": password}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

#[test]
fn serve_refuses_to_start_without_keys() {
    let out = Command::new(env!("CARGO_BIN_EXE_tollgate"))
        .arg("serve")
        .env_remove("TOLLGATE_KEYS")
        .env_remove("TOLLGATE_KEYS_FILE")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("TOLLGATE_KEYS"));
}

#[test]
fn keys_generate_prints_a_usable_entry() {
    let out = Command::new(env!("CARGO_BIN_EXE_tollgate"))
        .args(["keys", "generate", "--id", "k7"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let line = String::from_utf8(out.stdout).unwrap();
    let ring = Keyring::parse(line.trim()).unwrap();
    assert_eq!(ring.signing_key_id(), "k7");
    let again = Command::new(env!("CARGO_BIN_EXE_tollgate"))
        .args(["keys", "generate"])
        .output()
        .unwrap();
    assert_ne!(again.stdout, line.as_bytes(), "each key is fresh");
    assert!(Keyring::parse(String::from_utf8(again.stdout).unwrap().trim()).is_ok());
    let bad = Command::new(env!("CARGO_BIN_EXE_tollgate"))
        .args(["keys", "generate", "--id", "bad id"])
        .output()
        .unwrap();
    assert!(!bad.status.success());
}

/// A taken port stops `serve` before it creates a store or prints a one-time password.
#[test]
fn a_taken_port_creates_nothing() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    let mut running = serve(&format!("sqlite://{}", db.display()), port);
    let status = wait_exit(&mut running.child);
    assert!(!status.success());
    std::thread::sleep(Duration::from_millis(300));
    let said = running.rest().join("\n");
    assert!(!said.contains("password"), "{said}");
    assert!(!db.exists(), "a store was created: {said}");
}

/// The lines, parsed: every line must be one JSON object.
fn parse_json_lines(lines: &[String]) -> Vec<serde_json::Value> {
    lines
        .iter()
        .map(|l| {
            let v: serde_json::Value =
                serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}"));
            assert!(v.is_object(), "{l}");
            v
        })
        .collect()
}

/// The request line for `route` answered with `status`.
fn request_line<'a>(
    lines: &'a [serde_json::Value],
    route: &str,
    status: u16,
) -> &'a serde_json::Value {
    lines
        .iter()
        .find(|l| {
            l["target"] == "tollgate::request" && l["route"] == route && l["status"] == status
        })
        .unwrap_or_else(|| panic!("no request line for {route} {status}: {lines:#?}"))
}

/// With `TOLLGATE_LOG_FORMAT=json` every line is a JSON object: one request line per request
/// (method, route template, status, latency, caller) and a security event per audited change,
/// and neither a password, a token text nor a raw path ever appears.
#[tokio::test]
async fn json_logs_have_request_lines_and_no_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("json.db").display());
    let port = free_port();
    let password = "correct horse battery";
    let admin = format!("root:{password}");
    let server = serve_with(
        &db,
        port,
        &[
            ("TOLLGATE_LOG_FORMAT", "json"),
            ("TOLLGATE_BOOTSTRAP_ADMIN", admin.as_str()),
        ],
    );
    server.wait_for("listening");

    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::new();
    let base = format!("http://127.0.0.1:{port}");
    let login = |password: &'static str| {
        http.post(format!("{base}/api/v1/login"))
            .json(&serde_json::json!({"username": "root", "password": password}))
            .send()
    };
    assert_eq!(login("wrong horse battery").await.unwrap().status(), 401);
    let r = login(password).await.unwrap();
    assert_eq!(r.status(), 200);
    let session = r.json::<serde_json::Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = http
        .post(format!("{base}/api/v1/tokens"))
        .bearer_auth(&session)
        .json(&serde_json::json!({"name": "ci"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let minted = r.json::<serde_json::Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = http
        .get(format!("{base}/api/v1/tokens/rawpathmarker"))
        .bearer_auth(&minted)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_client_error(), "{}", r.status());
    let status = r.status().as_u16();

    let text = server.stop();
    for secret in [
        password,
        "wrong horse battery",
        session.as_str(),
        minted.as_str(),
        "rawpathmarker",
    ] {
        let leaks: Vec<_> = text.iter().filter(|l| l.contains(secret)).collect();
        assert!(leaks.is_empty(), "{secret:?} in the log: {leaks:#?}");
    }
    let lines = parse_json_lines(&text);
    let get = request_line(&lines, "/api/v1/tokens/{id}", status);
    assert_eq!(get["level"], "INFO");
    assert_eq!(get["method"], "GET");
    assert_eq!(get["caller"], "root");
    assert!(
        get["latency_ms"].as_f64().is_some_and(|ms| ms >= 0.0),
        "{get}"
    );
    let failed = request_line(&lines, "/api/v1/login", 401);
    assert_eq!(failed["method"], "POST");
    assert_eq!(failed["caller"], "-");
    let created = request_line(&lines, "/api/v1/tokens", 201);
    assert_eq!(created["caller"], "root");

    let security = |action: &str, outcome: &str| {
        lines.iter().find(|l| {
            l["target"] == "tollgate::security" && l["action"] == action && l["outcome"] == outcome
        })
    };
    let refused = security("login", "failure").expect("a failed login event");
    assert_eq!(refused["level"], "WARN");
    assert_eq!(refused["actor"], "root");
    let made = security("token.create", "success").expect("a token creation event");
    assert_eq!(made["level"], "INFO");
    assert_eq!(made["actor"], "root");
}
