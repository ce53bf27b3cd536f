//! The `tollgate` command line, run as a real process against a real admin on SQLite:
//! logging in (password, token, token file), the whole token lifecycle, users, profile and
//! audit, JSON output, exit codes (0 success, 1 refused by the server, 2 usage error), and
//! the credentials file's mode.

mod cli_support;

use cli_support::*;
use serde_json::Value;

fn ids(list: &Value) -> Vec<String> {
    list.as_array().expect("a JSON array").iter().map(|t| t["id"].as_str().unwrap().to_owned()).collect()
}

#[test]
fn password_login_saves_private_credentials_and_logout_ends_the_session() {
    let admin = Admin::start();
    let home = admin.home("alice");
    let out = home.login(ADMIN, ADMIN_PASSWORD);
    check(&out, 0, &["login"]);
    assert!(stderr(&out).contains(&format!("Logged in to {} as admin", admin.url)), "{}", stderr(&out));

    let saved = home.saved();
    assert_eq!(saved["current"], admin.url.as_str());
    let entry = &saved["servers"][admin.url.as_str()];
    let token = entry["token"].as_str().expect("a saved token").to_owned();
    assert!(token.starts_with("tg_"), "saved token has the tg_ prefix");
    assert_eq!(entry["kind"], "session");
    assert!(!stdout(&out).contains(&token) && !stderr(&out).contains(&token), "login never prints the token");

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&home.credentials()), 0o600, "credentials file mode");
        assert_eq!(mode(home.credentials().parent().unwrap()), 0o700, "credentials directory mode");
    }

    let me = home.json(&["profile"]);
    assert_eq!(me["user"]["name"], "admin");
    assert_eq!(me["token"]["kind"], "session");
    let table = home.ok(&["profile"]);
    assert!(table.contains("admin") && table.contains(" UTC"), "{table}");

    let out = home.run(&["logout"]);
    check(&out, 0, &["logout"]);
    assert_eq!(home.saved()["servers"], serde_json::json!({}), "logout forgets the server");
    let err = home.fails(&["profile"], 2);
    assert!(err.contains("not logged in"), "{err}");
    // The session itself was ended on the server.
    let err = home.fails(&["profile", "--server", &admin.url], 2);
    assert!(err.contains("not logged in"), "{err}");
    let out = home.cmd().args(["profile"]).env("TOLLGATE_URL", &admin.url).env("TOLLGATE_TOKEN", &token).output().unwrap();
    check(&out, 1, &["profile with the ended session"]);
    assert!(stderr(&out).contains("revoked"), "{}", stderr(&out));
}

#[test]
fn a_wrong_password_exits_1_with_the_server_code_and_saves_nothing() {
    let admin = Admin::start();
    let home = admin.home("mallory");
    let out = home.login(ADMIN, "not the password");
    check(&out, 1, &["login with a wrong password"]);
    assert!(stderr(&out).contains("invalid_credentials"), "{}", stderr(&out));
    assert!(!home.credentials().exists(), "nothing saved after a refused login");
}

#[test]
fn login_with_a_token_and_with_a_token_file() {
    let admin = Admin::start();
    let issuer = admin.home("issuer");
    issuer.login_admin();
    let minted = issuer.json(&["token", "create", "ci", "--ttl", "1h"]);
    let token = minted["token"].as_str().unwrap().to_owned();

    let ci = admin.home("ci");
    let out = ci.run(&["login", &admin.url, "--token", &token]);
    check(&out, 0, &["login --token"]);
    assert!(!stderr(&out).contains(&token));
    let me = ci.json(&["profile"]);
    assert_eq!(me["token"]["name"], "ci");
    assert_eq!(me["token"]["kind"], "personal");
    assert_eq!(ci.saved()["servers"][admin.url.as_str()]["kind"], "personal");
    // Logging out of a personal token forgets it but does not revoke it.
    check(&ci.run(&["logout"]), 0, &["logout"]);
    assert_eq!(issuer.json(&["token", "describe", minted["record"]["id"].as_str().unwrap()])[0]["state"], "active");

    let file = ci.dir.join("token.txt");
    std::fs::write(&file, format!("{token}\n")).unwrap();
    check(&ci.run(&["login", &admin.url, "--token-file", file.to_str().unwrap()]), 0, &["login --token-file"]);
    assert_eq!(ci.json(&["profile"])["token"]["name"], "ci");

    check(&ci.run_with(&["login", &admin.url, "--token-file", "-"], &token), 0, &["login --token-file -"]);

    // A token the server does not accept: refused (1) with its code; nothing replaced.
    std::fs::write(&file, "tg_not-a-real-token\n").unwrap();
    let err = ci.fails(&["login", &admin.url, "--token-file", file.to_str().unwrap()], 1);
    assert!(err.contains("malformed") || err.contains("bad_checksum"), "{err}");
    assert_eq!(ci.saved()["servers"][admin.url.as_str()]["token"], token.as_str());
    // An empty or missing file is a usage error.
    std::fs::write(&file, "\n").unwrap();
    ci.fails(&["login", &admin.url, "--token-file", file.to_str().unwrap()], 2);
    ci.fails(&["login", &admin.url, "--token-file", "/nonexistent/token"], 2);
}

