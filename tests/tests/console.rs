//! The web console in a real browser (headless Chromium over WebDriver) against the real admin
//! on SQLite: signing in, the token lifecycle, what non-admins see, CSRF, escaping, headers and
//! cookie flags, accessibility (axe-core) at desktop and phone widths, and the time to render a
//! list of 1 000 tokens. Screenshots land in `target/console-screenshots/`.

use serde_json::json;
use tollgate_e2e::console::{ConsoleClient, sign_in};
use tollgate_e2e::{Admin, AdminClient, Browser, Keys};

const PASSWORD: &str = "a long enough password";

async fn admin() -> (Admin, AdminClient) {
    let admin = Admin::start(&Keys::generate("k1").text).await;
    let root = admin.login_admin().await;
    (admin, root)
}

/// `GET /api/v1/me` with `token`: the status.
async fn me(admin: &Admin, token: &str) -> u16 {
    tollgate_e2e::client()
        .get(format!("{}/api/v1/me", admin.url()))
        .bearer_auth(token)
        .send()
        .await
        .expect("the admin answers")
        .status()
        .as_u16()
}

/// `YYYY-MM-DDTHH:MM` in UTC, `seconds` from now (what a datetime-local field holds).
fn local_in(seconds: i64) -> String {
    let t = tollgate_e2e::now() as i64 + seconds;
    let text = tollgate_admin::times::rfc3339(t);
    text[..16].to_owned()
}

