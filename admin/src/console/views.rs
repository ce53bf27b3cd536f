//! The console's pages. [`maud`] escapes every interpolated value, so names, descriptions and
//! audit details always render as text.

use maud::{DOCTYPE, Markup, html};

use super::Notice;
use super::session::CSRF_FIELD;
use crate::api::records::{AuditRecord, TokenRecord, UserRecord};
use crate::times::parse_time;

/// What every signed-in page shows around its content.
pub struct Frame<'a> {
    pub user: &'a str,
    pub admin: bool,
    pub csrf: &'a str,
    /// The navigation entry to mark as the current page.
    pub current: &'static str,
    pub now: i64,
}

const NAV: &[(&str, &str, bool)] = &[
    ("/tokens", "My tokens", false),
    ("/admin/tokens", "All tokens", true),
    ("/admin/users", "Users", true),
    ("/admin/audit", "Audit log", true),
    ("/admin/settings", "Settings", true),
    ("/profile", "Profile", false),
];

fn head(title: &str) -> Markup {
    html! {
        head {
            meta charset="utf-8";
            meta name="viewport" content="width=device-width, initial-scale=1";
            meta name="referrer" content="no-referrer";
            title { (title) " · Tollgate" }
            link rel="stylesheet" href="/assets/console.css";
            script src="/assets/console.js" defer {}
        }
    }
}

/// The hidden CSRF field of a form.
pub fn csrf(frame: &Frame<'_>) -> Markup {
    html! { input type="hidden" name=(CSRF_FIELD) value=(frame.csrf); }
}

/// A signed-in page.
pub fn page(frame: &Frame<'_>, title: &str, notice: Option<&Notice>, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            (head(title))
            body {
                a.skip href="#main" { "Skip to content" }
                header.top {
                    a.brand href="/tokens" { "Tollgate" }
                    nav aria-label="Main" {
                        ul {
                            @for (href, label, admin_only) in NAV {
                                @if !admin_only || frame.admin {
                                    li {
                                        @if *href == frame.current {
                                            a href=(href) aria-current="page" { (label) }
                                        } @else {
                                            a href=(href) { (label) }
                                        }
                                    }
                                }
                            }
                        }
                    }
                    form.signout method="post" action="/logout" {
                        (csrf(frame))
                        span.who { "Signed in as " strong { (frame.user) } }
                        button.secondary type="submit" { "Sign out" }
                    }
                }
                main #main {
                    h1 { (title) }
                    (notice_box(notice))
                    (body)
                }
            }
        }
    }
}

fn notice_box(notice: Option<&Notice>) -> Markup {
    html! {
        @if let Some(n) = notice {
            @if n.ok {
                p.notice.ok role="status" { (n.text) }
            } @else {
                p.notice.bad role="alert" { (n.text) }
            }
        }
    }
}

/// A page for a refusal, without the navigation (there may be no session).
pub fn error_page(title: &str, message: &str) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            (head(title))
            body {
                main #main.narrow {
                    h1 { (title) }
                    p role="alert" { (message) }
                    p { a href="/tokens" { "Back to the console" } }
                }
            }
        }
    }
}

/// The sign-in page.
pub fn login(csrf: &str, username: &str, notice: Option<&Notice>) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            (head("Sign in"))
            body {
                main #main.narrow {
                    h1 { "Sign in to Tollgate" }
                    (notice_box(notice))
                    form.stack method="post" action="/login" {
                        input type="hidden" name=(CSRF_FIELD) value=(csrf);
                        label for="username" { "Username" }
                        input #username name="username" type="text" autocomplete="username"
                            required value=(username) autofocus;
                        label for="password" { "Password" }
                        input #password name="password" type="password"
                            autocomplete="current-password" required;
                        button type="submit" { "Sign in" }
                    }
                }
            }
        }
    }
}

