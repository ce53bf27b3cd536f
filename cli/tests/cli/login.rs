//! Logging in and out: password, token, token file, environment overrides, the
//! credentials file; usage errors; completions and help.

use serde_json::Value;

use crate::support::*;

#[test]
fn password_login_saves_private_credentials_and_logout_ends_the_session() {
    let admin = Admin::start();
    let home = admin.home("alice");
    let out = home.login(ADMIN, ADMIN_PASSWORD);
    check(&out, 0, &["login"]);
    assert!(
        stderr(&out).contains(&format!("Logged in to {} as admin", admin.url)),
        "{}",
        stderr(&out)
    );

    let saved = home.saved();
    assert_eq!(saved["current"], admin.url.as_str());
    let entry = &saved["servers"][admin.url.as_str()];
    let token = entry["token"].as_str().expect("a saved token").to_owned();
    assert!(token.starts_with("tg_"), "saved token has the tg_ prefix");
    assert_eq!(entry["kind"], "session");
    assert!(
        !stdout(&out).contains(&token) && !stderr(&out).contains(&token),
        "login never prints the token"
    );

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&home.credentials()), 0o600, "credentials file mode");
        assert_eq!(
            mode(home.credentials().parent().unwrap()),
            0o700,
            "credentials directory mode"
        );
    }

    let me = home.json(&["profile"]);
    assert_eq!(me["user"]["name"], "admin");
    assert_eq!(me["token"]["kind"], "session");
    let table = home.ok(&["profile"]);
    assert!(table.contains("admin") && table.contains(" UTC"), "{table}");

    let out = home.run(&["logout"]);
    check(&out, 0, &["logout"]);
    assert_eq!(
        home.saved()["servers"],
        serde_json::json!({}),
        "logout forgets the server"
    );
    let err = home.fails(&["profile"], 2);
    assert!(err.contains("not logged in"), "{err}");
    // The session itself was ended on the server.
    let err = home.fails(&["profile", "--server", &admin.url], 2);
    assert!(err.contains("not logged in"), "{err}");
    let out = home
        .cmd()
        .args(["profile"])
        .env("TOLLGATE_URL", &admin.url)
        .env("TOLLGATE_TOKEN", &token)
        .output()
        .unwrap();
    check(&out, 1, &["profile with the ended session"]);
    assert!(stderr(&out).contains("revoked"), "{}", stderr(&out));
}

#[test]
fn a_wrong_password_exits_1_with_the_server_code_and_saves_nothing() {
    let admin = Admin::start();
    let home = admin.home("mallory");
    let out = home.login(ADMIN, "not the password");
    check(&out, 1, &["login with a wrong password"]);
    assert!(
        stderr(&out).contains("invalid_credentials"),
        "{}",
        stderr(&out)
    );
    assert!(
        !home.credentials().exists(),
        "nothing saved after a refused login"
    );
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
    // The token is exchanged for a session: calls carry the session, the token is kept to
    // renew it.
    let me = ci.json(&["profile"]);
    assert_eq!(me["token"]["name"], "exchanged session");
    assert_eq!(me["token"]["kind"], "session");
    let saved = &ci.saved()["servers"][admin.url.as_str()];
    assert_eq!(saved["kind"], "session");
    assert_eq!(saved["renewal"], token.as_str());
    assert_ne!(saved["token"], token.as_str());
    // Logging out ends the session and forgets the token, but does not revoke it.
    check(&ci.run(&["logout"]), 0, &["logout"]);
    assert_eq!(
        issuer.json(&[
            "token",
            "describe",
            minted["record"]["id"].as_str().unwrap()
        ])[0]["state"],
        "active"
    );

    let file = ci.dir.join("token.txt");
    std::fs::write(&file, format!("{token}\n")).unwrap();
    check(
        &ci.run(&["login", &admin.url, "--token-file", file.to_str().unwrap()]),
        0,
        &["login --token-file"],
    );
    assert_eq!(ci.json(&["profile"])["token"]["kind"], "session");

    check(
        &ci.run_with(&["login", &admin.url, "--token-file", "-"], &token),
        0,
        &["login --token-file -"],
    );

    // A token the server does not accept: refused (1) with its code; nothing replaced.
    std::fs::write(&file, "tg_not-a-real-token\n").unwrap();
    let err = ci.fails(
        &["login", &admin.url, "--token-file", file.to_str().unwrap()],
        1,
    );
    assert!(
        err.contains("malformed") || err.contains("bad_checksum"),
        "{err}"
    );
    assert_eq!(
        ci.saved()["servers"][admin.url.as_str()]["renewal"],
        token.as_str()
    );
    // An empty or missing file is a usage error.
    std::fs::write(&file, "\n").unwrap();
    ci.fails(
        &["login", &admin.url, "--token-file", file.to_str().unwrap()],
        2,
    );
    ci.fails(
        &["login", &admin.url, "--token-file", "/nonexistent/token"],
        2,
    );
}

