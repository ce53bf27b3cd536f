//! The worker's own requests: the revocation list from and usage reports to the admin, and
//! forwarding to the origin.

use js_sys::futures::JsFuture;
use tollgate_shared::Verified;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{Headers, Request, RequestInit, RequestRedirect, Response, WorkerGlobalScope};

use crate::config::Config;
use crate::headers::{ForwardFilter, OriginRequest, assertion, identity};
use crate::refresh::{Answer, Fetch};

/// Give up on the admin after this long; the last good list stays in use (within the stale
/// bound). Requests waiting for a refresh wait at most this long, so it is kept short.
const LIST_TIMEOUT_MS: u32 = 3_000;

/// Resolves after `ms` milliseconds, on a timer of the current request's context.
pub async fn sleep(ms: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _reject| {
        let global: WorkerGlobalScope = js_sys::global().unchecked_into();
        if global
            .set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms)
            .is_err()
        {
            // No timer: resolve at once; the caller re-checks its condition.
            let _ = resolve.call0(&JsValue::UNDEFINED);
        }
    });
    let _ = JsFuture::from(promise).await;
}

async fn send(request: &Request) -> Result<Response, JsValue> {
    let global: WorkerGlobalScope = js_sys::global().unchecked_into();
    JsFuture::from(global.fetch_with_request(request))
        .await?
        .dyn_into()
}

/// A short description of a JavaScript error, for logs.
pub fn describe(error: &JsValue) -> String {
    error
        .dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| error.as_string())
        .unwrap_or_else(|| "unknown error".into())
}

/// Fetches the revocation list as `fetch` says; never fails, every problem is an [`Answer`].
pub async fn fetch_list(fetch: &Fetch) -> Answer {
    match try_fetch_list(fetch).await {
        Ok(answer) => answer,
        Err(e) => Answer::Unreachable(describe(&e)),
    }
}

async fn try_fetch_list(fetch: &Fetch) -> Result<Answer, JsValue> {
    let headers = Headers::new()?;
    headers.set("Accept", "application/vnd.tollgate.revocations")?;
    if let Some(etag) = &fetch.if_none_match {
        headers.set("If-None-Match", etag)?;
    }
    let init = RequestInit::new();
    init.set_method("GET");
    init.set_headers(&headers);
    init.set_signal(Some(&web_sys::AbortSignal::timeout_with_u32(
        LIST_TIMEOUT_MS,
    )));
    let response = send(&Request::new_with_str_and_init(&fetch.url, &init)?).await?;
    let freshness = response.headers().get(tollgate_shared::freshness::HEADER)?;
    Ok(match response.status() {
        304 => Answer::NotModified { freshness },
        200 => {
            let etag = response.headers().get("etag")?;
            let buffer = JsFuture::from(response.array_buffer()?).await?;
            Answer::Document {
                body: js_sys::Uint8Array::new(&buffer).to_vec(),
                etag,
                freshness,
            }
        }
        code => Answer::Unreachable(format!("the admin answered {code}")),
    })
}

/// Give up on delivering a usage report after this long; its counts are dropped.
const REPORT_TIMEOUT_MS: u32 = 5_000;

/// Posts a signed usage report; `Err` says why it was not taken (for logs).
pub async fn send_report(url: &str, body: &[u8]) -> Result<(), String> {
    let sent = async {
        let headers = Headers::new()?;
        headers.set("Content-Type", tollgate_shared::usage::CONTENT_TYPE)?;
        let init = RequestInit::new();
        init.set_method("POST");
        init.set_headers(&headers);
        init.set_body(&js_sys::Uint8Array::from(body).into());
        init.set_signal(Some(&web_sys::AbortSignal::timeout_with_u32(
            REPORT_TIMEOUT_MS,
        )));
        send(&Request::new_with_str_and_init(url, &init)?).await
    };
    let response = sent.await.map_err(|e| describe(&e))?;
    match response.status() {
        204 | 200 => Ok(()),
        code => {
            let text = match response.text() {
                Ok(p) => JsFuture::from(p).await.ok().and_then(|v| v.as_string()),
                Err(_) => None,
            };
            Err(format!(
                "the admin answered {code}: {}",
                text.unwrap_or_default()
                    .chars()
                    .take(300)
                    .collect::<String>()
            ))
        }
    }
}

/// What the policy decided on: the request goes to the origin with exactly these.
pub struct Target<'a> {
    /// Upper-case method.
    pub method: &'a str,
    /// Canonical path.
    pub path: &'a str,
    /// Raw query, without `?`.
    pub query: Option<&'a str>,
}

/// Forwards `request` to the origin (the decided method, path and query; the body; the headers
/// minus the ones [`ForwardFilter`] drops, plus identity headers for `verified`) and returns the
/// origin's answer unread, so its body streams through.
pub async fn forward(
    request: &Request,
    config: &Config,
    target: &Target<'_>,
    verified: Option<&Verified>,
) -> Result<Response, JsValue> {
    let mut url = String::with_capacity(config.origin_base.len() + target.path.len() + 64);
    url.push_str(&config.origin_base);
    url.push_str(target.path);
    if let Some(query) = target.query {
        url.push('?');
        url.push_str(query);
    }
    let incoming = request.headers();
    let filter = ForwardFilter::new(
        incoming.get("connection")?.as_deref(),
        config.authority.prefix(),
    );
    let headers = Headers::new()?;
    if let Some(entries) = js_sys::try_iter(&incoming)? {
        for entry in entries {
            let pair: js_sys::Array = entry?.unchecked_into();
            if let (Some(name), Some(value)) = (pair.get(0).as_string(), pair.get(1).as_string()) {
                if filter.keep(&name, &value) {
                    headers.append(&name, &value)?;
                }
            }
        }
    }
    if let Some(verified) = verified {
        for (name, value) in identity(verified) {
            headers.set(name, &value)?;
        }
        let origin_path = format!("{}{}", config.origin_path_prefix, target.path);
        let request = OriginRequest {
            method: target.method,
            path: &origin_path,
        };
        let now = (js_sys::Date::now() / 1000.0) as u64;
        let signed = assertion(
            &config.assertion_keys,
            verified,
            request,
            now,
            config.assertion_lifetime_s,
        );
        headers.set(tollgate_shared::assertion::HEADER, &signed)?;
    }
    let init = RequestInit::new();
    init.set_method(target.method);
    init.set_headers(&headers);
    init.set_redirect(RequestRedirect::Manual);
    if let Some(body) = request.body() {
        init.set_body(&body);
    }
    send(&Request::new_with_str_and_init(&url, &init)?).await
}
