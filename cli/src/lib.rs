//! # tollgate-cli
//!
//! The `tollgate` command. Client commands talk to a running admin over HTTP with the request
//! and response types of `tollgate-api`; `keys` manages signing keys; `serve` (the default
//! `serve` feature) runs the admin service from `tollgate-admin`. Without that feature the
//! binary links neither axum nor sqlx.
#![forbid(unsafe_code)]

pub mod audit;
pub mod client;
pub mod commands;
pub mod completions;
pub mod credentials;
pub mod errors;
pub mod keys;
pub mod login;
pub mod output;
pub mod profile;
pub mod prompt;
pub mod records;
pub mod refs;
#[cfg(feature = "serve")]
pub mod serve;
pub mod token;
pub mod token_actions;
pub mod token_usage;
pub mod user;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Tollgate: access tokens, their lifecycle, and the revocation list the edge enforces.
#[derive(Debug, Parser)]
#[command(name = "tollgate", version, about, propagate_version = true, after_help = commands::TOUR)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the admin service (settings from options or TOLLGATE_* environment variables).
    #[cfg(feature = "serve")]
    #[command(after_help = commands::SERVE_EXAMPLES)]
    Serve(Box<serve::ServeArgs>),
    /// Signing keys.
    #[command(subcommand, after_help = commands::KEYS_EXAMPLES)]
    Keys(keys::KeysCommand),
    #[command(flatten)]
    Client(commands::ClientCommand),
}

/// Parses the command line and runs the command; the process's exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        #[cfg(feature = "serve")]
        Command::Serve(args) => serve::run(*args),
        Command::Keys(cmd) => keys::run(cmd),
        Command::Client(cmd) => {
            // A client command whose reader goes away (`tollgate token list | head -1`) ends
            // quietly, as other Unix tools do. Never for `serve`: a client closing its connection
            // must not stop the server.
            sigpipe::reset();
            commands::run(cmd)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn command_line_is_consistent() {
        Cli::command().debug_assert();
        let cli = Cli::try_parse_from(["tollgate", "keys", "generate", "--id", "k2"]).unwrap();
        assert!(
            matches!(cli.command, Command::Keys(keys::KeysCommand::Generate { ref id }) if id.as_deref() == Some("k2"))
        );
        #[cfg(feature = "serve")]
        {
            let cli =
                Cli::try_parse_from(["tollgate", "serve", "--listen", "127.0.0.1:0"]).unwrap();
            assert!(matches!(cli.command, Command::Serve(ref a) if a.listen == "127.0.0.1:0"));
        }
        assert!(Cli::try_parse_from(["tollgate", "frobnicate"]).is_err());
    }
}
