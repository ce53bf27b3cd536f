//! The token subcommands that act on tokens already made — `describe`, `roles`, `edit`,
//! `revoke`, `regenerate`, `delete` — each on tokens named by name, id or id prefix
//! ([`super::refs`]), several at once where it makes sense.

use clap::Args;
use serde_json::{Value, json};

use super::commands::Session;
use super::errors::{CliError, CliResult};
use super::output::{Table, utc};
use super::prompt::confirm;
use super::records::{Describe, decode};
use super::refs::{Target, resolve, split};
use super::token::{Expiry, grace_arg, print_minted};
use tollgate_api::tokens::{Empty, PatchToken, Regenerate, TokenRecord};

/// Tokens named on the command line, and whose names they are.
#[derive(Debug, Args)]
pub struct Picked {
    /// Tokens: names, ids or id prefixes of 8+ hexadecimal digits (spaces and newlines also
    /// separate them, so `"$(tollgate token list --quiet)"` names every listed token).
    #[arg(required = true, value_name = "TOKEN")]
    pub tokens: Vec<String>,
    /// Whose token names these are [default: yours].
    #[arg(short, long, value_name = "USER")]
    pub user: Option<String>,
}

impl Picked {
    /// The tokens named, found on the server.
    fn resolve(&self, session: &Session) -> CliResult<Vec<Target>> {
        resolve(session, self.user.as_deref(), &split(&self.tokens)?)
    }
}

/// Options of `tollgate token revoke` and `tollgate token delete`.
#[derive(Debug, Args)]
pub struct Irreversible {
    #[command(flatten)]
    pub picked: Picked,
    /// Go ahead without asking (needed when there is no terminal to ask on).
    #[arg(short, long)]
    pub yes: bool,
}

/// Options of `tollgate token edit`.
#[derive(Debug, Args)]
pub struct EditArgs {
    #[command(flatten)]
    pub picked: Picked,
    /// New description.
    #[arg(short, long)]
    pub description: Option<String>,
    #[command(flatten)]
    pub expiry: Expiry,
    /// Enable a disabled token.
    #[arg(long, conflicts_with = "disable")]
    pub enable: bool,
    /// Disable the token: refused until enabled again.
    #[arg(long)]
    pub disable: bool,
}

/// Options of `tollgate token regenerate`.
#[derive(Debug, Args)]
pub struct RegenerateArgs {
    #[command(flatten)]
    pub picked: Picked,
    /// How long the old token keeps working, such as 30m or 24h (at most 7d) [default: 0, it stops now]
    #[arg(long, value_name = "DURATION", value_parser = grace_arg)]
    pub grace: Option<u64>,
    #[command(flatten)]
    pub expiry: Expiry,
}

fn path(t: &Target) -> String {
    format!("/api/v1/tokens/{}", t.id)
}

/// Runs `act` on every target, going on past failures. Text is printed as it goes; JSON
/// output is the one answer, or an array of them for several tokens. A failure on the only
/// token is its own error; failures among several are summed up (exit 1 either way).
fn each(
    session: &Session,
    targets: &[Target],
    mut act: impl FnMut(&Target) -> CliResult<Value>,
) -> CliResult {
    let me = session.username().unwrap_or_default();
    let mut answers = Vec::new();
    let mut failed = Vec::new();
    for t in targets {
        match act(t) {
            Ok(v) => answers.push(v),
            Err(e) if targets.len() == 1 => return Err(e),
            Err(e) => {
                eprintln!("tollgate: {}: {e}", t.label(&me));
                failed.push(t.label(&me));
            }
        }
    }
    if session.json() {
        match answers.pop() {
            Some(one) if targets.len() == 1 => session.print(&one),
            last => {
                answers.extend(last);
                session.print(&Value::Array(answers));
            }
        }
    }
    if failed.is_empty() {
        Ok(())
    } else {
        Err(CliError::Local(format!(
            "{} of {} tokens failed: {}",
            failed.len(),
            targets.len(),
            failed.join(", ")
        )))
    }
}

/// Asks before revoking or deleting; `Ok(false)` if the person said no.
fn ask(session: &Session, verb: &str, targets: &[Target], yes: bool) -> CliResult<bool> {
    let me = session.username().unwrap_or_default();
    let labels: Vec<String> = targets.iter().map(|t| t.label(&me)).collect();
    let what = match targets.len() {
        1 => format!("token {}", labels.join("")),
        n => format!("{n} tokens: {}", labels.join(", ")),
    };
    let question = format!("{verb} {what}? This cannot be undone.");
    let go = confirm(&question, yes)?;
    if !go {
        eprintln!("Nothing was changed.");
    }
    Ok(go)
}

