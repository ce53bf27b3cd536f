//! Why a client command failed, and the exit code each reason maps to:
//! 1 when the server refused (or could not be reached), 2 for a usage error.

use std::process::ExitCode;

use super::client::ClientError;

/// Exit code for a refused or failed operation.
pub const EXIT_FAILED: u8 = 1;
/// Exit code for a usage error (bad arguments, not logged in, unreadable input).
pub const EXIT_USAGE: u8 = 2;

/// A client command's failure. Messages never hold token text or passwords.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The command cannot run as given.
    #[error("{0}")]
    Usage(String),
    /// The server refused, or could not be reached.
    #[error(transparent)]
    Client(#[from] ClientError),
    /// A local step failed after the command was understood (e.g. writing the credentials file).
    #[error("{0}")]
    Local(String),
}

impl CliError {
    /// A usage error.
    pub fn usage(message: impl Into<String>) -> Self {
        CliError::Usage(message.into())
    }

    /// The process exit code for this failure.
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Usage(_) => EXIT_USAGE,
            CliError::Client(_) | CliError::Local(_) => EXIT_FAILED,
        }
    }

    /// Prints the failure to stderr (with a hint for expired logins) and returns the exit code.
    pub fn report(&self) -> ExitCode {
        eprintln!("tollgate: {self}");
        if let CliError::Client(ClientError::Refused { status: 401, .. }) = self {
            eprintln!("hint: log in again with `tollgate login URL`, or check TOLLGATE_TOKEN");
        }
        ExitCode::from(self.exit_code())
    }
}

/// Result of a client command.
pub type CliResult<T = ()> = Result<T, CliError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes() {
        assert_eq!(CliError::usage("x").exit_code(), 2);
        assert_eq!(CliError::Local("x".into()).exit_code(), 1);
        let refused = ClientError::Refused {
            status: 409,
            code: "already_revoked".into(),
            message: "m".into(),
        };
        let e = CliError::from(refused);
        assert_eq!(e.exit_code(), 1);
        assert_eq!(e.to_string(), "already_revoked: m (HTTP 409)");
    }
}
