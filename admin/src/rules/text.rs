//! Names, descriptions, passwords and ids: what text the admin accepts.

use tollgate_shared::{ErrorCode, TokenId, valid_subject};

use super::Refusal;
use crate::auth::acceptable_password;

/// Longest token name, in characters.
pub const MAX_NAME_CHARS: usize = 64;
/// Longest token description, in characters.
pub const MAX_DESCRIPTION_CHARS: usize = 256;

/// Checks a token name: 1-64 characters, no control, bidirectional or invisible formatting
/// characters (they make two names look alike, or text read in another order), no surrounding
/// spaces.
pub fn check_name(name: &str) -> Result<String, Refusal> {
    let n = name.chars().count();
    if n == 0
        || n > MAX_NAME_CHARS
        || name.trim() != name
        || name
            .chars()
            .any(|c| c.is_control() || is_invisible_format(c))
    {
        return Err(Refusal::new(
            ErrorCode::InvalidName,
            format!(
                "a token name is 1-{MAX_NAME_CHARS} characters, without control, bidirectional or invisible characters or surrounding spaces"
            ),
        ));
    }
    Ok(name.to_owned())
}

/// Unicode format characters that change how text reads without showing: bidirectional
/// controls and isolates, zero-width characters, the soft hyphen, the BOM.
pub fn is_invisible_format(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{034F}'
            | '\u{061C}'
            | '\u{115F}'
            | '\u{1160}'
            | '\u{17B4}'
            | '\u{17B5}'
            | '\u{180B}'..='\u{180E}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{206F}'
            | '\u{3164}'
            | '\u{FE00}'..='\u{FE0F}'
            | '\u{FEFF}'
            | '\u{FFA0}'
            | '\u{FFF0}'..='\u{FFFB}'
            | '\u{E0000}'..='\u{E007F}'
    )
}

/// Checks a description: at most 256 characters, no control characters but newlines and tabs.
pub fn check_description(text: &str) -> Result<String, Refusal> {
    if text.chars().count() > MAX_DESCRIPTION_CHARS
        || text.chars().any(|c| {
            (c.is_control() && c != '\n' && c != '\t')
                || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
        })
    {
        return Err(Refusal::new(
            ErrorCode::InvalidDescription,
            format!(
                "a description is at most {MAX_DESCRIPTION_CHARS} characters, without control characters"
            ),
        ));
    }
    Ok(text.to_owned())
}

/// Parses a token id from a path or query.
pub fn parse_id(text: &str) -> Result<String, Refusal> {
    text.parse::<TokenId>()
        .map(|id| id.to_string())
        .map_err(|_| {
            Refusal::new(
                ErrorCode::InvalidId,
                "a token id is 32 lowercase hexadecimal digits",
            )
        })
}

/// Checks a user name: 1-64 of `A-Z a-z 0-9 . _ @ + : -` (a token's subject).
pub fn check_user_name(name: &str) -> Result<(), Refusal> {
    if valid_subject(name) {
        Ok(())
    } else {
        Err(Refusal::new(
            ErrorCode::InvalidName,
            "a user name is 1-64 of A-Z a-z 0-9 . _ @ + : -",
        ))
    }
}

/// Checks a password's length (8 to 256 characters).
pub fn check_password(password: &str) -> Result<(), Refusal> {
    if acceptable_password(password) {
        Ok(())
    } else {
        Err(Refusal::new(
            ErrorCode::InvalidPassword,
            "a password is 8 to 256 characters",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_descriptions() {
        assert!(check_name("ci deploy").is_ok());
        for bad in ["", " x", "a\u{0}b", "a\u{202E}b", "a\u{200B}b"] {
            assert_eq!(
                check_name(bad).unwrap_err().code,
                ErrorCode::InvalidName,
                "{bad:?}"
            );
        }
        assert_eq!(
            check_name(&"n".repeat(65)).unwrap_err().code,
            ErrorCode::InvalidName
        );
        assert!(check_description(&"d".repeat(256)).is_ok());
        assert_eq!(
            check_description(&"d".repeat(257)).unwrap_err().code,
            ErrorCode::InvalidDescription
        );
        assert!(check_user_name("ci-bot@team").is_ok());
        assert_eq!(
            check_user_name("a b").unwrap_err().code,
            ErrorCode::InvalidName
        );
        assert_eq!(
            check_password("short").unwrap_err().code,
            ErrorCode::InvalidPassword
        );
    }

    #[test]
    fn ids() {
        assert!(parse_id(&"ab".repeat(16)).is_ok());
        assert_eq!(parse_id("xyz").unwrap_err().code, ErrorCode::InvalidId);
    }
}
