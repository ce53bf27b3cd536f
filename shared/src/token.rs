//! The token's claims and its text form.
//!
//! ```text
//! tg_<base64url( payload || tag || crc32 )>
//!
//! payload = version:u8  key_id:len8+bytes  token_id:16  kind:u8
//!           issued_at:u32be  expires_at:u32be  subject:len8+bytes
//!           role_count:u8  (role:len8+bytes)*   -- roles strictly ascending
//! tag     = HMAC-SHA256(token key of key_id, payload)        32 bytes
//! crc32   = CRC-32/ISO-HDLC(payload || tag), big-endian        4 bytes
//! ```
//!
//! Times are Unix seconds in 32 bits (good until 2106): keeping a typical
//! payload within one SHA-256 block saves a compression on every verify.
//!
//! The base64url is unpadded and canonical (unused trailing bits are zero),
//! so every token has exactly one spelling. The CRC lets a secret scanner
//! recognise a Tollgate token without any key, as GitHub's tokens allow.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use core::ops::Range;

use crate::codec::{Invalid, Writer};
use crate::keyring::MAX_KEY_ID_LEN;

/// The only payload version this crate reads and writes.
pub const VERSION: u8 = 1;
/// The prefix used when none is configured.
pub const DEFAULT_PREFIX: &str = "tg";
/// Longest prefix accepted.
pub const MAX_PREFIX_LEN: usize = 8;
/// Longest subject, in bytes.
pub const MAX_SUBJECT_LEN: usize = 64;
/// Longest role, in bytes.
pub const MAX_ROLE_LEN: usize = 64;
/// Most roles one token can carry.
pub const MAX_ROLES: usize = 16;
pub(crate) const TAG_LEN: usize = 32;
pub(crate) const CHECKSUM_LEN: usize = 4;
/// Smallest decoded token: empty-ish payload (1-byte key id, 1-byte subject, no roles) + tag + crc.
pub(crate) const MIN_BINARY_LEN: usize = 1 + 2 + 16 + 1 + 4 + 4 + 2 + 1 + TAG_LEN + CHECKSUM_LEN;
/// Largest decoded token; keeps the text under ~260 characters.
pub const MAX_BINARY_LEN: usize = 192;
/// Shortest and longest body (the part after `prefix_`), in characters.
pub const MIN_BODY_CHARS: usize = MIN_BINARY_LEN / 3 * 4 + [0, 2, 3][MIN_BINARY_LEN % 3];
pub const MAX_BODY_CHARS: usize = MAX_BINARY_LEN / 3 * 4 + [0, 2, 3][MAX_BINARY_LEN % 3];

/// A token's random 128-bit identifier; shown as 32 lowercase hex digits.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct TokenId(pub [u8; 16]);

impl TokenId {
    /// A fresh id from the operating system's generator (`getrandom`).
    pub fn random() -> Result<Self, getrandom::Error> {
        let mut id = [0u8; 16];
        getrandom::fill(&mut id)?;
        Ok(TokenId(id))
    }
}

impl core::fmt::Display for TokenId {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl core::fmt::Debug for TokenId {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "TokenId({self})")
    }
}

/// The text was not 32 lowercase hex digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a token id is 32 lowercase hexadecimal digits")]
pub struct BadTokenId;

impl core::str::FromStr for TokenId {
    type Err = BadTokenId;
    #[allow(
        clippy::indexing_slicing,
        reason = "the length is checked to be 32 first"
    )]
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let b = s.as_bytes();
        if b.len() != 32 {
            return Err(BadTokenId);
        }
        let nibble = |c: u8| match c {
            b'0'..=b'9' => Ok(c - b'0'),
            b'a'..=b'f' => Ok(c - b'a' + 10),
            _ => Err(BadTokenId),
        };
        let mut out = [0u8; 16];
        for (i, o) in out.iter_mut().enumerate() {
            *o = nibble(b[2 * i])? << 4 | nibble(b[2 * i + 1])?;
        }
        Ok(TokenId(out))
    }
}

/// What a token stands for: a login session, a person's API token, or a service's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(rename_all = "snake_case")
)]
pub enum Kind {
    /// Short-lived token returned by a password login.
    Session,
    /// Long-lived token a person creates for scripts and tools.
    Personal,
    /// Token held by a service account.
    Service,
}

