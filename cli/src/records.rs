//! The admin's records (the `tollgate-api` types) as the command line prints them: tables and
//! `label  value` lines. `--output json` prints the server's own JSON instead.

use serde_json::Value;
use tollgate_api::audit::AuditRecord;
use tollgate_api::sessions::Me;
use tollgate_api::tokens::TokenRecord;
use tollgate_api::users::UserRecord;

use super::client::ClientError;
use super::output::{Table, fields, list, or_dash, relative, utc, yes_no};
use time::OffsetDateTime;

/// Decodes a record, or says the server sent something else.
pub fn decode<T: serde::de::DeserializeOwned>(value: &Value, url: &str) -> Result<T, ClientError> {
    T::deserialize(value).map_err(|e| ClientError::BadAnswer {
        url: url.to_owned(),
        reason: format!("unexpected record: {e}"),
    })
}

/// Digits of a token id the table shows.
const SHORT_ID: usize = 12;

/// The columns of `tollgate token list`: relative times and cut to the terminal for `table`,
/// every column with exact times for `wide`.
pub fn token_table(tokens: &[TokenRecord], wide: bool, now: OffsetDateTime) -> Table {
    let when = |t: Option<&str>| {
        if wide { utc(t) } else { relative(t, now) }
    };
    let headers: &[&'static str] = if wide {
        &[
            "ID",
            "NAME",
            "DESCRIPTION",
            "OWNER",
            "KIND",
            "ROLES",
            "STATE",
            "CREATED",
            "EXPIRES",
            "LAST USED",
            "CREATED BY",
        ]
    } else {
        &[
            "ID",
            "NAME",
            "DESCRIPTION",
            "OWNER",
            "KIND",
            "ROLES",
            "STATE",
            "EXPIRES",
            "LAST USED",
        ]
    };
    let shrinkable: &[&str] = if wide {
        &[]
    } else {
        &["DESCRIPTION", "ROLES", "NAME", "OWNER"]
    };
    let mut t = Table::new(headers).shrink(shrinkable);
    for k in tokens {
        let state = match &k.grace_until {
            Some(_) => format!("{} (ends {})", k.state, when(k.grace_until.as_deref())),
            None => k.state.clone(),
        };
        // The table's short id is enough to name the token again (an id prefix of 8+ digits).
        let id = if wide {
            &k.id
        } else {
            k.id.get(..SHORT_ID).unwrap_or(&k.id)
        };
        let mut row = vec![
            id.to_owned(),
            k.name.clone(),
            or_dash(Some(&k.description)),
            k.owner.clone(),
            k.kind.clone(),
            list(&k.roles),
            state,
        ];
        if wide {
            row.push(when(Some(&k.created_at)));
        }
        row.extend([when(Some(&k.expires_at)), when(k.last_used_at.as_deref())]);
        if wide {
            row.push(or_dash(Some(&k.created_by)));
        }
        t.row(row);
    }
    t
}

/// A record as `label  value` lines, every field.
pub trait Describe {
    /// Every field as `label  value` lines.
    fn describe(&self) -> String;
}

impl Describe for TokenRecord {
    fn describe(&self) -> String {
        let by = |who: Option<&str>| who.map(|w| format!(" by {w}")).unwrap_or_default();
        let mut pairs = vec![
            ("ID", self.id.clone()),
            ("Name", self.name.clone()),
            ("Description", or_dash(Some(&self.description))),
            ("Owner", self.owner.clone()),
            ("Kind", self.kind.clone()),
            ("Roles", list(&self.roles)),
            ("State", self.state.clone()),
            ("Enabled", yes_no(self.enabled).to_owned()),
            (
                "Created",
                format!(
                    "{}{}",
                    utc(Some(&self.created_at)),
                    by(Some(&self.created_by))
                ),
            ),
            ("Expires", utc(Some(&self.expires_at))),
        ];
        if self.revoked_at.is_some() {
            pairs.push((
                "Revoked",
                format!(
                    "{}{}",
                    utc(self.revoked_at.as_deref()),
                    by(self.revoked_by.as_deref())
                ),
            ));
        }
        if self.grace_until.is_some() {
            pairs.push(("Grace until", utc(self.grace_until.as_deref())));
        }
        pairs.push(("Last used", utc(self.last_used_at.as_deref())));
        if let Some(r) = &self.replaces {
            pairs.push(("Replaces", r.clone()));
        }
        if let Some(r) = &self.replaced_by {
            pairs.push(("Replaced by", r.clone()));
        }
        fields(&pairs)
    }
}

