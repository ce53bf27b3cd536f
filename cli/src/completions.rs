//! `tollgate completions SHELL`: prints a completion script for the whole command line.

use clap::{Args, CommandFactory};
use clap_complete::Shell;

use super::Cli;
use super::errors::CliResult;

/// Examples for `tollgate completions`.
pub const EXAMPLES: &str = "\
Examples:
  tollgate completions bash > ~/.local/share/bash-completion/completions/tollgate
  tollgate completions zsh > \"${fpath[1]}/_tollgate\"
  tollgate completions fish > ~/.config/fish/completions/tollgate.fish";

/// Options of `tollgate completions`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: Shell,
}

/// Runs `tollgate completions`.
pub fn run(args: CompletionsArgs) -> CliResult {
    let mut command = Cli::command();
    clap_complete::generate(args.shell, &mut command, "tollgate", &mut std::io::stdout());
    Ok(())
}
