//! `tollgate serve`: runs the admin service until SIGTERM or Ctrl-C. Every setting is an option
//! read from its `TOLLGATE_*` variable (clap's `env`), so `tollgate serve --help` lists them all
//! with their defaults; `config::Settings::from_lookup` parses and checks them.

use std::process::ExitCode;

use clap::Args;

use tollgate_admin::config::Settings;
use tollgate_admin::server;

/// Options of `tollgate serve`: each one also read from its `TOLLGATE_*` variable.
#[derive(Debug, Args)]
#[command(next_help_heading = "Settings (options or TOLLGATE_* variables)")]
pub struct ServeArgs {
    /// Store: `sqlite://FILE` (created on first start) or `postgres://...`.
    #[arg(long, env = "TOLLGATE_DATABASE_URL", default_value = tollgate_admin::config::DEFAULT_DATABASE_URL, value_name = "URL")]
    pub database_url: String,
    /// Keyring `id:base64key,...`; the first entry signs (make one with `tollgate keys generate`;
    /// prefer the variable or a file: arguments are visible to other local users).
    #[arg(
        long,
        env = "TOLLGATE_KEYS",
        hide_env_values = true,
        value_name = "KEYS"
    )]
    pub keys: Option<String>,
    /// File holding the keyring, instead of TOLLGATE_KEYS.
    #[arg(long, env = "TOLLGATE_KEYS_FILE", value_name = "PATH")]
    pub keys_file: Option<String>,
    /// Address to listen on.
    #[arg(long, env = "TOLLGATE_LISTEN", default_value = tollgate_admin::config::DEFAULT_LISTEN, value_name = "HOST:PORT")]
    pub listen: String,
    /// Prefix of minted tokens (1-8 of a-z 0-9).
    #[arg(long, env = "TOLLGATE_TOKEN_PREFIX", default_value = tollgate_shared::DEFAULT_PREFIX, value_name = "PREFIX")]
    pub token_prefix: String,
    /// Lifetime of a token created without an expiry.
    #[arg(
        long,
        env = "TOLLGATE_DEFAULT_TTL",
        default_value = "30d",
        value_name = "DURATION"
    )]
    pub default_ttl: String,
    /// Longest lifetime accepted (longer is refused, not clipped).
    #[arg(
        long,
        env = "TOLLGATE_MAX_TTL",
        default_value = "90d",
        value_name = "DURATION"
    )]
    pub max_ttl: String,
    /// Lifetime of a login session token.
    #[arg(
        long,
        env = "TOLLGATE_SESSION_TTL",
        default_value = "12h",
        value_name = "DURATION"
    )]
    pub session_ttl: String,
    /// A login session this recent may make a token that outlives it.
    #[arg(
        long,
        env = "TOLLGATE_REAUTH_WINDOW",
        default_value = "10m",
        value_name = "DURATION"
    )]
    pub reauth_window: String,
    /// `false` closes the token API to everyone but admins (who reopen it with PATCH /api/v1/settings).
    #[arg(
        long,
        env = "TOLLGATE_TOKEN_CREATION",
        default_value = "true",
        value_name = "BOOL"
    )]
    pub token_creation: String,
    /// Who makes tokens for themselves: `everyone` (every active person) or `token_creator`.
    #[arg(
        long,
        env = "TOLLGATE_PERSONAL_TOKENS",
        default_value = "everyone",
        value_name = "WHO"
    )]
    pub personal_tokens: String,
    /// `username:password` of the first admin, created on an empty store [default: `admin` with a random password printed once]
    #[arg(
        long,
        env = "TOLLGATE_BOOTSTRAP_ADMIN",
        hide_env_values = true,
        value_name = "USER:PASSWORD"
    )]
    pub bootstrap_admin: Option<String>,
    /// Request bodies over this many bytes answer 413.
    #[arg(
        long,
        env = "TOLLGATE_MAX_BODY_BYTES",
        default_value = "65536",
        value_name = "BYTES"
    )]
    pub max_body_bytes: String,
    /// Requests taking longer answer 503.
    #[arg(
        long,
        env = "TOLLGATE_REQUEST_TIMEOUT",
        default_value = "30s",
        value_name = "DURATION"
    )]
    pub request_timeout: String,
    /// How often the revocation list is compacted.
    #[arg(
        long,
        env = "TOLLGATE_LIST_MAINTENANCE_INTERVAL",
        default_value = "30s",
        value_name = "DURATION"
    )]
    pub list_maintenance_interval: String,
    /// How far back `?since=` deltas of the list reach.
    #[arg(
        long,
        env = "TOLLGATE_LIST_DELTA_RETENTION",
        default_value = "7d",
        value_name = "DURATION"
    )]
    pub list_delta_retention: String,
    /// Login attempts per user name in the window before logins for it answer 429.
    #[arg(
        long,
        env = "TOLLGATE_LOGIN_ATTEMPTS",
        default_value = "10",
        value_name = "COUNT"
    )]
    pub login_attempts: String,
    /// Failed login attempts per source address in the window before logins from it answer 429.
    #[arg(
        long,
        env = "TOLLGATE_LOGIN_SOURCE_ATTEMPTS",
        default_value = "100",
        value_name = "COUNT"
    )]
    pub login_source_attempts: String,
    /// The window login attempts are counted in (per replica).
    #[arg(
        long,
        env = "TOLLGATE_LOGIN_WINDOW",
        default_value = "15m",
        value_name = "DURATION"
    )]
    pub login_window: String,
    /// Log lines as `text` or `json` (one object per line).
    #[arg(
        long,
        env = "TOLLGATE_LOG_FORMAT",
        default_value = "text",
        value_name = "FORMAT"
    )]
    pub log_format: String,
    /// Which log lines to write (RUST_LOG syntax) [default: info,sqlx=warn]
    #[arg(long, env = "TOLLGATE_LOG", value_name = "FILTER")]
    pub log: Option<String>,
}

