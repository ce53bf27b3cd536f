//! `tollgate login` and `tollgate logout`: getting a token for a server and saving it, or
//! forgetting it.

use std::path::PathBuf;

use clap::Args;

use super::client::{Client, ClientError, normalize_url};
use super::credentials::{Credentials, Saved};
use super::errors::{CliError, CliResult};
use super::output::utc;
use super::prompt;
use super::records::decode;
use tollgate_api::sessions::{Login, Me};
use tollgate_api::tokens::{Empty, TokenRecord};

/// Examples for `tollgate login`.
pub const LOGIN_EXAMPLES: &str = "\
Examples:
  tollgate login http://127.0.0.1:8080                  # asks for user name and password
  tollgate login http://127.0.0.1:8080 --username alice --password-stdin < password.txt
  tollgate login https://tollgate.example.com --token-file ~/.tollgate-token
  printf %s \"$CI_TOKEN\" | tollgate login https://tollgate.example.com --token-file -";

/// Examples for `tollgate logout`.
pub const LOGOUT_EXAMPLES: &str = "\
Examples:
  tollgate logout                               # the server you last logged in to
  tollgate logout https://tollgate.example.com";

/// Options of `tollgate login`.
#[derive(Debug, Args)]
pub struct LoginArgs {
    /// Admin URL, e.g. http://127.0.0.1:8080
    #[arg(env = "TOLLGATE_URL", value_name = "URL")]
    pub url: String,
    /// User name (asked on the terminal when absent).
    #[arg(short, long, conflicts_with_all = ["token", "token_file"])]
    pub username: Option<String>,
    /// Read the password from standard input instead of asking on the terminal.
    #[arg(long, requires = "username")]
    pub password_stdin: bool,
    /// Log in with an existing token instead of a password (visible to other local users in
    /// the process list: prefer --token-file).
    #[arg(long, value_name = "TOKEN", conflicts_with = "token_file")]
    pub token: Option<String>,
    /// Log in with the token held in this file (`-`: standard input).
    #[arg(long, value_name = "PATH")]
    pub token_file: Option<PathBuf>,
}

/// Options of `tollgate logout`.
#[derive(Debug, Args)]
pub struct LogoutArgs {
    /// Admin URL [default: $TOLLGATE_URL, else the server you last logged in to]
    #[arg(env = "TOLLGATE_URL", value_name = "URL")]
    pub url: Option<String>,
}

fn read_token_file(path: &PathBuf) -> CliResult<String> {
    let text = if path.as_os_str() == "-" {
        prompt::secret_from_stdin("token")?
    } else {
        std::fs::read_to_string(path)
            .map_err(|e| CliError::usage(format!("cannot read {}: {e}", path.display())))?
    };
    let token = text.trim();
    if token.is_empty() {
        return Err(CliError::usage(format!(
            "{} holds no token",
            path.display()
        )));
    }
    if token.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(CliError::usage(format!(
            "{} must hold one token and nothing else",
            path.display()
        )));
    }
    Ok(token.to_owned())
}

/// Runs `tollgate login`.
pub fn login(args: LoginArgs) -> CliResult {
    let url = normalize_url(&args.url).map_err(CliError::Usage)?;
    let given = match (&args.token, &args.token_file) {
        (Some(t), _) if t.trim().is_empty() => return Err(CliError::usage("--token is empty")),
        (Some(t), _) => Some(t.trim().to_owned()),
        (None, Some(path)) => Some(read_token_file(path)?),
        (None, None) => None,
    };
    let saved = match given {
        Some(token) => with_token(&url, token)?,
        None => with_password(&url, &args)?,
    };
    let mut credentials = Credentials::load()?;
    let who = saved.username.clone().unwrap_or_default();
    let kind = saved.kind.clone().unwrap_or_default();
    let expires = utc(saved.expires_at.as_deref());
    credentials.servers.insert(url.clone(), saved);
    credentials.current = Some(url.clone());
    credentials.save()?;
    eprintln!("Logged in to {url} as {who} ({kind} token, expires {expires}).");
    Ok(())
}

