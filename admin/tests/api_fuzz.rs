//! The API against its own OpenAPI document: schemathesis (installed by `scripts/setup` into
//! `.venv/`) reads `GET /api/v1/openapi.json` from a running admin and sends every operation
//! requests made from the schemas, valid and invalid, then checks each answer: no server
//! error, a status, content type and body the document declares, invalid input refused with a
//! 4xx, valid input never refused as malformed. Runs on SQLite and, when
//! `TOLLGATE_TEST_DATABASE_URL` is set, on PostgreSQL.

#[allow(dead_code, unused_imports, unused_macros)]
#[path = "api/harness.rs"]
mod harness;

use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use harness::{Admin, Db};
use serde_json::json;

/// The checks run on every answer.
const CHECKS: &str = "not_a_server_error,status_code_conformance,content_type_conformance,\
response_schema_conformance,response_headers_conformance,negative_data_rejection,\
positive_data_acceptance";

/// Cases per operation and phase, and the seed: the same requests on every run (the answers
/// depend on the store's state, which the run itself changes, so "deterministic-ish").
const MAX_EXAMPLES: &str = "100";
const SEED: &str = "20260101";

/// The fuzzer's own time limit; the test fails when it is reached.
const LIMIT: Duration = Duration::from_secs(600);

/// One run at a time: the two stores' runs would otherwise share two cores.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn schemathesis() -> PathBuf {
    let bin = root().join(".venv/bin/schemathesis");
    assert!(
        bin.is_file(),
        "schemathesis is not installed at {}: run scripts/setup (it installs the versions \
         tests/fuzz-api/requirements.txt pins into .venv/)",
        bin.display()
    );
    bin
}

async fn fuzz(db: Db) {
    let bin = schemathesis();
    let _turn = ONE_AT_A_TIME.lock().await;
    let mut settings = harness::settings(&db);
    // The fuzzer logs in with made-up names and passwords hundreds of times from one address:
    // without room, the throttle would answer 429 to every later login (the harness's own
    // included). Its behaviour has tests of its own (api/auth.rs).
    settings.login_attempts = u32::MAX;
    settings.login_source_attempts = u32::MAX;
    let admin = Admin::with(settings).await;

    // Something for the listings and lookups to show: a person, a service account they manage,
    // tokens of each kind, a revoked one and a regenerated one.
    let alice = admin.user("alice", &["user", "token_creator"]).await;
    admin
        .post(
            "/api/v1/users",
            &alice,
            json!({"name": "alice-ci", "service_account": true, "roles": ["user"]}),
        )
        .await
        .expect(201);
    let (_, first) = admin
        .mint(
            &alice,
            json!({"name": "laptop", "description": "for scripts"}),
        )
        .await;
    admin
        .mint(
            &alice,
            json!({"name": "ci", "user": "alice-ci", "ttl_seconds": 3600}),
        )
        .await;
    let id = first["id"].as_str().unwrap();
    admin
        .post(
            &format!("/api/v1/tokens/{id}/regenerate"),
            &alice,
            json!({"grace_seconds": 60}),
        )
        .await
        .expect(201);
    let (_, gone) = admin.mint(&alice, json!({"name": "old"})).await;
    let gone = gone["id"].as_str().unwrap();
    admin
        .post(&format!("/api/v1/tokens/{gone}/revoke"), &alice, json!({}))
        .await
        .expect(200);

    // The fuzzer calls as the admin with a personal token, not a login session: it may change
    // the admin's password (PATCH /api/v1/users/{name} with a generated name can hit `root`),
    // which ends every session of the admin, and it calls POST /api/v1/logout, which would end
    // the session it calls with. A personal token outlives both (logout answers 400
    // `not_a_session`), so the run keeps its credentials to the end.
    let (bearer, _) = admin
        .mint(&admin.root, json!({"name": "schemathesis"}))
        .await;

    let work = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let mut command = tokio::process::Command::new(&bin);
    command
        .current_dir(work.path())
        .env("NO_COLOR", "1")
        .arg("--config-file")
        .arg(root().join("tests/fuzz-api/schemathesis.toml"))
        .args(["run", &format!("{}/api/v1/openapi.json", admin.base)])
        .args(["--url", &admin.base])
        .args(["--header", &format!("Authorization: Bearer {bearer}")])
        .args(["--checks", CHECKS])
        .args(["--max-examples", MAX_EXAMPLES, "--seed", SEED])
        .args(["--phases", "examples,coverage,fuzzing"])
        .args(["--workers", "1", "--request-timeout", "20"])
        .args(["--generation-database", "none", "--no-color"])
        .stdin(Stdio::null())
        .kill_on_drop(true);
    let output = match tokio::time::timeout(LIMIT, command.output()).await {
        Ok(output) => output.unwrap_or_else(|e| panic!("cannot run {}: {e}", bin.display())),
        Err(_) => panic!("schemathesis did not finish within {LIMIT:?}"),
    };
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let store = if db.is_postgres() {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    eprintln!(
        "schemathesis on {store}: {:.0?}, exit {:?}\n{}",
        started.elapsed(),
        output.status.code(),
        summary(&text)
    );
    assert!(
        output.status.success(),
        "schemathesis found problems on {store}:\n{text}"
    );
    admin.stop().await;
}

/// The closing part of schemathesis's report (its summary).
fn summary(text: &str) -> &str {
    text.rfind("SUMMARY").map(|i| &text[i..]).unwrap_or(text)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite() {
    fuzz(Db::sqlite().await).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres() {
    let Some(db) = Db::postgres().await else {
        eprintln!("TOLLGATE_TEST_DATABASE_URL is not set; PostgreSQL case not run");
        return;
    };
    fuzz(db).await
}