async fn notice(b: &Browser) -> String {
    b.text("main .notice").await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_is_created_used_revoked_regenerated_and_deleted() {
    let (admin, root) = admin().await;
    root.create_user("alice", PASSWORD, &["user", "token_creator", "deploy"])
        .await;
    let b = Browser::start(&admin.url()).await;
    sign_in(&b, "alice", PASSWORD).await;

    // The session cookie: HttpOnly, SameSite=Strict, on the whole site; not Secure over http.
    let cookies = b.client.get_all_cookies().await.expect("cookies");
    let session = cookies
        .iter()
        .find(|c| c.name() == "tollgate_session")
        .expect("a session cookie");
    assert_eq!(session.http_only(), Some(true));
    assert_eq!(
        session.same_site().map(|s| s.to_string()).as_deref(),
        Some("Strict")
    );
    assert_eq!(session.path(), Some("/"));
    assert_ne!(session.secure(), Some(true));

    // Create a token with one chosen role and a 7-day expiry, in the dialog.
    b.click("#new-token").await;
    let open = b
        .run(
            "return document.getElementById('create-dialog').open",
            vec![],
        )
        .await;
    assert_eq!(open, json!(true), "the create dialog opens");
    b.fill("#c-name", "ci-deploy").await;
    b.fill("#c-description", "deploys from CI").await;
    b.click("#c-exp-7").await;
    b.click("#c-role-user").await; // unchecks
    b.click("#c-role-token_creator").await; // unchecks
    b.screenshot("create-dialog").await;
    b.submit("#create-dialog button[type=submit]:not([formmethod])")
        .await;

    // The result dialog shows the text once, with a copy button, the warning and a curl line.
    let text = b.value("#token-text").await;
    assert!(text.starts_with("tg_"), "{text}");
    let curl = b.value("#curl-line").await;
    assert_eq!(
        curl,
        format!(
            "curl -H \"Authorization: Bearer {text}\" {}/api/v1/me",
            admin.url()
        )
    );
    assert!(
        b.text("#result-dialog .warning")
            .await
            .contains("will not be shown again")
    );
    b.find("#result-dialog button[data-copy=token-text]").await;
    assert!(notice(&b).await.contains("Created token “ci-deploy”"));
    b.screenshot("token-created").await;
    b.click("#result-dialog form[method=dialog] button").await;

    // The token works against the API with exactly the chosen role.
    let info: serde_json::Value = tollgate_e2e::client()
        .get(format!("{}/api/v1/me", admin.url()))
        .bearer_auth(&text)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(info["token"]["roles"], json!(["deploy"]));
    let id = info["token"]["id"].as_str().unwrap().to_owned();

    // The table: state, relative expiry with the exact UTC time on hover.
    let row = format!("tr[data-token='{id}']");
    assert_eq!(b.text(&format!("{row} .state")).await, "active");
    let expires = b.find(&format!("{row} td[data-label=Expires] time")).await;
    let relative = expires.text().await.unwrap();
    assert!(
        relative == "in 7 days" || relative == "in 6 days",
        "{relative}"
    );
    assert!(
        expires
            .attr("title")
            .await
            .unwrap()
            .unwrap()
            .ends_with(" UTC")
    );
    b.screenshot("token-list").await;

    // Revoke from the table.
    b.submit(&format!("{row} button.danger")).await;
    assert!(
        notice(&b).await.contains("Revoked “ci-deploy”"),
        "{}",
        notice(&b).await
    );
    assert_eq!(b.text(&format!("{row} .state")).await, "revoked");
    assert_eq!(me(&admin, &text).await, 401);

    // Another token, with the default roles; then its page: description, disable, expiry.
    b.click("#new-token").await;
    b.fill("#c-name", "laptop").await;
    b.submit("#create-dialog button[type=submit]:not([formmethod])")
        .await;
    let old_text = b.value("#token-text").await;
    b.click("#result-dialog form[method=dialog] button").await;
    b.submit("a[aria-label='Manage laptop']").await;
    b.fill("#e-description", "my laptop").await;
    b.submit("form[action$='/description'] button").await;
    assert!(
        notice(&b)
            .await
            .contains("Saved the description of “laptop”")
    );
    b.submit("form[action$='/disable'] button").await;
    assert!(notice(&b).await.contains("Disabled “laptop”"));
    assert_eq!(me(&admin, &old_text).await, 401);
    b.submit("form[action$='/enable'] button").await;
    let said = notice(&b).await;
    assert!(said.contains("Enabled “laptop”"), "{said}");
    assert_eq!(me(&admin, &old_text).await, 200);
    b.set_value("#e-expiry", &local_in(2 * 86_400 + 600)).await;
    b.submit("form[action$='/expiry'] button").await;
    assert!(
        notice(&b).await.contains("now expires in 2 days"),
        "{}",
        notice(&b).await
    );
    b.screenshot("token-page").await;

    // Regenerate, the old text keeping an hour of grace.
    b.click("#r-at").await;
    b.set_value("#r-until", &local_in(3600 + 60)).await;
    b.submit("form[action$='/regenerate'] button").await;
    let new_text = b.value("#token-text").await;
    assert_ne!(new_text, old_text);
    assert!(
        b.text("#result-dialog p[role=status]")
            .await
            .contains("the old token keeps working until")
    );
    b.click("#result-dialog form[method=dialog] button").await;
    assert_eq!(me(&admin, &old_text).await, 200, "the old text is in grace");
    assert_eq!(me(&admin, &new_text).await, 200);
    b.goto("/tokens?state=grace").await;
    assert_eq!(b.count("tbody tr").await, 1);
    assert_eq!(b.text("tbody tr .state").await, "in grace");

    // Delete the new token: a wrong name is refused; the right one deletes.
    b.goto("/tokens?q=LAPTOP&state=active").await;
    assert_eq!(b.count("tbody tr").await, 1, "search ignores case");
    b.submit("a[aria-label='Manage laptop']").await;
    let new_id = b.path().await.trim_start_matches("/tokens/").to_owned();
    b.fill("#d-confirm", "laptop2").await;
    b.submit("form[action$='/delete'] button").await;
    assert!(notice(&b).await.contains("Not deleted"));
    assert_eq!(me(&admin, &new_text).await, 200);
    b.fill("#d-confirm", "laptop").await;
    b.submit("form[action$='/delete'] button").await;
    assert!(notice(&b).await.contains("Deleted “laptop”"));
    assert_eq!(b.count(&format!("tr[data-token='{new_id}']")).await, 0);
    assert_eq!(me(&admin, &new_text).await, 401);

    // Sign out: the session token is revoked and the pages ask to sign in again.
    b.submit("form.signout button").await;
    b.find("#username").await;
    assert!(b.text("main .notice").await.contains("signed out"));
    b.goto("/tokens").await;
    assert_eq!(b.path().await, "/login");
    b.close().await;
}

const ADMIN_PAGES: &[&str] = &[
    "/admin/tokens",
    "/admin/users",
    "/admin/users/admin",
    "/admin/audit",
    "/admin/settings",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_non_admin_does_not_see_admin_pages() {
    let (admin, root) = admin().await;
    root.create_user("bob", PASSWORD, &["user"]).await;
    let b = Browser::start(&admin.url()).await;
    sign_in(&b, "bob", PASSWORD).await;
    let links = b.count("header nav a").await;
    assert_eq!(links, 2, "My tokens and Profile only");
    assert_eq!(b.count("header nav a[href^='/admin']").await, 0);
    assert_eq!(
        b.count("#new-token").await,
        1,
        "bob makes tokens for himself (the server lets everyone)"
    );
    b.goto("/admin/users").await;
    assert_eq!(b.text("h1").await, "Admins only");
    b.close().await;

    let bob = ConsoleClient::sign_in(&admin.url(), "bob", PASSWORD, false).await;
    for path in ADMIN_PAGES {
        let status = bob.get(path).await.status().as_u16();
        assert!(status == 403 || status == 404, "{path}: {status}");
    }
    let status = bob
        .post(
            "/admin/users",
            &[
                ("csrf", &bob.csrf),
                ("name", "mallory"),
                ("password", PASSWORD),
            ],
        )
        .await
        .status();
    assert_eq!(status, 403);
    // Someone else's token is not found, not revealed.
    let (_, root_token) = root.create_token("root-token", json!({})).await;
    let status = bob.get(&format!("/tokens/{root_token}")).await.status();
    assert_eq!(status, 404);
    let status = bob
        .post(
            &format!("/tokens/{root_token}/revoke"),
            &[("csrf", &bob.csrf)],
        )
        .await
        .status();
    assert_eq!(status, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forms_need_the_sessions_csrf_token_and_pages_carry_security_headers() {
    let (admin, root) = admin().await;
    root.create_user("carol", PASSWORD, &["user", "token_creator"])
        .await;
    root.create_user("dave", PASSWORD, &["user"]).await;
    let http = tollgate_e2e::client();

    // Security headers on every page, the sign-in page included.
    let carol = ConsoleClient::sign_in(&admin.url(), "carol", PASSWORD, false).await;
    for resp in [
        http.get(format!("{}/login", admin.url()))
            .send()
            .await
            .unwrap(),
        carol.get("/tokens").await,
        carol.get("/profile").await,
        carol.get("/assets/console.js").await,
    ] {
        let h = resp.headers();
        let csp = h["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("default-src 'self'"), "{csp}");
        assert!(csp.contains("script-src 'self'"), "{csp}");
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
        assert!(!csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"));
        assert_eq!(h["x-content-type-options"], "nosniff");
        assert_eq!(h["referrer-policy"], "no-referrer");
    }
    let page = carol.get("/tokens").await;
    assert_eq!(page.headers()["cache-control"], "no-store");
    assert!(
        page.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );

    // The session cookie's flags; Secure when the admin is served over https (behind a proxy).
    let line = carol.cookie_line.clone();
    for flag in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(line.contains(flag), "{line}");
    }
    assert!(!line.contains("Secure"), "{line}");
    let max_age: i64 = line
        .split("Max-Age=")
        .nth(1)
        .and_then(|r| r.split(';').next())
        .and_then(|v| v.parse().ok())
        .expect("a Max-Age");
    assert!(
        (12 * 3600 - 60..=12 * 3600).contains(&max_age),
        "the cookie ends with the session: {max_age}"
    );
    let over_https = ConsoleClient::sign_in(&admin.url(), "dave", PASSWORD, true).await;
    assert!(
        over_https.cookie_line.contains("; Secure"),
        "{}",
        over_https.cookie_line
    );

    // Without the CSRF token, with another session's, or with none on sign-in: 403, nothing done.
    for csrf in [None, Some(over_https.csrf.as_str()), Some("")] {
        let mut fields = vec![("name", "forged"), ("expiry", "7d")];
        fields.extend(csrf.map(|c| ("csrf", c)));
        let resp = carol.post("/tokens", &fields).await;
        assert_eq!(resp.status(), 403);
        assert!(resp.text().await.unwrap().contains("security token"));
    }
    let resp = carol.post("/logout", &[]).await;
    assert_eq!(resp.status(), 403);
    let resp = http
        .post(format!("{}/login", admin.url()))
        .form(&[("username", "carol"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403, "sign-in needs its form's token too");
    let listed = root.call("GET", "/api/v1/tokens?user=carol", None).await;
    assert_eq!(listed["tokens"], json!([]), "no forged form did anything");

    // With it, the form works; the page with the token text is not stored.
    let pairs = [
        ("name", "forged"),
        ("expiry", "7d"),
        ("csrf", carol.csrf.as_str()),
    ];
    let resp = carol.post("/tokens", &pairs).await;
    assert_eq!(resp.status(), 201);
    assert_eq!(resp.headers()["cache-control"], "no-store");
    assert!(resp.text().await.unwrap().contains("id=\"token-text\""));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_supplied_text_renders_as_text() {
    let (admin, root) = admin().await;
    root.create_user("erin", PASSWORD, &["user", "token_creator"])
        .await;
    let erin = admin.login("erin", PASSWORD).await;
    let evil = "<script>window.__xss = 1</script><img src=x onerror=\"window.__xss = 2\">";
    erin.create_token("evil", json!({"description": evil}))
        .await;

    let b = Browser::start(&admin.url()).await;
    sign_in(&b, "erin", PASSWORD).await;
    assert_eq!(b.text("td.description").await, evil);
    assert_eq!(
        b.count("td.description script, td.description img").await,
        0
    );
    assert_eq!(
        b.run("return window.__xss === undefined", vec![]).await,
        json!(true)
    );
    b.submit("a[aria-label='Manage evil']").await;
    assert_eq!(b.text("dd.description").await, evil);
    assert_eq!(
        b.run("return window.__xss === undefined", vec![]).await,
        json!(true)
    );
    b.close().await;

    // The audit log shows details as text too (the admin's view, filtered by actor and action).
    let b = Browser::start(&admin.url()).await;
    sign_in(
        &b,
        tollgate_e2e::admin::ADMIN_USER,
        tollgate_e2e::admin::ADMIN_PASSWORD,
    )
    .await;
    b.goto("/admin/audit?actor=erin&action=token.create").await;
    let events = b.text("table.audit tbody").await;
    assert!(events.contains("name \"evil\""), "{events}");
    assert_eq!(b.count("table.audit b").await, 0);
    b.close().await;
}

/// Checks the page at two widths: no serious accessibility violation, nothing wider than the
/// window, every form control labelled; saves a screenshot of each.
async fn check_page(b: &Browser, name: &str) {
    for (width, suffix) in [(1280, ""), (360, "-360")] {
        b.resize(width, 900).await;
        let violations = b.axe().await;
        assert!(
            violations.is_empty(),
            "{name} at {width}px:\n{}",
            violations.join("\n")
        );
        let overflow = b
            .run(
                "return document.documentElement.scrollWidth - document.documentElement.clientWidth",
                vec![],
            )
            .await;
        assert!(
            overflow.as_i64().unwrap_or(0) <= 0,
            "{name} is wider than {width}px by {overflow}"
        );
        let unlabelled = b
            .run(
                r#"return [...document.querySelectorAll("input:not([type=hidden]), select, textarea, button")]
                     .filter(e => !(e.labels && e.labels.length) && !e.getAttribute("aria-label")
                                  && !(e.tagName === "BUTTON" && e.textContent.trim()))
                     .map(e => e.outerHTML.slice(0, 80))"#,
                vec![],
            )
            .await;
        assert_eq!(unlabelled, json!([]), "{name}: controls without a label");
        b.screenshot(&format!("{name}{suffix}")).await;
    }
    b.resize(1280, 900).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_passes_the_accessibility_check_on_a_phone_and_a_desktop() {
    let (admin, root) = admin().await;
    root.create_user("frank", PASSWORD, &["user", "token_creator"])
        .await;
    root.call(
        "POST",
        "/api/v1/users",
        Some(json!({"name": "ci-bot", "service_account": true, "roles": ["user"]})),
    )
    .await;
    let (_, id) = root
        .create_token(
            "deploy-prod",
            json!({"description": "production deploys", "ttl_seconds": 6 * 86_400}),
        )
        .await;
    root.create_token("laptop", json!({"ttl_seconds": 3600}))
        .await;
    let (_, old) = root.create_token("old", json!({})).await;
    root.call("POST", &format!("/api/v1/tokens/{old}/revoke"), None)
        .await;

    let b = Browser::start(&admin.url()).await;
    b.goto("/login").await;
    check_page(&b, "login").await;
    sign_in(
        &b,
        tollgate_e2e::admin::ADMIN_USER,
        tollgate_e2e::admin::ADMIN_PASSWORD,
    )
    .await;
    check_page(&b, "tokens").await;

    // Keyboard: the skip link comes first, and Tab reaches the "New token" button; Enter opens it.
    b.run("document.activeElement.blur()", vec![]).await;
    let mut reached = false;
    for _ in 0..30 {
        b.find("body")
            .await
            .send_keys("\u{e004}")
            .await
            .expect("Tab");
        let id = b.run("return document.activeElement.id", vec![]).await;
        if id == json!("new-token") {
            reached = true;
            break;
        }
    }
    assert!(reached, "Tab reaches the New token button");
    b.find("#new-token")
        .await
        .send_keys("\u{e007}")
        .await
        .unwrap();
    assert_eq!(
        b.run(
            "return document.getElementById('create-dialog').open",
            vec![]
        )
        .await,
        json!(true)
    );
    check_page(&b, "create-dialog-open").await;
    b.goto("/tokens/new").await;
    b.fill("#c-name", "fresh").await;
    b.submit("#create-dialog button[type=submit]:not([formmethod])")
        .await;
    check_page(&b, "result-dialog").await;

    for (path, name) in [
        (format!("/tokens/{id}"), "token-page"),
        ("/admin/tokens".to_owned(), "all-tokens"),
        ("/admin/users".to_owned(), "users"),
        ("/admin/users/frank".to_owned(), "user-page"),
        ("/admin/audit".to_owned(), "audit"),
        ("/admin/settings".to_owned(), "settings"),
        ("/profile".to_owned(), "profile"),
    ] {
        b.goto(&path).await;
        check_page(&b, name).await;
    }
    b.close().await;
}

/// The server time to render the token list with 1 000 tokens (the `Server-Timing` the page
/// answers with: loading from the store and rendering), median of 7.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_token_list_renders_1000_tokens_quickly() {
    let (admin, root) = admin().await;
    root.create_user("gina", PASSWORD, &["user", "token_creator"])
        .await;
    let gina = std::sync::Arc::new(admin.login("gina", PASSWORD).await);
    let mut tasks = Vec::new();
    for worker in 0..4 {
        let gina = gina.clone();
        tasks.push(tokio::spawn(async move {
            for i in (worker..1000).step_by(4) {
                gina.create_token(
                    &format!("token-{i:04}"),
                    json!({"description": "a token among a thousand", "roles": ["user"]}),
                )
                .await;
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let console = ConsoleClient::sign_in(&admin.url(), "gina", PASSWORD, false).await;
    let mut server = Vec::new();
    let mut total = Vec::new();
    for _ in 0..7 {
        let started = std::time::Instant::now();
        let resp = console.get("/tokens").await;
        let timing = resp.headers()["server-timing"].to_str().unwrap().to_owned();
        let html = resp.text().await.unwrap();
        total.push(started.elapsed().as_secs_f64() * 1000.0);
        assert_eq!(html.matches("<tr data-token=").count(), 1000);
        let ms: f64 = timing
            .split("dur=")
            .nth(1)
            .and_then(|v| v.parse().ok())
            .expect("render;dur=MS");
        server.push(ms);
    }
    server.sort_by(f64::total_cmp);
    total.sort_by(f64::total_cmp);
    let (median, whole) = (server[3], total[3]);
    println!(
        "console: GET /tokens with 1000 tokens (1 owner, 1 role each, SQLite): server {median:.1} ms \
         (load + render, median of 7), whole request {whole:.1} ms; goal <= 50 ms"
    );
    assert!(
        median < 500.0,
        "rendering 1000 tokens took {median:.1} ms on the server"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admins_manage_users_and_read_the_audit_log() {
    let (admin, _root) = admin().await;
    let c = ConsoleClient::sign_in(
        &admin.url(),
        tollgate_e2e::admin::ADMIN_USER,
        tollgate_e2e::admin::ADMIN_PASSWORD,
        false,
    )
    .await;
    let csrf = c.csrf.clone();
    let page = |resp: reqwest::Response| async move {
        let status = resp.status().as_u16();
        (status, resp.text().await.unwrap())
    };

    // Create a person and a service account.
    let (status, html) = page(
        c.post(
            "/admin/users",
            &[
                ("csrf", &csrf),
                ("name", "ivan"),
                ("password", PASSWORD),
                ("roles", "user"),
            ],
        )
        .await,
    )
    .await;
    assert_eq!(status, 201, "{html}");
    assert!(html.contains("Created user “ivan” with roles user."));
    let (status, html) = page(
        c.post(
            "/admin/users",
            &[
                ("csrf", &csrf),
                ("name", "build-bot"),
                ("service_account", "true"),
                ("roles", "user"),
                ("other_roles", "deploy"),
            ],
        )
        .await,
    )
    .await;
    assert_eq!(status, 201, "{html}");
    assert!(html.contains("Created service account “build-bot” with roles deploy, user."));

    // Roles, deactivation and back, a password reset: each says what happened.
    let (status, html) = page(
        c.post(
            "/admin/users/ivan/roles",
            &[
                ("csrf", &csrf),
                ("roles", "user"),
                ("roles", "token_creator"),
            ],
        )
        .await,
    )
    .await;
    assert_eq!(status, 200, "{html}");
    assert!(
        html.contains("“ivan” now holds token_creator, user"),
        "{html}"
    );
    let ivan = admin.login("ivan", PASSWORD).await;
    let (_, html) = page(
        c.post(
            "/admin/users/ivan/active",
            &[("csrf", &csrf), ("active", "false")],
        )
        .await,
    )
    .await;
    assert!(html.contains("Deactivated “ivan”"), "{html}");
    assert_eq!(me(&admin, &ivan.token).await, 401);
    let (_, html) = page(
        c.post(
            "/admin/users/ivan/active",
            &[("csrf", &csrf), ("active", "true")],
        )
        .await,
    )
    .await;
    assert!(html.contains("Reactivated “ivan”"), "{html}");
    let (_, html) = page(
        c.post(
            "/admin/users/ivan/password",
            &[("csrf", &csrf), ("password", "another long password")],
        )
        .await,
    )
    .await;
    assert!(html.contains("Set a new password for “ivan”"), "{html}");
    admin.login("ivan", "another long password").await;
    let (status, html) = page(
        c.post(
            "/admin/users/ivan/password",
            &[("csrf", &csrf), ("password", "short")],
        )
        .await,
    )
    .await;
    assert_eq!(status, 422, "the API's rule refuses it: {html}");

    // The audit log: filters by actor, action and time, and pages back.
    let (_, html) = page(c.get("/admin/audit?action=user.update&target=ivan").await).await;
    assert_eq!(
        html.matches("<tr><td data-label=\"Time\">").count(),
        3,
        "{html}"
    );
    let (_, html) = page(c.get("/admin/audit?to=2000-01-01T00:00").await).await;
    assert!(html.contains("No events match."));
    for i in 0..50 {
        c.post(
            "/admin/users",
            &[
                ("csrf", &csrf),
                ("name", &format!("u{i}")),
                ("service_account", "true"),
            ],
        )
        .await;
    }
    let (_, html) = page(c.get("/admin/audit?action=user.create").await).await;
    assert_eq!(html.matches("<tr><td data-label=\"Time\">").count(), 50);
    let next = html
        .split("href=\"/admin/audit?")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .expect("a link to older events")
        .replace("&amp;", "&");
    let (_, older) = page(c.get(&format!("/admin/audit?{next}")).await).await;
    let rows = older.matches("<tr><td data-label=\"Time\">").count();
    assert_eq!(
        rows, 3,
        "build-bot, ivan and the first admin, older than u0..u49"
    );
}