/// Checks a token with `GET /api/v1/me`, exchanges it for a session and returns what to save:
/// the session, and the token to exchange again when the session ends (a session token given
/// here is saved as it is).
fn with_token(url: &str, token: String) -> CliResult<Saved> {
    let client = Client::new(url, Some(token.clone()))?;
    let me: Me = decode(&client.get("/api/v1/me", &[])?, url)?;
    if me.token.kind == "session" {
        // A session cannot be exchanged: it is saved as it is and ends when it ends.
        return Ok(Saved {
            token,
            username: Some(me.user.name),
            kind: Some(me.token.kind),
            token_id: Some(me.token.id),
            expires_at: Some(me.token.expires_at),
            renewal: None,
        });
    }
    let answer = client.post("/api/v1/sessions", &Empty {})?;
    let mut saved = session_of(url, &answer)?;
    saved.username = Some(me.user.name);
    saved.renewal = Some(token);
    Ok(saved)
}

/// The session a login or exchange answered (`{token, record}`), to save.
fn session_of(url: &str, answer: &serde_json::Value) -> Result<Saved, ClientError> {
    let token = answer
        .get("token")
        .and_then(|t| t.as_str())
        .map(str::to_owned)
        .ok_or_else(|| ClientError::BadAnswer {
            url: url.to_owned(),
            reason: "the answer holds no token".into(),
        })?;
    let record: TokenRecord = decode(
        answer.get("record").unwrap_or(&serde_json::Value::Null),
        url,
    )?;
    Ok(Saved {
        token,
        username: None,
        kind: Some(if record.kind.is_empty() {
            "session".to_owned()
        } else {
            record.kind
        }),
        token_id: Some(record.id),
        expires_at: Some(record.expires_at),
        renewal: None,
    })
}

/// Saves a session renewed from a saved token in place of the ended one; returns its text.
pub fn save_renewed(url: &str, answer: &serde_json::Value) -> Result<String, ClientError> {
    let fresh = session_of(url, answer)?;
    let unsaved = |e: CliError| ClientError::BadAnswer {
        url: url.to_owned(),
        reason: format!("the renewed session could not be saved: {e}"),
    };
    let mut credentials = Credentials::load().map_err(unsaved)?;
    if let Some(saved) = credentials.servers.get_mut(url) {
        saved.token = fresh.token.clone();
        saved.kind = fresh.kind;
        saved.token_id = fresh.token_id;
        saved.expires_at = fresh.expires_at;
        credentials.save().map_err(unsaved)?;
    }
    Ok(fresh.token)
}

/// Logs in with a user name and password and returns the session to save.
fn with_password(url: &str, args: &LoginArgs) -> CliResult<Saved> {
    let username = match &args.username {
        Some(u) => u.clone(),
        None => prompt::line(
            "Username: ",
            "user name",
            "--username NAME --password-stdin, or --token-file",
        )?,
    };
    let password = if args.password_stdin {
        prompt::secret_from_stdin("password")?
    } else {
        prompt::secret("Password: ", "password", "--password-stdin")?
    };
    let client = Client::new(url, None)?;
    let answer = client.post(
        "/api/v1/login",
        &Login {
            username: username.clone(),
            password,
        },
    )?;
    let mut saved = session_of(url, &answer)?;
    saved.username = Some(username);
    Ok(saved)
}

/// Runs `tollgate logout`: ends a login session on the server (a token given with `--token`
/// or `--token-file` is only forgotten, not revoked) and removes the saved credentials.
pub fn logout(args: LogoutArgs) -> CliResult {
    let mut credentials = Credentials::load()?;
    let url = match &args.url {
        Some(u) => normalize_url(u).map_err(CliError::Usage)?,
        None => credentials
            .current
            .clone()
            .ok_or_else(|| CliError::usage("not logged in to any server"))?,
    };
    let Some(saved) = credentials.servers.remove(&url) else {
        eprintln!("Not logged in to {url}.");
        return Ok(());
    };
    if saved.kind.as_deref() == Some("session") {
        let ended = Client::new(&url, Some(saved.token.clone()))
            .and_then(|c| c.post("/api/v1/logout", &Empty {}));
        match ended {
            Ok(_) | Err(ClientError::Refused { status: 401, .. }) => {}
            Err(e) => eprintln!(
                "tollgate: warning: could not end the session on the server ({e}); forgetting it here"
            ),
        }
    }
    if credentials.current.as_deref() == Some(url.as_str()) {
        credentials.current = None;
    }
    credentials.save()?;
    eprintln!("Logged out of {url}.");
    Ok(())
}