/// The columns of `tollgate user list`.
pub fn user_table(users: &[UserRecord]) -> Table {
    let mut t = Table::new(&[
        "NAME",
        "ROLES",
        "ACTIVE",
        "SERVICE ACCOUNT",
        "MANAGER",
        "CREATED",
    ]);
    for u in users {
        t.row(vec![
            u.name.clone(),
            list(&u.roles),
            yes_no(u.active).to_owned(),
            yes_no(u.service_account).to_owned(),
            or_dash(u.manager.as_deref()),
            utc(Some(&u.created_at)),
        ]);
    }
    t
}

impl Describe for UserRecord {
    fn describe(&self) -> String {
        fields(&[
            ("Name", self.name.clone()),
            ("Roles", list(&self.roles)),
            ("Active", yes_no(self.active).to_owned()),
            ("Service account", yes_no(self.service_account).to_owned()),
            ("Manager", or_dash(self.manager.as_deref())),
            (
                "Password",
                if self.has_password { "set" } else { "none" }.to_owned(),
            ),
            ("Created", utc(Some(&self.created_at))),
            ("Updated", utc(Some(&self.updated_at))),
        ])
    }
}

/// The profile `GET /api/v1/me` answers, as `label  value` lines.
pub fn describe_me(me: &Me, server: &str) -> String {
    let account = if me.user.service_account {
        "service account"
    } else {
        "person"
    };
    fields(&[
        ("Server", server.to_owned()),
        ("User", me.user.name.clone()),
        ("Account", account.to_owned()),
        ("Active", yes_no(me.user.active).to_owned()),
        ("Roles", list(&me.user.roles)),
        ("Token", format!("{} ({})", me.token.name, me.token.kind)),
        ("Token ID", me.token.id.clone()),
        ("Token roles", list(&me.token.roles)),
        ("Token created", utc(Some(&me.token.created_at))),
        ("Token expires", utc(Some(&me.token.expires_at))),
    ])
}

/// The columns of `tollgate audit`.
pub fn audit_table(events: &[AuditRecord]) -> Table {
    let mut t = Table::new(&["TIME", "ACTOR", "ACTION", "TARGET", "OUTCOME", "DETAIL"]);
    for e in events {
        t.row(vec![
            utc(Some(&e.at)),
            or_dash(e.actor.as_deref()),
            e.action.clone(),
            or_dash(e.target.as_deref()),
            e.outcome.clone(),
            or_dash(e.detail.as_deref()),
        ]);
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use time::format_description::well_known::Rfc3339;

    #[test]
    fn decoding_ignores_new_fields_and_renders() {
        let v = json!({"id": "ab", "name": "ci", "description": "", "owner": "ana",
                       "kind": "personal", "roles": ["user"], "created_at": "2027-01-01T08:00:00Z",
                       "created_by": "ana", "expires_at": "2027-01-15T08:00:00Z",
                       "enabled": true, "state": "active", "new_field": 1});
        let t: TokenRecord = decode(&v, "http://x").unwrap();
        assert_eq!(t.name, "ci");
        let now = OffsetDateTime::parse("2027-01-09T08:00:00Z", &Rfc3339).unwrap();
        let text = token_table(std::slice::from_ref(&t), true, now).render();
        assert!(text.starts_with("ID  NAME"), "{text}");
        assert!(text.contains("2027-01-15 08:00:00 UTC"), "{text}");
        let text = token_table(std::slice::from_ref(&t), false, now).render();
        assert!(text.contains("in 6 days"), "{text}");
        assert!(t.describe().contains("Description  -"));
        assert!(decode::<TokenRecord>(&json!([1]), "http://x").is_err());
    }
}
