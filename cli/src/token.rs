//! `tollgate token ...`: the token lifecycle against the admin's `/api/v1/tokens` API.

use clap::{Args, Subcommand};
use serde_json::Value;

use super::client::ClientError;
use super::commands::{Common, Session};
use super::errors::CliResult;
use super::output::utc;
use super::records::{decode, token_table};
use super::token_actions::{self as actions, EditArgs, Irreversible, Picked, RegenerateArgs};
use super::token_usage::UsageArgs;
use tollgate_api::tokens::{CreateToken, TokenRecord};
use tollgate_api::when::{parse_duration, parse_time};

/// Examples for `tollgate token`.
pub const EXAMPLES: &str = "\
Examples:
  tollgate token create ci-deploy --ttl 12h --role deploy
  tollgate token list
  tollgate token describe ci-deploy             # by name, full id, or id prefix (8+ digits)
  tollgate token usage ci-deploy                # requests per day through the edge
  tollgate token revoke ci-deploy 3f2a9c0e
  tollgate token revoke --yes \"$(tollgate token list --quiet)\"     # every token you have";

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
  tollgate token list --sort last-used --unused-for 30d     # what nobody used for a month
  tollgate token revoke \"$(tollgate token list --quiet)\"     # revoke all of yours";
const DESCRIBE_EXAMPLES: &str = "\
Examples:
  tollgate token describe ci-deploy
  tollgate token describe 3f2a9c0e laptop -o json
  tollgate token describe nightly --user build-bot";
const ROLES_EXAMPLES: &str = "\
Examples:
  tollgate token roles ci-deploy
  tollgate token roles 3f2a9c0e4b1d4e8f9a7b6c5d4e3f2a1b";
const EDIT_EXAMPLES: &str = "\
Examples:
  tollgate token edit ci-deploy --description \"deploys staging only\"
  tollgate token edit ci-deploy laptop --expires-at 2026-12-31
  tollgate token edit 3f2a9c0e --disable          # refused at the edge until --enable";
const REVOKE_EXAMPLES: &str = "\
Examples:
  tollgate token revoke ci-deploy                    # asks first on a terminal
  tollgate token revoke --yes 3f2a9c0e laptop        # without asking (scripts, CI)
  tollgate token revoke --user build-bot nightly";
const REGENERATE_EXAMPLES: &str = "\
Examples:
  tollgate token regenerate ci-deploy                 # the old token stops now
  tollgate token regenerate ci-deploy --grace 24h     # the old token keeps working for a day";
const DELETE_EXAMPLES: &str = "\
Examples:
  tollgate token delete laptop                       # asks first on a terminal
  tollgate token delete --yes 3f2a9c0e4b1d4e8f9a7b6c5d4e3f2a1b";

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
    Describe(Picked),
    /// Show the roles a token carries.
    #[command(after_help = ROLES_EXAMPLES)]
    Roles {
        /// The token: its name, id or an id prefix of 8+ hexadecimal digits.
        #[arg(value_name = "TOKEN")]
        token: String,
        /// Whose token name this is [default: yours].
        #[arg(short, long, value_name = "USER")]
        user: Option<String>,
    },
    /// Change tokens' description, expiry or enabled state.
    #[command(after_help = EDIT_EXAMPLES)]
    Edit(EditArgs),
    /// Revoke tokens now; they are refused everywhere once the edge has the new revocation list.
    #[command(after_help = REVOKE_EXAMPLES)]
    Revoke(Irreversible),
    /// Replace tokens by new ones with the same names and roles; print the new ones once.
    #[command(after_help = REGENERATE_EXAMPLES)]
    Regenerate(RegenerateArgs),
    /// Revoke tokens and remove them from lists.
    #[command(after_help = DELETE_EXAMPLES)]
    Delete(Irreversible),
    /// Show a token's requests through the edge per day, and when it was last used.
    #[command(after_help = super::token_usage::EXAMPLES)]
    Usage(UsageArgs),
}