impl Kind {
    /// The lowercase name used in headers and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Session => "session",
            Kind::Personal => "personal",
            Kind::Service => "service",
        }
    }

    pub(crate) fn code(self) -> u8 {
        match self {
            Kind::Session => 1,
            Kind::Personal => 2,
            Kind::Service => 3,
        }
    }

    pub(crate) fn from_code(c: u8) -> Option<Self> {
        Some(match c {
            1 => Kind::Session,
            2 => Kind::Personal,
            3 => Kind::Service,
            _ => return None,
        })
    }
}

/// A kind name that is not `session`, `personal` or `service`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown token kind {0:?}")]
pub struct UnknownKind(pub String);

impl TryFrom<String> for Kind {
    type Error = UnknownKind;
    fn try_from(s: String) -> Result<Self, UnknownKind> {
        s.parse().map_err(|()| UnknownKind(s))
    }
}

impl core::str::FromStr for Kind {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        Ok(match s {
            "session" => Kind::Session,
            "personal" => Kind::Personal,
            "service" => Kind::Service,
            _ => return Err(()),
        })
    }
}

/// What a token asserts, once verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claims {
    /// Random id; the revocation list refers to tokens by it.
    pub token_id: TokenId,
    /// User or service-account name.
    pub subject: String,
    /// Session, personal or service.
    pub kind: Kind,
    /// Roles, strictly ascending (minting sorts and de-duplicates them).
    pub roles: Vec<String>,
    /// Seconds since the Unix epoch.
    pub issued_at: u64,
    /// Seconds since the Unix epoch; the token is invalid from this instant (plus leeway).
    /// Both times must be below 2^32 (year 2106).
    pub expires_at: u64,
}

/// A subject: 1-64 of `A-Z a-z 0-9 . _ @ + : -`.
pub fn valid_subject(s: &str) -> bool {
    valid_name(s, MAX_SUBJECT_LEN, SUBJECT_CHAR)
}

/// A role: 1-64 of `A-Z a-z 0-9 . _ : / -` (no spaces or commas, so lists stay unambiguous).
pub fn valid_role(s: &str) -> bool {
    valid_name(s, MAX_ROLE_LEN, ROLE_CHAR)
}

/// 1..=`max` bytes, each in `class`.
#[allow(
    clippy::indexing_slicing,
    reason = "a u8 always indexes the 256-entry table"
)]
pub(crate) fn valid_name(s: &str, max: usize, class: u8) -> bool {
    !s.is_empty() && s.len() <= max && s.bytes().all(|b| NAME_CLASS[usize::from(b)] & class != 0)
}

/// A prefix: 1-8 of `a-z 0-9`.
pub fn valid_prefix(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= MAX_PREFIX_LEN
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}

/// The regular expression that matches exactly the well-formed tokens with `prefix`:
/// the prefix, `_`, then a canonical unpadded base64url body of a permitted length.
/// A match still needs its checksum checked ([`has_valid_checksum`]) to be a Tollgate token.
pub fn token_pattern(prefix: &str) -> String {
    const C: &str = "[A-Za-z0-9_-]";
    // Lengths 4k (whole groups), 4k+2 (last char carries 4 zero bits), 4k+3 (2 zero bits); never 4k+1.
    let groups = |tail: usize| {
        (
            (MIN_BODY_CHARS.saturating_sub(tail)).div_ceil(4),
            (MAX_BODY_CHARS - tail) / 4,
        )
    };
    let ((a0, b0), (a2, b2), (a3, b3)) = (groups(0), groups(2), groups(3));
    format!(
        "^{prefix}_(?:(?:{C}{{4}}){{{a0},{b0}}}|(?:{C}{{4}}){{{a2},{b2}}}{C}[AQgw]|(?:{C}{{4}}){{{a3},{b3}}}{C}{{2}}[AEIMQUYcgkosw048])$"
    )
}

/// Decodes the body of `text` if it is well formed for `prefix` (what [`token_pattern`] matches).
pub(crate) fn decode_body(
    text: &str,
    prefix: &str,
    out: &mut [u8; MAX_BINARY_LEN],
) -> Option<usize> {
    let body = text.strip_prefix(prefix)?.strip_prefix('_')?.as_bytes();
    if body.len() < MIN_BODY_CHARS || body.len() > MAX_BODY_CHARS {
        return None;
    }
    decode_b64url(body, out)
}

/// Strict unpadded base64url: URL-safe alphabet only, length not 4k+1, unused trailing bits zero.
/// `base64-simd` decodes with SIMD where the CPU has it; the tests hold it equal to `base64`'s
/// `URL_SAFE_NO_PAD` on every input.
#[allow(
    clippy::indexing_slicing,
    reason = "len % 4 indexes a 4-entry table; n is checked against out.len()"
)]
pub(crate) fn decode_b64url(body: &[u8], out: &mut [u8]) -> Option<usize> {
    let n = body.len() / 4 * 3 + [0, 0, 1, 2][body.len() % 4];
    if body.len() % 4 == 1 || n > out.len() {
        return None;
    }
    let decoded =
        base64_simd::URL_SAFE_NO_PAD.decode(body, base64_simd::Out::from_slice(&mut out[..n]));
    decoded.ok().map(|d| d.len())
}