#[test]
fn environment_variables_override_saved_credentials() {
    let admin = Admin::start();
    let home = admin.home("env");
    home.login_admin();
    let minted = home.json(&["token", "create", "pipeline", "--ttl", "2h"]);
    let token = minted["token"].as_str().unwrap();

    let ci = admin.home("ci-runner");
    let out = ci.cmd().args(["profile", "-o", "json"]).env("TOLLGATE_URL", &admin.url).env("TOLLGATE_TOKEN", token).output().unwrap();
    check(&out, 0, &["profile with TOLLGATE_URL and TOLLGATE_TOKEN"]);
    let me: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(me["token"]["name"], "pipeline");
    assert!(!ci.credentials().exists(), "environment credentials are not saved");

    // TOLLGATE_TOKEN wins over the saved session.
    let out = home.cmd().args(["profile", "-o", "json"]).env("TOLLGATE_TOKEN", token).output().unwrap();
    check(&out, 0, &["profile"]);
    assert_eq!(serde_json::from_str::<Value>(&stdout(&out)).unwrap()["token"]["name"], "pipeline");

    // An admin that cannot be reached: exit 1, saying so.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let out = ci.cmd().args(["profile"]).env("TOLLGATE_URL", format!("http://{closed}")).env("TOLLGATE_TOKEN", token).output().unwrap();
    check(&out, 1, &["profile against a closed port"]);
    assert!(stderr(&out).contains("cannot reach"), "{}", stderr(&out));
    assert!(!stderr(&out).contains(token), "errors never show the token");
}

