//! # tollgate-edge
//!
//! Tollgate's Cloudflare Worker. A request carrying `Authorization: Bearer
//! tg_...` is verified here, with the keyring and the revocation list held in
//! the isolate, and forwarded to the origin with identity headers; no call to
//! the admin happens on the request path. The revocation list is refreshed
//! in the background (`ctx.wait_until`) and the edge fails closed (503) when
//! it cannot get a good list for longer than the stale bound.
//!
//! The pure logic lives in plain modules that also build natively and are
//! tested under node with `wasm-bindgen-test`: settings ([`config`]), route
//! rules ([`policy`]), the canonical path ([`path`]), reading the token ([`bearer`]), headers ([`headers`]),
//! the per-request decision ([`gate`]), refusals ([`refusal`]), list refresh
//! ([`refresh`]), introspection bodies ([`introspect`]), rate-limit windows
//! ([`limit`]) and usage reports to the admin ([`usage`]). The runtime glue
//! (`entry`, `upstream`, `limiter`, `console`) exists only on `wasm32`.
#![forbid(unsafe_code)]
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

pub mod bearer;
pub mod config;
pub mod gate;
pub mod headers;
pub mod introspect;
pub mod limit;
pub mod path;
pub mod policy;
pub mod refresh;
pub mod refusal;
pub mod usage;

#[cfg(target_arch = "wasm32")]
mod console;
#[cfg(target_arch = "wasm32")]
mod entry;
#[cfg(target_arch = "wasm32")]
mod limiter;
#[cfg(target_arch = "wasm32")]
mod upstream;
