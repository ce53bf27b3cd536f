//! The `fetch` handler: configuration, the list held in the isolate, the request path, rate
//! limits and the isolate's usage reports.
//!
//! Nothing here panics: every failure becomes a [`Refusal`] turned into a response, because a
//! panic would reset the isolate and drop the cached revocation list.

use std::cell::RefCell;
use std::rc::Rc;

use tollgate_shared::usage::ReporterId;
use tollgate_shared::{RevocationList, Verified};
use wasm_bindgen::JsValue;
use web_sys::{Request, Response, ResponseInit};
use worker::{Context, Env, event};

use crate::config::{Config, ConfigError};
use crate::gate::{self, Incoming, Step};
use crate::introspect;
use crate::limit::{Leases, Local, RouteLimit};
use crate::limiter::{self, Unasked};
use crate::refresh::{Checks, ListCache, Outcome, Plan};
use crate::refusal::{Refusal, Reply};
use crate::usage::{self, Tally};
use crate::{console, upstream};

thread_local! {
    static CONFIG: RefCell<Option<Result<Rc<Config>, ConfigError>>> = const { RefCell::new(None) };
    static LIST: RefCell<ListCache> = RefCell::new(ListCache::new());
    static TALLY: RefCell<Tally> = RefCell::new(Tally::new(reporter_id()));
    static LEASES: RefCell<Leases> = RefCell::new(Leases::default());
}

/// This isolate's reporter id: random, so two isolates never share a sequence of reports.
fn reporter_id() -> ReporterId {
    ReporterId::random().unwrap_or_else(|_| {
        let mut id = [0u8; 16];
        for b in &mut id {
            *b = (js_sys::Math::random() * 256.0) as u8;
        }
        ReporterId(id)
    })
}

#[event(fetch)]
async fn fetch(request: Request, env: Env, ctx: Context) -> worker::Result<Response> {
    console::init();
    let response = match handle(&request, &env, &ctx).await {
        Ok(response) => Ok(response),
        Err(e) => {
            tracing::error!(error = %upstream::describe(&e), "request failed inside the gateway");
            Ok(refuse(&Refusal::Internal)?)
        }
    };
    if let Ok(config) = config(&env) {
        schedule_report(&config, &ctx);
    }
    response
}

/// Answers `refusal` and counts it for the next usage report.
fn refuse(refusal: &Refusal) -> Result<Response, JsValue> {
    TALLY.with_borrow_mut(|t| match refusal {
        Refusal::RateLimited { .. } => t.rate_limited(),
        other => t.refused(other.code()),
    });
    respond(&refusal.reply())
}

/// Schedules this isolate's next usage report in the background when one is due.
fn schedule_report(config: &Rc<Config>, ctx: &Context) {
    if config.passthrough {
        return;
    }
    let usage::Plan::ReportIn(delay) =
        TALLY.with_borrow_mut(|t| t.plan(now_ms(), config.usage_interval_ms))
    else {
        return;
    };
    let config = config.clone();
    let task = js_sys::futures::future_to_promise(async move {
        if delay > 0 {
            upstream::sleep(i32::try_from(delay).unwrap_or(i32::MAX)).await;
        }
        let now = now_ms();
        if let Some(report) = TALLY.with_borrow_mut(|t| t.take(now, now / 1000)) {
            let body = report.sign(config.authority.keyring());
            if let Err(why) = upstream::send_report(&config.usage_url, &body).await {
                tracing::warn!(
                    sequence = report.sequence,
                    tokens = report.uses.len(),
                    "usage report not taken, its counts are dropped: {why}"
                );
            }
        }
        TALLY.with_borrow_mut(Tally::finish);
        Ok(JsValue::UNDEFINED)
    });
    if let Err(e) = ctx.as_ref().wait_until(&task) {
        TALLY.with_borrow_mut(Tally::finish);
        tracing::warn!(error = %upstream::describe(&e), "could not schedule the usage report");
    }
}

fn now_ms() -> u64 {
    js_sys::Date::now() as u64
}

/// The configuration, parsed once per isolate from the environment.
fn config(env: &Env) -> Result<Rc<Config>, ConfigError> {
    CONFIG.with_borrow_mut(|cached| {
        cached
            .get_or_insert_with(|| {
                let parsed = Config::from_lookup(|name| setting(env, name)).map(Rc::new);
                match &parsed {
                    Ok(c) if c.passthrough => {
                        tracing::warn!("TOLLGATE_BENCHMARK_PASSTHROUGH is on: requests are forwarded WITHOUT verification")
                    }
                    Ok(c) => tracing::info!(rules = c.policy.len(), "configuration loaded"),
                    Err(e) => tracing::error!(setting = e.setting, "bad configuration: {e}"),
                }
                parsed
            })
            .clone()
    })
}

