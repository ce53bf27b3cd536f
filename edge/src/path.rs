//! The request path as the edge decides on it, and as it forwards it.
//!
//! Origins decode paths before routing (WSGI, nginx, most frameworks turn
//! `%2F` into `/` and resolve `..`), so a rule checked on the encoded text can
//! be walked around. [`canonicalize`] decodes each segment once and refuses
//! any path whose decoded form could be read two ways; what remains is
//! re-encoded in one canonical spelling. The policy matches the decoded
//! segments and the origin receives exactly [`CanonicalPath::as_str`], so the
//! two can never disagree.
//!
//! Ambiguous, answered with 400 `ambiguous_path`:
//! - a `%` not followed by two hex digits, or decoded bytes that are not UTF-8;
//! - a segment that decodes to something containing `/`, `\`, `;`, a control
//!   character (U+0000-U+001F, U+007F), or a `%XX` escape (double encoding);
//! - a segment that is `.` or `..` once decoded;
//! - a raw `\`, `;`, control or non-ASCII character (the runtime encodes these,
//!   so only a hand-made request line carries them).
//!
//! Empty segments are dropped (`//a//b/` is `/a/b/`) and a trailing `/` is kept.

use std::fmt::Write as _;

/// Why a path is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AmbiguousPath {
    /// A `%` not followed by two hex digits.
    #[error("the path has an invalid percent escape")]
    BadEscape,
    /// Decoded bytes that are not UTF-8.
    #[error("the path does not decode to UTF-8")]
    NotUtf8,
    /// A segment decodes to a separator (`/`, `\`) or a `;` parameter.
    #[error("a path segment decodes to a separator or a ; parameter")]
    Separator,
    /// A control character, raw or decoded.
    #[error("the path contains a control character")]
    Control,
    /// A `.` or `..` segment.
    #[error("the path contains a . or .. segment")]
    DotSegment,
    /// A segment that still holds a percent escape once decoded.
    #[error("the path is percent-encoded twice")]
    DoubleEncoded,
}

/// A path decoded once into segments, with its canonical encoding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CanonicalPath {
    segments: Vec<String>,
    encoded: String,
}

impl CanonicalPath {
    /// The decoded, non-empty segments.
    pub fn segments(&self) -> &[String] {
        &self.segments
    }

    /// The canonical encoding the origin receives: `/` + segments joined by `/`, a trailing `/`
    /// when the request had one.
    pub fn as_str(&self) -> &str {
        &self.encoded
    }
}

/// Decodes `raw` (the path of the request URL, percent-encoded) into a [`CanonicalPath`].
pub fn canonicalize(raw: &str) -> Result<CanonicalPath, AmbiguousPath> {
    if let Some(bad) = raw.bytes().find(|b| !is_plain_raw(*b)) {
        return Err(match bad {
            b'\\' | b';' => AmbiguousPath::Separator,
            _ => AmbiguousPath::Control,
        });
    }
    let mut segments = Vec::new();
    for part in raw.split('/').filter(|s| !s.is_empty()) {
        let decoded = decode_segment(part)?;
        check_decoded(&decoded)?;
        segments.push(decoded);
    }
    let mut encoded = String::with_capacity(raw.len() + 1);
    for segment in &segments {
        encoded.push('/');
        encode_segment(segment, &mut encoded);
    }
    if encoded.is_empty() || raw.ends_with('/') {
        encoded.push('/');
    }
    Ok(CanonicalPath { segments, encoded })
}

/// Printable ASCII other than `\` and `;`.
fn is_plain_raw(b: u8) -> bool {
    (0x21..0x7f).contains(&b) && b != b'\\' && b != b';'
}

fn hex_val(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

fn decode_segment(segment: &str) -> Result<String, AmbiguousPath> {
    if !segment.contains('%') {
        return Ok(segment.to_owned());
    }
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let high = bytes.get(i + 1).copied().and_then(hex_val);
            let low = bytes.get(i + 2).copied().and_then(hex_val);
            let (Some(high), Some(low)) = (high, low) else {
                return Err(AmbiguousPath::BadEscape);
            };
            out.push(high << 4 | low);
            i += 3;
        } else {
            out.push(b);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| AmbiguousPath::NotUtf8)
}

fn check_decoded(segment: &str) -> Result<(), AmbiguousPath> {
    if segment == "." || segment == ".." {
        return Err(AmbiguousPath::DotSegment);
    }
    let bytes = segment.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b'/' | b'\\' | b';' => return Err(AmbiguousPath::Separator),
            0..=0x1f | 0x7f => return Err(AmbiguousPath::Control),
            b'%' => {
                let escape = bytes.get(i + 1).copied().and_then(hex_val).is_some()
                    && bytes.get(i + 2).copied().and_then(hex_val).is_some();
                if escape {
                    return Err(AmbiguousPath::DoubleEncoded);
                }
            }
            _ => {}
        }
    }
    if segment.chars().any(char::is_control) {
        return Err(AmbiguousPath::Control);
    }
    Ok(())
}

