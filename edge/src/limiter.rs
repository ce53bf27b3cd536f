//! The Durable Object that counts one token's requests against route limits, and the worker's
//! call to it.
//!
//! One object per token id (`idFromName`), declared in `wrangler.toml` as `TOLLGATE_LIMITER`:
//! every isolate in every location takes its permits from the same object, so a token never
//! passes more than its limit however its requests are spread ([`crate::limit`]). The windows live in the object's memory ([`Windows`]): an object is
//! only evicted after it has been idle for longer than the longest period (60 s), by which time
//! every window it held has ended.

use std::cell::RefCell;

use tollgate_shared::TokenId;
use worker::{DurableObject, Env, Request, Response, State, durable_object};

use crate::config::LIMITER_BINDING;
use crate::limit::{RouteLimit, Verdict, Windows};

/// One token's windows.
#[durable_object(fetch)]
pub struct RateLimiter {
    windows: RefCell<Windows>,
}

impl DurableObject for RateLimiter {
    fn new(_state: State, _env: Env) -> Self {
        RateLimiter {
            windows: RefCell::new(Windows::default()),
        }
    }

    async fn fetch(&self, request: Request) -> worker::Result<Response> {
        let url = request.url()?;
        match url.query().and_then(RouteLimit::from_query) {
            Some((limit, want)) => {
                let now_ms = js_sys::Date::now() as u64;
                let verdict = self.windows.borrow_mut().take(limit, want, now_ms);
                Response::ok(verdict.encode())
            }
            None => Response::error("not a limiter query", 400),
        }
    }
}

/// Why the limiter could not be asked.
pub enum Unasked {
    /// No `TOLLGATE_LIMITER` binding: the deployment is wrong (answered 500).
    NoBinding,
    /// The object did not answer usably (the request is let through; the reason is logged).
    Failed(String),
}

/// Asks for `want` permits for `token` under `limit`.
pub async fn take(
    env: &Env,
    token: TokenId,
    limit: RouteLimit,
    want: u32,
) -> Result<Verdict, Unasked> {
    let namespace = env
        .durable_object(LIMITER_BINDING)
        .map_err(|_| Unasked::NoBinding)?;
    let failed = |e: worker::Error| Unasked::Failed(e.to_string());
    let stub = namespace
        .id_from_name(&token.to_string())
        .and_then(|id| id.get_stub())
        .map_err(failed)?;
    let url = format!("https://limiter.invalid/?{}", limit.query(want));
    let mut response = stub.fetch_with_str(&url).await.map_err(failed)?;
    let text = response.text().await.map_err(failed)?;
    Verdict::decode(&text).ok_or_else(|| Unasked::Failed(format!("unexpected answer {text:?}")))
}
