//! `tollgate user ...`: users and service accounts through `/api/v1/users`.

use clap::{Args, Subcommand};
use serde_json::{Value, json};

use super::commands::{Common, Session, segment};
use super::errors::{CliError, CliResult};
use super::prompt;
use super::records::{Describe, decode, user_table};
use super::token::all_pages;
use tollgate_api::users::{CreateUser, PatchUser, UserRecord};

/// Examples for `tollgate user`.
pub const EXAMPLES: &str = "\
Examples:
  tollgate user create alice --role token_creator --role user
  tollgate user create build-bot --service-account --role deploy
  tollgate user list
  tollgate user edit alice --remove-role token_creator
  tollgate user delete build-bot";

const CREATE_EXAMPLES: &str = "\
Examples:
  tollgate user create alice --role token_creator --role user       # asks for a password
  tollgate user create alice --password-stdin < password.txt
  tollgate user create build-bot --service-account --role deploy     # no password: tokens only";
const LIST_EXAMPLES: &str = "\
Examples:
  tollgate user list
  tollgate user list -o json";
const DESCRIBE_EXAMPLES: &str = "\
Examples:
  tollgate user describe alice";
const EDIT_EXAMPLES: &str = "\
Examples:
  tollgate user edit alice --add-role pool:ml-team
  tollgate user edit alice --remove-role token_creator     # also removed from her tokens
  tollgate user edit alice --roles user,pool:ml-team       # the whole new set
  tollgate user edit alice --deactivate                    # all her tokens stop working
  tollgate user edit alice --password-stdin < new-password.txt
  tollgate user edit build-bot --manager carol              # admins: carol now manages it";
const DELETE_EXAMPLES: &str = "\
Examples:
  tollgate user delete build-bot            # asks you to type the name to confirm
  tollgate user delete build-bot --yes      # scripts: no question";

/// `tollgate user` and its options.
#[derive(Debug, Args)]
pub struct UserArgs {
    #[command(flatten)]
    pub common: Common,
    #[command(subcommand)]
    pub command: UserCommand,
}

/// The user subcommands.
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user (admins) or a service account (token creators, with roles they hold).
    #[command(after_help = CREATE_EXAMPLES)]
    Create(CreateArgs),
    /// List users (admins: everyone; others: themselves and their service accounts).
    #[command(after_help = LIST_EXAMPLES)]
    List,
    /// Show a user in full.
    #[command(after_help = DESCRIBE_EXAMPLES)]
    Describe {
        /// User name.
        name: String,
    },
    /// Change a user's roles, active flag, account type or password.
    #[command(after_help = EDIT_EXAMPLES)]
    Edit(EditArgs),
    /// Delete a user or service account and revoke all its tokens, irreversibly (its name
    /// stays reserved).
    #[command(after_help = DELETE_EXAMPLES)]
    Delete(DeleteArgs),
}

/// Options of `tollgate user delete`.
#[derive(Debug, Args)]
pub struct DeleteArgs {
    /// User name.
    pub name: String,
    /// Do not ask for confirmation (needed without a terminal).
    #[arg(short, long)]
    pub yes: bool,
}

/// Options of `tollgate user create`.
#[derive(Debug, Args)]
pub struct CreateArgs {
    /// User name (1-64 of A-Z a-z 0-9 . _ @ + : -).
    pub name: String,
    /// A role to give (repeatable) [default: user]
    #[arg(short, long = "role", value_name = "ROLE")]
    pub roles: Vec<String>,
    /// Create a service account: no password, tokens only.
    #[arg(long)]
    pub service_account: bool,
    /// Create the user deactivated.
    #[arg(long)]
    pub inactive: bool,
    /// Read the new user's password from standard input instead of asking on the terminal.
    #[arg(long, conflicts_with = "service_account")]
    pub password_stdin: bool,
}

/// Options of `tollgate user edit`.
#[derive(Debug, Args)]
pub struct EditArgs {
    /// User name.
    pub name: String,
    /// Replace all roles with these (comma-separated).
    #[arg(long, value_name = "ROLES", value_delimiter = ',', conflicts_with_all = ["add_roles", "remove_roles"])]
    pub roles: Option<Vec<String>>,
    /// Add a role (repeatable).
    #[arg(long = "add-role", value_name = "ROLE")]
    pub add_roles: Vec<String>,
    /// Remove a role (repeatable); tokens of the user lose it too.
    #[arg(long = "remove-role", value_name = "ROLE")]
    pub remove_roles: Vec<String>,
    /// Activate a deactivated user.
    #[arg(long, conflicts_with = "deactivate")]
    pub activate: bool,
    /// Deactivate the user: every token they hold stops working.
    #[arg(long)]
    pub deactivate: bool,
    /// Turn the user into a service account (its password is removed).
    #[arg(long, conflicts_with = "no_service_account")]
    pub service_account: bool,
    /// Turn a service account into a person (needs a new password).
    #[arg(long)]
    pub no_service_account: bool,
    /// Set a new password, asked on the terminal.
    #[arg(long, conflicts_with_all = ["password_stdin", "service_account"])]
    pub password: bool,
    /// Set a new password read from standard input.
    #[arg(long, conflicts_with = "service_account")]
    pub password_stdin: bool,
    /// Hand a service account to this manager (admins; a person holding all its roles).
    #[arg(long, value_name = "USER")]
    pub manager: Option<String>,
}

