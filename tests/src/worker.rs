//! The edge worker under `wrangler dev`, started from the pre-built `build/`.
//!
//! [`ensure_built`] runs `scripts/build-worker` once per test process, and only if
//! `build/` is older than the worker's sources (set `TOLLGATE_WORKER_PREBUILT=1` to
//! skip the check and use `build/` as it is). [`Worker::start`] copies the build into
//! a scratch directory, writes a `wrangler.toml` without `[build]` and a `.dev.vars`
//! for secrets, and runs `wrangler dev` on a free 127.0.0.1 port with `XDG_CONFIG_HOME`,
//! `TMPDIR` and logs in the scratch directory and metrics and remote lookups off, so
//! nothing leaves loopback. Start-up takes a couple of seconds.
//!
//! The process group is killed when the [`Worker`] is dropped.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime};

/// Set to `1` to use `build/` as it is, without checking it against the sources.
pub const PREBUILT_ENV: &str = "TOLLGATE_WORKER_PREBUILT";

/// How long `wrangler dev` may take to answer its first request.
const START_TIMEOUT: Duration = Duration::from_secs(90);

/// Why the harness could not run the worker.
#[derive(Debug, thiserror::Error)]
pub enum HarnessError {
    /// `scripts/build-worker` failed; its output follows.
    #[error("building the worker failed:\n{0}")]
    Build(String),
    /// A file or tool is missing.
    #[error("{0}")]
    Missing(String),
    /// Filesystem or process error.
    #[error("{context}: {source}")]
    Io {
        /// What the harness was doing.
        context: String,
        /// The error.
        source: std::io::Error,
    },
    /// `wrangler dev` exited or never answered; its log follows.
    #[error("wrangler dev did not start ({reason}); its log:\n{log}")]
    NotReady {
        /// Exit status or timeout.
        reason: String,
        /// Everything it printed.
        log: String,
    },
}

fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> HarnessError {
    let context = context.into();
    move |source| HarnessError::Io { context, source }
}

/// The repository root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from(".."))
}

/// The directory `scripts/build-worker` writes.
pub fn build_dir() -> PathBuf {
    repo_root().join("build")
}

fn modified(path: &Path) -> Option<SystemTime> {
    path.metadata().and_then(|m| m.modified()).ok()
}

fn newest_under(path: &Path) -> Option<SystemTime> {
    let meta = path.metadata().ok()?;
    if !meta.is_dir() {
        return meta.modified().ok();
    }
    std::fs::read_dir(path)
        .ok()?
        .flatten()
        .filter_map(|e| newest_under(&e.path()))
        .max()
}

/// True if `build/` holds a worker at least as new as every input of the build.
fn build_is_fresh(root: &Path) -> bool {
    let build = root.join("build");
    let Some(built) = [build.join("index.js"), build.join("index_bg.wasm")]
        .iter()
        .map(|p| modified(p))
        .min()
        .flatten()
    else {
        return false;
    };
    let inputs = [
        "edge/src",
        "edge/Cargo.toml",
        "shared/src",
        "shared/Cargo.toml",
        "Cargo.toml",
        "Cargo.lock",
        "scripts/build-worker",
    ];
    inputs
        .iter()
        .filter_map(|p| newest_under(&root.join(p)))
        .all(|t| t <= built)
}

/// Holds an exclusive `flock` on a file until dropped, so parallel test processes build one at a time.
struct FileLock {
    _file: std::fs::File,
}

impl FileLock {
    fn acquire(path: &Path) -> Result<FileLock, HarnessError> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(io(format!("creating {}", dir.display())))?;
        }
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path)
            .map_err(io(format!("opening {}", path.display())))?;
        use std::os::fd::AsRawFd;
        // SAFETY: flock on a descriptor we own; the lock is released when the file closes.
        if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) } != 0 {
            return Err(HarnessError::Io {
                context: "locking the build".into(),
                source: std::io::Error::last_os_error(),
            });
        }
        Ok(FileLock { _file: file })
    }
}

/// Builds the worker into `build/` if it is missing or older than its sources, once per process.
/// Returns the build directory.
pub fn ensure_built() -> Result<PathBuf, HarnessError> {
    static BUILT: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    BUILT
        .get_or_init(|| build_once().map_err(|e| e.to_string()))
        .clone()
        .map_err(HarnessError::Build)
}

fn build_once() -> Result<PathBuf, HarnessError> {
    let root = repo_root();
    let build = build_dir();
    let prebuilt = std::env::var(PREBUILT_ENV).is_ok_and(|v| v == "1");
    if !prebuilt {
        let _lock = FileLock::acquire(&root.join("target").join("worker-build.lock"))?;
        if !build_is_fresh(&root) {
            let out = Command::new(root.join("scripts/build-worker"))
                .current_dir(&root)
                .stdin(Stdio::null())
                .output()
                .map_err(io("running scripts/build-worker"))?;
            if !out.status.success() {
                return Err(HarnessError::Build(format!(
                    "{}\n{}",
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr)
                )));
            }
        }
    }
    for file in ["index.js", "index_bg.wasm"] {
        if !build.join(file).is_file() {
            return Err(HarnessError::Missing(format!(
                "{} is missing; run scripts/build-worker",
                build.join(file).display()
            )));
        }
    }
    Ok(build)
}

