//! The model-based test of the admin's rules: proptest draws sequences of operations by random
//! actors (create users and service accounts, grant and remove roles, deactivate and reactivate,
//! mint, edit, disable, enable, regenerate, revoke, delete, log in and out, change passwords),
//! runs them against a real admin over HTTP, and holds every answer, every user and token
//! record, and every token at the admin (`/me`) and at the edge (the signed list) to a small
//! reference model of the rules (`model.rs`).
//!
//! Each sequence runs on a fresh store (a SQLite file; a PostgreSQL schema when
//! `TOLLGATE_TEST_DATABASE_URL` is set) and a fresh server, stopped when the sequence ends, also
//! on failure (the sequence's runtime is dropped). There is no shrinking (every attempt would
//! replay on a new server): a failure prints the steps up to the one that failed, with each
//! answer, and the seed that replays the run.
//!
//! `TOLLGATE_MODEL_OPS` (default 10 000 per store), `TOLLGATE_MODEL_LEN` (operations per
//! sequence, default 250) and `TOLLGATE_MODEL_SEED` (replay) tune a run; the counts print with
//! `cargo test -p tollgate-admin --test model -- --nocapture`.

#[allow(dead_code, unused_imports, unused_macros)]
#[path = "../api/harness.rs"]
mod harness;

mod driver;
mod model;
mod ops;

use std::cell::RefCell;
use std::time::Instant;

use proptest::collection::vec;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestError, TestRng, TestRunner};

use driver::{Run, Stats};
use harness::{Admin, Db, settings};
use ops::{KINDS, Op, op};

fn env_number(name: &str, default: u64) -> u64 {
    match std::env::var(name) {
        Ok(v) if !v.trim().is_empty() => v
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("{name} must be a number, not {v:?}")),
        _ => default,
    }
}

#[derive(Clone, Copy)]
enum Store {
    Sqlite,
    Postgres,
}

impl Store {
    fn name(self) -> &'static str {
        match self {
            Store::Sqlite => "SQLite",
            Store::Postgres => "PostgreSQL",
        }
    }

    async fn db(self) -> Db {
        match self {
            Store::Sqlite => Db::sqlite().await,
            Store::Postgres => Db::postgres()
                .await
                .expect("TOLLGATE_TEST_DATABASE_URL is set"),
        }
    }
}

/// One sequence on a fresh store and server.
async fn run_sequence(store: Store, ops: &[Op], stats: &mut Stats) -> Result<(), String> {
    let db = store.db().await;
    let mut s = settings(&db);
    // Logins are part of the matrix, not what is tested here: the throttle stays out of the way.
    s.login_attempts = 1000;
    s.login_source_attempts = 100_000;
    let a = Admin::with(s).await;
    let result = {
        let mut run = Run::start(&a, stats).await;
        let mut result = Ok(());
        for op in ops {
            result = run.step(op).await;
            if result.is_err() {
                break;
            }
        }
        if result.is_ok() {
            result = run.check_all_at_admin().await;
        }
        result
    };
    stats.sequences += 1;
    a.stop().await;
    result
}

fn run(store: Store) {
    let total = env_number("TOLLGATE_MODEL_OPS", 10_000);
    let len = env_number("TOLLGATE_MODEL_LEN", 250).max(1);
    let cases = total.div_ceil(len).max(1);
    let seed = match std::env::var("TOLLGATE_MODEL_SEED") {
        Ok(v) if !v.trim().is_empty() => v.trim().parse().expect("TOLLGATE_MODEL_SEED is a number"),
        _ => {
            let mut b = [0u8; 8];
            getrandom::fill(&mut b).unwrap();
            u64::from_le_bytes(b)
        }
    };
    let mut seed_bytes = [0u8; 32];
    seed_bytes[..8].copy_from_slice(&seed.to_le_bytes());
    let config = Config {
        cases: cases as u32,
        max_shrink_iters: 0,
        failure_persistence: None,
        ..Config::default()
    };
    let mut runner = TestRunner::new_with_rng(
        config,
        TestRng::from_seed(RngAlgorithm::ChaCha, &seed_bytes),
    );
    let stats = RefCell::new(Stats::default());
    let started = Instant::now();
    let outcome = runner.run(&vec(op(), len as usize), |ops| {
        // A runtime per sequence: dropping it stops the server whatever happened.
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let result = rt.block_on(run_sequence(store, &ops, &mut stats.borrow_mut()));
        drop(rt);
        result.map_err(TestCaseError::fail)
    });
    let elapsed = started.elapsed();
    let stats = stats.into_inner();
    report(store, seed, &stats, elapsed);
    match outcome {
        Ok(()) => {}
        Err(TestError::Fail(reason, _)) => panic!(
            "{}: the admin and the model disagree (replay with TOLLGATE_MODEL_SEED={seed} \
             TOLLGATE_MODEL_OPS={total} TOLLGATE_MODEL_LEN={len})\n{reason}",
            store.name()
        ),
        Err(e) => panic!("{}: {e}", store.name()),
    }
    if stats.operations >= 2000 {
        check_coverage(&stats);
    }
}

fn report(store: Store, seed: u64, s: &Stats, elapsed: std::time::Duration) {
    println!(
        "{}: seed {seed}, {} sequences, {} operations in {:.1} s; {} checks at the admin, {} at the edge, {} of records",
        store.name(),
        s.sequences,
        s.operations,
        elapsed.as_secs_f64(),
        s.admin_checks,
        s.edge_checks,
        s.record_checks
    );
    let (mut ok, mut refused) = (0, 0);
    println!(
        "  {:<24} {:>8} {:>8}  refusals by status",
        "operation", "success", "refused"
    );
    for (kind, (success, refusals)) in &s.by_kind {
        let n: u64 = refusals.values().sum();
        ok += success;
        refused += n;
        println!("  {kind:<24} {success:>8} {n:>8}  {refusals:?}");
    }
    println!("  {:<24} {ok:>8} {refused:>8}", "all");
    println!("  refusal codes: {:?}", s.codes);
    if !s.known.is_empty() {
        println!("  KNOWN server bugs allowed (see driver.rs): {:?}", s.known);
    }
}

/// The matrix was exercised: every kind of operation both succeeded and was refused, and the
/// rules that matter most refused something.
fn check_coverage(s: &Stats) {
    for kind in KINDS {
        let (ok, refused) = s
            .by_kind
            .get(kind)
            .map(|(ok, r)| (*ok, r.values().sum::<u64>()))
            .unwrap_or_default();
        assert!(ok > 0, "no {kind} ever succeeded");
        assert!(refused > 0, "no {kind} was ever refused");
    }
    for code in [
        "forbidden",
        "role_not_held",
        "not_found",
        "user_exists",
        "name_taken",
        "deactivated_by_admin",
        "disabled_by_admin",
        "cannot_extend",
        "expiry_too_far",
        "token_disabled",
        "token_revoked",
        "already_revoked",
        "session_token",
        "not_a_session",
        "invalid_credentials",
    ] {
        assert!(
            s.codes.contains_key(code),
            "nothing was refused with {code}"
        );
    }
}

#[test]
fn the_admin_follows_the_model_on_sqlite() {
    run(Store::Sqlite);
}

#[test]
fn the_admin_follows_the_model_on_postgres() {
    if std::env::var("TOLLGATE_TEST_DATABASE_URL").is_ok_and(|v| !v.is_empty()) {
        run(Store::Postgres);
    } else {
        eprintln!("TOLLGATE_TEST_DATABASE_URL is not set; PostgreSQL case not run");
    }
}