/// Parses a positive duration such as `90m`, `12h`, `30d` or `2w` (seconds without a unit).
pub fn duration_arg(text: &str) -> Result<u64, String> {
    parse_duration(text)
        .filter(|d| *d > 0)
        .ok_or_else(|| "expected a positive duration such as 90m, 12h, 30d or 2w".into())
}

pub(super) fn grace_arg(text: &str) -> Result<u64, String> {
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
    #[arg(short, long, value_name = "DATE", value_parser = time_arg)]
    pub expires_at: Option<String>,
    /// Lifetime in days from now.
    #[arg(long, visible_alias = "expiration-days", value_name = "DAYS", value_parser = clap::value_parser!(u32).range(1..=36_500))]
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

    /// The `expires_at` and `ttl_seconds` of a request body (at most one is set).
    pub fn fields(&self) -> (Option<String>, Option<u64>) {
        if let Some(at) = &self.expires_at {
            (Some(at.clone()), None)
        } else if let Some(days) = self.expires_in_days {
            (None, Some(u64::from(days) * 86_400))
        } else {
            (None, self.ttl)
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
    /// Order: `created` (oldest first, the default) or `last-used` (never used first, then
    /// the longest unused).
    #[arg(long, value_name = "ORDER", value_parser = ["created", "last-used"])]
    pub sort: Option<String>,
    /// Only tokens neither used nor created within this long, e.g. 30d: the ones to clean up.
    #[arg(long, value_name = "DURATION", value_parser = duration_arg)]
    pub unused_for: Option<u64>,
}

/// Runs a token subcommand.
pub fn run(args: TokenArgs) -> CliResult {
    let session = Session::open(&args.common)?;
    match args.command {
        TokenCommand::Create(a) => create(&session, a),
        TokenCommand::List(a) => list(&session, a),
        TokenCommand::Describe(p) => actions::describe(&session, &p),
        TokenCommand::Roles { token, user } => actions::roles(&session, &token, user.as_deref()),
        TokenCommand::Edit(a) => actions::edit(&session, a),
        TokenCommand::Revoke(a) => actions::revoke(&session, a),
        TokenCommand::Regenerate(a) => actions::regenerate(&session, a),
        TokenCommand::Delete(a) => actions::delete(&session, a),
        TokenCommand::Usage(a) => super::token_usage::usage(&session, a),
    }
}

/// Prints a freshly minted token: its text alone on stdout, the rest on stderr.
pub(super) fn print_minted(session: &Session, answer: &Value, headline: &str) -> CliResult {
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
        session.print(answer);
    } else {
        let record: TokenRecord = decode(answer.get("record").unwrap_or(&Value::Null), url)?;
        eprintln!(
            "{headline} token {:?} (id {}) for {}, roles [{}], expires {}.",
            record.name,
            record.id,
            record.owner,
            record.roles.join(", "),
            utc(Some(&record.expires_at))
        );
        println!("{token}");
    }
    eprintln!("This token will not be shown again: copy it somewhere safe now.");
    Ok(())
}

fn create(session: &Session, a: CreateArgs) -> CliResult {
    let (expires_at, ttl_seconds) = a.expiry.fields();
    let body = CreateToken {
        name: a.name,
        description: a.description,
        expires_at,
        ttl_seconds,
        roles: (!a.roles.is_empty()).then_some(a.roles),
        create_service_account: a.service_account.is_some().then_some(true),
        user: a.service_account.or(a.user),
    };
    let answer = session.client.post("/api/v1/tokens", &body)?;
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
    if let Some(sort) = a.sort {
        query.push(("sort", sort.replace('-', "_")));
    }
    if let Some(seconds) = a.unused_for {
        query.push(("unused_for", seconds.to_string()));
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
        session.print(&Value::Array(tokens));
    } else {
        let views: Vec<TokenRecord> = tokens
            .iter()
            .map(|t| decode(t, session.client.base()))
            .collect::<Result<_, _>>()?;
        token_table(&views, session.wide(), time::OffsetDateTime::now_utc()).print();
    }
    Ok(())
}
