//! Saved logins, one per admin URL, in `$XDG_CONFIG_HOME/tollgate/credentials.json`
//! (`~/.config/tollgate/` when unset; `%APPDATA%\tollgate\` on Windows). The file is created
//! with mode 0600 in a 0700 directory and replaced atomically. `TOLLGATE_URL` (or `--server`)
//! and `TOLLGATE_TOKEN` override what is saved, for CI.

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::client::normalize_url;
use super::errors::{CliError, CliResult};

/// Environment variable holding a token that overrides the saved one.
pub const TOKEN_ENV: &str = "TOLLGATE_TOKEN";
/// Environment variable naming the admin URL (also read by `--server`).
pub const URL_ENV: &str = "TOLLGATE_URL";
const FILE_NAME: &str = "credentials.json";

/// A saved login for one server.
#[derive(Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Saved {
    /// The bearer token. Never printed.
    pub token: String,
    #[serde(default)]
    pub username: Option<String>,
    /// `session`, `personal` or `service`.
    #[serde(default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub token_id: Option<String>,
    #[serde(default)]
    pub expires_at: Option<String>,
    /// For a login with a token: that long-lived token, exchanged again for a new session when
    /// the saved one ends. Never printed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub renewal: Option<String>,
}

impl std::fmt::Debug for Saved {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Saved")
            .field("username", &self.username)
            .field("kind", &self.kind)
            .field("token_id", &self.token_id)
            .finish_non_exhaustive()
    }
}

/// The whole credentials file.
#[derive(Debug, Default, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Credentials {
    /// The server used when neither `--server` nor `TOLLGATE_URL` names one.
    #[serde(default)]
    pub current: Option<String>,
    #[serde(default)]
    pub servers: BTreeMap<String, Saved>,
}

/// The directory holding the file.
pub fn config_dir() -> CliResult<PathBuf> {
    let var = |name: &str| {
        std::env::var_os(name)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    let base = if cfg!(windows) {
        var("APPDATA")
    } else {
        var("XDG_CONFIG_HOME").or_else(|| var("HOME").map(|h| h.join(".config")))
    };
    base.map(|b| b.join("tollgate")).ok_or_else(|| {
        CliError::usage("cannot find a configuration directory: set HOME or XDG_CONFIG_HOME")
    })
}

/// The credentials file's path.
pub fn path() -> CliResult<PathBuf> {
    Ok(config_dir()?.join(FILE_NAME))
}

impl Credentials {
    /// Reads the file; a missing file is an empty one.
    pub fn load() -> CliResult<Credentials> {
        Self::load_from(&path()?)
    }

    /// Reads the file at `path`.
    pub fn load_from(path: &Path) -> CliResult<Credentials> {
        let text = match fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Credentials::default()),
            Err(e) => {
                return Err(CliError::usage(format!(
                    "cannot read {}: {e}",
                    path.display()
                )));
            }
        };
        warn_if_exposed(path);
        serde_json::from_str(&text).map_err(|e| {
            CliError::usage(format!(
                "{} is damaged ({e}); delete it and log in again",
                path.display()
            ))
        })
    }

    /// Writes the file (mode 0600, replaced atomically).
    pub fn save(&self) -> CliResult {
        self.save_to(&path()?)
    }

    /// Writes the file at `path`.
    pub fn save_to(&self, path: &Path) -> CliResult {
        let fail = |what: &str, e: std::io::Error| {
            CliError::Local(format!("cannot {what} {}: {e}", path.display()))
        };
        let dir = path
            .parent()
            .ok_or_else(|| CliError::Local(format!("invalid path {}", path.display())))?;
        create_private_dir(dir).map_err(|e| fail("create the directory of", e))?;
        let text =
            serde_json::to_string_pretty(self).map_err(|e| CliError::Local(e.to_string()))? + "\n";
        let tmp = dir.join(format!(".{FILE_NAME}.{}.tmp", std::process::id()));
        let _ = fs::remove_file(&tmp);
        let written = (|| {
            let mut file = private_file(&tmp)?;
            file.write_all(text.as_bytes())?;
            file.sync_all()?;
            fs::rename(&tmp, path)?;
            restrict(path)
        })();
        if let Err(e) = written {
            let _ = fs::remove_file(&tmp);
            return Err(fail("write", e));
        }
        Ok(())
    }
}

