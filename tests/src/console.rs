//! Helpers for the console's tests: signing in with a browser, and a plain HTTP client of the
//! console (cookies and CSRF tokens by hand) for what a browser hides, such as forged forms.

use crate::browser::Browser;

/// Signs in through the form and waits for the token list.
pub async fn sign_in(browser: &Browser, user: &str, password: &str) {
    browser.goto("/login").await;
    browser.fill("#username", user).await;
    browser.fill("#password", password).await;
    browser.submit("main form button[type=submit]").await;
    assert_eq!(browser.path().await, "/tokens", "signed in as {user}");
}

/// The value of the first `name="csrf"` field in `html`.
pub fn csrf_in(html: &str) -> Option<String> {
    let at = html.find("name=\"csrf\" value=\"")? + "name=\"csrf\" value=\"".len();
    let rest = html.get(at..)?;
    Some(rest.get(..rest.find('"')?)?.to_owned())
}

/// The value of cookie `name` set by `resp`, and the whole `Set-Cookie` line.
pub fn set_cookie(resp: &reqwest::Response, name: &str) -> Option<(String, String)> {
    resp.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(|line| {
            let value = line
                .split(';')
                .next()
                .and_then(|kv| kv.split_once('='))
                .map(|(_, v)| v.to_owned())
                .unwrap_or_default();
            (value, line.to_owned())
        })
}

/// A console session over plain HTTP.
pub struct ConsoleClient {
    pub base: String,
    pub http: reqwest::Client,
    /// The session token in the cookie.
    pub session: String,
    /// The `Set-Cookie` line the sign-in answered.
    pub cookie_line: String,
    /// The CSRF token the pages carry.
    pub csrf: String,
}

impl ConsoleClient {
    /// Signs in with the form (login CSRF cookie first), with `extra` headers on every request.
    pub async fn sign_in(
        base: &str,
        user: &str,
        password: &str,
        https_proxy: bool,
    ) -> ConsoleClient {
        let http = crate::client();
        let proto = |r: reqwest::RequestBuilder| {
            if https_proxy {
                r.header("x-forwarded-proto", "https")
            } else {
                r
            }
        };
        let page = proto(http.get(format!("{base}/login")))
            .send()
            .await
            .expect("GET /login");
        let (secret, _) = set_cookie(&page, "tollgate_login").expect("a login cookie");
        let html = page.text().await.expect("the sign-in page");
        let csrf = csrf_in(&html).expect("a CSRF field on the sign-in form");
        let resp = proto(http.post(format!("{base}/login")))
            .header("cookie", format!("tollgate_login={secret}"))
            .form(&[
                ("csrf", csrf.as_str()),
                ("username", user),
                ("password", password),
            ])
            .send()
            .await
            .expect("POST /login");
        assert_eq!(resp.status(), 303, "sign-in of {user}");
        let (session, cookie_line) =
            set_cookie(&resp, "tollgate_session").expect("a session cookie");
        let mut c = ConsoleClient {
            base: base.to_owned(),
            http,
            session,
            cookie_line,
            csrf: String::new(),
        };
        let html = c.get("/tokens").await.text().await.expect("the token list");
        c.csrf = csrf_in(&html).expect("a CSRF token on the token list");
        c
    }

    /// `GET path` with the session cookie.
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.http
            .get(format!("{}{path}", self.base))
            .header("cookie", format!("tollgate_session={}", self.session))
            .send()
            .await
            .expect("the console answers")
    }

    /// `POST path` with the session cookie and `fields` (add `("csrf", ..)` yourself).
    pub async fn post(&self, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        self.http
            .post(format!("{}{path}", self.base))
            .header("cookie", format!("tollgate_session={}", self.session))
            .form(fields)
            .send()
            .await
            .expect("the console answers")
    }
}
