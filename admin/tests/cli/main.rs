//! The `tollgate` command line, run as a real process against a real admin on SQLite:
//! logging in (password, token, token file), the whole token lifecycle, users, profile and
//! audit, JSON output, exit codes (0 success, 1 refused by the server, 2 usage error), and
//! the credentials file's mode.

mod login;
mod support;
mod tokens;
mod users;
