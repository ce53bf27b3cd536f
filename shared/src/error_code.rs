//! The one list of error codes the admin, the edge and an origin answer with, in
//! `{"error": {"code": "...", "message": "..."}}`, each with the HTTP status it is answered with.
//!
//! A code names what went wrong in a way a program can act on; the message is for people. Both
//! services take their codes from here, so the same failure has the same name wherever it is
//! met (a request without a token is `missing_token` at the admin and at the edge).

macro_rules! codes {
    ($($(#[doc = $doc:literal])* $variant:ident = $text:literal, $status:literal;)*) => {
        /// A stable snake_case error code.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ErrorCode {
            $($(#[doc = $doc])* $variant,)*
        }

        impl ErrorCode {
            /// Every code.
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant,)*];

            /// The snake_case text.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => $text,)*
                }
            }

            /// The code spelled `text`, if there is one.
            pub fn parse(text: &str) -> Option<ErrorCode> {
                match text {
                    $($text => Some(ErrorCode::$variant),)*
                    _ => None,
                }
            }

            /// The HTTP status this code is answered with.
            pub fn status(self) -> u16 {
                match self {
                    $(ErrorCode::$variant => $status,)*
                }
            }
        }
    };
}

codes! {
    // 400: the request itself is malformed.
    /// A malformed request that fits no narrower code.
    BadRequest = "bad_request", 400;
    /// A malformed `Authorization` header at the admin (`Bearer a b`).
    InvalidRequest = "invalid_request", 400;
    /// A malformed `Authorization: Bearer` header at the edge.
    MalformedAuthorization = "malformed_authorization", 400;
    /// A token in the query string.
    TokenInQuery = "token_in_query", 400;
    /// A token in a path segment.
    TokenInPath = "token_in_path", 400;
    /// A path that means something else once decoded.
    AmbiguousPath = "ambiguous_path", 400;
    /// A JSON body that does not match the operation's schema.
    InvalidBody = "invalid_body", 400;
    /// A JSON body with a field the operation does not know.
    UnknownField = "unknown_field", 400;
    /// A body that is not JSON.
    MalformedJson = "malformed_json", 400;
    /// A body that could not be read.
    UnreadableBody = "unreadable_body", 400;
    /// Text holding U+0000.
    InvalidCharacter = "invalid_character", 400;
    /// A paging cursor this server did not give.
    InvalidCursor = "invalid_cursor", 400;
    /// Not a token id.
    InvalidId = "invalid_id", 400;
    /// A page size out of range.
    InvalidLimit = "invalid_limit", 400;
    /// A query string that does not match the operation's parameters.
    InvalidQuery = "invalid_query", 400;

    // 401: no usable credentials.
    /// No bearer token where one is needed.
    MissingToken = "missing_token", 401;
    /// A wrong user name or password.
    InvalidCredentials = "invalid_credentials", 401;
    /// A token, assertion or usage report that is not well-formed.
    Malformed = "malformed", 401;
    /// A token whose checksum is wrong (mistyped or truncated).
    BadChecksum = "bad_checksum", 401;
    /// Signed with a key this party does not hold.
    UnknownKey = "unknown_key", 401;
    /// A forged or altered token.
    BadSignature = "bad_signature", 401;
    /// Past its expiry.
    Expired = "expired", 401;
    /// Issued in the future (clocks too far apart).
    NotYetValid = "not_yet_valid", 401;
    /// Revoked, deleted, or issued before its owner was cut off.
    Revoked = "revoked", 401;
    /// Disabled by its owner or an admin.
    Disabled = "disabled", 401;
    /// The token's user is deactivated.
    UserDeactivated = "user_deactivated", 401;
    /// A request reached an origin without the edge's identity assertion.
    MissingAssertion = "missing_assertion", 401;
    /// An identity assertion made for another request.
    WrongRequest = "wrong_request", 401;

    // 403: authenticated, but not allowed.
    /// Not allowed, for a reason no narrower code names.
    Forbidden = "forbidden", 403;
    /// The token lacks a role the route needs.
    InsufficientScope = "insufficient_scope", 403;
    /// Only admins extend a token's expiry.
    CannotExtend = "cannot_extend", 403;
    /// An admin deactivated the account; only an admin re-activates it.
    DeactivatedByAdmin = "deactivated_by_admin", 403;
    /// An admin disabled the token; only an admin enables it.
    DisabledByAdmin = "disabled_by_admin", 403;
    /// A role the caller may not grant.
    RoleNotHeld = "role_not_held", 403;
    /// The token API is switched off for everyone but admins.
    TokenApiDisabled = "token_api_disabled", 403;
    /// A token that would outlive the session minting it needs a fresh login.
    ReauthenticationRequired = "reauthentication_required", 403;

    // 404, 405, 408.
    /// No such resource, or not one the caller may see.
    NotFound = "not_found", 404;
    /// The route does not serve this method.
    MethodNotAllowed = "method_not_allowed", 405;
    /// The request took too long.
    Timeout = "timeout", 408;

    // 409: conflicts with the current state.
    /// The token is already revoked.
    AlreadyRevoked = "already_revoked", 409;
    /// The change would leave no active admin.
    LastAdmin = "last_admin", 409;
    /// The account still manages service accounts: hand them to another manager or delete them
    /// first.
    ManagesServiceAccounts = "manages_service_accounts", 409;
    /// Logout with a token that is not a session.
    NotASession = "not_a_session", 409;
    /// The owner already has a live token with this name.
    NameTaken = "name_taken", 409;
    /// Sessions are not regenerated (log in again), nor exchanged for other sessions.
    SessionToken = "session_token", 409;
    /// A disabled token cannot be regenerated.
    TokenDisabled = "token_disabled", 409;
    /// An expired token cannot be changed that way.
    TokenExpired = "token_expired", 409;
    /// A revoked token cannot be changed.
    TokenRevoked = "token_revoked", 409;
    /// A usage batch whose sequence number was already taken, or sent too long ago.
    ReplayedBatch = "replayed_batch", 409;
    /// A user with this name (in any case) exists.
    UserExists = "user_exists", 409;
    /// The user is deactivated.
    UserInactive = "user_inactive", 409;

    // 413, 415.
    /// The body is larger than the server accepts.
    BodyTooLarge = "body_too_large", 413;
    /// A content type the route does not take.
    UnsupportedMediaType = "unsupported_media_type", 415;

    // 422: well-formed, but a value is not acceptable.
    /// A value that is not acceptable, for a reason no narrower code names.
    Invalid = "invalid", 422;
    /// Both `expires_at` and `ttl_seconds`.
    ConflictingExpiry = "conflicting_expiry", 422;
    /// Fields that exclude each other.
    ConflictingFields = "conflicting_fields", 422;
    /// An expiry that is not in the future.
    ExpiryInPast = "expiry_in_past", 422;
    /// An expiry beyond the maximum lifetime.
    ExpiryTooFar = "expiry_too_far", 422;
    /// A grace period beyond the longest allowed.
    GraceTooLong = "grace_too_long", 422;
    /// A token description that is too long or holds control characters.
    InvalidDescription = "invalid_description", 422;
    /// An expiry that is neither a date nor an RFC 3339 time.
    InvalidExpiry = "invalid_expiry", 422;
    /// A token or user name that is not acceptable.
    InvalidName = "invalid_name", 422;
    /// A password of the wrong length.
    InvalidPassword = "invalid_password", 422;
    /// A role name that is not acceptable.
    InvalidRole = "invalid_role", 422;
    /// A user name that cannot be a token's subject.
    InvalidUser = "invalid_user", 422;
    /// A paging cursor of the right form that holds no position this server gave.
    UnknownCursor = "unknown_cursor", 422;
    /// A change that changes nothing.
    NothingToChange = "nothing_to_change", 422;
    /// Service accounts have no password.
    PasswordNotAllowed = "password_not_allowed", 422;
    /// A person needs a password.
    PasswordRequired = "password_required", 422;
    /// The token would be longer than the format allows.
    TokenTooLarge = "token_too_large", 422;
    /// More roles than fit in one token.
    TooManyRoles = "too_many_roles", 422;

    // 429: slow down.
    /// Too many requests from this client.
    TooManyRequests = "too_many_requests", 429;
    /// Too many failed logins; the answer says when to retry.
    TooManyAttempts = "too_many_attempts", 429;
    /// The token is over a route's rate limit; the answer says when to retry.
    RateLimited = "rate_limited", 429;

    // 5xx: not the caller's fault.
    /// Our fault; details go to the log, not the caller.
    Internal = "internal", 500;
    /// The gateway's configuration is wrong.
    BadConfiguration = "bad_configuration", 500;
    /// The origin could not be reached.
    OriginUnreachable = "origin_unreachable", 502;
    /// The service cannot answer now (its store is down).
    Unavailable = "unavailable", 503;
    /// No revocation list fresh enough to verify against.
    RevocationListUnavailable = "revocation_list_unavailable", 503;
}

impl core::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<&str> for ErrorCode {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_snake_case_with_an_error_status() {
        let mut seen = std::collections::HashSet::new();
        for code in ErrorCode::ALL {
            let text = code.as_str();
            assert!(seen.insert(text), "duplicate {text}");
            assert!(
                text.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
                "{text}"
            );
            assert!((400..600).contains(&code.status()), "{text}");
            assert_eq!(ErrorCode::parse(text), Some(*code));
        }
    }
}
