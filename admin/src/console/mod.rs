//! The web console: server-rendered pages for people, served by the admin itself on the same
//! origin as the API.
//!
//! - [`session`]: the session cookie (the login session token) and the CSRF token of every form;
//! - [`views`]: the pages ([`maud`] templates; every piece of text is escaped);
//! - [`tokens`], [`people`]: the handlers. They call the API's own operation bodies
//!   (`crate::api::*::create_token`, `revoke_token`, ...), so every decision is the rules layer's,
//!   and every change is audited the same way as through the API.
//!
//! Every answer carries a strict `Content-Security-Policy` (scripts and styles from this origin
//! only, no inline script, no framing), `X-Content-Type-Options: nosniff` and
//! `Referrer-Policy: no-referrer`; pages are `Cache-Control: no-store` (the server's default).

pub mod people;
pub mod session;
pub mod tokens;
pub mod views;

use axum::Router;
use axum::extract::{Form, FromRequest, Request};
use axum::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, LOCATION, REFERRER_POLICY,
    X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

use crate::errors::ApiError;
use crate::state::AppState;

/// The console's Content-Security-Policy: nothing but this origin, no inline script or style,
/// no plugins, no framing, forms only to this origin.
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; \
     connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; \
     frame-ancestors 'none'";

const CSS: &str = include_str!("assets/console.css");
const JS: &str = include_str!("assets/console.js");

/// The console's routes (state not yet attached).
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/login", get(tokens::login_page).post(tokens::login))
        .route("/logout", post(tokens::logout))
        .route("/tokens", get(tokens::list).post(tokens::create))
        .route("/tokens/new", get(tokens::new))
        .route("/tokens/{id}", get(tokens::manage))
        .route("/tokens/{id}/description", post(tokens::describe))
        .route("/tokens/{id}/expiry", post(tokens::expiry))
        .route("/tokens/{id}/enable", post(tokens::enable))
        .route("/tokens/{id}/disable", post(tokens::disable))
        .route("/tokens/{id}/regenerate", post(tokens::regenerate))
        .route("/tokens/{id}/revoke", post(tokens::revoke))
        .route("/tokens/{id}/delete", post(tokens::delete))
        .route("/profile", get(people::profile))
        .route("/admin/tokens", get(tokens::all))
        .route("/admin/users", get(people::users).post(people::create_user))
        .route("/admin/users/{name}", get(people::user))
        .route("/admin/users/{name}/roles", post(people::roles))
        .route("/admin/users/{name}/active", post(people::active))
        .route("/admin/users/{name}/password", post(people::password))
        .route("/admin/audit", get(people::audit))
        .route("/admin/settings", get(people::settings))
        .route(
            "/assets/console.css",
            get(|| asset(CSS, "text/css; charset=utf-8")),
        )
        .route(
            "/assets/console.js",
            get(|| asset(JS, "text/javascript; charset=utf-8")),
        )
        .layer(middleware::from_fn(security_headers))
}

async fn home() -> Response {
    see_other("/tokens")
}

async fn asset(body: &'static str, content_type: &'static str) -> Response {
    (
        [
            (CONTENT_TYPE, content_type),
            (CACHE_CONTROL, "public, max-age=300"),
        ],
        body,
    )
        .into_response()
}

async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let h = response.headers_mut();
    h.insert(CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    h.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    h.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    response
}

/// 303 to `to`.
pub fn see_other(to: &str) -> Response {
    let mut r = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(to) {
        r.headers_mut().insert(LOCATION, v);
    }
    r
}

/// Why a console request got no page of its own.
#[derive(Debug)]
pub enum Refused {
    /// No valid session: go and sign in.
    SignIn,
    /// A page saying what went wrong, with its status.
    Page {
        status: StatusCode,
        title: &'static str,
        message: String,
    },
}

impl Refused {
    /// 403: a form without its CSRF token.
    pub fn csrf() -> Self {
        Refused::Page {
            status: StatusCode::FORBIDDEN,
            title: "Form refused",
            message: "This form was sent without its security token (or with another session's). \
                      Reload the page and try again."
                .into(),
        }
    }

    /// 403: a page for admins only.
    pub fn admins_only() -> Self {
        Refused::Page {
            status: StatusCode::FORBIDDEN,
            title: "Admins only",
            message: "This page is for admins.".into(),
        }
    }

    /// 400: a form that could not be read.
    pub fn bad_form(message: impl Into<String>) -> Self {
        Refused::Page {
            status: StatusCode::BAD_REQUEST,
            title: "Form not understood",
            message: message.into(),
        }
    }
}

impl From<ApiError> for Refused {
    fn from(e: ApiError) -> Self {
        Refused::Page {
            status: e.status,
            title: if e.status == StatusCode::NOT_FOUND {
                "Not found"
            } else {
                "Refused"
            },
            message: e.message.into_owned(),
        }
    }
}

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        match self {
            Refused::SignIn => see_other("/login"),
            Refused::Page {
                status,
                title,
                message,
            } => (status, views::error_page(title, &message)).into_response(),
        }
    }
}

/// A submitted form, as name-value pairs (a field may repeat: checkboxes).
#[derive(Debug, Default)]
pub struct Fields(Vec<(String, String)>);

impl Fields {
    /// The first value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The first value of `name`, trimmed, if not empty.
    pub fn text(&self, name: &str) -> Option<String> {
        self.get(name)
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    }

    /// Every value of `name`.
    pub fn all(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .collect()
    }
}

impl<S: Send + Sync> FromRequest<S> for Fields {
    type Rejection = Refused;

    async fn from_request(req: Request, state: &S) -> Result<Self, Refused> {
        Form::<Vec<(String, String)>>::from_request(req, state)
            .await
            .map(|Form(pairs)| Fields(pairs))
            .map_err(|e| Refused::bad_form(e.body_text()))
    }
}

/// A sentence saying what happened, shown at the top of a page.
#[derive(Debug, Clone)]
pub struct Notice {
    pub ok: bool,
    pub text: String,
}

impl Notice {
    pub fn done(text: impl Into<String>) -> Self {
        Notice {
            ok: true,
            text: text.into(),
        }
    }

    pub fn refused(e: &ApiError) -> Self {
        Notice {
            ok: false,
            text: e.message.to_string(),
        }
    }
}