/// `in 6 days`, `3 hours ago` (rounded to the nearest unit).
pub fn relative(t: i64, now: i64) -> String {
    let d = t - now;
    let a = d.unsigned_abs();
    if a < 60 {
        return if d >= 0 {
            "in under a minute".into()
        } else {
            "just now".into()
        };
    }
    let (size, unit) = if a < 3600 - 30 {
        (60, "minute")
    } else if a < 86_400 - 1800 {
        (3600, "hour")
    } else {
        (86_400, "day")
    };
    let n = (a + size / 2) / size;
    let s = if n == 1 { "" } else { "s" };
    if d > 0 {
        format!("in {n} {unit}{s}")
    } else {
        format!("{n} {unit}{s} ago")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_times_read_naturally() {
        let day = 86_400;
        assert_eq!(relative(1000 + 6 * day - 5, 1000), "in 6 days");
        assert_eq!(relative(1000 + 7 * day, 1000), "in 7 days");
        assert_eq!(relative(1000 + 3600, 1000), "in 1 hour");
        assert_eq!(relative(1000 - 120, 1000), "2 minutes ago");
        assert_eq!(relative(1000 + 10, 1000), "in under a minute");
        assert_eq!(relative(1000 - 2 * day, 1000), "2 days ago");
        assert_eq!(exact("2026-05-02T10:00:00Z"), "2026-05-02 10:00:00 UTC");
    }
}

/// `2026-05-02 10:00:00 UTC`.
pub fn exact(rfc3339: &str) -> String {
    format!(
        "{} UTC",
        rfc3339.trim_end_matches('Z').replacen('T', " ", 1)
    )
}

/// A time as people read it, with the exact UTC time on hover.
pub fn when(rfc3339: &str, now: i64) -> Markup {
    let relative = parse_time(rfc3339)
        .map(|t| relative(t, now))
        .unwrap_or_else(|_| rfc3339.to_owned());
    html! { time datetime=(rfc3339) title=(exact(rfc3339)) { (relative) } }
}

/// How a token's state reads.
pub fn state_label(state: &str) -> &str {
    match state {
        "grace" => "in grace",
        other => other,
    }
}

/// The filters of a token list.
#[derive(Debug, Default, Clone, serde::Deserialize)]
pub struct TokenFilter {
    pub state: Option<String>,
    pub kind: Option<String>,
    pub q: Option<String>,
    pub owner: Option<String>,
}

/// The create dialog's choices.
pub struct CreateForm {
    /// The roles the person may put on a token (all but `admin` checked: the API's default).
    pub roles: Vec<String>,
    /// Owners other than oneself the person may choose (admins, token creators).
    pub owners: Vec<String>,
    /// Presets in days, each within the maximum.
    pub presets: Vec<u64>,
    pub default_days: Option<u64>,
    pub min_date: String,
    pub max_date: String,
    /// Open the dialog on load (after a refusal, or `/tokens/new`).
    pub open: bool,
    pub name: String,
    pub description: String,
}

/// A token text shown once.
pub struct Shown {
    pub title: &'static str,
    pub name: String,
    pub text: String,
    pub curl: String,
    pub note: Option<String>,
}

/// A token list: one's own (`/tokens`) or everyone's (`/admin/tokens`).
pub struct TokenList<'a> {
    pub all: bool,
    pub rows: Vec<&'a TokenRecord>,
    pub total: usize,
    pub filter: &'a TokenFilter,
    pub owners: Vec<String>,
    pub create: CreateForm,
    /// Offer the create dialog (the caller's token may create tokens, and creation is on); the
    /// API decides either way.
    pub may_create: bool,
    pub shown: Option<Shown>,
}

fn select(id: &str, name: &str, current: Option<&str>, options: &[(&str, &str)]) -> Markup {
    html! {
        select id=(id) name=(name) {
            @for (value, label) in options {
                option value=(value) selected[current.unwrap_or("") == *value] { (label) }
            }
        }
    }
}

const STATES: &[(&str, &str)] = &[
    ("", "any state"),
    ("active", "active"),
    ("disabled", "disabled"),
    ("expired", "expired"),
    ("revoked", "revoked"),
    ("grace", "in grace"),
];
const KINDS: &[(&str, &str)] = &[
    ("", "personal and service"),
    ("personal", "personal"),
    ("service", "service"),
    ("session", "session"),
    ("all", "all kinds"),
];