#[cfg(unix)]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    if dir.is_dir() {
        return Ok(());
    }
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

#[cfg(not(unix))]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    fs::create_dir_all(dir)
}

#[cfg(unix)]
fn private_file(path: &Path) -> std::io::Result<fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
}

#[cfg(not(unix))]
fn private_file(path: &Path) -> std::io::Result<fs::File> {
    fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
}

/// Sets mode 0600, whatever the umask did.
#[cfg(unix)]
fn restrict(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(0o600))
}

#[cfg(not(unix))]
fn restrict(_path: &Path) -> std::io::Result<()> {
    Ok(())
}

#[cfg(unix)]
fn warn_if_exposed(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(meta) = fs::metadata(path) {
        if meta.permissions().mode() & 0o077 != 0 {
            eprintln!(
                "tollgate: warning: {} is readable by others; run `chmod 600` on it",
                path.display()
            );
        }
    }
}

#[cfg(not(unix))]
fn warn_if_exposed(_path: &Path) {}

/// Where a command's server and token came from.
#[derive(Debug, Clone)]
pub struct Connection {
    pub url: String,
    pub token: String,
    /// The user the token belongs to, when the saved login knows it.
    pub username: Option<String>,
    /// The long-lived token the session `token` was exchanged for, if any.
    pub renewal: Option<String>,
}

/// Picks the server (`--server`/`TOLLGATE_URL`, else the saved current one) and the token
/// (`TOLLGATE_TOKEN`, else the one saved for that server).
pub fn resolve(server: Option<&str>) -> CliResult<Connection> {
    let env_token = std::env::var(TOKEN_ENV)
        .ok()
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty());
    let saved = Credentials::load()?;
    let url = match server {
        Some(s) => normalize_url(s).map_err(CliError::Usage)?,
        None => saved.current.clone().ok_or_else(|| {
            CliError::usage(
                "not logged in: run `tollgate login URL`, or set TOLLGATE_URL and TOLLGATE_TOKEN",
            )
        })?,
    };
    let entry = saved.servers.get(&url);
    match (env_token, entry) {
        (Some(token), _) => Ok(Connection {
            url,
            token,
            username: None,
            renewal: None,
        }),
        (None, Some(s)) => Ok(Connection {
            url,
            token: s.token.clone(),
            username: s.username.clone(),
            renewal: s.renewal.clone(),
        }),
        (None, None) => Err(CliError::usage(format!(
            "not logged in to {url}: run `tollgate login {url}`, or set TOLLGATE_TOKEN"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Credentials {
        let mut c = Credentials {
            current: Some("http://a".into()),
            ..Default::default()
        };
        let saved = Saved {
            token: "tg_secret".into(),
            username: Some("alice".into()),
            kind: Some("session".into()),
            token_id: None,
            expires_at: None,
            renewal: None,
        };
        c.servers.insert("http://a".into(), saved);
        c
    }

    #[test]
    fn round_trips_with_mode_0600() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested").join(FILE_NAME);
        assert_eq!(
            Credentials::load_from(&path).unwrap(),
            Credentials::default()
        );
        let c = sample();
        c.save_to(&path).unwrap();
        assert_eq!(Credentials::load_from(&path).unwrap(), c);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                fs::metadata(&path).unwrap().permissions().mode() & 0o777,
                0o600
            );
            assert_eq!(
                fs::metadata(path.parent().unwrap())
                    .unwrap()
                    .permissions()
                    .mode()
                    & 0o777,
                0o700
            );
            // A file loosened by hand is tightened again on the next save.
            fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
            c.save_to(&path).unwrap();
            assert_eq!(
                fs::metadata(&path).unwrap().permissions().mode() & 0o777,
                0o600
            );
        }
        assert_eq!(
            fs::read_dir(path.parent().unwrap()).unwrap().count(),
            1,
            "no temporary file left behind"
        );
    }

    #[test]
    fn damaged_files_are_reported_and_tokens_never_shown() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE_NAME);
        fs::write(&path, "{not json").unwrap();
        assert_eq!(Credentials::load_from(&path).unwrap_err().exit_code(), 2);
        assert!(!format!("{:?}", sample()).contains("tg_secret"));
    }
}
