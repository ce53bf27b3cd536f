//! `tollgate token ...`: the token lifecycle against the admin's `/api/v1/tokens` API.

use clap::{Args, Subcommand};
use serde_json::{Map, Value, json};

use super::client::ClientError;
use super::commands::{Common, Session};
use super::errors::{CliError, CliResult};
use super::output::{Table, print_json, utc};
use super::records::{TokenView, decode, token_table};
use crate::times::{parse_duration, parse_time};

/// Examples for `tollgate token`.
pub const EXAMPLES: &str = "\
Examples:
  tollgate token create ci-deploy --ttl 12h --role deploy
  tollgate token list
  tollgate token describe 3f2a9c0e4b1d4e8f9a7b6c5d4e3f2a1b
  tollgate token revoke 3f2a9c0e4b1d4e8f9a7b6c5d4e3f2a1b";

const CREATE_EXAMPLES: &str = "\
Examples:
  tollgate token create laptop
  tollgate token create ci-deploy --description \"deploys from CI\" --ttl 12h --role deploy
  tollgate token create nightly --expires-at 2027-01-31 --user build-bot
  tollgate token create deploy --service-account ci-bot --role deploy   # makes ci-bot if missing
  TOKEN=$(tollgate token create ci --expires-in-days 7)          # the token alone on stdout
  tollgate token create ci -o json | jq -r .token";
const LIST_EXAMPLES: &str = "\
Examples:
  tollgate token list
  tollgate token list --revoked
  tollgate token list --all -o json          # admins: every user's tokens
  tollgate token list --user build-bot
  tollgate token list --quiet | xargs -n1 tollgate token revoke     # revoke all of yours";
const DESCRIBE_EXAMPLES: &str = "\
Examples:
  tollgate token describe 3f2a9c0e4b1d4e8f9a7b6c5d4e3f2a1b
  tollgate token describe ID1 ID2 -o json";
const ROLES_EXAMPLES: &str = "\
Examples:
  tollgate token roles 3f2a9c0e4b1d4e8f9a7b6c5d4e3f2a1b";
const EDIT_EXAMPLES: &str = "\
Examples:
  tollgate token edit ID --description \"deploys staging only\"
  tollgate token edit ID --expires-at 2026-12-31
  tollgate token edit ID --disable          # refused at the edge until --enable";
const REVOKE_EXAMPLES: &str = "\
Examples:
  tollgate token revoke 3f2a9c0e4b1d4e8f9a7b6c5d4e3f2a1b";
const REGENERATE_EXAMPLES: &str = "\
Examples:
  tollgate token regenerate ID                 # the old token stops now
  tollgate token regenerate ID --grace 24h     # the old token keeps working for a day";
const DELETE_EXAMPLES: &str = "\
Examples:
  tollgate token delete 3f2a9c0e4b1d4e8f9a7b6c5d4e3f2a1b";

/// `tollgate token` and its options.
#[derive(Debug, Args)]
pub struct TokenArgs {
    #[command(flatten)]
    pub common: Common,
    #[command(subcommand)]
    pub command: TokenCommand,
}

/// The token subcommands.
#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a token and print it once (it is never shown again).
    #[command(after_help = CREATE_EXAMPLES)]
    Create(CreateArgs),
    /// List tokens: yours by default, everyone's with --all (admins).
    #[command(after_help = LIST_EXAMPLES)]
    List(ListArgs),
    /// Show tokens in full.
    #[command(after_help = DESCRIBE_EXAMPLES)]
    Describe {
        /// Token ids (32 hexadecimal digits).
        #[arg(required = true, value_name = "ID")]
        ids: Vec<String>,
    },
    /// Show the roles a token carries.
    #[command(after_help = ROLES_EXAMPLES)]
    Roles {
        /// Token id.
        id: String,
    },
    /// Change a token's description, expiry or enabled state.
    #[command(after_help = EDIT_EXAMPLES)]
    Edit(EditArgs),
    /// Revoke a token now; it is refused everywhere once the edge has the new revocation list.
    #[command(after_help = REVOKE_EXAMPLES)]
    Revoke {
        /// Token id.
        id: String,
    },
    /// Replace a token by a new one with the same name and roles; print the new one once.
    #[command(after_help = REGENERATE_EXAMPLES)]
    Regenerate(RegenerateArgs),
    /// Revoke a token and remove it from lists.
    #[command(after_help = DELETE_EXAMPLES)]
    Delete {
        /// Token id.
        id: String,
    },
}