/// The `compatibility_date` of the repository's `wrangler.toml`, so tests run what deploys.
fn compatibility_date(root: &Path) -> String {
    std::fs::read_to_string(root.join("wrangler.toml"))
        .ok()
        .and_then(|text| {
            text.lines().find_map(|l| {
                let (key, value) = l.split_once('=')?;
                (key.trim() == "compatibility_date")
                    .then(|| value.trim().trim_matches('"').to_owned())
            })
        })
        .unwrap_or_else(|| "2026-04-01".into())
}

/// The Durable Object bindings and migrations of the repository's `wrangler.toml` (everything
/// from its first `[[durable_objects.bindings]]` on), so tests count limits as deployed.
fn durable_objects(root: &Path) -> String {
    std::fs::read_to_string(root.join("wrangler.toml"))
        .ok()
        .and_then(|text| {
            text.find("[[durable_objects.bindings]]")
                .map(|i| text[i..].to_owned())
        })
        .unwrap_or_default()
}

/// The worker's `[vars]` and secrets (`.dev.vars`).
#[derive(Debug, Clone, Default)]
pub struct WorkerConfig {
    /// `[vars]`, as strings.
    pub vars: BTreeMap<String, String>,
    /// Secrets, written to `.dev.vars`.
    pub secrets: BTreeMap<String, String>,
}

impl WorkerConfig {
    /// A worker fetching the list from `admin_url`, forwarding to `origin_url`, with keyring `keys`
    /// (`TOLLGATE_KEYS` text). Refresh and stale bounds keep their defaults unless set.
    pub fn new(admin_url: &str, origin_url: &str, keys: &str) -> Self {
        WorkerConfig::default()
            .var("TOLLGATE_ADMIN_URL", admin_url)
            .var("TOLLGATE_ORIGIN_URL", origin_url)
            .secret("TOLLGATE_KEYS", keys)
    }

    /// Sets a `[vars]` entry.
    pub fn var(mut self, name: &str, value: &str) -> Self {
        self.vars.insert(name.into(), value.into());
        self
    }

    /// Sets a secret.
    pub fn secret(mut self, name: &str, value: &str) -> Self {
        self.secrets.insert(name.into(), value.into());
        self
    }

    /// Removes a var or secret.
    pub fn without(mut self, name: &str) -> Self {
        self.vars.remove(name);
        self.secrets.remove(name);
        self
    }

    fn wrangler_toml(&self, compatibility_date: &str) -> String {
        let quote = |s: &str| serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into());
        let mut out = format!(
            "name = \"tollgate-edge-test\"\nmain = \"index.js\"\ncompatibility_date = {}\n\n[vars]\n",
            quote(compatibility_date)
        );
        for (k, v) in &self.vars {
            out.push_str(&format!("{k} = {}\n", quote(v)));
        }
        out.push('\n');
        out.push_str(&durable_objects(&repo_root()));
        out
    }

    fn dev_vars(&self) -> String {
        self.secrets
            .iter()
            .map(|(k, v)| format!("{k}={}\n", serde_json::to_string(v).unwrap_or_default()))
            .collect()
    }
}

/// A running `wrangler dev`; killed (with its whole process group) on drop.
pub struct Worker {
    port: u16,
    child: Child,
    log: Arc<Mutex<String>>,
    _dir: tempfile::TempDir,
}

