//! `tollgate keys generate`: prints a fresh keyring entry for `TOLLGATE_KEYS`.

use std::process::ExitCode;

use clap::Subcommand;
use tollgate_shared::generate_entry;
use tollgate_shared::keyring::valid_key_id;

/// Key subcommands.
#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Print a new random key as `id:base64key` (put it first in TOLLGATE_KEYS to sign with it).
    #[command(after_help = super::commands::KEYS_EXAMPLES)]
    Generate {
        /// Key id (1-16 of A-Z a-z 0-9 . _ -); default `k` followed by today's date.
        #[arg(long)]
        id: Option<String>,
    },
}

/// Runs a key subcommand.
pub fn run(cmd: KeysCommand) -> ExitCode {
    match cmd {
        KeysCommand::Generate { id } => {
            let id = id.unwrap_or_else(default_id);
            if !valid_key_id(&id) {
                eprintln!("tollgate: invalid key id {id:?} (1-16 of A-Z a-z 0-9 . _ -)");
                return ExitCode::from(2);
            }
            match generate_entry(&id) {
                Ok(entry) => {
                    println!("{entry}");
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("tollgate: the system's random generator failed: {e}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}

fn default_id() -> String {
    let today = time::OffsetDateTime::from_unix_timestamp(crate::times::now())
        .map(|d| d.date())
        .ok();
    match today {
        Some(d) => format!("k{:04}{:02}{:02}", d.year(), u8::from(d.month()), d.day()),
        None => "k1".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_ids_are_valid() {
        let id = default_id();
        assert!(valid_key_id(&id) && id.len() == 9, "{id}");
    }
}
