//! Users, service accounts, profile and audit.

use serde_json::Value;

use crate::support::*;

#[test]
fn users_profile_and_audit() {
    let admin = Admin::start();
    let home = admin.home("ops");
    home.login_admin();

    let carol = home
        .cmd()
        .args([
            "user",
            "create",
            "carol",
            "--role",
            "user",
            "--role",
            "token_creator",
            "--password-stdin",
            "-o",
            "json",
        ])
        .write_stdin("carol's password\n")
        .output()
        .unwrap();
    check(&carol, 0, &["user create carol"]);
    let carol: Value = serde_json::from_str(&stdout(&carol)).unwrap();
    assert_eq!(carol["name"], "carol");
    assert_eq!(carol["roles"], serde_json::json!(["token_creator", "user"]));
    assert_eq!(carol["active"], true);
    assert_eq!(carol["has_password"], true);

    let bot = home.json(&[
        "user",
        "create",
        "build-bot",
        "--service-account",
        "--role",
        "user",
    ]);
    assert_eq!(bot["service_account"], true);
    assert_eq!(bot["has_password"], false);
    let bot_token = home.json(&[
        "token",
        "create",
        "nightly",
        "--user",
        "build-bot",
        "--ttl",
        "1d",
    ]);
    assert_eq!(bot_token["record"]["owner"], "build-bot");
    assert_eq!(bot_token["record"]["kind"], "service");
    let bots = home.json(&["token", "list", "--user", "build-bot"]);
    assert_eq!(
        ids(&bots),
        vec![bot_token["record"]["id"].as_str().unwrap().to_owned()]
    );
    let bot_id = bot_token["record"]["id"].as_str().unwrap().to_owned();
    assert!(
        ids(&home.json(&["token", "list", "--all"])).contains(&bot_id),
        "--all lists every user's tokens"
    );
    assert!(
        !ids(&home.json(&["token", "list"])).contains(&bot_id),
        "the default lists the caller's own tokens"
    );

    let users = home.json(&["user", "list"]);
    let names: Vec<&str> = users
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["admin", "build-bot", "carol"]);
    let table = home.ok(&["user", "list"]);
    assert!(
        table.starts_with("NAME ") && table.lines().count() == 4,
        "{table}"
    );

    let edited = home.json(&[
        "user",
        "edit",
        "carol",
        "--remove-role",
        "token_creator",
        "--deactivate",
    ]);
    assert_eq!(edited["roles"], serde_json::json!(["user"]));
    assert_eq!(edited["active"], false);
    let text = home.ok(&["user", "describe", "carol"]);
    assert!(text.contains("carol") && text.contains(" UTC"), "{text}");
    let out = admin.home("carol").login("carol", "carol's password");
    check(&out, 1, &["login as a deactivated user"]);
    assert!(
        home.fails(&["user", "edit", "carol"], 2)
            .contains("nothing to change")
    );

    let profile = home.ok(&["profile"]);
    assert!(profile.contains("admin, token_creator, user"), "{profile}");

    let created = home.json(&["audit", "--action", "token.create"]);
    let events = created.as_array().unwrap();
    assert_eq!(events.len(), 1, "{created}");
    assert_eq!(events[0]["actor"], "admin");
    assert_eq!(events[0]["subject"], "build-bot");
    assert_eq!(
        home.json(&["audit", "--limit", "2"])
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let roles_changed = home.json(&["audit", "--target", "carol"]);
    assert!(
        roles_changed
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "user.roles"),
        "{roles_changed}"
    );
    let table = home.ok(&["audit", "-n", "3"]);
    assert!(
        table.starts_with("TIME ") && table.contains(" UTC") && table.lines().count() == 4,
        "{table}"
    );
}

#[test]
fn service_accounts_made_with_a_token_handed_on_and_deleted() {
    let admin = Admin::start();
    let ops = admin.home("ops");
    ops.login_admin();
    for (name, roles) in [("carol", "token_creator"), ("dave", "user")] {
        let out = ops.run_with(
            &[
                "user",
                "create",
                name,
                "--role",
                "user",
                "--role",
                roles,
                "--password-stdin",
            ],
            "a long password\n",
        );
        check(&out, 0, &["user create", name]);
    }
    let carol = admin.home("carol");
    check(
        &carol.login("carol", "a long password"),
        0,
        &["login carol"],
    );

    // One command makes the missing service account (carol manages it) and its token.
    let minted = carol.json(&[
        "token",
        "create",
        "deploy",
        "--service-account",
        "ci-bot",
        "--role",
        "user",
    ]);
    assert_eq!(minted["record"]["owner"], "ci-bot");
    assert_eq!(minted["record"]["kind"], "service");
    let id = minted["record"]["id"].as_str().unwrap().to_owned();
    let bot = carol.json(&["user", "describe", "ci-bot"]);
    assert_eq!(bot["manager"], "carol");
    assert_eq!(bot["roles"], serde_json::json!(["user"]));

    // Without a terminal to confirm on, and without --yes, nothing is deleted.
    let err = carol.fails(&["user", "delete", "ci-bot"], 2);
    assert!(err.contains("--yes"), "{err}");
    carol.ok(&["user", "describe", "ci-bot"]);

    // An admin hands it to dave; carol no longer sees it.
    let handed = ops.json(&["user", "edit", "ci-bot", "--manager", "dave"]);
    assert_eq!(handed["manager"], "dave");
    carol.fails(&["user", "delete", "ci-bot", "--yes"], 1);

    let out = ops.ok(&["user", "delete", "ci-bot", "--yes"]);
    assert!(out.contains("Deleted ci-bot"), "{out}");
    let token = ops.json(&["token", "describe", &id]);
    assert_eq!(token[0]["state"], "revoked", "{token}");
    let err = ops.fails(&["user", "describe", "ci-bot"], 1);
    assert!(err.contains("not_found"), "{err}");
    let deleted = ops.json(&["audit", "--action", "user.delete"]);
    assert_eq!(deleted[0]["target"], "ci-bot", "{deleted}");
}
