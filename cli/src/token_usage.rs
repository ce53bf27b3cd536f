//! `tollgate token usage`: a token's requests through the edge, per day, and its last use.

use clap::Args;

use super::commands::Session;
use super::errors::{CliError, CliResult};
use super::output::{Table, utc};
use super::records::decode;
use super::refs::resolve;
use tollgate_api::usage::TokenUsage;

/// Examples for `tollgate token usage`.
pub const EXAMPLES: &str = "\
Examples:
  tollgate token usage ci-deploy                     # the last 30 days
  tollgate token usage ci-deploy --days 90
  tollgate token usage ci-deploy --from 2026-11-01 --to 2026-11-30 -o json
  tollgate token list --sort last-used --unused-for 30d   # what nobody used for a month";

/// Options of `tollgate token usage`.
#[derive(Debug, Args)]
pub struct UsageArgs {
    /// The token: its name, id or an id prefix of 8+ hexadecimal digits.
    #[arg(value_name = "TOKEN")]
    pub token: String,
    /// Whose token name this is [default: yours].
    #[arg(short, long, value_name = "USER")]
    pub user: Option<String>,
    /// First day, YYYY-MM-DD (UTC) [default: 29 days before --to].
    #[arg(long, value_name = "DATE", conflicts_with = "days")]
    pub from: Option<String>,
    /// Last day, YYYY-MM-DD (UTC) [default: today].
    #[arg(long, value_name = "DATE")]
    pub to: Option<String>,
    /// The last N days up to --to (1 to 366).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=366))]
    pub days: Option<u16>,
}

/// Prints the token's daily requests through the edge (days without any are left out of the
/// table, not of `-o json`) and its last use.
pub fn usage(session: &Session, a: UsageArgs) -> CliResult {
    let target = resolve(session, a.user.as_deref(), &[a.token])?
        .pop()
        .ok_or_else(|| CliError::usage("no such token"))?;
    let mut query = Vec::new();
    let to = match a.to {
        Some(to) => to,
        None => time::OffsetDateTime::now_utc().date().to_string(),
    };
    if let Some(days) = a.days {
        let last = tollgate_api::usage::date_to_day(&to)
            .ok_or_else(|| CliError::usage("--to is a date, YYYY-MM-DD"))?;
        let first = tollgate_api::usage::day_to_date(last - i64::from(days) + 1)
            .ok_or_else(|| CliError::usage("--days reaches outside the calendar"))?;
        query.push(("from", first));
    }
    if let Some(from) = a.from {
        query.push(("from", from));
    }
    query.push(("to", to));
    let path = format!("/api/v1/tokens/{}/usage", target.id);
    let answer = session.client.get(&path, &query)?;
    if session.json() {
        session.print(&answer);
        return Ok(());
    }
    let usage: TokenUsage = decode(&answer, session.client.base())?;
    println!(
        "Token {:?} (id {}) of {}: {} request{} through the edge from {} to {}; last used {}.",
        target.name,
        target.id,
        target.owner,
        usage.total,
        if usage.total == 1 { "" } else { "s" },
        usage.from,
        usage.to,
        utc(usage.last_used_at.as_deref()),
    );
    let mut table = Table::new(&["DATE", "REQUESTS"]);
    for day in usage.days.iter().filter(|d| d.requests > 0) {
        table.row(vec![day.date.clone(), day.requests.to_string()]);
    }
    if usage.total > 0 {
        table.print();
    }
    Ok(())
}
