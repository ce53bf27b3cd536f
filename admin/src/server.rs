//! Starting and stopping the server: store, bootstrap admin, router with its layers, list
//! maintenance, graceful shutdown. [`Server::start`] runs it in-process (tests bind
//! `127.0.0.1:0` and read [`Server::addr`]); [`run`] is what `tollgate serve` calls.

use std::future::Future;
use std::net::SocketAddr;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, PRAGMA};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;

use crate::auth::{hash_password, random_password};
use crate::config::Settings;
use crate::errors::{code_for_status, error_response};
use crate::revocation::maintenance;
use crate::rules::roles::{ADMIN, MAX_USER_ROLES, Roles, TOKEN_CREATOR, USER};
use crate::state::AppState;
use crate::store::audit::{self, Action, NewEvent, Outcome};
use crate::store::users::{self, UserRow};
use crate::store::{Store, StoreError};
use crate::times::UnixTime;

/// The server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("store: {0}")]
    Store(#[from] StoreError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("invalid token prefix")]
    Prefix,
    #[error("creating the first admin failed: {0}")]
    Bootstrap(String),
}

/// Opens the store and creates the first admin if the store has no users.
pub async fn prepare(settings: Settings) -> Result<AppState, StartError> {
    let store = Store::open(&settings.database_url).await?;
    bootstrap(&store, &settings).await?;
    AppState::new(settings, store).map_err(|_| StartError::Prefix)
}

/// On a store without users, creates the admin from `TOLLGATE_BOOTSTRAP_ADMIN`, or `admin` with
/// a random password printed once to stderr.
async fn bootstrap(store: &Store, settings: &Settings) -> Result<(), StartError> {
    let mut tx = store.write().await?;
    if users::count(&mut tx).await? > 0 {
        return Ok(());
    }
    let (name, password, generated) = match &settings.bootstrap_admin {
        Some(b) => (b.username.clone(), b.password.clone(), false),
        None => ("admin".to_owned(), random_password(), true),
    };
    let hash =
        hash_password(&password).map_err(|e| StartError::Bootstrap(e.message.into_owned()))?;
    let now = UnixTime::now();
    let row = UserRow {
        name: name.clone(),
        password_hash: Some(hash),
        roles: Roles::parse(&[ADMIN, TOKEN_CREATOR, USER], MAX_USER_ROLES)
            .map_err(|e| StartError::Bootstrap(e.to_string()))?,
        active: true,
        service_account: false,
        manager: None,
        void_before: UnixTime::EPOCH,
        created_at: now,
        updated_at: now,
        deactivated_by_admin: false,
    };
    match users::insert(&mut tx, &row).await {
        Ok(()) => {}
        Err(StoreError::Duplicate) => return Ok(()), // another replica bootstrapped first
        Err(e) => return Err(e.into()),
    }
    let event = NewEvent {
        at: now,
        actor: None,
        action: Action::UserCreate,
        target: Some(&name),
        subject: Some(&name),
        outcome: Outcome::Success,
        detail: Some("first admin, created at start-up".into()),
    };
    audit::append(&mut tx, &event).await?;
    tx.commit().await?;
    if generated {
        eprintln!(
            "tollgate: created the first admin: user `{name}`, password `{password}` (shown only this once)"
        );
    }
    tracing::info!(user = %name, "created the first admin");
    Ok(())
}

/// Turns bare error responses (routing, body limit, timeout) into the JSON error form.
async fn json_errors(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    // JSON bodies, and the console's pages, already say what went wrong.
    let has_body = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json") || v.starts_with("text/html"));
    if (status.is_client_error() || status.is_server_error()) && !has_body {
        let message = status
            .canonical_reason()
            .unwrap_or("error")
            .to_ascii_lowercase();
        return error_response(status, code_for_status(status), &message);
    }
    response
}

/// Answers are never cached unless a handler says otherwise: login, create and regenerate carry
/// token text (RFC 6749 §5.1), and no API answer is worth keeping in a shared cache. The
/// revocation list sets its own `Cache-Control: no-cache` (it revalidates with its ETag).
async fn no_store(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    if !headers.contains_key(CACHE_CONTROL) {
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
        headers.insert(PRAGMA, HeaderValue::from_static("no-cache"));
    }
    response
}