/// The token list page's content.
pub fn token_list(frame: &Frame<'_>, list: &TokenList<'_>) -> Markup {
    let action = if list.all { "/admin/tokens" } else { "/tokens" };
    html! {
        div.toolbar {
            form.filters method="get" action=(action) role="search" aria-label="Filter tokens" {
                div.field {
                    label for="f-state" { "State" }
                    (select("f-state", "state", list.filter.state.as_deref(), STATES))
                }
                div.field {
                    label for="f-kind" { "Kind" }
                    (select("f-kind", "kind", list.filter.kind.as_deref(), KINDS))
                }
                @if list.all {
                    div.field {
                        label for="f-owner" { "Owner" }
                        select #f-owner name="owner" {
                            option value="" { "anyone" }
                            @for o in &list.owners {
                                option value=(o) selected[list.filter.owner.as_deref() == Some(o.as_str())] { (o) }
                            }
                        }
                    }
                }
                div.field {
                    label for="f-q" { "Name" }
                    input #f-q type="search" name="q" value=(list.filter.q.as_deref().unwrap_or(""))
                        placeholder="search by name";
                }
                button.secondary type="submit" { "Filter" }
            }
            @if list.may_create {
                a.button #new-token href="/tokens/new" data-open-dialog="create-dialog" { "New token" }
            }
        }
        p.count { (list.rows.len()) " of " (list.total) " tokens" }
        @if list.rows.is_empty() {
            p.empty { "No tokens match." }
        } @else {
            div.table-wrap {
                table.tokens {
                    caption.visually-hidden { "Tokens" }
                    thead {
                        tr {
                            th scope="col" { "Name" }
                            @if list.all { th scope="col" { "Owner" } }
                            th scope="col" { "Description" }
                            th scope="col" { "Roles" }
                            th scope="col" { "Kind" }
                            th scope="col" { "State" }
                            th scope="col" { "Expires" }
                            th scope="col" { "Last used" }
                            th scope="col" { "Actions" }
                        }
                    }
                    tbody {
                        @for t in &list.rows {
                            (token_row(frame, t, list.all))
                        }
                    }
                }
            }
        }
        @if list.may_create { (create_dialog(frame, &list.create)) }
        @if let Some(shown) = &list.shown {
            (shown_dialog(shown))
        }
    }
}

fn token_row(frame: &Frame<'_>, t: &TokenRecord, all: bool) -> Markup {
    let live = t.is_live();
    html! {
        tr data-token=(t.id) {
            th scope="row" data-label="Name" { a href={ "/tokens/" (t.id) } { (t.name) } }
            @if all { td data-label="Owner" { (t.owner) } }
            td.description data-label="Description" { (t.description) }
            td data-label="Roles" { (t.roles.join(", ")) }
            td data-label="Kind" { (t.kind) }
            td data-label="State" { span class={ "state state-" (t.state) } { (state_label(&t.state)) } }
            td data-label="Expires" { (when(&t.expires_at, frame.now)) }
            td data-label="Last used" {
                @match &t.last_used_at {
                    Some(at) => (when(at, frame.now)),
                    None => "never",
                }
            }
            td.actions data-label="Actions" {
                a.button.secondary href={ "/tokens/" (t.id) } aria-label={ "Manage " (t.name) } { "Manage" }
                @if live {
                    form.inline method="post" action={ "/tokens/" (t.id) "/revoke" } {
                        (csrf(frame))
                        input type="hidden" name="back" value=(if all { "all" } else { "list" });
                        button.danger type="submit" aria-label={ "Revoke " (t.name) } { "Revoke" }
                    }
                }
            }
        }
    }
}

