//! `tollgate keys generate`: prints a fresh keyring entry for `TOLLGATE_KEYS`.
//! `tollgate keys derive-origin`: prints the assertion keys an origin needs
//! (`TOLLGATE_ORIGIN_KEYS`), which check the edge's identity assertions and nothing else.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Subcommand;
use tollgate_shared::keyring::valid_key_id;
use tollgate_shared::{AssertionKeys, Keyring, generate_entry};

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
    /// Print the origin's assertion keys for TOLLGATE_ORIGIN_KEYS, derived from the keyring.
    ///
    /// An origin holding them can check the edge's X-Tollgate-Assertion header but can neither
    /// mint tokens nor sign revocation lists. Run it again after rotating the keyring.
    #[command(after_help = super::commands::KEYS_EXAMPLES)]
    DeriveOrigin {
        /// The keyring, `id:base64key,...` (prefer the variable: arguments show in `ps`).
        #[arg(
            long = "keys",
            env = "TOLLGATE_KEYS",
            hide_env_values = true,
            value_name = "KEYRING"
        )]
        keys: Option<String>,
        /// Read the keyring from this file instead (it wins over TOLLGATE_KEYS).
        #[arg(long, value_name = "PATH")]
        keys_file: Option<PathBuf>,
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
        KeysCommand::DeriveOrigin { keys, keys_file } => match load_keyring(keys, keys_file) {
            Ok(keyring) => {
                println!("{}", AssertionKeys::export(&keyring));
                ExitCode::SUCCESS
            }
            Err(message) => {
                eprintln!("tollgate: {message}");
                ExitCode::from(2)
            }
        },
    }
}

/// The keyring from `--keys-file`, else from `TOLLGATE_KEYS`. Errors name the source, never
/// its content.
fn load_keyring(keys: Option<String>, keys_file: Option<PathBuf>) -> Result<Keyring, String> {
    let (text, source) = match (keys_file, keys) {
        (Some(path), _) => {
            let text = std::fs::read_to_string(&path)
                .map_err(|e| format!("cannot read --keys-file {}: {e}", path.display()))?;
            (text, format!("--keys-file {}", path.display()))
        }
        (None, Some(text)) if !text.trim().is_empty() => (text, "TOLLGATE_KEYS".to_owned()),
        (None, _) => {
            return Err("no keyring: set TOLLGATE_KEYS or pass --keys-file PATH \
                 (the keyring the edge and the admin use)"
                .to_owned());
        }
    };
    Keyring::parse(&text).map_err(|e| format!("{source}: {e}"))
}

fn default_id() -> String {
    let d = time::OffsetDateTime::now_utc().date();
    format!("k{:04}{:02}{:02}", d.year(), u8::from(d.month()), d.day())
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
