//! A demo origin for `scripts/run`: it admits only requests carrying a good identity assertion
//! from the edge (`tollgate_origin::AssertionLayer`) and answers each with JSON naming the
//! verified caller, the method, path and query, so a `curl` through the edge shows who called.
//! Anything else, such as a request that goes around the edge with forged `X-Tollgate-*`
//! headers, gets the layer's 401.
//!
//! - `TOLLGATE_ORIGIN_KEYS` (required): the output of `tollgate keys derive-origin` for the
//!   edge's keyring.
//! - `TOLLGATE_DEMO_LISTEN` (default `127.0.0.1:8081`): where to listen.
//!
//! Exits 2 when the keys are missing or invalid, 1 when it cannot listen.

use std::process::ExitCode;

use axum::Extension;
use axum::http::{HeaderMap, Method, Uri};
use axum::response::Json;
use serde_json::{Value, json};
use tollgate_origin::{AssertionLayer, Identity};

async fn echo(
    Extension(caller): Extension<Identity>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Json<Value> {
    Json(json!({
        "message": "hello from the origin",
        "method": method.as_str(),
        "path": uri.path(),
        "query": uri.query(),
        "identity": {
            "subject": caller.subject,
            "roles": caller.roles,
            "kind": caller.kind.as_str(),
            "token_id": caller.token_id.to_string(),
            "assertion_expires_at": caller.expires_at,
        },
        "saw_authorization_header": headers.contains_key("authorization"),
    }))
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let gate = match AssertionLayer::from_env() {
        Ok(gate) => gate,
        Err(e) => {
            eprintln!("tollgate-demo-origin: {e}");
            return ExitCode::from(2);
        }
    };
    let addr = std::env::var("TOLLGATE_DEMO_LISTEN").unwrap_or_else(|_| "127.0.0.1:8081".into());
    let listener = match tokio::net::TcpListener::bind(&addr).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("tollgate-demo-origin: cannot listen on {addr}: {e}");
            return ExitCode::FAILURE;
        }
    };
    eprintln!("tollgate-demo-origin: listening on http://{addr}");
    let app = axum::Router::new().fallback(echo).layer(gate);
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    match axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
    {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tollgate-demo-origin: {e}");
            ExitCode::FAILURE
        }
    }
}
