//! `tollgate audit`: the audit log from `GET /api/v1/audit`, newest first.

use clap::Args;
use serde_json::Value;

use super::client::ClientError;
use super::commands::{Common, Session};
use super::errors::CliResult;
use super::records::{audit_table, decode};
use tollgate_api::audit::AuditRecord;

/// Examples for `tollgate audit`.
pub const EXAMPLES: &str = "\
Examples:
  tollgate audit
  tollgate audit --actor alice --limit 20
  tollgate audit --action token.revoke -o json
  tollgate audit --target 3f2a9c0e4b1d4e8f9a7b6c5d4e3f2a1b";

/// Options of `tollgate audit`.
#[derive(Debug, Args)]
pub struct AuditArgs {
    #[command(flatten)]
    pub common: Common,
    /// Only events caused by this user.
    #[arg(long, value_name = "USER")]
    pub actor: Option<String>,
    /// Only this action, e.g. token.create, token.revoke, user.roles, login.
    #[arg(long)]
    pub action: Option<String>,
    /// Only events about this token id or user.
    #[arg(long, value_name = "ID_OR_USER")]
    pub target: Option<String>,
    /// How many events to show at most.
    #[arg(short = 'n', long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub limit: u32,
}

/// Runs `tollgate audit`.
pub fn run(args: AuditArgs) -> CliResult {
    let session = Session::open(&args.common)?;
    let wanted = args.limit as usize;
    let mut base = Vec::new();
    for (key, value) in [
        ("actor", args.actor),
        ("action", args.action),
        ("target", args.target),
    ] {
        if let Some(v) = value {
            base.push((key, v));
        }
    }
    let mut events: Vec<Value> = Vec::new();
    let mut cursor: Option<String> = None;
    while events.len() < wanted {
        let mut query = base.clone();
        query.push(("limit", (wanted - events.len()).min(1000).to_string()));
        if let Some(c) = &cursor {
            query.push(("cursor", c.clone()));
        }
        let page = session.client.get("/api/v1/audit", &query)?;
        let items = page
            .get("events")
            .and_then(Value::as_array)
            .ok_or_else(|| ClientError::BadAnswer {
                url: session.client.base().to_owned(),
                reason: "the answer holds no events".into(),
            })?;
        events.extend(items.iter().cloned());
        cursor = page
            .get("next_cursor")
            .and_then(Value::as_str)
            .map(str::to_owned);
        if cursor.is_none() || items.is_empty() {
            break;
        }
    }
    events.truncate(wanted);
    if session.json() {
        session.print(&Value::Array(events));
    } else {
        let views: Vec<AuditRecord> = events
            .iter()
            .map(|e| decode(e, session.client.base()))
            .collect::<Result<_, _>>()?;
        audit_table(&views).print();
    }
    Ok(())
}
