//! The real `tollgate-demo-origin` binary: forged identity headers sent around the edge are
//! refused, a good assertion for the request is echoed, and it will not start without keys.

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::Value;
use tollgate_shared::assertion::{AssertionKeys, HEADER, Parts};
use tollgate_shared::{Keyring, Kind, TokenId, generate_entry};

/// The running origin, killed when dropped so a failing test never leaves it behind.
struct Origin {
    child: Child,
    addr: SocketAddr,
}

impl Drop for Origin {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Origin {
    /// Starts the binary on a free loopback port with `origin_keys`; waits until it accepts.
    fn start(origin_keys: &str) -> Origin {
        let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        let child = Command::new(env!("CARGO_BIN_EXE_tollgate-demo-origin"))
            .env("TOLLGATE_ORIGIN_KEYS", origin_keys)
            .env("TOLLGATE_DEMO_LISTEN", addr.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut origin = Origin { child, addr };
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(addr).is_err() {
            if let Some(status) = origin.child.try_wait().unwrap() {
                panic!("the origin exited early: {status}");
            }
            assert!(Instant::now() < deadline, "the origin did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        origin
    }

    /// Sends `GET target` with `headers` over HTTP/1.1; returns the status and the JSON body.
    fn get(&self, target: &str, headers: &[(&str, &str)]) -> (u16, Value) {
        let mut stream = TcpStream::connect(self.addr).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let mut request = format!("GET {target} HTTP/1.1\r\nHost: {}\r\n", self.addr);
        for (name, value) in headers {
            request.push_str(&format!("{name}: {value}\r\n"));
        }
        request.push_str("Connection: close\r\n\r\n");
        stream.write_all(request.as_bytes()).unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        let (head, body) = response.split_once("\r\n\r\n").expect("a response head");
        let status = head
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .expect("a status line");
        let json = serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {response}"));
        (status, json)
    }
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

#[test]
fn only_a_good_assertion_gets_through() {
    let keyring = Keyring::parse(&generate_entry("k1").unwrap()).unwrap();
    let origin = Origin::start(&AssertionKeys::export(&keyring));

    let (status, body) = origin.get(
        "/hello",
        &[
            ("X-Tollgate-Subject", "admin"),
            ("X-Tollgate-Roles", "admin"),
            ("X-Tollgate-Kind", "service"),
        ],
    );
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["error"]["code"], "missing_assertion", "{body}");

    let issued_at = now();
    let assertion = AssertionKeys::from_keyring(&keyring).sign(&Parts {
        token_id: TokenId([9; 16]),
        subject: "alice",
        kind: Kind::Personal,
        roles: &["reader"],
        method: "GET",
        path: "/hello",
        issued_at,
        lifetime: 60,
    });
    let (status, body) = origin.get(
        "/hello?x=1",
        &[
            (HEADER, &assertion),
            ("X-Tollgate-Subject", "admin"),
            ("Authorization", "Bearer tg_whatever"),
        ],
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["identity"]["subject"], "alice", "{body}");
    assert_eq!(body["identity"]["roles"], serde_json::json!(["reader"]));
    assert_eq!(body["identity"]["kind"], "personal");
    assert_eq!(body["identity"]["token_id"], TokenId([9; 16]).to_string());
    assert_eq!(body["identity"]["assertion_expires_at"], issued_at + 60);
    assert_eq!(
        (&body["method"], &body["path"], &body["query"]),
        (&"GET".into(), &"/hello".into(), &"x=1".into())
    );
    assert_eq!(body["saw_authorization_header"], true);

    // The same assertion does not open another path.
    let (status, body) = origin.get("/admin", &[(HEADER, &assertion)]);
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["error"]["code"], "wrong_request", "{body}");
}

#[test]
fn it_will_not_start_without_good_keys() {
    let run = |keys: Option<&str>| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_tollgate-demo-origin"));
        command
            .env_remove("TOLLGATE_ORIGIN_KEYS")
            .env("TOLLGATE_DEMO_LISTEN", "127.0.0.1:0");
        if let Some(keys) = keys {
            command.env("TOLLGATE_ORIGIN_KEYS", keys);
        }
        command.output().unwrap()
    };
    let secret = "c2VjcmV0LXNlY3JldC1zZWNyZXQ=";
    for keys in [None, Some(""), Some(&*format!("k1:{secret}"))] {
        let out = run(keys);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{keys:?}: {stderr}");
        assert!(stderr.contains("TOLLGATE_ORIGIN_KEYS"), "{stderr}");
        assert!(!stderr.contains(secret), "{stderr}");
    }
}
