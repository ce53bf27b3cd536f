//! The console against the whole system: a token created in the browser (the real admin, on
//! SQLite) works through the real worker under `wrangler dev`, and revoking it from the console's
//! table makes the edge refuse it within the revocation bound.

use std::time::{Duration, Instant};

use tollgate_e2e::console::sign_in;
use tollgate_e2e::stack::TEST_POLICY;
use tollgate_e2e::{Admin, Browser, Keys, Origin, Worker, WorkerConfig, client};

/// The worker's refresh period here, and how long a revocation may take to reach it: two
/// refresh periods (the documented bound) and slack for a loaded machine.
const REFRESH: Duration = Duration::from_secs(1);
const PROPAGATION_BOUND: Duration = Duration::from_secs(4);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_made_in_the_console_passes_the_edge_until_revoked_there() {
    let keys = Keys::generate("k1").text;
    let admin = Admin::start(&keys).await;
    let origin = Origin::start().await.expect("origin starts");
    let config = WorkerConfig::new(&admin.url(), &origin.url(), &keys)
        .var("TOLLGATE_POLICY", TEST_POLICY)
        .var("TOLLGATE_REFRESH_SECONDS", &REFRESH.as_secs().to_string())
        .var("TOLLGATE_LEEWAY_SECONDS", "0");
    let worker = Worker::start(&config).await.expect("wrangler dev starts");
    let root = admin.login_admin().await;
    root.create_user(
        "hana",
        "a long enough password",
        &["user", "token_creator", "reports:read", "staff"],
    )
    .await;

    let b = Browser::start(&admin.url()).await;
    sign_in(&b, "hana", "a long enough password").await;
    b.click("#new-token").await;
    b.fill("#c-name", "reports-reader").await;
    b.click("#c-exp-7").await;
    b.click("#c-role-user").await; // unchecked: reports:read and staff stay
    b.click("#c-role-token_creator").await;
    b.submit("#create-dialog button[type=submit]:not([formmethod])")
        .await;
    let token = b.value("#token-text").await;
    b.click("#result-dialog form[method=dialog] button").await;

    let http = client();
    let status = |path: &'static str| {
        let http = http.clone();
        let url = worker.url(path);
        let token = token.clone();
        async move {
            http.get(url)
                .bearer_auth(token)
                .send()
                .await
                .expect("the edge answers")
                .status()
                .as_u16()
        }
    };
    assert_eq!(status("/reports/q3").await, 200, "the chosen role passes");
    assert_eq!(status("/admin/x").await, 403, "a role not chosen does not");
    let seen = origin.last().expect("the origin got the request");
    assert_eq!(seen.header("x-tollgate-subject"), Some("hana"));
    assert_eq!(seen.header("x-tollgate-roles"), Some("reports:read,staff"));

    // Revoke from the table; the edge refuses the token within the bound.
    let row = b
        .run(
            "return document.querySelector('tbody tr').dataset.token",
            vec![],
        )
        .await;
    let row = row.as_str().expect("a token row").to_owned();
    b.submit(&format!("tr[data-token='{row}'] button.danger"))
        .await;
    assert!(
        b.text("main .notice")
            .await
            .contains("Revoked “reports-reader”")
    );
    let started = Instant::now();
    loop {
        let got = status("/reports/q3").await;
        if got == 401 {
            break;
        }
        assert!(
            started.elapsed() < PROPAGATION_BOUND,
            "the edge still answers {got} after {:?}",
            started.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    println!(
        "console: revoked in the browser, refused at the edge after {:?}",
        started.elapsed()
    );
    b.screenshot("revoked").await;
    b.close().await;
}
