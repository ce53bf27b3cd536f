//! # tollgate-e2e
//!
//! End-to-end tests for Tollgate over real processes, and the harness they
//! share (later suites for the admin and the whole system reuse it):
//!
//! - [`worker`]: builds the edge worker once (`scripts/build-worker`) and runs it
//!   under `wrangler dev` on workerd, from a copy of `build/` with a generated
//!   configuration, on a free 127.0.0.1 port, with nothing leaving loopback.
//! - [`origin`]: a test origin that records what it receives.
//! - [`revocations`]: a revocation list server the test controls (ETag, 304,
//!   `?since=` deltas, misbehaviour, down and up again).
//! - [`tokens`]: fresh keyrings and minted tokens.
//! - [`stack`]: all of the above wired together with a fresh keyring.
//! - [`admin`]: the real admin service, in process, on a SQLite file, with an HTTP client for it.
//! - [`load`]: a small HTTP/1.1 load generator for benchmarks.
//! - [`browser`]: headless Chromium over WebDriver for the console, with axe-core and screenshots.
//!
//! Every server and process is stopped when its handle is dropped, also when a test fails.

pub mod admin;
pub mod browser;
pub mod console;
pub mod load;
pub mod net;
pub mod origin;
pub mod revocations;
pub mod stack;
pub mod tokens;
pub mod worker;

pub use admin::{Admin, AdminClient};
pub use browser::Browser;
pub use net::{RawResponse, Server, client, free_port, raw_request};
pub use origin::{Origin, Received};
pub use revocations::{ListServer, Misbehave, Seen};
pub use stack::{EdgeStack, header};
pub use tokens::{Keys, Minted, now};
pub use worker::{Worker, WorkerConfig, ensure_built};