/// Parses a positive duration such as `90m`, `12h`, `30d` or `2w` (seconds without a unit).
pub fn duration_arg(text: &str) -> Result<u64, String> {
    parse_duration(text)
        .filter(|d| *d > 0)
        .ok_or_else(|| "expected a positive duration such as 90m, 12h, 30d or 2w".into())
}

fn grace_arg(text: &str) -> Result<u64, String> {
    parse_duration(text).ok_or_else(|| "expected a duration such as 0, 90m, 24h or 2d".into())
}

/// Checks a date (`YYYY-MM-DD`) or RFC 3339 time and keeps its text.
pub fn time_arg(text: &str) -> Result<String, String> {
    parse_time(text)
        .map(|_| text.trim().to_owned())
        .map_err(|e| e.to_string())
}

/// One way to give an expiry.
#[derive(Debug, Args)]
#[group(multiple = false)]
pub struct Expiry {
    /// Expiry as a date (YYYY-MM-DD, midnight UTC) or an RFC 3339 time.
    #[arg(long, value_name = "DATE", value_parser = time_arg)]
    pub expires_at: Option<String>,
    /// Lifetime in days from now.
    #[arg(long, value_name = "DAYS", value_parser = clap::value_parser!(u32).range(1..=36_500))]
    pub expires_in_days: Option<u32>,
    /// Lifetime from now, such as 90m, 12h, 30d or 2w.
    #[arg(long, value_name = "DURATION", value_parser = duration_arg)]
    pub ttl: Option<u64>,
}

impl Expiry {
    /// True if an expiry was given.
    pub fn given(&self) -> bool {
        self.expires_at.is_some() || self.expires_in_days.is_some() || self.ttl.is_some()
    }

    /// Adds `expires_at` or `ttl_seconds` to a request body.
    pub fn add_to(&self, body: &mut Map<String, Value>) {
        if let Some(at) = &self.expires_at {
            body.insert("expires_at".into(), json!(at));
        } else if let Some(days) = self.expires_in_days {
            body.insert("ttl_seconds".into(), json!(u64::from(days) * 86_400));
        } else if let Some(ttl) = self.ttl {
            body.insert("ttl_seconds".into(), json!(ttl));
        }
    }
}

/// Options of `tollgate token create`.
#[derive(Debug, Args)]
pub struct CreateArgs {
    /// Token name, unique among the owner's live tokens.
    pub name: String,
    /// What the token is for.
    #[arg(short, long)]
    pub description: Option<String>,
    #[command(flatten)]
    pub expiry: Expiry,
    /// A role to put on the token (repeatable) [default: every role of the owner you may grant]
    #[arg(short, long = "role", value_name = "ROLE")]
    pub roles: Vec<String>,
    /// Owner of the token, if not you (admins; managers of a service account).
    #[arg(short, long, value_name = "USER")]
    pub user: Option<String>,
    /// Make the token for this service account, creating it first if there is none (token
    /// creators and admins; with the --role roles, or user; a token creator becomes its manager).
    #[arg(long, value_name = "SVC", conflicts_with = "user")]
    pub service_account: Option<String>,
}

/// Options of `tollgate token list`.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// Every user's tokens (admins; others see their own).
    #[arg(short, long, conflicts_with = "user")]
    pub all: bool,
    /// Only this user's or service account's tokens.
    #[arg(short, long, value_name = "USER")]
    pub user: Option<String>,
    /// Include revoked tokens.
    #[arg(short, long)]
    pub revoked: bool,
    /// Print only the token ids, one per line.
    #[arg(short, long)]
    pub quiet: bool,
    /// Kind of tokens listed [default: personal and service tokens]
    #[arg(long, value_parser = ["personal", "service", "session", "all"])]
    pub kind: Option<String>,
}

/// Options of `tollgate token edit`.
#[derive(Debug, Args)]
pub struct EditArgs {
    /// Token id.
    pub id: String,
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
    /// Token id.
    pub id: String,
    /// How long the old token keeps working, such as 30m or 24h (at most 7d) [default: 0, it stops now]
    #[arg(long, value_name = "DURATION", value_parser = grace_arg)]
    pub grace: Option<u64>,
    #[command(flatten)]
    pub expiry: Expiry,
}

