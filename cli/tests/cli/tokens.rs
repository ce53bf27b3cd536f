//! The token lifecycle, and actions the server refuses.

use serde_json::Value;

use crate::support::*;

#[test]
fn the_whole_token_lifecycle() {
    let admin = Admin::start();
    let home = admin.home("ops");
    home.login_admin();

    // create, JSON
    let minted = home.json(&[
        "token",
        "create",
        "ci-deploy",
        "--description",
        "deploys from CI",
        "--ttl",
        "12h",
        "--role",
        "user",
    ]);
    let token = minted["token"].as_str().unwrap().to_owned();
    let record = &minted["record"];
    let id = record["id"].as_str().unwrap().to_owned();
    assert!(token.starts_with("tg_"));
    assert_eq!(id.len(), 32);
    assert_eq!(record["name"], "ci-deploy");
    assert_eq!(record["description"], "deploys from CI");
    assert_eq!(record["roles"], serde_json::json!(["user"]));
    assert_eq!(record["state"], "active");
    assert_eq!(
        seconds_between(&record["created_at"], &record["expires_at"]),
        12 * 3600
    );
    let used = home
        .cmd()
        .args(["profile", "-o", "json"])
        .env("TOLLGATE_TOKEN", &token)
        .output()
        .unwrap();
    check(&used, 0, &["profile with the new token"]);

    // create, table: the token alone on stdout, the warning on stderr
    let out = home.run(&["token", "create", "laptop", "--expires-in-days", "3"]);
    check(&out, 0, &["token create laptop"]);
    let printed = stdout(&out);
    assert_eq!(printed.lines().count(), 1, "{printed}");
    assert!(printed.trim().starts_with("tg_"), "{printed}");
    assert!(
        stderr(&out).contains("will not be shown again"),
        "{}",
        stderr(&out)
    );
    let laptop = home
        .json(&["token", "list"])
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "laptop")
        .unwrap()
        .clone();
    let laptop_id = laptop["id"].as_str().unwrap().to_owned();
    assert_eq!(
        seconds_between(&laptop["created_at"], &laptop["expires_at"]),
        3 * 86_400
    );

    // list: JSON and an aligned table with UTC times
    let listed = home.json(&["token", "list"]);
    assert_eq!(ids(&listed).len(), 2);
    assert!(ids(&listed).contains(&id) && ids(&listed).contains(&laptop_id));
    let table = home.ok(&["token", "list"]);
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 3, "{table}");
    assert!(
        lines[0].starts_with("ID ") && lines[0].contains("EXPIRES"),
        "{table}"
    );
    let name_col = lines[0].find("NAME").unwrap();
    let state_col = lines[0].find("STATE").unwrap();
    for line in &lines[1..] {
        assert!(
            line[name_col..].starts_with("ci-deploy") || line[name_col..].starts_with("laptop"),
            "{table}"
        );
        assert!(line[state_col..].starts_with("active"), "{table}");
        assert!(line.contains(" in "), "expiry relative to now: {table}");
    }

    let quiet = home.ok(&["token", "list", "--quiet"]);
    let mut quiet: Vec<&str> = quiet.lines().collect();
    quiet.sort();
    let mut both = vec![id.as_str(), laptop_id.as_str()];
    both.sort();
    assert_eq!(quiet, both, "--quiet prints the ids alone");

    // describe and roles
    let described = home.json(&["token", "describe", &id, &laptop_id]);
    assert_eq!(ids(&described), vec![id.clone(), laptop_id.clone()]);
    assert_eq!(described[0]["description"], "deploys from CI");
    let text = home.ok(&["token", "describe", &id]);
    assert!(
        text.contains("deploys from CI") && text.contains("Expires") && text.contains(" UTC"),
        "{text}"
    );
    assert_eq!(
        home.json(&["token", "roles", &id])["roles"],
        serde_json::json!(["user"])
    );
    let roles = home.ok(&["token", "roles", &id]);
    let lines: Vec<&str> = roles.lines().collect();
    assert_eq!(lines.len(), 2, "{roles}");
    assert!(
        lines[0].starts_with("ROLE") && lines[0].contains("GRANTED BY"),
        "{roles}"
    );
    assert!(
        lines[1].starts_with("user ") && lines[1].contains("admin"),
        "{roles}"
    );

    // edit: description, disable (the token is then refused), enable, shorten the expiry
    let edited = home.json(&[
        "token",
        "edit",
        &id,
        "--description",
        "staging only",
        "--disable",
    ]);
    assert_eq!(edited["description"], "staging only");
    assert_eq!(edited["enabled"], false);
    assert_eq!(edited["state"], "disabled");
    let used = home
        .cmd()
        .args(["profile"])
        .env("TOLLGATE_TOKEN", &token)
        .output()
        .unwrap();
    check(&used, 1, &["profile with a disabled token"]);
    assert!(stderr(&used).contains("disabled"), "{}", stderr(&used));
    assert_eq!(
        home.json(&["token", "edit", &id, "--enable"])["state"],
        "active"
    );
    let soon = time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .unwrap()
        + time::Duration::hours(1);
    let soon = soon
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let edited = home.json(&["token", "edit", &id, "--expires-at", &soon]);
    assert_eq!(
        seconds_between(&Value::from(soon.as_str()), &edited["expires_at"]),
        0
    );

    // regenerate with grace: a new token, the old one still works until the grace ends
    let regenerated = home.json(&["token", "regenerate", &id, "--grace", "1h"]);
    let new_token = regenerated["token"].as_str().unwrap().to_owned();
    let new_id = regenerated["record"]["id"].as_str().unwrap().to_owned();
    assert_ne!(new_token, token);
    assert_ne!(new_id, id);
    assert_eq!(regenerated["record"]["replaces"], id.as_str());
    assert_eq!(regenerated["record"]["name"], "ci-deploy");
    assert_eq!(regenerated["previous"]["state"], "grace");
    let grace = seconds_between(
        &regenerated["previous"]["revoked_at"],
        &regenerated["previous"]["grace_until"],
    );
    assert_eq!(grace, 3600);
    let used = home
        .cmd()
        .args(["profile"])
        .env("TOLLGATE_TOKEN", &token)
        .output()
        .unwrap();
    check(&used, 0, &["the old token during its grace period"]);

    // regenerate, table: the new token alone on stdout
    let out = home.run(&["token", "regenerate", &laptop_id]);
    check(&out, 0, &["token regenerate"]);
    assert!(stdout(&out).trim().starts_with("tg_") && stdout(&out).lines().count() == 1);
    assert!(
        stderr(&out).contains("will not be shown again")
            && stderr(&out).contains("stops working now"),
        "{}",
        stderr(&out)
    );

    // revoke: the token is refused; a second revoke is refused with the server's code
    let out = home.ok(&["token", "revoke", "--yes", &new_id]);
    assert!(out.starts_with(&format!("Revoked token {new_id}")), "{out}");
    let used = home
        .cmd()
        .args(["profile"])
        .env("TOLLGATE_TOKEN", &new_token)
        .output()
        .unwrap();
    check(&used, 1, &["profile with a revoked token"]);
    assert!(stderr(&used).contains("revoked"));
    let err = home.fails(&["token", "revoke", "--yes", &new_id], 1);
    assert!(
        err.contains("already_revoked") && err.contains("409"),
        "{err}"
    );
    let listed = ids(&home.json(&["token", "list"]));
    assert!(
        !listed.contains(&new_id),
        "revoked tokens are hidden by default"
    );
    let with_revoked = home.json(&["token", "list", "--revoked"]);
    let entry = with_revoked
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == new_id.as_str())
        .expect("listed with --revoked");
    assert_eq!(entry["state"], "revoked");
    assert_eq!(entry["revoked_by"], "admin");
    let revoked = home.json(&["token", "revoke", "--yes", &id]);
    assert_eq!(revoked["state"], "revoked", "ending the grace period early");

    // delete: gone from lists and from describe
    let deleted = home.json(&["token", "delete", "-y", &new_id]);
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
    let admins_token = ops.json(&["token", "create", "admin-only", "--ttl", "1h"])["record"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let bob = ops
        .cmd()
        .args(["user", "create", "bob", "--password-stdin", "-o", "json"])
        .write_stdin("bob's password\n")
        .output()
        .unwrap();
    check(&bob, 0, &["user create bob"]);

    let home = admin.home("bob");
    check(&home.login("bob", "bob's password"), 0, &["login bob"]);
    // bob holds only `user`: he makes tokens for himself, but not for others.
    let err = home.fails(&["token", "create", "theirs", "--user", "ops-bot"], 1);
    assert!(err.contains("forbidden") && err.contains("403"), "{err}");
    // Another user's token is not revealed.
    let err = home.fails(&["token", "describe", &admins_token], 1);
    assert!(err.contains("not_found"), "{err}");
    let err = home.fails(&["token", "revoke", &admins_token], 1);
    assert!(err.contains("not_found"), "{err}");
    assert_eq!(
        ops.json(&["token", "describe", &admins_token])[0]["state"],
        "active",
        "nothing changed"
    );
    // Only admins create users.
    let err = home.fails(&["user", "edit", "admin", "--deactivate"], 1);
    assert!(
        err.contains("not_found") || err.contains("forbidden"),
        "{err}"
    );
    // A server-side validation: the expiry is beyond the maximum lifetime.
    let err = ops.fails(
        &["token", "create", "forever", "--expires-in-days", "3650"],
        1,
    );
    assert!(err.contains("expiry_too_far"), "{err}");
    let err = ops.fails(&["token", "create", "admin-only"], 1);
    assert!(err.contains("name_taken"), "{err}");
}

