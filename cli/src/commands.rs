//! The client subcommands of `tollgate`, which talk to a running admin over HTTP, and what
//! they share: the `--server` and `--output` options and an open [`Session`].

use std::process::ExitCode;

use clap::{Args, Subcommand};

use super::client::{Client, Renewal};
use super::credentials::{Connection, resolve};
use super::errors::CliResult;
use super::output::Format;
use super::records::decode;
use super::{audit, completions, login, profile, token, user};
use tollgate_api::sessions::Me;

/// The top-level help's closing text: a first session, exit codes, environment.
pub const TOUR: &str = "\
Getting started:
  export TOLLGATE_KEYS=$(tollgate keys generate)
  TOLLGATE_BOOTSTRAP_ADMIN='admin:correct horse battery' tollgate serve & sleep 1
  tollgate login http://127.0.0.1:8080 --username admin
  tollgate token create ci-deploy --ttl 12h
  tollgate token list
  tollgate token revoke \"$(tollgate token list --quiet)\"

Exit codes: 0 success; 1 the server refused (its error code and message are printed) or could
not be reached; 2 usage error. TOLLGATE_URL and TOLLGATE_TOKEN override the saved login (CI).";

/// Examples for `tollgate serve`.
pub const SERVE_EXAMPLES: &str = "\
Examples:
  TOLLGATE_KEYS=$(tollgate keys generate) tollgate serve
  TOLLGATE_KEYS_FILE=/etc/tollgate/keys TOLLGATE_DATABASE_URL=postgres://tollgate@db/tollgate tollgate serve --listen 0.0.0.0:8080";

/// Examples for `tollgate keys` and its subcommands.
pub const KEYS_EXAMPLES: &str = "\
Examples:
  tollgate keys generate
  tollgate keys generate --id k2026b          # then TOLLGATE_KEYS=NEW,OLD to rotate
  tollgate keys derive-origin                 # with TOLLGATE_KEYS set; the origin's TOLLGATE_ORIGIN_KEYS
  TOLLGATE_ORIGIN_KEYS=$(tollgate keys derive-origin --keys-file /etc/tollgate/keys) ./my-origin";

/// Options shared by every command that talks to an admin.
#[derive(Debug, Clone, Args)]
pub struct Common {
    /// Admin URL [default: the server you last logged in to]
    #[arg(
        long,
        visible_alias = "url",
        global = true,
        env = "TOLLGATE_URL",
        value_name = "URL"
    )]
    pub server: Option<String>,
    /// How to print records: columns for people (`table`, `wide`), or the server's records
    /// for scripts (`json`, `yaml`).
    #[arg(
        short,
        long,
        global = true,
        value_enum,
        default_value_t = Format::Table,
        value_name = "FORMAT",
        visible_short_alias = 't',
        visible_alias = "format-type"
    )]
    pub output: Format,
}

/// Client subcommands (flattened into the top-level `tollgate` command).
#[derive(Debug, Subcommand)]
pub enum ClientCommand {
    /// Log in to an admin (password, token or token file) and save the credentials for it.
    #[command(after_help = login::LOGIN_EXAMPLES)]
    Login(login::LoginArgs),
    /// Forget the saved credentials for a server, ending the login session on it.
    #[command(after_help = login::LOGOUT_EXAMPLES)]
    Logout(login::LogoutArgs),
    /// Create, list, inspect, change, revoke, regenerate and delete tokens.
    #[command(after_help = token::EXAMPLES)]
    Token(token::TokenArgs),
    /// Create, list, inspect and change users and service accounts.
    #[command(after_help = user::EXAMPLES)]
    User(user::UserArgs),
    /// Show who you are: user, roles, and the token in use.
    #[command(after_help = profile::EXAMPLES)]
    Profile(profile::ProfileArgs),
    /// Show the audit log, newest first (admins: everything; others: their own events).
    #[command(after_help = audit::EXAMPLES)]
    Audit(audit::AuditArgs),
    /// Print a shell completion script.
    #[command(after_help = completions::EXAMPLES)]
    Completions(completions::CompletionsArgs),
}

/// Runs a client subcommand; prints failures to stderr and returns the exit code
/// (0 success, 1 refused by the server or unreachable, 2 usage error).
pub fn run(cmd: ClientCommand) -> ExitCode {
    let result = match cmd {
        ClientCommand::Login(args) => login::login(args),
        ClientCommand::Logout(args) => login::logout(args),
        ClientCommand::Token(args) => token::run(args),
        ClientCommand::User(args) => user::run(args),
        ClientCommand::Profile(args) => profile::run(args),
        ClientCommand::Audit(args) => audit::run(args),
        ClientCommand::Completions(args) => completions::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => e.report(),
    }
}

/// A client bound to the chosen server and token, and the output format.
#[derive(Debug)]
pub struct Session {
    pub client: Client,
    pub connection: Connection,
    pub format: Format,
}

impl Session {
    /// Resolves the server and token (see [`resolve`]) and opens a client; after a login with
    /// a token, one that renews the session from that token when it ends.
    pub fn open(common: &Common) -> CliResult<Session> {
        let connection = resolve(common.server.as_deref())?;
        let mut client = Client::new(&connection.url, Some(connection.token.clone()))?;
        if let Some(token) = connection.renewal.clone() {
            client = client.with_renewal(Renewal {
                token,
                save: login::save_renewed,
            });
        }
        Ok(Session {
            client,
            connection,
            format: common.output,
        })
    }

    /// True for the formats meant for programs (`--output json` or `yaml`).
    pub fn json(&self) -> bool {
        self.format.machine()
    }

    /// True for `--output wide`.
    pub fn wide(&self) -> bool {
        self.format == Format::Wide
    }

    /// Prints a server record in the chosen machine format.
    pub fn print(&self, value: &serde_json::Value) {
        self.format.print(value);
    }

    /// `GET /api/v1/me`.
    pub fn me(&self) -> CliResult<Me> {
        let value = self.client.get("/api/v1/me", &[])?;
        Ok(decode(&value, self.client.base())?)
    }

    /// The caller's user name: from the saved login, else asked of the server.
    pub fn username(&self) -> CliResult<String> {
        match &self.connection.username {
            Some(u) => Ok(u.clone()),
            None => Ok(self.me()?.user.name),
        }
    }
}

/// Encodes one path segment (user names may hold `@`, `+` and `:`).
pub fn segment(text: &str) -> String {
    let mut out = String::new();
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every subcommand's help ends with examples.
    #[test]
    fn every_subcommand_has_examples() {
        use clap::CommandFactory;
        fn walk(cmd: &clap::Command, path: &str, missing: &mut Vec<String>) {
            for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
                let path = format!("{path} {}", sub.get_name());
                if !sub
                    .get_after_help()
                    .is_some_and(|h| h.to_string().contains("Examples:"))
                {
                    missing.push(path.clone());
                }
                walk(sub, &path, missing);
            }
        }
        let mut missing = Vec::new();
        walk(&super::super::Cli::command(), "tollgate", &mut missing);
        assert!(missing.is_empty(), "no examples in: {missing:?}");
    }

    #[test]
    fn segments_are_escaped() {
        assert_eq!(segment("ci-bot.1"), "ci-bot.1");
        assert_eq!(segment("a@b+c:d/e"), "a%40b%2Bc%3Ad%2Fe");
    }
}