/// True if `text` has the shape of a token with `prefix`: exactly what [`token_pattern`] matches.
pub fn is_well_formed(text: &str, prefix: &str) -> bool {
    decode_body(text, prefix, &mut [0u8; MAX_BINARY_LEN]).is_some()
}

/// True if `text` is well formed for `prefix` and its checksum matches: what a
/// leak scanner checks. Needs no key and says nothing about validity.
#[allow(
    clippy::indexing_slicing,
    reason = "decode_body returns a length within the buffer"
)]
pub fn has_valid_checksum(text: &str, prefix: &str) -> bool {
    let mut buf = [0u8; MAX_BINARY_LEN];
    decode_body(text, prefix, &mut buf).is_some_and(|n| checksum_ok(&buf[..n]))
}

/// RFC 6750 §2.1 `b64token`: `1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="`,
/// the syntax of a `Bearer` credential, checked the same way by the edge and the admin.
pub fn is_b64token(s: &str) -> bool {
    let body = s.trim_end_matches('=');
    !body.is_empty()
        && body.bytes().all(|b| {
            b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'+' | b'/')
        })
}

/// True if `text` contains, anywhere, a run `prefix_<base64url>` whose checksum matches: a
/// token embedded in a larger string (a path segment, a query value, a `Basic` password).
/// The run ends at the first character outside the base64url alphabet.
pub fn contains_token(text: &str, prefix: &str) -> bool {
    let bytes = text.as_bytes();
    let needle_len = prefix.len() + 1;
    let mut from = 0;
    while let Some(found) = text.get(from..).and_then(|rest| rest.find(prefix)) {
        let start = from + found;
        from = start + 1;
        if bytes.get(start + prefix.len()) != Some(&b'_') {
            continue;
        }
        let body = bytes.get(start + needle_len..).unwrap_or_default();
        let run = body
            .iter()
            .take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_'))
            .count();
        if text
            .get(start..start + needle_len + run)
            .is_some_and(|candidate| has_valid_checksum(candidate, prefix))
        {
            return true;
        }
    }
    false
}

#[allow(
    clippy::indexing_slicing,
    reason = "callers pass at least MIN_BINARY_LEN bytes"
)]
pub(crate) fn checksum_ok(bin: &[u8]) -> bool {
    let (data, crc) = bin.split_at(bin.len() - CHECKSUM_LEN);
    crc32fast::hash(data).to_be_bytes() == crc
}

/// Byte classes for the names a payload carries: one bit per kind of name.
const SUBJECT_CHAR: u8 = 1;
const ROLE_CHAR: u8 = 2;
pub(crate) const KEY_ID_CHAR: u8 = 4;
#[allow(
    clippy::indexing_slicing,
    reason = "b < 256 indexes the 256-entry table"
)]
const NAME_CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        let alnum = c.is_ascii_alphanumeric();
        if alnum || matches!(c, b'.' | b'_' | b'@' | b'+' | b':' | b'-') {
            t[b] |= SUBJECT_CHAR;
        }
        if alnum || matches!(c, b'.' | b'_' | b':' | b'/' | b'-') {
            t[b] |= ROLE_CHAR;
        }
        if alnum || matches!(c, b'.' | b'_' | b'-') {
            t[b] |= KEY_ID_CHAR;
        }
        b += 1;
    }
    t
};

/// The signed payload, parsed but not yet trusted. Names are byte ranges into
/// the payload, already checked against their character sets (all ASCII).
pub(crate) struct Payload {
    pub(crate) key_id: Range<usize>,
    pub(crate) token_id: TokenId,
    pub(crate) kind: Kind,
    pub(crate) issued_at: u64,
    pub(crate) expires_at: u64,
    pub(crate) subject: Range<usize>,
    /// The role section, `(len8 + bytes)*`, roles strictly ascending.
    pub(crate) roles: Range<usize>,
}