/// Runs a user subcommand.
pub fn run(args: UserArgs) -> CliResult {
    let session = Session::open(&args.common)?;
    match args.command {
        UserCommand::Create(a) => create(&session, a),
        UserCommand::List => list(&session),
        UserCommand::Describe { name } => {
            let record = session
                .client
                .get(&format!("/api/v1/users/{}", segment(&name)), &[])?;
            print_record(&session, &record)
        }
        UserCommand::Edit(a) => edit(&session, a),
        UserCommand::Delete(a) => delete(&session, a),
    }
}

fn print_record(session: &Session, record: &Value) -> CliResult {
    if session.json() {
        session.print(record);
    } else {
        print!(
            "{}",
            decode::<UserRecord>(record, session.client.base())?.describe()
        );
    }
    Ok(())
}

fn create(session: &Session, a: CreateArgs) -> CliResult {
    let password = if a.service_account {
        None
    } else if a.password_stdin {
        Some(prompt::secret_from_stdin("password")?)
    } else {
        Some(prompt::new_secret("password", "--password-stdin")?)
    };
    let body = CreateUser {
        name: a.name,
        password,
        roles: (!a.roles.is_empty()).then_some(a.roles),
        service_account: a.service_account.then_some(true),
        active: a.inactive.then_some(false),
    };
    let record = session.client.post("/api/v1/users", &body)?;
    print_record(session, &record)
}

fn list(session: &Session) -> CliResult {
    let users = all_pages(
        session,
        "/api/v1/users",
        vec![("limit", "500".to_owned())],
        "users",
    )?;
    if session.json() {
        session.print(&Value::Array(users));
    } else {
        let views: Vec<UserRecord> = users
            .iter()
            .map(|u| decode(u, session.client.base()))
            .collect::<Result<_, _>>()?;
        user_table(&views).print();
    }
    Ok(())
}

fn edit(session: &Session, a: EditArgs) -> CliResult {
    let mut body = PatchUser {
        roles: a.roles,
        add_roles: (!a.add_roles.is_empty()).then_some(a.add_roles),
        remove_roles: (!a.remove_roles.is_empty()).then_some(a.remove_roles),
        active: (a.activate || a.deactivate).then_some(a.activate),
        service_account: (a.service_account || a.no_service_account).then_some(a.service_account),
        manager: a.manager,
        password: None,
    };
    let unchanged = serde_json::to_value(&body).is_ok_and(|v| v == serde_json::json!({}));
    if unchanged && !a.password && !a.password_stdin {
        return Err(CliError::usage(
            "nothing to change: give --roles, --add-role, --remove-role, --activate, --deactivate, \
             --service-account, --no-service-account, --password, --password-stdin or --manager",
        ));
    }
    if a.password_stdin {
        body.password = Some(prompt::secret_from_stdin("password")?);
    } else if a.password {
        body.password = Some(prompt::new_secret("password", "--password-stdin")?);
    }
    let record = session
        .client
        .patch(&format!("/api/v1/users/{}", segment(&a.name)), &body)?;
    print_record(session, &record)
}

/// Deletes an account once the name has been typed back on the terminal (or with `--yes`).
/// Without a terminal and without `--yes` nothing is deleted: a usage error (exit 2).
fn delete(session: &Session, a: DeleteArgs) -> CliResult {
    if !a.yes {
        eprintln!(
            "This deletes {:?} and revokes every token it holds. It cannot be undone.",
            a.name
        );
        let typed = prompt::line(
            "Type the account's name to confirm: ",
            "confirmation",
            "--yes",
        )?;
        if typed != a.name {
            return Err(CliError::usage(format!(
                "{typed:?} is not {:?}: nothing deleted",
                a.name
            )));
        }
    }
    session
        .client
        .delete(&format!("/api/v1/users/{}", segment(&a.name)))?;
    if session.json() {
        session.print(&json!({ "name": a.name, "deleted": true }));
    } else {
        println!("Deleted {} and revoked its tokens.", a.name);
    }
    Ok(())
}
