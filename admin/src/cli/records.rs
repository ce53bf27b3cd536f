//! The records the admin answers, as the command line reads them to print tables. Unknown
//! fields are ignored and missing ones default, so a newer server still prints; `--output json`
//! prints the server's own JSON instead.

use serde::Deserialize;
use serde_json::Value;

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

/// A token record (never the token text).
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub struct TokenView {
    pub id: String,
    pub name: String,
    pub description: String,
    pub owner: String,
    pub kind: String,
    pub roles: Vec<String>,
    pub created_at: Option<String>,
    pub created_by: Option<String>,
    pub expires_at: Option<String>,
    pub enabled: bool,
    pub state: String,
    pub revoked_at: Option<String>,
    pub revoked_by: Option<String>,
    pub grace_until: Option<String>,
    pub last_used_at: Option<String>,
    pub replaces: Option<String>,
    pub replaced_by: Option<String>,
}

/// Digits of a token id the table shows.
const SHORT_ID: usize = 12;

/// The columns of `tollgate token list`: relative times and cut to the terminal for `table`,
/// every column with exact times for `wide`.
pub fn token_table(tokens: &[TokenView], wide: bool, now: OffsetDateTime) -> Table {
    let when = |t: &Option<String>| {
        if wide {
            utc(t.as_deref())
        } else {
            relative(t.as_deref(), now)
        }
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
            Some(_) => format!("{} (ends {})", k.state, when(&k.grace_until)),
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
            row.push(when(&k.created_at));
        }
        row.extend([when(&k.expires_at), when(&k.last_used_at)]);
        if wide {
            row.push(or_dash(k.created_by.as_deref()));
        }
        t.row(row);
    }
    t
}

impl TokenView {
    /// Every field as `label  value` lines.
    pub fn describe(&self) -> String {
        let by = |who: &Option<String>| {
            who.as_deref()
                .map(|w| format!(" by {w}"))
                .unwrap_or_default()
        };
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
                    utc(self.created_at.as_deref()),
                    by(&self.created_by)
                ),
            ),
            ("Expires", utc(self.expires_at.as_deref())),
        ];
        if self.revoked_at.is_some() {
            pairs.push((
                "Revoked",
                format!(
                    "{}{}",
                    utc(self.revoked_at.as_deref()),
                    by(&self.revoked_by)
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

/// A user or service account.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub struct UserView {
    pub name: String,
    pub roles: Vec<String>,
    pub active: bool,
    pub service_account: bool,
    pub manager: Option<String>,
    pub has_password: bool,
    pub created_at: Option<String>,
    pub updated_at: Option<String>,
}

/// The columns of `tollgate user list`.
pub fn user_table(users: &[UserView]) -> Table {
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
            utc(u.created_at.as_deref()),
        ]);
    }
    t
}

impl UserView {
    /// Every field as `label  value` lines.
    pub fn describe(&self) -> String {
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
            ("Created", utc(self.created_at.as_deref())),
            ("Updated", utc(self.updated_at.as_deref())),
        ])
    }
}

/// The token a call was made with, as `GET /api/v1/me` shows it.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub struct CurrentTokenView {
    pub id: String,
    pub name: String,
    pub kind: String,
    pub roles: Vec<String>,
    pub created_at: Option<String>,
    pub expires_at: Option<String>,
}

/// The answer of `GET /api/v1/me`.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub struct MeView {
    pub user: UserView,
    pub token: CurrentTokenView,
}

impl MeView {
    /// The profile as `label  value` lines.
    pub fn describe(&self, server: &str) -> String {
        let account = if self.user.service_account {
            "service account"
        } else {
            "person"
        };
        fields(&[
            ("Server", server.to_owned()),
            ("User", self.user.name.clone()),
            ("Account", account.to_owned()),
            ("Active", yes_no(self.user.active).to_owned()),
            ("Roles", list(&self.user.roles)),
            (
                "Token",
                format!("{} ({})", self.token.name, self.token.kind),
            ),
            ("Token ID", self.token.id.clone()),
            ("Token roles", list(&self.token.roles)),
            ("Token created", utc(self.token.created_at.as_deref())),
            ("Token expires", utc(self.token.expires_at.as_deref())),
        ])
    }
}

/// An audit event.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub struct AuditView {
    pub id: i64,
    pub at: Option<String>,
    pub actor: Option<String>,
    pub action: String,
    pub target: Option<String>,
    pub subject: Option<String>,
    pub outcome: String,
    pub detail: Option<String>,
}

/// The columns of `tollgate audit`.
pub fn audit_table(events: &[AuditView]) -> Table {
    let mut t = Table::new(&["TIME", "ACTOR", "ACTION", "TARGET", "OUTCOME", "DETAIL"]);
    for e in events {
        t.row(vec![
            utc(e.at.as_deref()),
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
    fn tolerant_decoding_and_rendering() {
        let v = json!({"id": "ab", "name": "ci", "roles": ["user"], "state": "active",
                       "expires_at": "2027-01-15T08:00:00Z", "new_field": 1});
        let t: TokenView = decode(&v, "http://x").unwrap();
        assert_eq!(t.name, "ci");
        let now = OffsetDateTime::parse("2027-01-09T08:00:00Z", &Rfc3339).unwrap();
        let text = token_table(std::slice::from_ref(&t), true, now).render();
        assert!(text.starts_with("ID  NAME"), "{text}");
        assert!(text.contains("2027-01-15 08:00:00 UTC"), "{text}");
        let text = token_table(std::slice::from_ref(&t), false, now).render();
        assert!(text.contains("in 6 days"), "{text}");
        assert!(t.describe().contains("Description  -"));
        assert!(decode::<TokenView>(&json!([1]), "http://x").is_err());
    }
}