/// One environment value as text: strings as they are, numbers and booleans printed, objects as JSON.
fn setting(env: &Env, name: &str) -> Option<String> {
    let value = js_sys::Reflect::get(env.as_ref(), &JsValue::from_str(name)).ok()?;
    if value.is_undefined() || value.is_null() {
        None
    } else if let Some(s) = value.as_string() {
        Some(s)
    } else if let Some(n) = value.as_f64() {
        Some(n.to_string())
    } else if let Some(b) = value.as_bool() {
        Some(b.to_string())
    } else {
        js_sys::JSON::stringify(&value).ok().map(String::from)
    }
}

/// Turns a [`Reply`] into a response.
fn respond(reply: &Reply) -> Result<Response, JsValue> {
    let headers = web_sys::Headers::new()?;
    for (name, value) in &reply.headers {
        headers.set(name, value)?;
    }
    let init = ResponseInit::new();
    init.set_status(reply.status);
    init.set_headers(&headers);
    Response::new_with_opt_str_and_init(Some(&reply.body), &init)
}

async fn handle(request: &Request, env: &Env, ctx: &Context) -> Result<Response, JsValue> {
    let config = match config(env) {
        Ok(config) => config,
        Err(e) => {
            tracing::error!(
                setting = e.setting,
                "refusing a request: bad configuration: {e}"
            );
            return refuse(&Refusal::BadConfiguration(e.to_string()));
        }
    };
    let url = request.url();
    let (path, query) = gate::path_and_query(&url);
    let method = request.method().to_ascii_uppercase();
    let authorization = request.headers().get("authorization")?;
    let incoming = Incoming {
        method: &method,
        path,
        query,
        authorization: authorization.as_deref(),
    };
    let decision = match gate::classify(&config, &incoming) {
        Ok(decision) => decision,
        Err(refusal) => return refuse(&refusal),
    };
    // From here on only the canonical path the policy decided on is used.
    let target = upstream::Target {
        method: &method,
        path: decision.path.as_str(),
        query,
    };
    match decision.step {
        Step::Forward => forward(request, &config, &target, None).await,
        Step::Verify {
            token,
            roles,
            limit,
        } => {
            let verdict = with_list(&config, ctx, |list, now| {
                gate::authorize(&config.authority, token, roles, list, now)
            })
            .await;
            let verified = match verdict.and_then(|v| v) {
                Ok(verified) => verified,
                Err(refusal) => return refuse(&refusal),
            };
            if let Some(limit) = limit {
                if let Err(refusal) = within_limit(env, &verified, limit).await {
                    return refuse(&refusal);
                }
            }
            let now_s = now_ms() / 1000;
            TALLY.with_borrow_mut(|t| t.used(verified.token_id(), verified.kind(), now_s));
            forward(request, &config, &target, Some(&verified)).await
        }
        Step::Introspect { token } => {
            match with_list(&config, ctx, |list, now| {
                config.authority.verify(token, now, list)
            })
            .await
            {
                Ok(Ok(verified)) => respond(&Reply::json(200, introspect::active(&verified))),
                Ok(Err(_)) => respond(&Reply::json(200, introspect::inactive())),
                Err(refusal) => refuse(&refusal),
            }
        }
    }
}

/// Counts the request against the token's limit on this route: with a permit this isolate
/// holds, or refused while the window is known to be spent, or by asking the limiter for more.
/// When the limiter cannot be asked, the request passes (a rate limit protects capacity, it
/// grants no access), unless the deployment lacks the binding altogether.
async fn within_limit(env: &Env, verified: &Verified, limit: RouteLimit) -> Result<(), Refusal> {
    let token = verified.token_id();
    let asked_ms = now_ms();
    let verdict = match LEASES.with_borrow_mut(|l| l.spend(token.0, limit, asked_ms)) {
        Local::Pass => return Ok(()),
        Local::Refuse(verdict) => verdict,
        Local::Ask(want) => match limiter::take(env, token, limit, want).await {
            Ok(verdict) => {
                LEASES.with_borrow_mut(|l| l.granted(token.0, limit, verdict, asked_ms));
                verdict
            }
            Err(Unasked::NoBinding) => {
                tracing::error!(
                    "the policy sets limits but the worker has no TOLLGATE_LIMITER binding"
                );
                return Err(Refusal::BadConfiguration(
                    "TOLLGATE_LIMITER: the policy sets limits, and the Durable Object binding that counts them is missing"
                        .into(),
                ));
            }
            Err(Unasked::Failed(why)) => {
                tracing::warn!("rate limiter unavailable, request let through: {why}");
                return Ok(());
            }
        },
    };
    if verdict.allowed() {
        Ok(())
    } else {
        Err(Refusal::RateLimited {
            limit: limit.limit,
            verdict,
        })
    }
}