/// RFC 3986 `pchar` minus `%` and `;`: unreserved, the other sub-delims, `:` and `@`.
fn is_kept(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b'-' | b'.'
                | b'_'
                | b'~'
                | b'!'
                | b'$'
                | b'&'
                | b'\''
                | b'('
                | b')'
                | b'*'
                | b'+'
                | b','
                | b'='
                | b':'
                | b'@'
        )
}

fn encode_segment(segment: &str, out: &mut String) {
    for b in segment.bytes() {
        if is_kept(b) {
            out.push(char::from(b));
        } else {
            // Writing to a String cannot fail.
            let _ = write!(out, "%{b:02X}");
        }
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    fn ok(raw: &str) -> (Vec<String>, String) {
        let p = canonicalize(raw).unwrap_or_else(|e| panic!("{raw}: {e}"));
        (p.segments().to_vec(), p.as_str().to_owned())
    }

    #[test]
    fn plain_paths_keep_their_spelling() {
        assert_eq!(ok("/"), (vec![], "/".into()));
        assert_eq!(ok("/a/b"), (vec!["a".into(), "b".into()], "/a/b".into()));
        assert_eq!(ok("/a/b/").1, "/a/b/");
        assert_eq!(ok("/v1/files/x.tar.gz").1, "/v1/files/x.tar.gz");
        assert_eq!(ok("/u/alice@example.com:80").1, "/u/alice@example.com:80");
    }

    #[test]
    fn decoding_gives_one_canonical_spelling() {
        assert_eq!(
            ok("/%61dmin/users"),
            (vec!["admin".into(), "users".into()], "/admin/users".into())
        );
        assert_eq!(ok("//admin//users/").1, "/admin/users/");
        assert_eq!(ok("/a%20b").1, "/a%20b");
        assert_eq!(ok("/caf%C3%A9").0, vec!["café".to_owned()]);
        assert_eq!(ok("/caf%c3%a9").1, "/caf%C3%A9");
        assert_eq!(
            ok("/100%25").0,
            vec!["100%".to_owned()],
            "a lone % is not an escape"
        );
        assert_eq!(ok("/100%25").1, "/100%25");
        assert_eq!(ok("/a.b/..c/.d").0, vec!["a.b", "..c", ".d"]);
    }

    #[test]
    fn ambiguous_paths_are_refused() {
        let cases = [
            ("/admin%2Fusers", AmbiguousPath::Separator),
            ("/admin%2fusers", AmbiguousPath::Separator),
            ("/reports%2Fq1", AmbiguousPath::Separator),
            ("/public/..%2Fadmin/users", AmbiguousPath::Separator),
            ("/public/%2e%2e/admin", AmbiguousPath::DotSegment),
            ("/public/%2E/admin", AmbiguousPath::DotSegment),
            ("/public/../admin", AmbiguousPath::DotSegment),
            ("/public/./admin", AmbiguousPath::DotSegment),
            ("/a%5Cb", AmbiguousPath::Separator),
            ("/a\\b", AmbiguousPath::Separator),
            ("/a;jsessionid=1", AmbiguousPath::Separator),
            ("/admin;/users", AmbiguousPath::Separator),
            ("/a%3Bb", AmbiguousPath::Separator),
            ("/a%00b", AmbiguousPath::Control),
            ("/a%0Ab", AmbiguousPath::Control),
            ("/a%7Fb", AmbiguousPath::Control),
            ("/a%C2%85b", AmbiguousPath::Control),
            ("/a\tb", AmbiguousPath::Control),
            ("/a b", AmbiguousPath::Control),
            ("/caf\u{e9}", AmbiguousPath::Control),
            ("/a%zz", AmbiguousPath::BadEscape),
            ("/a%4", AmbiguousPath::BadEscape),
            ("/a%", AmbiguousPath::BadEscape),
            ("/%ff", AmbiguousPath::NotUtf8),
            ("/admin%252Fusers", AmbiguousPath::DoubleEncoded),
            ("/%252e%252e", AmbiguousPath::DoubleEncoded),
        ];
        for (raw, why) in cases {
            assert_eq!(canonicalize(raw), Err(why), "{raw}");
        }
    }

    #[test]
    fn the_canonical_form_is_a_fixed_point() {
        for raw in ["/%61dmin//x/", "/a%20b/c~d", "/caf%c3%a9/%2B", "/"] {
            let once = ok(raw);
            assert_eq!(ok(&once.1), once, "{raw}");
        }
    }
}
