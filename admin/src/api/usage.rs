//! `POST /api/v1/usage`, where edge isolates report token use, and
//! `GET /api/v1/tokens/{id}/usage`, the daily counts people read.
//!
//! A report needs no bearer token: it is signed with the keyring's usage subkey
//! ([`tollgate_shared::usage`]), and only a holder of the keyring can sign one. It is refused,
//! with nothing written, when it is not signed (401), too large (413), sent outside the
//! acceptance window or already taken (409 `replayed_batch`: its isolate's sequence number is
//! checked and moved on in the same transaction that writes its counts).

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, StatusCode};
use serde::Deserialize;
use tollgate_shared::ErrorCode;
use tollgate_shared::usage::{self as report, Report};
use utoipa::IntoParams;

use super::extract::Params;
use super::schema::TokenPath;
use super::settings::token_api;
use super::tokens::visible_token;
use crate::auth::Caller;
use crate::errors::ApiError;
use crate::rules::usage::{WINDOW_SECONDS, admit};
use crate::state::AppState;
use crate::store::usage;
use crate::times::UnixTime;
pub use tollgate_api::usage::{DayUsage, TokenUsage};
use tollgate_api::usage::{date_to_day, day_to_date};

/// Days a usage query covers when it names no range, ending today.
pub const DEFAULT_DAYS: i64 = 30;
/// Longest range one usage query covers.
pub const MAX_DAYS: i64 = 366;

/// `POST /api/v1/usage`.
pub async fn ingest(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<StatusCode, ApiError> {
    let result = take(&state, &headers, &body).await;
    state.metrics.usage_batch(result.is_ok());
    if let Err(e) = &result {
        tracing::warn!(target: "tollgate::security", code = %e.code, "usage report refused: {}", e.message);
    }
    result.map(|()| StatusCode::NO_CONTENT)
}

async fn take(state: &AppState, headers: &HeaderMap, body: &[u8]) -> Result<(), ApiError> {
    let media = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(str::trim);
    let known = [report::CONTENT_TYPE, "application/octet-stream"];
    if !media.is_some_and(|m| known.iter().any(|k| m.eq_ignore_ascii_case(k))) {
        return Err(ApiError::new(
            ErrorCode::UnsupportedMediaType,
            format!(
                "a usage report is sent as {} (or application/octet-stream)",
                report::CONTENT_TYPE
            ),
        ));
    }
    let report = Report::verify(body, &state.settings.keyring)
        .map_err(|e| ApiError::new(e.code(), e.to_string()))?;
    let now = UnixTime::now();
    let intake = admit(&report, now)?;
    let mut tx = state.store.write().await?;
    if !usage::take(&mut tx, &intake).await? {
        return Err(ApiError::new(
            ErrorCode::ReplayedBatch,
            format!(
                "report {} of isolate {} was already taken, or a later one was",
                intake.sequence, intake.reporter
            ),
        ));
    }
    usage::forget_reporters(&mut tx, now.minus(WINDOW_SECONDS)).await?;
    usage::add_days(&mut tx, &intake.days).await?;
    usage::seen(&mut tx, &intake.last_seen).await?;
    tx.commit().await?;
    state.metrics.usage_report(&report);
    Ok(())
}

/// Query of `GET /api/v1/tokens/{id}/usage`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct UsageQuery {
    /// First day, `YYYY-MM-DD` (UTC); default: 29 days before `to`.
    #[param(nullable = false, format = Date)]
    pub from: Option<String>,
    /// Last day, included, `YYYY-MM-DD` (UTC); default: today.
    #[param(nullable = false, format = Date)]
    pub to: Option<String>,
}

fn day_of(text: Option<&str>, name: &str) -> Result<Option<i64>, ApiError> {
    text.map(|t| {
        date_to_day(t).ok_or_else(|| {
            ApiError::new(
                ErrorCode::InvalidQuery,
                format!("{name} is a date, YYYY-MM-DD"),
            )
        })
    })
    .transpose()
}

/// The days `from..=to` the query asks for, at `today`.
fn range(q: &UsageQuery, today: i64) -> Result<(i64, i64), ApiError> {
    let to = day_of(q.to.as_deref(), "to")?.unwrap_or(today);
    let from = day_of(q.from.as_deref(), "from")?.unwrap_or(to - (DEFAULT_DAYS - 1));
    if from > to {
        return Err(ApiError::new(ErrorCode::Invalid, "from is after to"));
    }
    if to - from >= MAX_DAYS {
        return Err(ApiError::new(
            ErrorCode::Invalid,
            format!("a usage query covers at most {MAX_DAYS} days"),
        ));
    }
    Ok((from, to))
}

/// `GET /api/v1/tokens/{id}/usage`.
pub async fn token_usage(
    State(state): State<AppState>,
    caller: Caller,
    Path(TokenPath { id }): Path<TokenPath>,
    Params(q): Params<UsageQuery>,
) -> Result<Json<TokenUsage>, ApiError> {
    token_api(&state, &caller).await?;
    let (from, to) = range(&q, UnixTime::now().as_secs().div_euclid(86_400))?;
    let row = visible_token(&state, &caller, &id).await?;
    let counted = usage::daily(&state.store, &row.id, from, to).await?;
    let date = |day| {
        day_to_date(day).ok_or_else(|| ApiError::new(ErrorCode::Invalid, "a date out of range"))
    };
    let mut days = Vec::with_capacity((to - from + 1) as usize);
    let mut counted = counted.into_iter().peekable();
    for day in from..=to {
        let requests = match counted.peek() {
            Some((d, n)) if *d == day => {
                let n = *n;
                counted.next();
                u64::try_from(n).unwrap_or(0)
            }
            _ => 0,
        };
        days.push(DayUsage {
            date: date(day)?,
            requests,
        });
    }
    Ok(Json(TokenUsage {
        token_id: row.id,
        from: date(from)?,
        to: date(to)?,
        last_used_at: row.last_used_at.map(UnixTime::rfc3339),
        total: days.iter().map(|d| d.requests).sum(),
        days,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(from: Option<&str>, to: Option<&str>) -> UsageQuery {
        UsageQuery {
            from: from.map(str::to_owned),
            to: to.map(str::to_owned),
        }
    }

    #[test]
    fn ranges_default_to_thirty_days_and_are_bounded() {
        let today = date_to_day("2026-12-03").unwrap();
        assert_eq!(range(&q(None, None), today), Ok((today - 29, today)));
        let jan = date_to_day("2026-01-01").unwrap();
        assert_eq!(range(&q(Some("2026-01-01"), None), today), Ok((jan, today)));
        assert_eq!(
            range(&q(None, Some("2026-01-01")), today),
            Ok((jan - 29, jan))
        );
        let refused = |from, to| range(&q(from, to), today).unwrap_err().code;
        assert_eq!(
            refused(Some("2026-12-04"), Some("2026-12-03")),
            ErrorCode::Invalid
        );
        assert_eq!(refused(Some("2025-01-01"), None), ErrorCode::Invalid);
        assert_eq!(refused(Some("12/03/2026"), None), ErrorCode::InvalidQuery);
    }
}