#[test]
fn environment_variables_override_saved_credentials() {
    let admin = Admin::start();
    let home = admin.home("env");
    home.login_admin();
    let minted = home.json(&["token", "create", "pipeline", "--ttl", "2h"]);
    let token = minted["token"].as_str().unwrap();

    let ci = admin.home("ci-runner");
    let out = ci
        .cmd()
        .args(["profile", "-o", "json"])
        .env("TOLLGATE_URL", &admin.url)
        .env("TOLLGATE_TOKEN", token)
        .output()
        .unwrap();
    check(&out, 0, &["profile with TOLLGATE_URL and TOLLGATE_TOKEN"]);
    let me: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(me["token"]["name"], "pipeline");
    assert!(
        !ci.credentials().exists(),
        "environment credentials are not saved"
    );

    // TOLLGATE_TOKEN wins over the saved session.
    let out = home
        .cmd()
        .args(["profile", "-o", "json"])
        .env("TOLLGATE_TOKEN", token)
        .output()
        .unwrap();
    check(&out, 0, &["profile"]);
    assert_eq!(
        serde_json::from_str::<Value>(&stdout(&out)).unwrap()["token"]["name"],
        "pipeline"
    );

    // An admin that cannot be reached: exit 1, saying so.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let out = ci
        .cmd()
        .args(["profile"])
        .env("TOLLGATE_URL", format!("http://{closed}"))
        .env("TOLLGATE_TOKEN", token)
        .output()
        .unwrap();
    check(&out, 1, &["profile against a closed port"]);
    assert!(stderr(&out).contains("cannot reach"), "{}", stderr(&out));
    assert!(!stderr(&out).contains(token), "errors never show the token");
}

#[test]
fn usage_errors_exit_2() {
    let admin = Admin::start();
    let home = admin.home("confused");
    for args in [
        vec!["frobnicate"],
        vec!["token", "create"],
        vec!["token", "create", "x", "--ttl", "5y"],
        vec![
            "token",
            "create",
            "x",
            "--ttl",
            "1h",
            "--expires-in-days",
            "2",
        ],
        vec!["token", "create", "x", "--expires-at", "tomorrow"],
        vec!["token", "edit", "0123", "--enable", "--disable"],
        vec!["token", "list", "--output", "yaml"],
        vec!["login", "http://127.0.0.1:1", "--password-stdin"],
        vec!["login", "ftp://host", "--token", "tg_x"],
        vec!["token", "list"],
        vec!["completions", "tcsh"],
    ] {
        let err = home.fails(&args, 2);
        assert!(!err.is_empty(), "{args:?} explains itself");
    }
    assert!(home.fails(&["token", "list"], 2).contains("not logged in"));

    // Checked before anything is sent: nothing to change, no token named.
    let with_env = |args: &[&str]| {
        let out = home
            .cmd()
            .args(args)
            .env("TOLLGATE_URL", &admin.url)
            .env("TOLLGATE_TOKEN", "tg_unused")
            .output()
            .unwrap();
        check(&out, 2, args);
        stderr(&out)
    };
    assert!(
        with_env(&["token", "edit", "0123456789abcdef0123456789abcdef"])
            .contains("nothing to change")
    );
    assert!(with_env(&["token", "revoke", " \n "]).contains("no token given"));

    // No terminal: no prompt that waits forever, but a pointer to --password-stdin.
    let out = home
        .cmd()
        .args(["login", &admin.url, "--username", "admin"])
        .output()
        .unwrap();
    check(&out, 2, &["login without a terminal"]);
    assert!(
        stderr(&out).contains("--password-stdin"),
        "{}",
        stderr(&out)
    );
    assert!(!home.credentials().exists());
}

