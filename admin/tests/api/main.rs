//! The admin's HTTP-level integration suite, run against SQLite and PostgreSQL
//! (`TOLLGATE_TEST_DATABASE_URL`), each test on a store of its own.

mod harness;

mod audit;
mod auth;
mod bad_input;
mod deletion;
mod hardening;
mod metrics;
mod replicas;
mod revocations;
mod service;
mod sessions;
mod tokens;
mod usage;
mod users;
