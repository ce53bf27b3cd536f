//! Tokens named as people name them: by name, by id prefix, several at once (the README's
//! `tollgate token revoke "$(tollgate token list --quiet)"`), with a confirmation before
//! what cannot be undone; and the output formats and flags people bring from `det` and `osmo`.

use crate::support::{Admin, Home, check, stderr, stdout};

/// Creates a token and returns its id.
fn create(home: &Home, name: &str) -> String {
    let made = home.json(&["token", "create", name, "--ttl", "2h"]);
    made["record"]["id"].as_str().unwrap().to_owned()
}

/// The state of a token, by id.
fn state(home: &Home, id: &str) -> String {
    home.json(&["token", "describe", id])[0]["state"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Runs `tollgate ARGS` on a pseudo-terminal (through `script`), typing `typed`.
fn on_a_terminal(home: &Home, args: &str, typed: &str) -> std::process::Output {
    let line = format!("{} {args}", env!("CARGO_BIN_EXE_tollgate"));
    let mut cmd = std::process::Command::new("script");
    cmd.args(["-qec", &line, "/dev/null"])
        .env("HOME", &home.dir)
        .env("XDG_CONFIG_HOME", home.dir.join("config"))
        .env_remove("TOLLGATE_URL")
        .env_remove("TOLLGATE_TOKEN");
    let mut child = cmd
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("script runs");
    {
        use std::io::Write as _;
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(typed.as_bytes()).unwrap();
    }
    child.wait_with_output().unwrap()
}

#[test]
fn tokens_by_name_prefix_and_several_at_once() {
    let admin = Admin::start();
    let home = admin.home("ops");
    home.login_admin();
    let deploy = create(&home, "ci-deploy");
    let laptop = create(&home, "laptop");
    let nightly = create(&home, "nightly");

    // By name, by an id prefix of 8 digits, and by full id, in one call.
    let described = home.json(&["token", "describe", "ci-deploy", &laptop[..8], &nightly]);
    let names: Vec<&str> = described
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["ci-deploy", "laptop", "nightly"]);
    let roles = home.json(&["token", "roles", "laptop"]);
    assert_eq!(roles["id"], laptop.as_str());
    assert_eq!(roles["granted_by"], "admin");
    let table = home.ok(&["token", "roles", "laptop"]);
    assert!(
        table.starts_with("ROLE") && table.contains("GRANTED BY") && table.contains(" UTC"),
        "{table}"
    );
    // A reference that finds nothing says which one; nothing is done to the others.
    let err = home.fails(&["token", "revoke", "--yes", "laptop", "no-such"], 1);
    assert!(
        err.contains("no token \"no-such\"") && err.contains("not_found"),
        "{err}"
    );
    assert_eq!(state(&home, &laptop), "active");
    // Seven digits are too few to stand for an id.
    let err = home.fails(&["token", "describe", &laptop[..7]], 1);
    assert!(err.contains("not_found"), "{err}");

    // Edit several at once.
    let edited = home.json(&[
        "token",
        "edit",
        "laptop",
        "nightly",
        "--description",
        "shared",
    ]);
    assert_eq!(edited.as_array().unwrap().len(), 2);
    assert_eq!(
        home.json(&["token", "describe", "nightly"])[0]["description"],
        "shared"
    );

    // The README's line: one argument holding a line per listed token.
    let listed = home.ok(&["token", "list", "--quiet"]);
    assert_eq!(listed.lines().count(), 3, "{listed}");
    let out = home.run(&["token", "revoke", "--yes", &listed]);
    check(
        &out,
        0,
        &["token", "revoke", "--yes", "$(token list --quiet)"],
    );
    assert_eq!(stdout(&out).matches("Revoked token").count(), 3);
    for id in [&deploy, &laptop, &nightly] {
        assert_eq!(state(&home, id), "revoked");
    }
    assert_eq!(home.ok(&["token", "list", "--quiet"]), "");
    // An empty listing names no token: a usage error, not a silent success.
    let err = home.fails(&["token", "revoke", "--yes", ""], 2);
    assert!(err.contains("no token given"), "{err}");
}

#[test]
fn ambiguous_references_and_names_shared_by_two_owners() {
    let admin = Admin::start();
    let ops = admin.home("ops");
    ops.login_admin();
    // A token named like the start of another's id: the reference names two tokens.
    let first = create(&ops, "first");
    let prefix = first[..8].to_owned();
    let second = create(&ops, &prefix);
    let err = ops.fails(&["token", "revoke", "--yes", &prefix], 1);
    assert!(
        err.contains("ambiguous") && err.contains("names 2 tokens") && err.contains("full id"),
        "{err}"
    );
    assert_eq!(state(&ops, &first), "active");
    assert_eq!(state(&ops, &second), "active");
    // The full id is never ambiguous.
    assert_eq!(ops.json(&["token", "describe", &first])[0]["name"], "first");

    // Two owners with a token of the same name: the admin names whose with --user.
    for who in ["alice", "bob"] {
        let made = ops.run_with(
            &["user", "create", who, "--password-stdin", "-o", "json"],
            &format!("{who}'s password\n"),
        );
        check(&made, 0, &["user", "create", who]);
        let home = admin.home(who);
        check(
            &home.login(who, &format!("{who}'s password")),
            0,
            &["login", who],
        );
        create(&home, "ci");
    }
    let alices = ops.json(&["token", "describe", "ci", "--user", "alice"]);
    assert_eq!(alices[0]["owner"], "alice");
    let bobs = ops.json(&["token", "describe", "ci", "--user", "bob"]);
    assert_eq!(bobs[0]["owner"], "bob");
    // Without --user the name is the caller's own: the admin has no "ci".
    let err = ops.fails(&["token", "describe", "ci"], 1);
    assert!(err.contains("no token \"ci\""), "{err}");
    // Revoking bob's by name leaves alice's alone.
    ops.ok(&["token", "revoke", "--yes", "--user", "bob", "ci"]);
    assert_eq!(state(&ops, bobs[0]["id"].as_str().unwrap()), "revoked");
    assert_eq!(state(&ops, alices[0]["id"].as_str().unwrap()), "active");
}

#[test]
fn revoke_and_delete_ask_first() {
    let admin = Admin::start();
    let home = admin.home("ops");
    home.login_admin();
    let id = create(&home, "ci-deploy");

    // No terminal and no --yes: refused with exit 2, and nothing changed.
    for verb in ["revoke", "delete"] {
        let err = home.fails(&["token", verb, "ci-deploy"], 2);
        assert!(err.contains("--yes") && err.contains("ci-deploy"), "{err}");
        assert_eq!(state(&home, &id), "active");
    }

    // On a terminal: "n" changes nothing, "y" goes ahead.
    let out = on_a_terminal(&home, "token revoke ci-deploy", "n\n");
    let text = format!("{}{}", stdout(&out), stderr(&out));
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains("Revoke token \"ci-deploy\"") && text.contains("Nothing was changed"),
        "{text}"
    );
    assert_eq!(state(&home, &id), "active");
    let out = on_a_terminal(&home, "token revoke ci-deploy", "y\n");
    let text = format!("{}{}", stdout(&out), stderr(&out));
    assert!(out.status.success(), "{text}");
    assert!(text.contains("Revoked token"), "{text}");
    assert_eq!(state(&home, &id), "revoked");
}