fn create_dialog(frame: &Frame<'_>, c: &CreateForm) -> Markup {
    html! {
        dialog #create-dialog aria-labelledby="create-title" data-show[c.open] {
            form.stack method="post" action="/tokens" {
                h2 #create-title { "New token" }
                (csrf(frame))
                label for="c-name" { "Name" }
                input #c-name name="name" type="text" required maxlength="64" value=(c.name)
                    aria-describedby="c-name-help";
                small #c-name-help { "Letters, digits, dots, dashes and underscores; unique among your tokens." }
                label for="c-description" { "Description" }
                textarea #c-description name="description" maxlength="256" rows="2" { (c.description) }
                fieldset {
                    legend { "Expires" }
                    @for d in &c.presets {
                        div.choice {
                            input type="radio" name="expiry" id={ "c-exp-" (d) } value={ (d) "d" }
                                checked[c.default_days == Some(*d)];
                            label for={ "c-exp-" (d) } { "in " (d) " days" }
                        }
                    }
                    div.choice {
                        input type="radio" name="expiry" id="c-exp-date" value="date"
                            checked[c.default_days.is_none()];
                        label for="c-exp-date" { "on a date (UTC)" }
                    }
                    label for="c-date" { "Date" }
                    input #c-date type="date" name="expiry_date" min=(c.min_date) max=(c.max_date);
                    small { "Latest: " (c.max_date) "." }
                }
                fieldset {
                    legend { "Roles" }
                    @for r in &c.roles {
                        div.choice {
                            input type="checkbox" name="roles" id={ "c-role-" (r) } value=(r) checked[r != crate::rules::roles::ADMIN];
                            label for={ "c-role-" (r) } { (r) }
                        }
                    }
                    input type="hidden" name="offered_roles" value=(c.roles.join(","));
                    small { "A token carries admin only when you check it." }
                }
                @if !c.owners.is_empty() {
                    label for="c-owner" { "Owner" }
                    select #c-owner name="owner" {
                        option value="" { "myself (" (frame.user) ")" }
                        @for o in &c.owners { option value=(o) { (o) } }
                    }
                }
                div.buttons {
                    button type="submit" { "Create token" }
                    button.secondary type="submit" formmethod="dialog" formnovalidate { "Cancel" }
                }
            }
        }
    }
}

/// The dialog that shows a token text once.
pub fn shown_dialog(s: &Shown) -> Markup {
    html! {
        dialog #result-dialog aria-labelledby="result-title" data-show {
            h2 #result-title { (s.title) }
            @if let Some(note) = &s.note { p role="status" { (note) } }
            p.warning { strong { "Copy it now: this token will not be shown again." } }
            label for="token-text" { "Token for " (s.name) }
            div.copy {
                input #token-text type="text" readonly value=(s.text) spellcheck="false";
                button.copy-button type="button" data-copy="token-text" { "Copy" }
            }
            label for="curl-line" { "Try it" }
            div.copy {
                input #curl-line type="text" readonly value=(s.curl) spellcheck="false";
                button.copy-button type="button" data-copy="curl-line" { "Copy" }
            }
            span.copied role="status" aria-live="polite" {}
            form method="dialog" {
                button type="submit" { "Done" }
            }
        }
    }
}