#[test]
fn the_whole_token_lifecycle() {
    let admin = Admin::start();
    let home = admin.home("ops");
    home.login_admin();

    // create, JSON
    let minted = home.json(&["token", "create", "ci-deploy", "--description", "deploys from CI", "--ttl", "12h", "--role", "user"]);
    let token = minted["token"].as_str().unwrap().to_owned();
    let record = &minted["record"];
    let id = record["id"].as_str().unwrap().to_owned();
    assert!(token.starts_with("tg_"));
    assert_eq!(id.len(), 32);
    assert_eq!(record["name"], "ci-deploy");
    assert_eq!(record["description"], "deploys from CI");
    assert_eq!(record["roles"], serde_json::json!(["user"]));
    assert_eq!(record["state"], "active");
    assert_eq!(seconds_between(&record["created_at"], &record["expires_at"]), 12 * 3600);
    let used = home.cmd().args(["profile", "-o", "json"]).env("TOLLGATE_TOKEN", &token).output().unwrap();
    check(&used, 0, &["profile with the new token"]);

    // create, table: the token alone on stdout, the warning on stderr
    let out = home.run(&["token", "create", "laptop", "--expires-in-days", "3"]);
    check(&out, 0, &["token create laptop"]);
    let printed = stdout(&out);
    assert_eq!(printed.lines().count(), 1, "{printed}");
    assert!(printed.trim().starts_with("tg_"), "{printed}");
    assert!(stderr(&out).contains("will not be shown again"), "{}", stderr(&out));
    let laptop = home.json(&["token", "list"]).as_array().unwrap().iter().find(|t| t["name"] == "laptop").unwrap().clone();
    let laptop_id = laptop["id"].as_str().unwrap().to_owned();
    assert_eq!(seconds_between(&laptop["created_at"], &laptop["expires_at"]), 3 * 86_400);

    // list: JSON and an aligned table with UTC times
    let listed = home.json(&["token", "list"]);
    assert_eq!(ids(&listed).len(), 2);
    assert!(ids(&listed).contains(&id) && ids(&listed).contains(&laptop_id));
    let table = home.ok(&["token", "list"]);
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 3, "{table}");
    assert!(lines[0].starts_with("ID ") && lines[0].contains("EXPIRES"), "{table}");
    let name_col = lines[0].find("NAME").unwrap();
    let state_col = lines[0].find("STATE").unwrap();
    for line in &lines[1..] {
        assert!(line[name_col..].starts_with("ci-deploy") || line[name_col..].starts_with("laptop"), "{table}");
        assert!(line[state_col..].starts_with("active"), "{table}");
        assert!(line.ends_with(" UTC"), "{table}");
    }

    // describe and roles
    let described = home.json(&["token", "describe", &id, &laptop_id]);
    assert_eq!(ids(&described), vec![id.clone(), laptop_id.clone()]);
    assert_eq!(described[0]["description"], "deploys from CI");
    let text = home.ok(&["token", "describe", &id]);
    assert!(text.contains("deploys from CI") && text.contains("Expires") && text.contains(" UTC"), "{text}");
    assert_eq!(home.json(&["token", "roles", &id])["roles"], serde_json::json!(["user"]));
    assert_eq!(home.ok(&["token", "roles", &id]), "ROLE\nuser\n");

    // edit: description, disable (the token is then refused), enable, shorten the expiry
    let edited = home.json(&["token", "edit", &id, "--description", "staging only", "--disable"]);
    assert_eq!(edited["description"], "staging only");
    assert_eq!(edited["enabled"], false);
    assert_eq!(edited["state"], "disabled");
    let used = home.cmd().args(["profile"]).env("TOLLGATE_TOKEN", &token).output().unwrap();
    check(&used, 1, &["profile with a disabled token"]);
    assert!(stderr(&used).contains("disabled"), "{}", stderr(&used));
    assert_eq!(home.json(&["token", "edit", &id, "--enable"])["state"], "active");
    let soon = time::OffsetDateTime::now_utc().replace_nanosecond(0).unwrap() + time::Duration::hours(1);
    let soon = soon.format(&time::format_description::well_known::Rfc3339).unwrap();
    let edited = home.json(&["token", "edit", &id, "--expires-at", &soon]);
    assert_eq!(seconds_between(&Value::from(soon.as_str()), &edited["expires_at"]), 0);

    // regenerate with grace: a new token, the old one still works until the grace ends
    let regenerated = home.json(&["token", "regenerate", &id, "--grace", "1h"]);
    let new_token = regenerated["token"].as_str().unwrap().to_owned();
    let new_id = regenerated["record"]["id"].as_str().unwrap().to_owned();
    assert_ne!(new_token, token);
    assert_ne!(new_id, id);
    assert_eq!(regenerated["record"]["replaces"], id.as_str());
    assert_eq!(regenerated["record"]["name"], "ci-deploy");
    assert_eq!(regenerated["previous"]["state"], "grace");
    let grace = seconds_between(&regenerated["previous"]["revoked_at"], &regenerated["previous"]["grace_until"]);
    assert_eq!(grace, 3600);
    let used = home.cmd().args(["profile"]).env("TOLLGATE_TOKEN", &token).output().unwrap();
    check(&used, 0, &["the old token during its grace period"]);

    // regenerate, table: the new token alone on stdout
    let out = home.run(&["token", "regenerate", &laptop_id]);
    check(&out, 0, &["token regenerate"]);
    assert!(stdout(&out).trim().starts_with("tg_") && stdout(&out).lines().count() == 1);
    assert!(stderr(&out).contains("will not be shown again") && stderr(&out).contains("stops working now"), "{}", stderr(&out));

    // revoke: the token is refused; a second revoke is refused with the server's code
    let out = home.ok(&["token", "revoke", &new_id]);
    assert!(out.starts_with(&format!("Revoked token {new_id}")), "{out}");
    let used = home.cmd().args(["profile"]).env("TOLLGATE_TOKEN", &new_token).output().unwrap();
    check(&used, 1, &["profile with a revoked token"]);
    assert!(stderr(&used).contains("revoked"));
    let err = home.fails(&["token", "revoke", &new_id], 1);
    assert!(err.contains("already_revoked") && err.contains("409"), "{err}");
    let listed = ids(&home.json(&["token", "list"]));
    assert!(!listed.contains(&new_id), "revoked tokens are hidden by default");
    let with_revoked = home.json(&["token", "list", "--revoked"]);
    let entry = with_revoked.as_array().unwrap().iter().find(|t| t["id"] == new_id.as_str()).expect("listed with --revoked");
    assert_eq!(entry["state"], "revoked");
    assert_eq!(entry["revoked_by"], "admin");
    let revoked = home.json(&["token", "revoke", &id]);
    assert_eq!(revoked["state"], "revoked", "ending the grace period early");

    // delete: gone from lists and from describe
    let deleted = home.json(&["token", "delete", &new_id]);
    assert_eq!(deleted, serde_json::json!({"id": new_id, "deleted": true}));
    let err = home.fails(&["token", "describe", &new_id], 1);
    assert!(err.contains("not_found"), "{err}");
    assert!(!ids(&home.json(&["token", "list", "--revoked"])).contains(&new_id));
    let err = home.fails(&["token", "delete", &new_id], 1);
    assert!(err.contains("not_found"), "{err}");
}