#[test]
fn output_formats_and_flags_people_bring() {
    let admin = Admin::start();
    let home = admin.home("ops");
    home.login_admin();
    // `det`'s --expiration-days and `osmo`'s -e/--expires-at.
    let made = home.json(&[
        "token",
        "create",
        "ci-deploy",
        "--expiration-days",
        "7",
        "-d",
        "deploys the staging cluster from CI, every night and on every merge",
    ]);
    assert_eq!(made["record"]["name"], "ci-deploy");
    let expires = tollgate_admin::times::rfc3339(tollgate_admin::times::now() + 20 * 86_400);
    let expires = expires[..10].to_owned();
    let dated = home.json(&["token", "create", "nightly", "-e", &expires]);
    assert!(dated.is_object(), "{dated}");
    // `osmo`'s -t/--format-type, and `text` for the table.
    let listed: serde_json::Value =
        serde_json::from_str(&home.ok(&["token", "list", "-t", "json"])).unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 2);
    assert!(
        home.ok(&["token", "list", "--format-type", "text"])
            .starts_with("ID")
    );
    // YAML.
    let yaml = home.ok(&["token", "describe", "ci-deploy", "-o", "yaml"]);
    assert!(
        yaml.contains("name: ci-deploy") && yaml.contains("state: active"),
        "{yaml}"
    );
    // The table: description, relative times, cut to the width.
    let out = home
        .cmd()
        .args(["token", "list"])
        .env("COLUMNS", "100")
        .output()
        .unwrap();
    check(&out, 0, &["token", "list"]);
    let table = stdout(&out);
    assert!(
        table.contains("DESCRIPTION") && table.contains("in 7 days"),
        "{table}"
    );
    assert!(
        table.contains("deploys") && table.contains("…"),
        "cut, not dropped: {table}"
    );
    assert!(table.lines().all(|l| l.chars().count() <= 100), "{table}");
    // Wide: every column, exact times, nothing cut.
    let out = home
        .cmd()
        .args(["token", "list", "-o", "wide"])
        .env("COLUMNS", "100")
        .output()
        .unwrap();
    let wide = stdout(&out);
    assert!(wide.contains("every night and on every merge"), "{wide}");
    assert!(
        wide.contains("LAST USED") && wide.contains(" UTC"),
        "{wide}"
    );
    // A regenerated token in grace says when the grace ends.
    home.json(&["token", "regenerate", "ci-deploy", "--grace", "3h"]);
    let listed = home.ok(&["token", "list", "-o", "table"]);
    assert!(listed.contains("grace (ends in 3 h)"), "{listed}");
}

/// OSMO's habit: log in with a token, then make tokens with it. The session exchanged for the
/// token makes what the token may, ending no later than the token itself.
#[test]
fn a_token_login_makes_tokens_as_the_token_does() {
    let admin = Admin::start();
    let ops = admin.home("ops");
    ops.login_admin();
    let made = ops.json(&["token", "create", "pat", "--ttl", "30d"]);
    let file = ops.dir.join("pat");
    std::fs::write(&file, made["token"].as_str().unwrap()).unwrap();
    let home = admin.home("osmo");
    let out = home.run(&["login", &admin.url, "--token-file", file.to_str().unwrap()]);
    check(&out, 0, &["login", "--token-file"]);
    let day = |days: i64| {
        tollgate_admin::times::rfc3339(tollgate_admin::times::now() + days * 86_400)[..10]
            .to_owned()
    };
    let inside = home.json(&["token", "create", "my-token", "-e", &day(20)]);
    assert_eq!(inside["record"]["name"], "my-token");
    let err = home.fails(&["token", "create", "too-long", "-e", &day(45)], 1);
    assert!(
        err.contains("reauthentication_required") && err.contains("exchanged"),
        "{err}"
    );
}