/// Reads a `len8 + bytes` name at `*pos` of 1..=`max` bytes, all in `class`.
#[inline(always)]
#[allow(
    clippy::indexing_slicing,
    reason = "a u8 always indexes the 256-entry table"
)]
fn name(p: &[u8], pos: &mut usize, max: usize, class: u8) -> Result<Range<usize>, Invalid> {
    let len = usize::from(*p.get(*pos).ok_or(Invalid)?);
    let range = *pos + 1..*pos + 1 + len;
    let bytes = p.get(range.clone()).ok_or(Invalid)?;
    if len == 0
        || len > max
        || bytes
            .iter()
            .fold(class, |acc, &b| acc & NAME_CLASS[usize::from(b)])
            == 0
    {
        return Err(Invalid);
    }
    *pos = range.end;
    Ok(range)
}

/// `a < b` for byte strings, without a library call (roles are at most 64 bytes).
#[inline(always)]
fn less(a: &[u8], b: &[u8]) -> bool {
    for (x, y) in a.iter().zip(b) {
        if x != y {
            return x < y;
        }
    }
    a.len() < b.len()
}

impl Payload {
    /// Parses `payload` strictly: known version, valid fields, roles ascending, nothing left over.
    #[allow(
        clippy::indexing_slicing,
        reason = "pos only advances past bytes already read within p"
    )]
    pub(crate) fn parse(p: &[u8]) -> Result<Self, Invalid> {
        if p.first() != Some(&VERSION) {
            return Err(Invalid);
        }
        let mut pos = 1;
        let key_id = name(p, &mut pos, MAX_KEY_ID_LEN, KEY_ID_CHAR)?;
        let (token_id, rest) = p[pos..].split_first_chunk::<16>().ok_or(Invalid)?;
        let (&[kind, i0, i1, i2, i3, e0, e1, e2, e3], _) =
            rest.split_first_chunk::<9>().ok_or(Invalid)?;
        pos += 25;
        let kind = Kind::from_code(kind).ok_or(Invalid)?;
        let issued_at = u64::from(u32::from_be_bytes([i0, i1, i2, i3]));
        let expires_at = u64::from(u32::from_be_bytes([e0, e1, e2, e3]));
        if expires_at <= issued_at {
            return Err(Invalid);
        }
        let subject = name(p, &mut pos, MAX_SUBJECT_LEN, SUBJECT_CHAR)?;
        let role_count = usize::from(*p.get(pos).ok_or(Invalid)?);
        if role_count > MAX_ROLES {
            return Err(Invalid);
        }
        pos += 1;
        let start = pos;
        let mut previous: &[u8] = &[];
        for _ in 0..role_count {
            let role = &p[name(p, &mut pos, MAX_ROLE_LEN, ROLE_CHAR)?];
            if !less(previous, role) {
                return Err(Invalid);
            }
            previous = role;
        }
        if pos != p.len() {
            return Err(Invalid);
        }
        Ok(Payload {
            key_id,
            token_id: TokenId(*token_id),
            kind,
            issued_at,
            expires_at,
            subject,
            roles: start..pos,
        })
    }
}

/// A name checked against one of the ASCII character sets while parsing, as text.
/// (It is ASCII, so the conversion never fails.)
pub(crate) fn ascii(bytes: &[u8]) -> &str {
    core::str::from_utf8(bytes).unwrap_or_default()
}

/// The roles in a role section, `(len8 + bytes)*`, in their encoded order.
pub(crate) fn role_section(mut rest: &[u8]) -> impl Iterator<Item = &[u8]> {
    core::iter::from_fn(move || {
        let (&len, tail) = rest.split_first()?;
        let (role, tail) = tail.split_at_checked(usize::from(len))?;
        rest = tail;
        Some(role)
    })
}

/// Encodes the payload for `claims` (roles already sorted and unique).
pub(crate) fn encode_payload(key_id: &str, claims: &Claims, out: &mut Vec<u8>) {
    out.push(VERSION);
    out.short_str(key_id);
    out.extend_from_slice(&claims.token_id.0);
    out.push(claims.kind.code());
    out.extend_from_slice(&(claims.issued_at as u32).to_be_bytes());
    out.extend_from_slice(&(claims.expires_at as u32).to_be_bytes());
    out.short_str(&claims.subject);
    out.push(claims.roles.len() as u8);
    for role in &claims.roles {
        out.short_str(role);
    }
}

/// True if a token for `subject` carrying `roles` fits the format (at most [`MAX_ROLES`] roles
/// and [`MAX_BINARY_LEN`] bytes), whatever key id signs it: what a user's roles must satisfy so
/// that a session can carry every one of them.
pub fn fits_in_a_token<S: AsRef<str>>(subject: &str, roles: &[S]) -> bool {
    let fixed = 1 + (1 + MAX_KEY_ID_LEN) + 16 + 1 + 4 + 4 + (1 + subject.len()) + 1;
    let roles_len: usize = roles.iter().map(|r| 1 + r.as_ref().len()).sum();
    roles.len() <= MAX_ROLES && fixed + roles_len + TAG_LEN + CHECKSUM_LEN <= MAX_BINARY_LEN
}

