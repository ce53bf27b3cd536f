//! Resolving a requested expiry: `expires_at` (a date or an RFC 3339 time) or `ttl_seconds`.

use tollgate_shared::ErrorCode;

use super::Refusal;
use crate::times::UnixTime;

/// An expiry as asked for: at most one of the two may be given.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Requested<'a> {
    /// `YYYY-MM-DD` (midnight UTC) or an RFC 3339 time.
    pub expires_at: Option<&'a str>,
    /// Seconds from now.
    pub ttl_seconds: Option<u64>,
}

impl Requested<'_> {
    /// True if either field is given.
    pub fn is_given(&self) -> bool {
        self.expires_at.is_some() || self.ttl_seconds.is_some()
    }
}

/// Resolves `req` at `now` (`default_ttl` if nothing is asked). It must be in the future and no
/// later than `latest`.
pub fn resolve(
    req: Requested<'_>,
    now: UnixTime,
    default_ttl: u64,
    latest: UnixTime,
) -> Result<UnixTime, Refusal> {
    let at = match (req.expires_at, req.ttl_seconds) {
        (Some(_), Some(_)) => {
            return Err(Refusal::new(
                ErrorCode::ConflictingExpiry,
                "give expires_at or ttl_seconds, not both",
            ));
        }
        (Some(text), None) => UnixTime::parse(text)
            .map_err(|e| Refusal::new(ErrorCode::InvalidExpiry, e.to_string()))?,
        (None, Some(0)) => {
            return Err(Refusal::new(
                ErrorCode::InvalidExpiry,
                "ttl_seconds must be positive",
            ));
        }
        (None, Some(ttl)) => now.plus(ttl),
        (None, None) => now.plus(default_ttl),
    };
    if at <= now {
        return Err(Refusal::new(
            ErrorCode::ExpiryInPast,
            "the expiry must be in the future",
        ));
    }
    if at > latest {
        return Err(too_far(latest));
    }
    Ok(at)
}

/// The refusal of an expiry later than `latest`.
pub fn too_far(latest: UnixTime) -> Refusal {
    Refusal::new(
        ErrorCode::ExpiryTooFar,
        format!(
            "the expiry is beyond the maximum lifetime (latest allowed: {})",
            latest.rfc3339()
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(expires_at: Option<&str>, ttl_seconds: Option<u64>) -> Requested<'_> {
        Requested {
            expires_at,
            ttl_seconds,
        }
    }

    #[test]
    fn expiries() {
        let now = UnixTime::from_secs(1_000_000);
        let max = now.plus(90 * 86_400);
        let code = |r: Result<UnixTime, Refusal>| r.unwrap_err().code;
        assert_eq!(resolve(at(None, None), now, 3600, max), Ok(now.plus(3600)));
        assert_eq!(
            resolve(at(None, Some(60)), now, 3600, max),
            Ok(now.plus(60))
        );
        assert_eq!(
            code(resolve(at(None, Some(0)), now, 3600, max)),
            ErrorCode::InvalidExpiry
        );
        assert_eq!(
            code(resolve(at(None, Some(u64::MAX)), now, 3600, max)),
            ErrorCode::ExpiryTooFar
        );
        assert_eq!(
            code(resolve(at(Some("1970-01-02"), None), now, 3600, max)),
            ErrorCode::ExpiryInPast
        );
        assert_eq!(
            code(resolve(at(Some("soon"), None), now, 3600, max)),
            ErrorCode::InvalidExpiry
        );
        assert_eq!(
            code(resolve(at(Some("1970-01-02"), Some(5)), now, 3600, max)),
            ErrorCode::ConflictingExpiry
        );
        assert_eq!(
            resolve(at(Some("1970-01-13T13:46:40Z"), None), now, 3600, max),
            Ok(UnixTime::from_secs(1_086_400))
        );
    }
}