/// Runs a token subcommand.
pub fn run(args: TokenArgs) -> CliResult {
    let session = Session::open(&args.common)?;
    match args.command {
        TokenCommand::Create(a) => create(&session, a),
        TokenCommand::List(a) => list(&session, a),
        TokenCommand::Describe { ids } => describe(&session, &ids),
        TokenCommand::Roles { id } => roles(&session, &id),
        TokenCommand::Edit(a) => edit(&session, a),
        TokenCommand::Revoke { id } => revoke(&session, &id),
        TokenCommand::Regenerate(a) => regenerate(&session, a),
        TokenCommand::Delete { id } => delete(&session, &id),
    }
}

fn path(id: &str) -> CliResult<String> {
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(CliError::usage(format!(
            "{id:?} is not a token id (32 hexadecimal digits)"
        )));
    }
    Ok(format!("/api/v1/tokens/{id}"))
}

/// Prints a freshly minted token: its text alone on stdout, the rest on stderr.
fn print_minted(session: &Session, answer: &Value, headline: &str) -> CliResult {
    let url = session.client.base();
    let token =
        answer
            .get("token")
            .and_then(Value::as_str)
            .ok_or_else(|| ClientError::BadAnswer {
                url: url.to_owned(),
                reason: "the answer holds no token".into(),
            })?;
    if session.json() {
        print_json(answer);
    } else {
        let record: TokenView = decode(answer.get("record").unwrap_or(&Value::Null), url)?;
        eprintln!(
            "{headline} token {:?} (id {}) for {}, roles [{}], expires {}.",
            record.name,
            record.id,
            record.owner,
            record.roles.join(", "),
            utc(record.expires_at.as_deref())
        );
        println!("{token}");
    }
    eprintln!("This token will not be shown again: copy it somewhere safe now.");
    Ok(())
}

fn create(session: &Session, a: CreateArgs) -> CliResult {
    let mut body = Map::new();
    body.insert("name".into(), json!(a.name));
    if let Some(d) = a.description {
        body.insert("description".into(), json!(d));
    }
    a.expiry.add_to(&mut body);
    if !a.roles.is_empty() {
        body.insert("roles".into(), json!(a.roles));
    }
    if let Some(u) = a.user {
        body.insert("user".into(), json!(u));
    }
    if let Some(svc) = a.service_account {
        body.insert("user".into(), json!(svc));
        body.insert("create_service_account".into(), json!(true));
    }
    let answer = session
        .client
        .post("/api/v1/tokens", &Value::Object(body))?;
    print_minted(session, &answer, "Created")
}

/// Fetches every page of a listing; `key` names the array in each page.
pub fn all_pages(
    session: &Session,
    path: &str,
    mut query: Vec<(&str, String)>,
    key: &str,
) -> CliResult<Vec<Value>> {
    let mut out = Vec::new();
    loop {
        let page = session.client.get(path, &query)?;
        let items =
            page.get(key)
                .and_then(Value::as_array)
                .ok_or_else(|| ClientError::BadAnswer {
                    url: session.client.base().to_owned(),
                    reason: format!("the answer holds no {key}"),
                })?;
        out.extend(items.iter().cloned());
        match page.get("next_cursor").and_then(Value::as_str) {
            Some(c) if !c.is_empty() => {
                query.retain(|(k, _)| *k != "cursor");
                query.push(("cursor", c.to_owned()));
            }
            _ => return Ok(out),
        }
    }
}

fn list(session: &Session, a: ListArgs) -> CliResult {
    let mut query = vec![("limit", "500".to_owned())];
    if let Some(u) = a.user {
        query.push(("user", u));
    } else if !a.all {
        query.push(("user", session.username()?));
    }
    if a.revoked {
        query.push(("include_revoked", "true".to_owned()));
    }
    if let Some(k) = a.kind {
        query.push(("kind", k));
    }
    let tokens = all_pages(session, "/api/v1/tokens", query, "tokens")?;
    if a.quiet {
        for t in &tokens {
            println!(
                "{}",
                t.get("id").and_then(Value::as_str).unwrap_or_default()
            );
        }
    } else if session.json() {
        print_json(&Value::Array(tokens));
    } else {
        let views: Vec<TokenView> = tokens
            .iter()
            .map(|t| decode(t, session.client.base()))
            .collect::<Result<_, _>>()?;
        token_table(&views).print();
    }
    Ok(())
}