/// One token's page, with every action on it.
pub fn token_page(frame: &Frame<'_>, t: &TokenRecord, shown: Option<&Shown>) -> Markup {
    let base = format!("/tokens/{}", t.id);
    let live = t.is_live();
    let expires_local = t.expires_at.get(..16).unwrap_or("");
    html! {
        p { a href="/tokens" { "← My tokens" } }
        dl.facts {
            dt { "Name" } dd { (t.name) }
            dt { "Description" } dd.description { (t.description) }
            dt { "Owner" } dd { (t.owner) }
            dt { "Kind" } dd { (t.kind) }
            dt { "Roles" } dd { (t.roles.join(", ")) }
            dt { "State" } dd { span class={ "state state-" (t.state) } { (state_label(&t.state)) } }
            dt { "Created" } dd { (when(&t.created_at, frame.now)) " by " (t.created_by) }
            dt { "Expires" } dd { (when(&t.expires_at, frame.now)) " (" (exact(&t.expires_at)) ")" }
            @if let Some(g) = &t.grace_until { dt { "Grace ends" } dd { (when(g, frame.now)) } }
            dt { "Last used" } dd { @match &t.last_used_at { Some(at) => (when(at, frame.now)), None => "never" } }
            @if let Some(r) = &t.replaced_by { dt { "Replaced by" } dd { a href={ "/tokens/" (r) } { (r) } } }
            dt { "Id" } dd { code { (t.id) } }
        }
        @if live {
            section aria-labelledby="h-desc" {
                h2 #h-desc { "Description" }
                form.stack method="post" action={ (base) "/description" } {
                    (csrf(frame))
                    label for="e-description" { "New description" }
                    textarea #e-description name="description" maxlength="256" rows="2" { (t.description) }
                    div.buttons { button type="submit" { "Save description" } }
                }
            }
            section aria-labelledby="h-expiry" {
                h2 #h-expiry { "Expiry" }
                form.stack method="post" action={ (base) "/expiry" } {
                    (csrf(frame))
                    label for="e-expiry" { "New expiry (UTC)" }
                    input #e-expiry type="datetime-local" name="expires_at" required value=(expires_local)
                        aria-describedby="e-expiry-help";
                    small #e-expiry-help { "You may bring the expiry forward; only admins may push it back." }
                    div.buttons { button type="submit" { "Change expiry" } }
                }
            }
            section aria-labelledby="h-state" {
                h2 #h-state { "Enable or disable" }
                @if t.enabled {
                    form method="post" action={ (base) "/disable" } {
                        (csrf(frame))
                        button.secondary type="submit" { "Disable token" }
                    }
                } @else {
                    form method="post" action={ (base) "/enable" } {
                        (csrf(frame))
                        button.secondary type="submit" { "Enable token" }
                    }
                }
            }
            section aria-labelledby="h-regen" {
                h2 #h-regen { "Regenerate" }
                form.stack method="post" action={ (base) "/regenerate" } {
                    (csrf(frame))
                    fieldset {
                        legend { "The old token stops working" }
                        div.choice {
                            input #r-now type="radio" name="old_ends" value="now" checked;
                            label for="r-now" { "now" }
                        }
                        div.choice {
                            input #r-at type="radio" name="old_ends" value="at";
                            label for="r-at" { "at a chosen time" }
                        }
                        label for="r-until" { "Old token ends at (UTC)" }
                        input #r-until type="datetime-local" name="old_until";
                        small { "At most 7 days from now." }
                    }
                    div.buttons { button type="submit" { "Regenerate token" } }
                }
            }
            section aria-labelledby="h-revoke" {
                h2 #h-revoke { "Revoke" }
                form method="post" action={ (base) "/revoke" } {
                    (csrf(frame))
                    input type="hidden" name="back" value="token";
                    button.danger type="submit" { "Revoke token" }
                }
            }
        }
        section aria-labelledby="h-delete" {
            h2 #h-delete { "Delete" }
            form.stack method="post" action={ (base) "/delete" } {
                (csrf(frame))
                label for="d-confirm" { "Type the token's name, " strong { (t.name) } ", to delete it" }
                input #d-confirm type="text" name="confirm" required autocomplete="off";
                div.buttons { button.danger type="submit" { "Delete token" } }
            }
        }
        @if let Some(s) = shown { (shown_dialog(s)) }
    }
}

/// The profile page's content.
pub fn profile(
    frame: &Frame<'_>,
    user: &UserRecord,
    session_roles: &[String],
    session_expires: &str,
) -> Markup {
    html! {
        dl.facts {
            dt { "User" } dd { (user.name) }
            dt { "Roles" } dd { (user.roles.join(", ")) }
            dt { "This session's roles" } dd { (session_roles.join(", ")) }
            dt { "Session ends" } dd { (when(session_expires, frame.now)) " (" (exact(session_expires)) ")" }
            dt { "Account created" } dd { (when(&user.created_at, frame.now)) }
        }
    }
}

/// Roles offered as checkboxes on user forms.
pub const KNOWN_ROLES: &[&str] = &[
    crate::rules::roles::ADMIN,
    crate::rules::roles::TOKEN_CREATOR,
    crate::rules::roles::USER,
];

