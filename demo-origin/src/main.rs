//! A demo origin for `scripts/run`: answers every request with JSON naming the method, path and the
//! identity headers the edge added, so a `curl` through the edge shows who the caller was.
//!
//! Listens on `TOLLGATE_DEMO_LISTEN` (default `127.0.0.1:8081`).

use axum::http::{HeaderMap, Method, Uri};
use axum::response::Json;
use serde_json::{Value, json};

async fn echo(method: Method, uri: Uri, headers: HeaderMap) -> Json<Value> {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    Json(json!({
        "message": "hello from the origin",
        "method": method.as_str(),
        "path": uri.path(),
        "query": uri.query(),
        "identity": {
            "subject": header("x-tollgate-subject"),
            "token_id": header("x-tollgate-token-id"),
            "roles": header("x-tollgate-roles"),
            "kind": header("x-tollgate-kind"),
        },
        "saw_authorization_header": headers.contains_key("authorization"),
    }))
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::process::ExitCode {
    let addr = std::env::var("TOLLGATE_DEMO_LISTEN").unwrap_or_else(|_| "127.0.0.1:8081".into());
    let listener = match tokio::net::TcpListener::bind(&addr).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("tollgate-demo-origin: cannot listen on {addr}: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    eprintln!("tollgate-demo-origin: listening on http://{addr}");
    let app = axum::Router::new().fallback(echo);
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    match axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
    {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tollgate-demo-origin: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
