//! Support for the command-line tests: a real admin on SQLite, served in this process on a
//! free port of 127.0.0.1 and stopped on drop, and the real `tollgate` binary run against it,
//! each simulated user with its own configuration directory.

use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;
use serde_json::Value;
use tempfile::TempDir;
use tollgate_admin::Server;
use tollgate_admin::config::{BootstrapAdmin, Settings};
use tollgate_shared::{Keyring, generate_entry};

/// Sequence numbers of the usage reports the tests send.
static NEXT_REPORT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

/// The first admin's name and password.
pub const ADMIN: &str = "admin";
pub const ADMIN_PASSWORD: &str = "correct horse battery";

/// An admin server on a SQLite file in a temporary directory.
pub struct Admin {
    server: Option<Server>,
    runtime: Option<tokio::runtime::Runtime>,
    pub url: String,
    /// The keyring the admin signs with (and an edge would hold).
    pub keyring: Keyring,
    dir: TempDir,
}

impl Admin {
    /// Starts an admin with `admin` / [`ADMIN_PASSWORD`] as its first user.
    pub fn start() -> Admin {
        Admin::start_with(|_| {})
    }

    /// Starts an admin as [`Admin::start`] does, with `adjust` applied to its settings.
    pub fn start_with(adjust: impl FnOnce(&mut Settings)) -> Admin {
        let dir = tempfile::tempdir().expect("temporary directory");
        let keyring = Keyring::parse(&generate_entry("k1").expect("random key")).expect("keyring");
        let database = format!("sqlite://{}", dir.path().join("admin.db").display());
        let mut settings = Settings::new(database, keyring.clone());
        settings.listen = "127.0.0.1:0".parse().expect("address");
        settings.bootstrap_admin = Some(BootstrapAdmin {
            username: ADMIN.into(),
            password: ADMIN_PASSWORD.into(),
        });
        adjust(&mut settings);
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let server = runtime
            .block_on(Server::start(settings))
            .expect("the admin starts");
        let url = server.url();
        Admin {
            server: Some(server),
            runtime: Some(runtime),
            url,
            keyring,
            dir,
        }
    }

    /// Posts a usage report, as an edge isolate would, signed with the admin's keyring.
    pub fn report_use(&self, uses: &[(&str, u64, u64)]) {
        use tollgate_shared::usage::{Counters, Report, ReporterId, TokenUse};
        let now =
            tollgate_api::when::parse_time(&time::OffsetDateTime::now_utc().date().to_string())
                .expect("today") as u64;
        let sequence = NEXT_REPORT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let report = Report {
            reporter: ReporterId([9; 16]),
            sequence,
            sent_at: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .expect("clock")
                .as_secs(),
            uses: uses
                .iter()
                .map(|(id, count, seconds_into_today)| TokenUse {
                    token_id: id.parse().expect("token id"),
                    kind: tollgate_shared::Kind::Personal,
                    count: *count,
                    last_seen: now + seconds_into_today,
                })
                .collect(),
            counters: Counters::default(),
        };
        let _ = rustls::crypto::ring::default_provider().install_default();
        let answer = reqwest::blocking::Client::new()
            .post(format!("{}/api/v1/usage", self.url))
            .header("content-type", tollgate_shared::usage::CONTENT_TYPE)
            .body(report.sign(&self.keyring))
            .send()
            .expect("the admin answers");
        assert_eq!(answer.status().as_u16(), 204, "{:?}", answer.text());
    }

    /// A fresh configuration directory for one person using the command line.
    pub fn home(&self, name: &str) -> Home {
        let dir = self.dir.path().join("homes").join(name);
        std::fs::create_dir_all(&dir).expect("home directory");
        Home {
            dir,
            url: self.url.clone(),
        }
    }
}

impl Drop for Admin {
    fn drop(&mut self) {
        if let (Some(server), Some(runtime)) = (self.server.take(), self.runtime.as_ref()) {
            runtime.block_on(server.stop());
        }
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_timeout(std::time::Duration::from_secs(5));
        }
    }
}