fn role_boxes(prefix: &str, held: &[String], default_user: bool) -> Markup {
    let mut roles: Vec<String> = KNOWN_ROLES.iter().map(|r| (*r).to_owned()).collect();
    for r in held {
        if !roles.contains(r) {
            roles.push(r.clone());
        }
    }
    html! {
        @for r in &roles {
            div.choice {
                input type="checkbox" name="roles" id={ (prefix) "-" (r) } value=(r)
                    checked[held.contains(r) || (default_user && r == crate::rules::roles::USER)];
                label for={ (prefix) "-" (r) } { (r) }
            }
        }
        label for={ (prefix) "-other" } { "Other roles (comma-separated)" }
        input id={ (prefix) "-other" } type="text" name="other_roles";
    }
}

/// The users page's content.
pub fn users(frame: &Frame<'_>, users: &[UserRecord]) -> Markup {
    html! {
        section aria-labelledby="h-new-user" {
            h2 #h-new-user { "New user or service account" }
            form.stack method="post" action="/admin/users" {
                (csrf(frame))
                label for="u-name" { "Name" }
                input #u-name type="text" name="name" required maxlength="64" autocomplete="off";
                div.choice {
                    input #u-service type="checkbox" name="service_account" value="true";
                    label for="u-service" { "Service account (no password; it only holds tokens)" }
                }
                label for="u-password" { "Password (people only)" }
                input #u-password type="password" name="password" autocomplete="new-password";
                fieldset { legend { "Roles" } (role_boxes("u-role", &[], true)) }
                div.buttons { button type="submit" { "Create" } }
            }
        }
        h2 { "Users and service accounts" }
        div.table-wrap {
            table {
                caption.visually-hidden { "Users" }
                thead { tr {
                    th scope="col" { "Name" } th scope="col" { "Kind" } th scope="col" { "Roles" }
                    th scope="col" { "Active" } th scope="col" { "Manager" }
                } }
                tbody {
                    @for u in users {
                        tr {
                            th scope="row" data-label="Name" { a href={ "/admin/users/" (u.name) } { (u.name) } }
                            td data-label="Kind" { @if u.service_account { "service account" } @else { "person" } }
                            td data-label="Roles" { (u.roles.join(", ")) }
                            td data-label="Active" { @if u.active { "yes" } @else { "no" } }
                            td data-label="Manager" { (u.manager.as_deref().unwrap_or("")) }
                        }
                    }
                }
            }
        }
    }
}

/// One user's page.
pub fn user(frame: &Frame<'_>, u: &UserRecord) -> Markup {
    let base = format!("/admin/users/{}", u.name);
    html! {
        p { a href="/admin/users" { "← Users" } }
        dl.facts {
            dt { "Name" } dd { (u.name) }
            dt { "Kind" } dd { @if u.service_account { "service account" } @else { "person" } }
            dt { "Roles" } dd { (u.roles.join(", ")) }
            dt { "Active" } dd { @if u.active { "yes" } @else { "no" } }
            @if let Some(m) = &u.manager { dt { "Manager" } dd { (m) } }
            dt { "Created" } dd { (when(&u.created_at, frame.now)) }
        }
        section aria-labelledby="h-roles" {
            h2 #h-roles { "Roles" }
            form.stack method="post" action={ (base) "/roles" } {
                (csrf(frame))
                fieldset { legend { "Roles of " (u.name) } (role_boxes("r", &u.roles, false)) }
                div.buttons { button type="submit" { "Save roles" } }
            }
        }
        section aria-labelledby="h-active" {
            h2 #h-active { "Active" }
            form method="post" action={ (base) "/active" } {
                (csrf(frame))
                @if u.active {
                    input type="hidden" name="active" value="false";
                    button.danger type="submit" { "Deactivate" }
                } @else {
                    input type="hidden" name="active" value="true";
                    button type="submit" { "Reactivate" }
                }
            }
        }
        @if !u.service_account {
            section aria-labelledby="h-password" {
                h2 #h-password { "Reset password" }
                form.stack method="post" action={ (base) "/password" } {
                    (csrf(frame))
                    label for="p-new" { "New password" }
                    input #p-new type="password" name="password" required minlength="8" autocomplete="new-password";
                    div.buttons { button type="submit" { "Set password" } }
                }
            }
        }
    }
}