/// Appends the checksum and renders the text form.
pub(crate) fn render(prefix: &str, mut bin: Vec<u8>) -> String {
    let crc = crc32fast::hash(&bin);
    bin.extend_from_slice(&crc.to_be_bytes());
    let mut text = String::with_capacity(prefix.len() + 1 + bin.len() * 4 / 3 + 3);
    text.push_str(prefix);
    text.push('_');
    URL_SAFE_NO_PAD.encode_string(&bin, &mut text);
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn token_id_hex_round_trip() {
        let id = TokenId([0xab; 16]);
        assert_eq!(id.to_string(), "abababababababababababababababab");
        assert_eq!(id.to_string().parse::<TokenId>(), Ok(id));
        assert!(
            "ABABABABABABABABABABABABABABABAB"
                .parse::<TokenId>()
                .is_err()
        );
        assert!("abab".parse::<TokenId>().is_err());
        assert_ne!(TokenId::random().unwrap(), TokenId::random().unwrap());
    }

    #[test]
    fn body_bounds_are_consistent() {
        assert_eq!(MIN_BINARY_LEN, 67);
        assert_eq!(MIN_BODY_CHARS, 90);
        assert_eq!(MAX_BODY_CHARS, 256);
    }

    /// Runs natively and under wasm, where the decoder takes its portable path.
    #[test]
    fn decoder_is_strict() {
        let d = |s: &str| {
            let mut out = [0u8; 200];
            decode_b64url(s.as_bytes(), &mut out).map(|n| out[..n].to_vec())
        };
        assert_eq!(d("QUJD"), Some(b"ABC".to_vec()));
        assert_eq!(d("QUI"), Some(b"AB".to_vec()));
        assert_eq!(d("QQ"), Some(b"A".to_vec()));
        assert_eq!(d("-_-_"), Some(vec![0xfb, 0xff, 0xbf]));
        for bad in [
            "Q", "QR", "QUJ", "QUJD=", "QU+D", "QU/D", "QU D", "QUJDRB", "QUJDREV",
        ] {
            assert_eq!(d(bad), None, "{bad}");
        }
        // Long enough for every vector width, with a bad character at each position in turn.
        let bytes: Vec<u8> = (0..=191u8).map(|i| i.wrapping_mul(151) ^ 0x5a).collect();
        let text = URL_SAFE_NO_PAD.encode(&bytes);
        assert_eq!(d(&text), Some(bytes));
        for i in 0..text.len() {
            let mut bad = text.clone().into_bytes();
            bad[i] = b'+';
            assert_eq!(d(std::str::from_utf8(&bad).unwrap()), None, "position {i}");
        }
        let mut out = [0u8; 3];
        assert_eq!(
            decode_b64url(b"QUJDRA", &mut out),
            None,
            "too small a buffer is refused, not a panic"
        );
    }

    #[test]
    fn name_rules() {
        assert!(valid_subject("alice@example.com") && !valid_subject("a b") && !valid_subject(""));
        assert!(valid_role("pool:ml-team") && !valid_role("a,b") && !valid_role(&"r".repeat(65)));
        assert!(
            valid_prefix("tg")
                && !valid_prefix("TG")
                && !valid_prefix("t_g")
                && !valid_prefix("abcdefghi")
        );
    }

    #[cfg(not(target_arch = "wasm32"))]
    proptest::proptest! {
        /// The hand-written decoder agrees with the `base64` crate's strict engine on every input.
        #[test]
        fn decoder_matches_base64_crate(s in "[A-Za-z0-9_+/=-]{0,80}") {
            let mut out = [0u8; 128];
            let ours = decode_b64url(s.as_bytes(), &mut out).map(|n| out[..n].to_vec());
            proptest::prop_assert_eq!(ours, URL_SAFE_NO_PAD.decode(&s).ok());
        }

        /// The same over the alphabet alone, so long inputs are mostly valid.
        #[test]
        fn decoder_matches_base64_crate_on_the_alphabet(s in "[A-Za-z0-9_-]{0,90}") {
            let mut out = [0u8; 128];
            let ours = decode_b64url(s.as_bytes(), &mut out).map(|n| out[..n].to_vec());
            proptest::prop_assert_eq!(ours, URL_SAFE_NO_PAD.decode(&s).ok());
        }
    }
}