/// `tollgate token describe`.
pub fn describe(session: &Session, picked: &Picked) -> CliResult {
    let targets = picked.resolve(session)?;
    let records: Vec<Value> = targets.into_iter().map(|t| t.record).collect();
    if session.json() {
        session.print(&Value::Array(records));
        return Ok(());
    }
    let blocks: Vec<String> = records
        .iter()
        .map(|r| decode::<TokenRecord>(r, session.client.base()).map(|v| v.describe()))
        .collect::<Result<_, _>>()?;
    print!("{}", blocks.join("\n"));
    Ok(())
}

/// `tollgate token roles`: one token's roles, and who granted them when. A token's roles are
/// fixed when it is made, so each was granted by its creator at its creation.
pub fn roles(session: &Session, token: &str, user: Option<&str>) -> CliResult {
    let targets = resolve(session, user, &[token.to_owned()])?;
    for t in &targets {
        let view: TokenRecord = decode(&t.record, session.client.base())?;
        if session.json() {
            session.print(&json!({
                "id": view.id,
                "name": view.name,
                "roles": view.roles,
                "granted_by": view.created_by,
                "granted_at": view.created_at,
            }));
        } else {
            let mut table = Table::new(&["ROLE", "GRANTED BY", "GRANTED AT"]);
            for r in &view.roles {
                table.row(vec![
                    r.clone(),
                    view.created_by.clone(),
                    utc(Some(&view.created_at)),
                ]);
            }
            table.print();
        }
    }
    Ok(())
}

/// `tollgate token edit`: the same change to every token named.
pub fn edit(session: &Session, a: EditArgs) -> CliResult {
    let (expires_at, ttl_seconds) = a.expiry.fields();
    let body = PatchToken {
        description: a.description,
        expires_at,
        ttl_seconds,
        enabled: (a.enable || a.disable).then_some(a.enable),
    };
    if serde_json::to_value(&body).is_ok_and(|v| v == json!({})) {
        return Err(CliError::usage(
            "nothing to change: give --description, an expiry, --enable or --disable",
        ));
    }
    let targets = a.picked.resolve(session)?;
    each(session, &targets, |t| {
        let record = session.client.patch(&path(t), &body)?;
        if !session.json() {
            print!(
                "{}",
                decode::<TokenRecord>(&record, session.client.base())?.describe()
            );
        }
        Ok(record)
    })
}

/// `tollgate token revoke`.
pub fn revoke(session: &Session, a: Irreversible) -> CliResult {
    let targets = a.picked.resolve(session)?;
    if !ask(session, "Revoke", &targets, a.yes)? {
        return Ok(());
    }
    each(session, &targets, |t| {
        let record = session
            .client
            .post(&format!("{}/revoke", path(t)), &Empty {})?;
        if !session.json() {
            let v: TokenRecord = decode(&record, session.client.base())?;
            println!(
                "Revoked token {} ({:?}) at {}.",
                v.id,
                v.name,
                utc(v.revoked_at.as_deref())
            );
        }
        Ok(record)
    })
}

/// `tollgate token regenerate`: a new text for every token named.
pub fn regenerate(session: &Session, a: RegenerateArgs) -> CliResult {
    let (expires_at, ttl_seconds) = a.expiry.fields();
    let body = Regenerate {
        grace_seconds: a.grace,
        expires_at,
        ttl_seconds,
    };
    let targets = a.picked.resolve(session)?;
    let json = session.json();
    each(session, &targets, |t| {
        let answer = session
            .client
            .post(&format!("{}/regenerate", path(t)), &body)?;
        if !json {
            let previous: TokenRecord = decode(
                answer.get("previous").unwrap_or(&Value::Null),
                session.client.base(),
            )?;
            let when = match previous.grace_until.as_deref() {
                Some(g) => format!("at {}", utc(Some(g))),
                None => "now".to_owned(),
            };
            eprintln!("The old token {} stops working {when}.", previous.id);
            print_minted(session, &answer, "Regenerated")?;
        }
        Ok(answer)
    })?;
    if json {
        eprintln!("These tokens will not be shown again: copy them somewhere safe now.");
    }
    Ok(())
}

/// `tollgate token delete`.
pub fn delete(session: &Session, a: Irreversible) -> CliResult {
    let targets = a.picked.resolve(session)?;
    if !ask(session, "Delete", &targets, a.yes)? {
        return Ok(());
    }
    each(session, &targets, |t| {
        session.client.delete(&path(t))?;
        if !session.json() {
            println!("Deleted token {} ({:?}).", t.id, t.name);
        }
        Ok(json!({ "id": t.id, "deleted": true }))
    })
}