/// Refuses a path or query holding `%00` before any handler sees it: the same 400 on SQLite and
/// PostgreSQL (which cannot store or even compare U+0000).
async fn refuse_nul(request: Request, next: Next) -> Response {
    if crate::api::extract::uri_holds_nul(request.uri()) {
        return crate::api::extract::nul_refused().into_response();
    }
    next.run(request).await
}

async fn fallback() -> Response {
    error_response(
        StatusCode::NOT_FOUND,
        tollgate_shared::ErrorCode::NotFound,
        "no such route",
    )
}

/// The application: every route with its layers.
pub fn app(state: AppState) -> Router {
    let s = &state.settings;
    crate::api::router()
        .merge(crate::console::router())
        .fallback(fallback)
        .layer(DefaultBodyLimit::max(s.max_body_bytes))
        // Usage reports have a limit of their own (`api::usage`); every other body the setting's.
        .layer(RequestBodyLimitLayer::new(
            s.max_body_bytes
                .max(tollgate_shared::usage::MAX_REPORT_BYTES),
        ))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            s.request_timeout,
        ))
        .layer(middleware::from_fn(json_errors))
        .layer(middleware::from_fn(refuse_nul))
        .layer(middleware::from_fn(no_store))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            crate::metrics::track,
        ))
        .with_state(state)
}

fn spawn_maintenance(state: AppState) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(state.settings.list_maintenance_interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let retention = state.settings.list_delta_retention as i64;
            match maintenance::run(&state.store, UnixTime::now().as_secs(), retention).await {
                Ok(r) if r.bumped_to.is_some() => {
                    tracing::info!(
                        sequence = r.bumped_to,
                        converted = r.converted,
                        "revocation list compacted"
                    )
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "revocation list maintenance failed"),
            }
            // Keep the document warm, so a first fetch never pays for building it.
            match crate::store::list::current(&state.store).await {
                Ok(current) => {
                    if let Err(e) = state.publisher.at_least(&state.store, current).await {
                        tracing::warn!(error = %e, "building the revocation list failed");
                    }
                }
                Err(e) => tracing::warn!(error = %e, "reading the revocation list version failed"),
            }
        }
    })
}

/// Serves on an already bound listener until `shutdown` resolves, then drains requests.
async fn serve(
    state: AppState,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let maintenance = spawn_maintenance(state.clone());
    let store = state.store.clone();
    let app = app(state).into_make_service_with_connect_info::<SocketAddr>();
    let result = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await;
    maintenance.abort();
    store.close().await;
    result
}

async fn bind(addr: SocketAddr) -> Result<TcpListener, StartError> {
    TcpListener::bind(addr)
        .await
        .map_err(|source| StartError::Bind { addr, source })
}

/// Runs the server until `shutdown` resolves (what `tollgate serve` does).
pub async fn run(
    settings: Settings,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), StartError> {
    let addr = settings.listen;
    // Bind first: a taken port must not leave a new store behind, or a one-time password printed
    // for a server that never ran.
    let listener = bind(addr).await?;
    let state = prepare(settings).await?;
    let local = listener
        .local_addr()
        .map_err(|source| StartError::Bind { addr, source })?;
    tracing::info!(address = %local, backend = ?state.store.backend(), "tollgate admin listening");
    serve(state, listener, shutdown)
        .await
        .map_err(|source| StartError::Bind { addr, source })
}

/// A server running in this process. Dropping it stops it.
pub struct Server {
    addr: SocketAddr,
    state: AppState,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::io::Result<()>>>,
}

impl Server {
    /// Starts a server on `settings.listen` (use `127.0.0.1:0` for a free port).
    pub async fn start(settings: Settings) -> Result<Server, StartError> {
        let addr = settings.listen;
        let listener = bind(addr).await?;
        let state = prepare(settings).await?;
        let addr = listener
            .local_addr()
            .map_err(|source| StartError::Bind { addr, source })?;
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(serve(state.clone(), listener, async move {
            let _ = stopped.await;
        }));
        Ok(Server {
            addr,
            state,
            stop: Some(stop),
            task: Some(task),
        })
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://ADDR`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The server's state (store, settings), for tests and benchmarks.
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Stops accepting, lets requests in flight finish, and waits.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down");
}