#[test]
fn usage_and_the_unused_tokens() {
    let admin = Admin::start();
    let home = admin.home("ops");
    home.login_admin();
    for name in ["busy", "idle"] {
        home.ok(&["token", "create", name]);
    }
    let listed = home.json(&["token", "list"]);
    let busy = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "busy")
        .and_then(|t| t["id"].as_str())
        .unwrap()
        .to_owned();
    admin.report_use(&[(&busy, 7, 1)]);

    let out = home.ok(&["token", "usage", "busy"]);
    assert!(out.contains("7 requests through the edge"), "{out}");
    assert!(out.contains("DATE") && out.contains("  7"), "{out}");
    let json = home.json(&["token", "usage", "busy", "--days", "3"]);
    assert_eq!(json["total"], 7);
    assert_eq!(json["days"].as_array().unwrap().len(), 3);
    assert_eq!(json["token_id"], busy.as_str());
    assert!(json["last_used_at"].is_string());
    let out = home.ok(&["token", "usage", "idle"]);
    assert!(
        out.contains("0 requests") && out.contains("last used -"),
        "{out}"
    );

    let names = |list: &Value| -> Vec<String> {
        list.as_array()
            .unwrap()
            .iter()
            .map(|t| t["name"].as_str().unwrap().to_owned())
            .collect()
    };
    let sorted = home.json(&["token", "list", "--sort", "last-used"]);
    assert_eq!(names(&sorted), ["idle", "busy"]);
    let unused = home.json(&["token", "list", "--unused-for", "30d"]);
    assert!(
        names(&unused).is_empty(),
        "both were created just now: {unused}"
    );
    home.fails(&["token", "list", "--unused-for", "soon"], 2);
    home.fails(
        &[
            "token",
            "usage",
            "busy",
            "--from",
            "2026-01-01",
            "--days",
            "3",
        ],
        2,
    );
}