impl ServeArgs {
    /// The value given for the setting read from variable `name`, as `Settings::from_lookup`
    /// asks for it.
    pub fn lookup(&self, name: &str) -> Option<String> {
        let value: Option<&String> = match name {
            "TOLLGATE_DATABASE_URL" => Some(&self.database_url),
            "TOLLGATE_KEYS" => self.keys.as_ref(),
            "TOLLGATE_KEYS_FILE" => self.keys_file.as_ref(),
            "TOLLGATE_LISTEN" => Some(&self.listen),
            "TOLLGATE_TOKEN_PREFIX" => Some(&self.token_prefix),
            "TOLLGATE_DEFAULT_TTL" => Some(&self.default_ttl),
            "TOLLGATE_MAX_TTL" => Some(&self.max_ttl),
            "TOLLGATE_SESSION_TTL" => Some(&self.session_ttl),
            "TOLLGATE_REAUTH_WINDOW" => Some(&self.reauth_window),
            "TOLLGATE_TOKEN_CREATION" => Some(&self.token_creation),
            "TOLLGATE_PERSONAL_TOKENS" => Some(&self.personal_tokens),
            "TOLLGATE_BOOTSTRAP_ADMIN" => self.bootstrap_admin.as_ref(),
            "TOLLGATE_MAX_BODY_BYTES" => Some(&self.max_body_bytes),
            "TOLLGATE_REQUEST_TIMEOUT" => Some(&self.request_timeout),
            "TOLLGATE_LIST_MAINTENANCE_INTERVAL" => Some(&self.list_maintenance_interval),
            "TOLLGATE_LIST_DELTA_RETENTION" => Some(&self.list_delta_retention),
            "TOLLGATE_LOGIN_ATTEMPTS" => Some(&self.login_attempts),
            "TOLLGATE_LOGIN_SOURCE_ATTEMPTS" => Some(&self.login_source_attempts),
            "TOLLGATE_LOGIN_WINDOW" => Some(&self.login_window),
            "TOLLGATE_LOG_FORMAT" => Some(&self.log_format),
            "TOLLGATE_LOG" => self.log.as_ref(),
            _ => None,
        };
        value.cloned()
    }
}

/// Runs the server.
pub fn run(args: ServeArgs) -> ExitCode {
    let settings = match Settings::from_lookup(|name| args.lookup(name)) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("tollgate: {e}");
            return ExitCode::from(2);
        }
    };
    tollgate_admin::logging::init(settings.log_format, args.log.as_deref());
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("tollgate: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(server::run(settings, server::shutdown_signal())) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tollgate: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::{CommandFactory, Parser};

    use crate::{Cli, Command};
    use tollgate_admin::config::Settings;

    /// The variables `Settings::from_lookup` reads, from its source (in the same workspace).
    fn variables() -> Vec<String> {
        let source = include_str!("../../admin/src/config.rs").to_owned()
            + include_str!("../../admin/src/logging.rs");
        let mut vars: Vec<String> = source
            .split('"')
            .filter(|s| {
                s.starts_with("TOLLGATE_") && s.bytes().all(|b| b.is_ascii_uppercase() || b == b'_')
            })
            .map(str::to_owned)
            .collect();
        vars.sort();
        vars.dedup();
        vars
    }

    #[test]
    fn help_lists_every_setting() {
        let help = Cli::command()
            .find_subcommand_mut("serve")
            .expect("serve")
            .render_long_help()
            .to_string();
        let vars = variables();
        assert!(vars.len() >= 20, "{vars:?}");
        for var in vars {
            assert!(
                help.contains(&format!("[env: {var}")),
                "{var} missing from:\n{help}"
            );
        }
        assert!(help.contains("[default: 90d]"), "{help}");
    }

    #[test]
    fn the_defaults_are_the_settings_defaults() {
        let keys = tollgate_shared::generate_entry("k1").expect("random key");
        let cli = Cli::try_parse_from(["tollgate", "serve", "--keys", &keys]);
        let Ok(Cli {
            command: Command::Serve(args),
        }) = cli
        else {
            panic!("serve parses");
        };
        if std::env::vars()
            .any(|(k, _)| k.starts_with("TOLLGATE_") && k != "TOLLGATE_TEST_DATABASE_URL")
        {
            return; // the environment sets some settings: the defaults are not in force
        }
        let parsed = Settings::from_lookup(|name| args.lookup(name)).expect("defaults parse");
        let defaults = Settings::new(parsed.database_url.clone(), parsed.keyring.clone());
        assert_eq!(format!("{parsed:?}"), format!("{defaults:?}"));
    }
}