/// Where one person's `tollgate` keeps its configuration.
pub struct Home {
    pub dir: PathBuf,
    pub url: String,
}

impl Home {
    /// `tollgate` with this home, and no TOLLGATE_* or proxy variables from the test's environment.
    pub fn cmd(&self) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_tollgate"));
        for (key, _) in std::env::vars_os() {
            let k = key.to_string_lossy().to_ascii_lowercase();
            if k.starts_with("tollgate_") || k.ends_with("_proxy") {
                cmd.env_remove(&key);
            }
        }
        cmd.env("HOME", &self.dir)
            .env("XDG_CONFIG_HOME", self.dir.join("config"))
            .env("NO_COLOR", "1");
        cmd.timeout(std::time::Duration::from_secs(60));
        cmd
    }

    /// Runs `tollgate ARGS` with `stdin` as standard input.
    pub fn run_with(&self, args: &[&str], stdin: &str) -> Output {
        self.cmd()
            .args(args)
            .write_stdin(stdin)
            .output()
            .expect("tollgate runs")
    }

    /// Runs `tollgate ARGS` with empty standard input.
    pub fn run(&self, args: &[&str]) -> Output {
        self.run_with(args, "")
    }

    /// Runs `tollgate ARGS`, checks it succeeded, and returns its stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        check(&out, 0, args);
        stdout(&out)
    }

    /// Runs `tollgate ARGS -o json`, checks it succeeded, and parses its stdout.
    pub fn json(&self, args: &[&str]) -> Value {
        let mut all = args.to_vec();
        all.extend(["-o", "json"]);
        let text = self.ok(&all);
        serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("tollgate {all:?} printed no JSON ({e}):\n{text}"))
    }

    /// Runs `tollgate ARGS`, checks it exited with `code`, and returns its stderr.
    pub fn fails(&self, args: &[&str], code: i32) -> String {
        let out = self.run(args);
        check(&out, code, args);
        stderr(&out)
    }

    /// Logs in as `user` with `password` through `--password-stdin`.
    pub fn login(&self, user: &str, password: &str) -> Output {
        self.run_with(
            &["login", &self.url, "--username", user, "--password-stdin"],
            &format!("{password}\n"),
        )
    }

    /// Logs in as the first admin, checking it works.
    pub fn login_admin(&self) {
        let out = self.login(ADMIN, ADMIN_PASSWORD);
        check(&out, 0, &["login", "admin"]);
    }

    /// The credentials file.
    pub fn credentials(&self) -> PathBuf {
        self.dir
            .join("config")
            .join("tollgate")
            .join("credentials.json")
    }

    /// The credentials file, parsed.
    pub fn saved(&self) -> Value {
        read_json(&self.credentials())
    }
}

/// Reads a JSON file.
pub fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).expect("JSON file")
}

/// The process's stdout as text.
pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The process's stderr as text.
pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Asserts the exit code, showing both streams when it differs.
pub fn check(out: &Output, code: i32, args: &[&str]) {
    assert_eq!(
        out.status.code(),
        Some(code),
        "tollgate {args:?}: expected exit {code}\n--- stdout\n{}\n--- stderr\n{}",
        stdout(out),
        stderr(out)
    );
}

/// Seconds between two RFC 3339 times.
pub fn seconds_between(from: &Value, to: &Value) -> i64 {
    let t = |v: &Value| {
        tollgate_admin::times::parse_time(v.as_str().expect("a time")).expect("RFC 3339")
    };
    t(to) - t(from)
}

/// The `id` of every record in a JSON array.
pub fn ids(list: &Value) -> Vec<String> {
    list.as_array()
        .expect("a JSON array")
        .iter()
        .map(|t| t["id"].as_str().unwrap().to_owned())
        .collect()
}
