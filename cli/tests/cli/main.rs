//! The `tollgate` command line, run as a real process against a real admin on SQLite:
//! logging in (password, token, token file), the whole token lifecycle, users, profile and
//! audit, JSON output, exit codes (0 success, 1 refused by the server, 2 usage error), and
//! the credentials file's mode.

mod login;
mod names;
mod support;
mod tokens;
mod users;

/// A reader that goes away (`tollgate ... | head -1`) ends a client command quietly: no panic
/// about a broken pipe, as other Unix tools.
#[test]
fn a_closed_pipe_ends_quietly() {
    use std::io::Read as _;
    use std::os::unix::process::ExitStatusExt as _;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_tollgate"))
        .args(["completions", "bash"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    let status = child.wait().unwrap();
    assert!(!err.contains("panicked"), "{err}");
    assert_ne!(status.code(), Some(101), "{err}");
    assert!(
        status.success() || status.signal() == Some(13),
        "{status:?}"
    );
}