impl Worker {
    /// Builds if needed, then starts `wrangler dev` with `config` and waits until it answers.
    pub async fn start(config: &WorkerConfig) -> Result<Worker, HarnessError> {
        let build = ensure_built()?;
        let root = repo_root();
        let wrangler = root.join("node_modules/.bin/wrangler");
        if !wrangler.exists() {
            return Err(HarnessError::Missing(format!(
                "{} is missing; run scripts/setup",
                wrangler.display()
            )));
        }
        let dir = tempfile::Builder::new()
            .prefix("tollgate-worker-")
            .tempdir()
            .map_err(io("creating a scratch dir"))?;
        for file in ["index.js", "index_bg.wasm"] {
            std::fs::copy(build.join(file), dir.path().join(file))
                .map_err(io(format!("copying build/{file}")))?;
        }
        for sub in ["config", "tmp", "logs"] {
            std::fs::create_dir_all(dir.path().join(sub)).map_err(io("creating scratch dirs"))?;
        }
        std::fs::write(
            dir.path().join("wrangler.toml"),
            config.wrangler_toml(&compatibility_date(&root)),
        )
        .map_err(io("writing wrangler.toml"))?;
        std::fs::write(dir.path().join(".dev.vars"), config.dev_vars())
            .map_err(io("writing .dev.vars"))?;

        let port = crate::free_port().map_err(io("finding a free port"))?;
        let inspector = crate::free_port().map_err(io("finding a free port"))?;
        let mut child = Command::new(&wrangler)
            .args(["dev", "--config", "wrangler.toml", "--ip", "127.0.0.1"])
            .args([
                "--port",
                &port.to_string(),
                "--inspector-port",
                &inspector.to_string(),
            ])
            .current_dir(dir.path())
            .env("WRANGLER_SEND_METRICS", "false")
            .env("CI", "true")
            .env("WRANGLER_HIDE_BANNER", "true")
            .env("CLOUDFLARE_CF_FETCH_ENABLED", "false")
            .env("XDG_CONFIG_HOME", dir.path().join("config"))
            .env("TMPDIR", dir.path().join("tmp"))
            .env("WRANGLER_LOG_PATH", dir.path().join("logs"))
            .env("NO_COLOR", "1")
            .env("FORCE_COLOR", "0")
            .env("NO_PROXY", "127.0.0.1,localhost")
            .env_remove("HTTP_PROXY")
            .env_remove("HTTPS_PROXY")
            .env_remove("http_proxy")
            .env_remove("https_proxy")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .spawn()
            .map_err(io("starting wrangler dev"))?;
        let log = Arc::new(Mutex::new(String::new()));
        if let Some(out) = child.stdout.take() {
            capture(out, log.clone());
        }
        if let Some(err) = child.stderr.take() {
            capture(err, log.clone());
        }
        let mut worker = Worker {
            port,
            child,
            log,
            _dir: dir,
        };
        worker.wait_ready().await?;
        Ok(worker)
    }

    async fn wait_ready(&mut self) -> Result<(), HarnessError> {
        let client = crate::net::client_builder()
            .timeout(Duration::from_secs(5))
            .build()
            .map_err(|e| HarnessError::Missing(e.to_string()))?;
        let started = Instant::now();
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(HarnessError::NotReady {
                    reason: format!("exited with {status}"),
                    log: self.logs(),
                });
            }
            if client
                .get(self.url("/.well-known/tollgate/ready"))
                .send()
                .await
                .is_ok()
            {
                return Ok(());
            }
            if started.elapsed() > START_TIMEOUT {
                return Err(HarnessError::NotReady {
                    reason: "no answer in time".into(),
                    log: self.logs(),
                });
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `http://127.0.0.1:<port><path>`.
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// `GET path` through the worker with `http`, with an `Authorization` header if given.
    pub async fn get(
        &self,
        http: &reqwest::Client,
        path: &str,
        authorization: Option<&str>,
    ) -> reqwest::Response {
        let mut req = http.get(self.url(path));
        if let Some(value) = authorization {
            req = req.header("authorization", value);
        }
        req.send().await.expect("the worker answers")
    }

    /// Waits up to `timeout` for `needle` to appear in the log (console lines arrive a little after the answer).
    pub async fn wait_for_log(&self, needle: &str, timeout: Duration) -> bool {
        let started = Instant::now();
        loop {
            if self.logs().contains(needle) {
                return true;
            }
            if started.elapsed() > timeout {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// CPU time (user + system) used so far by every process of this `wrangler dev` (node and workerd).
    pub fn cpu_time(&self) -> Duration {
        // SAFETY: sysconf has no preconditions.
        let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as u64;
        let pgid = self.child.id().to_string();
        let Ok(procs) = std::fs::read_dir("/proc") else {
            return Duration::ZERO;
        };
        let total: u64 = procs
            .flatten()
            .filter_map(|e| std::fs::read_to_string(e.path().join("stat")).ok())
            .filter_map(|stat| {
                // Fields after "(comm)": state ppid pgrp ... utime(12th) stime(13th).
                let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
                (fields.get(2) == Some(&pgid.as_str())).then(|| {
                    let field = |i: usize| {
                        fields
                            .get(i)
                            .and_then(|v| v.parse::<u64>().ok())
                            .unwrap_or(0)
                    };
                    field(11) + field(12)
                })
            })
            .sum();
        Duration::from_millis(total * 1000 / ticks)
    }

    /// Everything `wrangler dev` printed so far (the worker's console lines included).
    pub fn logs(&self) -> String {
        self.log.lock().map(|l| l.clone()).unwrap_or_default()
    }
}

fn capture(stream: impl Read + Send + 'static, log: Arc<Mutex<String>>) {
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines().map_while(Result::ok) {
            if let Ok(mut l) = log.lock() {
                l.push_str(&line);
                l.push('\n');
            }
        }
    });
}

impl Drop for Worker {
    fn drop(&mut self) {
        let pgid = self.child.id() as libc::pid_t;
        // SAFETY: signals the process group this harness created for the child (process_group(0)).
        unsafe {
            libc::kill(-pgid, libc::SIGKILL);
        }
        let _ = self.child.wait();
    }
}