fn describe(session: &Session, ids: &[String]) -> CliResult {
    for id in ids {
        path(id)?;
    }
    let mut found = Vec::new();
    let mut missing = Vec::new();
    for chunk in ids.chunks(100) {
        let answer = session
            .client
            .get("/api/v1/tokens", &[("ids", chunk.join(","))])?;
        let url = session.client.base();
        let bad = |what: &str| ClientError::BadAnswer {
            url: url.to_owned(),
            reason: format!("the answer holds no {what}"),
        };
        found.extend(
            answer
                .get("tokens")
                .and_then(Value::as_array)
                .ok_or_else(|| bad("tokens"))?
                .iter()
                .cloned(),
        );
        for m in answer
            .get("missing")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            missing.push(m.as_str().unwrap_or_default().to_owned());
        }
    }
    if session.json() {
        print_json(&Value::Array(found));
    } else {
        let blocks: Vec<String> = found
            .iter()
            .map(|t| decode::<TokenView>(t, session.client.base()).map(|v| v.describe()))
            .collect::<Result<_, _>>()?;
        print!("{}", blocks.join("\n"));
    }
    if missing.is_empty() {
        Ok(())
    } else {
        let message = format!("no such token: {}", missing.join(", "));
        Err(ClientError::Refused {
            status: 404,
            code: "not_found".into(),
            message,
        }
        .into())
    }
}

fn roles(session: &Session, id: &str) -> CliResult {
    let record = session.client.get(&path(id)?, &[])?;
    let view: TokenView = decode(&record, session.client.base())?;
    if session.json() {
        print_json(&json!({ "id": view.id, "name": view.name, "roles": view.roles }));
    } else {
        let mut t = Table::new(&["ROLE"]);
        for r in &view.roles {
            t.row(vec![r.clone()]);
        }
        t.print();
    }
    Ok(())
}

/// Prints one record: JSON, or its fields.
fn print_record(session: &Session, record: &Value) -> CliResult {
    if session.json() {
        print_json(record);
    } else {
        print!(
            "{}",
            decode::<TokenView>(record, session.client.base())?.describe()
        );
    }
    Ok(())
}

fn edit(session: &Session, a: EditArgs) -> CliResult {
    let mut body = Map::new();
    if let Some(d) = a.description {
        body.insert("description".into(), json!(d));
    }
    a.expiry.add_to(&mut body);
    if a.enable || a.disable {
        body.insert("enabled".into(), json!(a.enable));
    }
    if body.is_empty() {
        return Err(CliError::usage(
            "nothing to change: give --description, an expiry, --enable or --disable",
        ));
    }
    let record = session.client.patch(&path(&a.id)?, &Value::Object(body))?;
    print_record(session, &record)
}

fn revoke(session: &Session, id: &str) -> CliResult {
    let record = session
        .client
        .post(&format!("{}/revoke", path(id)?), &json!({}))?;
    if session.json() {
        print_json(&record);
    } else {
        let v: TokenView = decode(&record, session.client.base())?;
        println!(
            "Revoked token {} ({:?}) at {}.",
            v.id,
            v.name,
            utc(v.revoked_at.as_deref())
        );
    }
    Ok(())
}

fn regenerate(session: &Session, a: RegenerateArgs) -> CliResult {
    let mut body = Map::new();
    if let Some(g) = a.grace {
        body.insert("grace_seconds".into(), json!(g));
    }
    a.expiry.add_to(&mut body);
    let answer = session.client.post(
        &format!("{}/regenerate", path(&a.id)?),
        &Value::Object(body),
    )?;
    if !session.json() {
        let previous: TokenView = decode(
            answer.get("previous").unwrap_or(&Value::Null),
            session.client.base(),
        )?;
        let until = previous
            .grace_until
            .as_deref()
            .map(|g| utc(Some(g)))
            .unwrap_or_else(|| "now".to_owned());
        eprintln!(
            "The old token {} stops working {}.",
            previous.id,
            if until == "now" {
                until
            } else {
                format!("at {until}")
            }
        );
    }
    print_minted(session, &answer, "Regenerated")
}

fn delete(session: &Session, id: &str) -> CliResult {
    session.client.delete(&path(id)?)?;
    if session.json() {
        print_json(&json!({ "id": id, "deleted": true }));
    } else {
        println!("Deleted token {id}.");
    }
    Ok(())
}
