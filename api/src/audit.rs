//! The audit log as the API shows it.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::schema::{self, Timestamp};

/// An audit event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[schema(as = AuditEvent)]
pub struct AuditRecord {
    pub id: i64,
    #[schema(value_type = Timestamp)]
    pub at: String,
    /// Who acted (none for the server itself).
    pub actor: Option<String>,
    /// What was done, e.g. `token.create`.
    pub action: String,
    /// The token id or user name acted on.
    pub target: Option<String>,
    /// The user the change concerns.
    pub subject: Option<String>,
    /// `success`, `denied` or `failure` (one of [`schema::OUTCOMES`]).
    #[schema(schema_with = schema::audit_outcome)]
    pub outcome: String,
    pub detail: Option<String>,
}

/// A page of events, newest first.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AuditPage {
    pub events: Vec<AuditRecord>,
    /// Pass as `cursor` for the next page; none on the last.
    pub next_cursor: Option<String>,
}