/// The audit log's filters.
#[derive(Debug, Default, Clone, serde::Deserialize)]
pub struct AuditFilter {
    pub actor: Option<String>,
    pub action: Option<String>,
    pub target: Option<String>,
    /// `YYYY-MM-DD` or `YYYY-MM-DDTHH:MM` (UTC).
    pub from: Option<String>,
    pub to: Option<String>,
    pub cursor: Option<String>,
}

impl AuditFilter {
    /// The query string of this filter at `cursor`.
    pub fn query(&self, cursor: &str) -> String {
        let mut pairs: Vec<(&str, &str)> = Vec::new();
        for (k, v) in [
            ("actor", &self.actor),
            ("action", &self.action),
            ("target", &self.target),
            ("from", &self.from),
            ("to", &self.to),
        ] {
            if let Some(v) = v.as_deref().filter(|v| !v.is_empty()) {
                pairs.push((k, v));
            }
        }
        pairs.push(("cursor", cursor));
        serde_urlencoded::to_string(pairs).unwrap_or_default()
    }
}

/// The audit log page's content.
pub fn audit(
    frame: &Frame<'_>,
    f: &AuditFilter,
    events: &[AuditRecord],
    next: Option<&str>,
) -> Markup {
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    let actions: Vec<&str> = crate::store::audit::Action::ALL
        .iter()
        .map(|a| a.as_str())
        .collect();
    html! {
        form.filters method="get" action="/admin/audit" role="search" aria-label="Filter the audit log" {
            div.field { label for="a-actor" { "Actor" } input #a-actor type="text" name="actor" value=(text(&f.actor)); }
            div.field {
                label for="a-action" { "Action" }
                select #a-action name="action" {
                    option value="" { "any action" }
                    @for a in &actions { option value=(a) selected[f.action.as_deref() == Some(*a)] { (a) } }
                }
            }
            div.field { label for="a-target" { "Target" } input #a-target type="text" name="target" value=(text(&f.target)); }
            div.field { label for="a-from" { "From (UTC)" } input #a-from type="datetime-local" name="from" value=(text(&f.from)); }
            div.field { label for="a-to" { "To (UTC)" } input #a-to type="datetime-local" name="to" value=(text(&f.to)); }
            button.secondary type="submit" { "Filter" }
        }
        @if events.is_empty() {
            p.empty { "No events match." }
        } @else {
            div.table-wrap {
                table.audit {
                    caption.visually-hidden { "Audit events" }
                    thead { tr {
                        th scope="col" { "Time" } th scope="col" { "Actor" } th scope="col" { "Action" }
                        th scope="col" { "Target" } th scope="col" { "Outcome" } th scope="col" { "Detail" }
                    } }
                    tbody {
                        @for e in events {
                            tr {
                                td data-label="Time" { (when(&e.at, frame.now)) }
                                td data-label="Actor" { (e.actor.as_deref().unwrap_or("—")) }
                                td data-label="Action" { (e.action) }
                                td data-label="Target" { (e.target.as_deref().unwrap_or("")) }
                                td data-label="Outcome" { (e.outcome) }
                                td.detail data-label="Detail" { (e.detail.as_deref().unwrap_or("")) }
                            }
                        }
                    }
                }
            }
        }
        @if let Some(c) = next {
            p { a.button.secondary href={ "/admin/audit?" (f.query(c)) } { "Older events" } }
        }
    }
}

/// Settings in force, read-only.
pub fn settings(rows: &[(&str, String)]) -> Markup {
    html! {
        p { "These come from the server's " code { "TOLLGATE_*" } " environment; they are read-only here." }
        dl.facts {
            @for (k, v) in rows { dt { (k) } dd { (v) } }
        }
    }
}
