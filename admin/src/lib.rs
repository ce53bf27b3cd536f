//! # tollgate-admin
//!
//! Tollgate's admin service: users and roles, the whole token lifecycle over HTTP, the audit
//! log, and the signed revocation list the edge fetches. Runs on an embedded SQLite file by
//! default and on PostgreSQL when several replicas share a database.
//!
//! - [`config`]: settings from `TOLLGATE_*` variables;
//! - [`server`]: start/stop (in-process with [`Server`], or [`server::run`] for `tollgate serve`);
//! - [`api`]: the HTTP handlers, declared in one table that also yields the OpenAPI document;
//! - [`auth`]: passwords and bearer-token checks; [`throttle`]: login attempt limits;
//!   [`rules`]: every permission and validity decision, as pure functions;
//! - [`metrics`] and [`logging`]: `/metrics`, request lines and security events;
//! - [`store`]: SQLite/PostgreSQL access; [`revocation`]: publishing the list;
//! - [`console`]: the web console for people, server-rendered, on the same origin.
//!
//! The request and response bodies are `tollgate-api`'s; the `tollgate` command (`tollgate-cli`)
//! runs this service as `tollgate serve`.
#![forbid(unsafe_code)]

pub mod api;
pub mod auth;
pub mod config;
pub mod console;
pub mod errors;
pub mod logging;
pub mod metrics;
pub mod openapi;
pub mod revocation;
pub mod rules;
pub mod server;
pub mod state;
pub mod store;
pub mod throttle;
pub mod times;

pub use config::Settings;
pub use server::Server;
