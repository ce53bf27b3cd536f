//! # tollgate-api
//!
//! The admin API's request and response bodies, written once: the server (`tollgate-admin`)
//! reads requests and writes answers with them and derives its OpenAPI document from them; the
//! `tollgate` command writes requests and reads answers with the same types.
//!
//! - [`tokens`], [`users`], [`audit`], [`sessions`], [`usage`]: the bodies, by resource;
//! - [`schema`]: the shared shapes the OpenAPI document names (token id, user name, role,
//!   timestamp, expiry) and the enumerations;
//! - [`fields`]: how optional request fields are read (left out is `None`, `null` is refused);
//! - [`when`]: the wire forms of time (expiry dates and timestamps, durations as people type them).
//!
//! Answers ignore fields they do not know, so a client reads the answers of a newer server;
//! request bodies leave out the fields that are `None`, and the server refuses unknown ones.

pub mod audit;
pub mod fields;
pub mod schema;
pub mod sessions;
pub mod tokens;
pub mod usage;
pub mod users;
pub mod when;