#[test]
fn refused_actions_exit_1_with_the_server_code() {
    let admin = Admin::start();
    let ops = admin.home("ops");
    ops.login_admin();
    let admins_token = ops.json(&["token", "create", "admin-only", "--ttl", "1h"])["record"]["id"].as_str().unwrap().to_owned();
    let bob = ops.cmd().args(["user", "create", "bob", "--password-stdin", "-o", "json"]).write_stdin("bob's password\n").output().unwrap();
    check(&bob, 0, &["user create bob"]);

    let home = admin.home("bob");
    check(&home.login("bob", "bob's password"), 0, &["login bob"]);
    // bob holds only `user`: creating tokens needs token_creator.
    let err = home.fails(&["token", "create", "mine"], 1);
    assert!(err.contains("forbidden") && err.contains("403"), "{err}");
    // Another user's token is not revealed.
    let err = home.fails(&["token", "describe", &admins_token], 1);
    assert!(err.contains("not_found"), "{err}");
    let err = home.fails(&["token", "revoke", &admins_token], 1);
    assert!(err.contains("not_found"), "{err}");
    assert_eq!(ops.json(&["token", "describe", &admins_token])[0]["state"], "active", "nothing changed");
    // Only admins create users.
    let err = home.fails(&["user", "edit", "admin", "--deactivate"], 1);
    assert!(err.contains("not_found") || err.contains("forbidden"), "{err}");
    // A server-side validation: the expiry is beyond the maximum lifetime.
    let err = ops.fails(&["token", "create", "forever", "--expires-in-days", "3650"], 1);
    assert!(err.contains("expiry_too_far"), "{err}");
    let err = ops.fails(&["token", "create", "admin-only"], 1);
    assert!(err.contains("name_taken"), "{err}");
}

#[test]
fn usage_errors_exit_2() {
    let admin = Admin::start();
    let home = admin.home("confused");
    for args in [
        vec!["frobnicate"],
        vec!["token", "create"],
        vec!["token", "create", "x", "--ttl", "5y"],
        vec!["token", "create", "x", "--ttl", "1h", "--expires-in-days", "2"],
        vec!["token", "create", "x", "--expires-at", "tomorrow"],
        vec!["token", "edit", "0123", "--enable", "--disable"],
        vec!["token", "list", "--output", "yaml"],
        vec!["login", "http://127.0.0.1:1", "--password-stdin"],
        vec!["login", "not-a-url", "--token", "tg_x"],
        vec!["token", "list"],
        vec!["completions", "tcsh"],
    ] {
        let err = home.fails(&args, 2);
        assert!(!err.is_empty(), "{args:?} explains itself");
    }
    assert!(home.fails(&["token", "list"], 2).contains("not logged in"));

    // Checked before anything is sent: nothing to change, a malformed id.
    let with_env = |args: &[&str]| {
        let out = home.cmd().args(args).env("TOLLGATE_URL", &admin.url).env("TOLLGATE_TOKEN", "tg_unused").output().unwrap();
        check(&out, 2, args);
        stderr(&out)
    };
    assert!(with_env(&["token", "edit", "0123456789abcdef0123456789abcdef"]).contains("nothing to change"));
    assert!(with_env(&["token", "revoke", "../users"]).contains("not a token id"));

    // No terminal: no prompt that waits forever, but a pointer to --password-stdin.
    let out = home.cmd().args(["login", &admin.url, "--username", "admin"]).output().unwrap();
    check(&out, 2, &["login without a terminal"]);
    assert!(stderr(&out).contains("--password-stdin"), "{}", stderr(&out));
    assert!(!home.credentials().exists());
}

