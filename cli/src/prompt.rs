//! Reading passwords and names safely: from standard input (`--password-stdin`), or by a
//! prompt without echo when, and only when, standard input is a terminal. Without a terminal
//! nothing waits for input that will never come: the command stops with a usage error.

use std::io::{BufRead, IsTerminal, Read, Write};

use super::errors::{CliError, CliResult};

/// Longest secret accepted from standard input.
const MAX_SECRET: u64 = 64 * 1024;

/// Reads a secret from all of standard input, without its trailing newline.
pub fn secret_from_stdin(what: &str) -> CliResult<String> {
    let mut text = String::new();
    std::io::stdin()
        .lock()
        .take(MAX_SECRET)
        .read_to_string(&mut text)
        .map_err(|e| CliError::usage(format!("cannot read the {what} from standard input: {e}")))?;
    let text = text
        .strip_suffix('\n')
        .map(|t| t.strip_suffix('\r').unwrap_or(t))
        .unwrap_or(&text);
    if text.is_empty() {
        return Err(CliError::usage(format!("standard input held no {what}")));
    }
    Ok(text.to_owned())
}

fn need_terminal(what: &str, flag: &str) -> CliResult {
    if std::io::stdin().is_terminal() {
        Ok(())
    } else {
        Err(CliError::usage(format!(
            "no terminal to ask for the {what}: use {flag}"
        )))
    }
}

/// Asks for a secret on the terminal without echo; `flag` is the alternative named when
/// there is no terminal.
pub fn secret(prompt: &str, what: &str, flag: &str) -> CliResult<String> {
    need_terminal(what, flag)?;
    let text = rpassword::prompt_password(prompt).map_err(|e| {
        CliError::usage(format!(
            "cannot read the {what} from the terminal ({e}): use {flag}"
        ))
    })?;
    if text.is_empty() {
        return Err(CliError::usage(format!("no {what} given")));
    }
    Ok(text)
}

/// Asks for a new secret twice on the terminal; both must match.
pub fn new_secret(what: &str, flag: &str) -> CliResult<String> {
    let first = secret(&format!("New {what}: "), what, flag)?;
    let again = secret(&format!("Repeat the {what}: "), what, flag)?;
    if first != again {
        return Err(CliError::usage(format!("the two {what}s differ")));
    }
    Ok(first)
}

/// Asks for one line of visible text on the terminal.
pub fn line(prompt: &str, what: &str, flag: &str) -> CliResult<String> {
    need_terminal(what, flag)?;
    eprint!("{prompt}");
    let _ = std::io::stderr().flush();
    let mut text = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut text)
        .map_err(|e| CliError::usage(format!("cannot read the {what}: {e}")))?;
    let text = text.trim();
    if text.is_empty() {
        return Err(CliError::usage(format!("no {what} given")));
    }
    Ok(text.to_owned())
}

/// Asks before an irreversible action: with `yes` it goes ahead; on a terminal it asks
/// `question` and goes ahead on `y` or `yes`; without a terminal it refuses (a usage error,
/// exit 2) rather than act unasked. `Ok(false)` means the person said no.
pub fn confirm(question: &str, yes: bool) -> CliResult<bool> {
    if yes {
        return Ok(true);
    }
    if !std::io::stdin().is_terminal() {
        return Err(CliError::usage(format!(
            "{question} There is no terminal to ask on: pass --yes to go ahead"
        )));
    }
    eprint!("{question} [y/N] ");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut answer)
        .map_err(|e| CliError::usage(format!("cannot read the answer: {e}")))?;
    Ok(matches!(
        answer.trim().to_ascii_lowercase().as_str(),
        "y" | "yes"
    ))
}