async fn forward(
    request: &Request,
    config: &Config,
    target: &upstream::Target<'_>,
    verified: Option<&tollgate_shared::Verified>,
) -> Result<Response, JsValue> {
    match upstream::forward(request, config, target, verified).await {
        Ok(response) => Ok(response),
        Err(e) => {
            tracing::warn!(error = %upstream::describe(&e), "origin unreachable");
            refuse(&Refusal::OriginUnreachable)
        }
    }
}

/// Runs `check` against a revocation list confirmed within the stale bound, refreshing it as
/// the [`Plan`] says; refuses with 503 when no such list can be had.
async fn with_list<T>(
    config: &Rc<Config>,
    ctx: &Context,
    check: impl FnOnce(&RevocationList, u64) -> T,
) -> Result<T, Refusal> {
    let timing = config.timing();
    match LIST.with_borrow(|cache| cache.plan(now_ms(), timing)) {
        Plan::Use | Plan::Unavailable => {}
        Plan::UseAndRefresh => {
            let config = config.clone();
            let task = js_sys::futures::future_to_promise(async move {
                refresh(&config).await;
                Ok(JsValue::UNDEFINED)
            });
            // `Context::wait_until` would unwrap this result; a failure only delays the refresh.
            if let Err(e) = ctx.as_ref().wait_until(&task) {
                tracing::warn!(error = %upstream::describe(&e), "could not schedule the list refresh");
            }
        }
        Plan::FetchFirst => refresh(config).await,
        Plan::AwaitFetch => {
            await_fetch().await;
            if LIST.with_borrow(|cache| cache.plan(now_ms(), timing)) == Plan::FetchFirst {
                refresh(config).await;
            }
        }
    }
    let now = now_ms();
    LIST.with_borrow(|cache| {
        cache
            .usable(now, timing)
            .map(|list| check(list, now / 1000))
    })
    .ok_or(Refusal::ListUnavailable {
        retry_after: config.retry_after_seconds(),
    })
}

/// Waits, in this request's own context, until the fetch under way (started by another
/// request) has finished or is presumed lost. Polling a timer rather than awaiting the other
/// request's promise keeps every I/O object in the context that made it.
async fn await_fetch() {
    const POLL_MS: i32 = 10;
    while LIST.with_borrow(|cache| cache.refreshing(now_ms())) {
        upstream::sleep(POLL_MS).await;
    }
}

/// Fetches the list and applies the answer; asks again for the whole list once if a delta did not fit.
async fn refresh(config: &Config) {
    for _ in 0..2 {
        let fetch = LIST.with_borrow_mut(|cache| cache.start(now_ms(), &config.revocations_url));
        let answer = upstream::fetch_list(&fetch).await;
        let now = now_ms();
        let checks = Checks {
            keyring: config.authority.keyring(),
            timing: config.timing(),
            prune_before: (now / 1000).saturating_sub(config.leeway_s),
        };
        let outcome = LIST.with_borrow_mut(|cache| cache.finish(now, &fetch, answer, &checks));
        match &outcome {
            Outcome::Updated { sequence } => tracing::info!(sequence, "revocation list updated"),
            Outcome::Current { .. } => {}
            Outcome::NeedFull => {
                tracing::info!(
                    "revocation delta did not fit the list held; fetching the whole list"
                );
                continue;
            }
            Outcome::Rejected(e) => tracing::warn!(code = e.code(), "revocation list refused: {e}"),
            Outcome::Unconfirmed(why) => {
                tracing::warn!("revocation list answer refused: {why}")
            }
            Outcome::Failed(why) => tracing::warn!(reason = %why, "revocation list refresh failed"),
        }
        break;
    }
}