#[test]
fn users_profile_and_audit() {
    let admin = Admin::start();
    let home = admin.home("ops");
    home.login_admin();

    let carol = home
        .cmd()
        .args(["user", "create", "carol", "--role", "user", "--role", "token_creator", "--password-stdin", "-o", "json"])
        .write_stdin("carol's password\n")
        .output()
        .unwrap();
    check(&carol, 0, &["user create carol"]);
    let carol: Value = serde_json::from_str(&stdout(&carol)).unwrap();
    assert_eq!(carol["name"], "carol");
    assert_eq!(carol["roles"], serde_json::json!(["token_creator", "user"]));
    assert_eq!(carol["active"], true);
    assert_eq!(carol["has_password"], true);

    let bot = home.json(&["user", "create", "build-bot", "--service-account", "--role", "user"]);
    assert_eq!(bot["service_account"], true);
    assert_eq!(bot["has_password"], false);
    let bot_token = home.json(&["token", "create", "nightly", "--user", "build-bot", "--ttl", "1d"]);
    assert_eq!(bot_token["record"]["owner"], "build-bot");
    assert_eq!(bot_token["record"]["kind"], "service");
    let bots = home.json(&["token", "list", "--user", "build-bot"]);
    assert_eq!(ids(&bots), vec![bot_token["record"]["id"].as_str().unwrap().to_owned()]);
    assert!(ids(&home.json(&["token", "list", "--all"])).len() >= 1);

    let users = home.json(&["user", "list"]);
    let names: Vec<&str> = users.as_array().unwrap().iter().map(|u| u["name"].as_str().unwrap()).collect();
    assert_eq!(names, vec!["admin", "build-bot", "carol"]);
    let table = home.ok(&["user", "list"]);
    assert!(table.starts_with("NAME ") && table.lines().count() == 4, "{table}");

    let edited = home.json(&["user", "edit", "carol", "--remove-role", "token_creator", "--deactivate"]);
    assert_eq!(edited["roles"], serde_json::json!(["user"]));
    assert_eq!(edited["active"], false);
    let text = home.ok(&["user", "describe", "carol"]);
    assert!(text.contains("carol") && text.contains(" UTC"), "{text}");
    let out = admin.home("carol").login("carol", "carol's password");
    check(&out, 1, &["login as a deactivated user"]);
    assert!(home.fails(&["user", "edit", "carol"], 2).contains("nothing to change"));

    let profile = home.ok(&["profile"]);
    assert!(profile.contains("admin, token_creator, user"), "{profile}");

    let created = home.json(&["audit", "--action", "token.create"]);
    let events = created.as_array().unwrap();
    assert_eq!(events.len(), 1, "{created}");
    assert_eq!(events[0]["actor"], "admin");
    assert_eq!(events[0]["subject"], "build-bot");
    assert_eq!(home.json(&["audit", "--limit", "2"]).as_array().unwrap().len(), 2);
    let roles_changed = home.json(&["audit", "--target", "carol"]);
    assert!(roles_changed.as_array().unwrap().iter().any(|e| e["action"] == "user.roles"), "{roles_changed}");
    let table = home.ok(&["audit", "-n", "3"]);
    assert!(table.starts_with("TIME ") && table.contains(" UTC") && table.lines().count() == 4, "{table}");
}

#[test]
fn completions_help_and_keys() {
    let admin = Admin::start();
    let home = admin.home("shell");
    let script = home.ok(&["completions", "bash"]);
    assert!(script.contains("tollgate") && script.contains("regenerate"), "a bash completion script");
    assert!(home.ok(&["completions", "zsh"]).contains("#compdef tollgate"));
    for args in [&["token", "create", "--help"][..], &["login", "--help"], &["user", "edit", "--help"], &["audit", "--help"]] {
        let help = home.ok(args);
        assert!(help.contains("Examples:"), "{args:?}: {help}");
    }
    let key = home.ok(&["keys", "generate", "--id", "k9"]);
    let keyring = tollgate_shared::Keyring::parse(key.trim()).expect("a usable keyring entry");
    assert!(format!("{keyring:?}").contains("k9") || key.starts_with("k9:"));
}
