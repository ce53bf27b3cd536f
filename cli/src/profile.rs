//! `tollgate profile`: who the saved (or `TOLLGATE_TOKEN`) credentials are, from `GET /api/v1/me`.

use clap::Args;

use super::commands::{Common, Session};
use super::errors::CliResult;
use super::records::{decode, describe_me};
use tollgate_api::sessions::Me;

/// Examples for `tollgate profile`.
pub const EXAMPLES: &str = "\
Examples:
  tollgate profile
  tollgate profile -o json | jq -r .user.roles[]
  TOLLGATE_URL=https://tollgate.example.com TOLLGATE_TOKEN=$CI_TOKEN tollgate profile";

/// Options of `tollgate profile`.
#[derive(Debug, Args)]
pub struct ProfileArgs {
    #[command(flatten)]
    pub common: Common,
}

/// Runs `tollgate profile`.
pub fn run(args: ProfileArgs) -> CliResult {
    let session = Session::open(&args.common)?;
    let answer = session.client.get("/api/v1/me", &[])?;
    if session.json() {
        session.print(&answer);
    } else {
        let me: Me = decode(&answer, session.client.base())?;
        print!("{}", describe_me(&me, session.client.base()));
    }
    Ok(())
}