#[test]
fn completions_help_and_keys() {
    let admin = Admin::start();
    let home = admin.home("shell");
    let script = home.ok(&["completions", "bash"]);
    assert!(
        script.contains("tollgate") && script.contains("regenerate"),
        "a bash completion script"
    );
    assert!(
        home.ok(&["completions", "zsh"])
            .contains("#compdef tollgate")
    );
    for args in [
        &["token", "create", "--help"][..],
        &["login", "--help"],
        &["user", "edit", "--help"],
        &["audit", "--help"],
    ] {
        let help = home.ok(args);
        assert!(help.contains("Examples:"), "{args:?}: {help}");
    }
    let key = home.ok(&["keys", "generate", "--id", "k9"]);
    let keyring = tollgate_shared::Keyring::parse(key.trim()).expect("a usable keyring entry");
    assert!(format!("{keyring:?}").contains("k9") || key.starts_with("k9:"));
}

/// A throttled login says when to try again.
#[test]
fn a_throttled_login_says_when_to_retry() {
    let admin = Admin::start();
    let home = admin.home("guesser");
    let mut last = None;
    for _ in 0..12 {
        let out = home.login(ADMIN, "not the password");
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        if err.contains("too_many_attempts") {
            last = Some(err);
            break;
        }
    }
    let err = last.expect("the throttle answered 429 within 12 attempts");
    assert!(err.contains("try again in") && err.contains("429"), "{err}");
}

#[test]
fn a_token_login_renews_its_session_when_it_ends() {
    let admin = Admin::start_with(|s| s.session_ttl = 5);
    let issuer = admin.home("issuer");
    issuer.login_admin();
    let minted = issuer.json(&["token", "create", "ci", "--ttl", "1h"]);
    let token = minted["token"].as_str().unwrap().to_owned();

    let ci = admin.home("ci");
    let file = ci.dir.join("token.txt");
    std::fs::write(&file, &token).unwrap();
    check(
        &ci.run(&["login", &admin.url, "--token-file", file.to_str().unwrap()]),
        0,
        &["login --token-file"],
    );
    let first = ci.saved()["servers"][admin.url.as_str()].clone();
    let me = ci.json(&["profile"]);
    assert_eq!(
        me["token"]["kind"], "session",
        "the long-lived token is not sent"
    );
    assert_eq!(me["token"]["id"], first["token_id"]);

    std::thread::sleep(std::time::Duration::from_secs(6));
    let me = ci.json(&["profile"]);
    assert_eq!(me["token"]["kind"], "session");
    assert_eq!(me["user"]["name"], "admin");
    let renewed = ci.saved()["servers"][admin.url.as_str()].clone();
    assert_ne!(renewed["token"], first["token"], "a new session was saved");
    assert_ne!(renewed["token_id"], first["token_id"]);
    assert_eq!(me["token"]["id"], renewed["token_id"]);
    assert_eq!(
        renewed["renewal"],
        token.as_str(),
        "the token itself is kept"
    );
    assert!(ci.ok(&["token", "list"]).contains("ci"));
}
