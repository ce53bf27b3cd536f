//! Usage reports: what one edge isolate saw since its last report, signed for the admin.
//!
//! An isolate counts, per token and UTC day, the requests it let through and the last second it
//! saw the token, plus its own counters (verified, refused by reason, rate-limited), and sends
//! them in one [`Report`]. The admin accepts a report only with a valid tag from the keyring's
//! *usage* subkey (so no token tag, list signature or freshness statement passes as one), only
//! once per `(reporter, sequence)`, and only up to [`MAX_REPORT_BYTES`].
//!
//! ```text
//! "TGUR" format:u8=1 key_id:len8+bytes reporter:[16] sequence:varint sent_at:u64be
//! uses:varint (≤ MAX_USES) × { token_id:[16] kind:u8 count:varint last_seen:varint }
//! refusals:varint (≤ MAX_REASONS) × { code:len8+bytes count:varint }
//! verified:varint rate_limited:varint
//! tag: HMAC-SHA256(usage key of key_id, everything above)   32 bytes
//! ```
//! Uses are in ascending `(token_id, day)` order with no repeats, where `day` is
//! `last_seen / 86400` (UTC); counts are at least 1, sequences at least 1. One encoding per
//! report: anything else is refused as malformed.

use hmac::Mac;

use crate::ErrorCode;
use crate::codec::{Reader, Writer};
use crate::keyring::{Keyring, MAX_KEY_ID_LEN, valid_key_id};
use crate::token::{Kind, TokenId};

/// The media type a report travels as.
pub const CONTENT_TYPE: &str = "application/vnd.tollgate.usage-report";
/// Most token-day entries in one report; an isolate with more sends the rest next time.
pub const MAX_USES: usize = 1024;
/// Most distinct refusal reasons in one report.
pub const MAX_REASONS: usize = 64;
/// Longest refusal-reason text.
const MAX_REASON_LEN: usize = 48;
const MAGIC: &[u8; 4] = b"TGUR";
const FORMAT: u8 = 1;
const TAG_LEN: usize = 32;
const MAX_VARINT: usize = 10;
/// The largest well-formed report, in bytes: anything longer is refused before it is read.
pub const MAX_REPORT_BYTES: usize = 4
    + 1
    + 1
    + MAX_KEY_ID_LEN
    + 16
    + MAX_VARINT
    + 8
    + MAX_VARINT
    + MAX_USES * (16 + 1 + 2 * MAX_VARINT)
    + MAX_VARINT
    + MAX_REASONS * (1 + MAX_REASON_LEN + MAX_VARINT)
    + 2 * MAX_VARINT
    + TAG_LEN;

/// Seconds in a (UTC) day: a use's day is `last_seen / SECONDS_PER_DAY`.
pub const SECONDS_PER_DAY: u64 = 86_400;

/// Which isolate sent a report: random, chosen when the isolate starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ReporterId(pub [u8; 16]);

impl ReporterId {
    /// A fresh id from the operating system's generator.
    pub fn random() -> Result<Self, getrandom::Error> {
        TokenId::random().map(|t| ReporterId(t.0))
    }
}

impl core::fmt::Display for ReporterId {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        TokenId(self.0).fmt(f)
    }
}

/// One token's verified requests on one UTC day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenUse {
    /// The token.
    pub token_id: TokenId,
    /// Its kind, as signed in the token.
    pub kind: Kind,
    /// Requests counted (at least 1).
    pub count: u64,
    /// The last second the token was seen (Unix seconds); its day is the entry's day.
    pub last_seen: u64,
}

impl TokenUse {
    /// The UTC day this entry counts, as days since 1970-01-01.
    pub fn day(&self) -> u64 {
        self.last_seen / SECONDS_PER_DAY
    }
}

/// Why the edge refused requests: a known error code, or one this build does not know.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reason {
    /// An error code both sides know.
    Code(ErrorCode),
    /// A code a newer edge sent that this side does not know.
    Other,
}

impl Reason {
    /// The label text: the code, or `other`.
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Code(code) => code.as_str(),
            Reason::Other => "other",
        }
    }
}

/// The edge's own counters since the last report.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counters {
    /// Requests whose token was verified and allowed on the route.
    pub verified: u64,
    /// Requests refused, by reason (each reason once).
    pub refused: Vec<(Reason, u64)>,
    /// Requests refused because their token was over a route's limit.
    pub rate_limited: u64,
}

/// One isolate's report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// The isolate that sent it.
    pub reporter: ReporterId,
    /// 1 for the isolate's first report, one more for each after it.
    pub sequence: u64,
    /// When it was sent (the edge's clock, Unix seconds).
    pub sent_at: u64,
    /// Token uses, in ascending `(token_id, day)` order.
    pub uses: Vec<TokenUse>,
    /// The isolate's counters.
    pub counters: Counters,
}

/// Why a report was refused. Never carries report content.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ReportError {
    /// Longer than [`MAX_REPORT_BYTES`].
    #[error("the usage report is larger than {MAX_REPORT_BYTES} bytes")]
    TooLarge,
    /// Not a signed report at all: no envelope, or one that ends early (answered like any
    /// other unauthenticated request).
    #[error("the body is not a signed usage report")]
    Unsigned,
    /// Correctly signed, but its content breaks the format.
    #[error("the usage report is malformed")]
    Malformed,
    /// Signed with a key id the keyring does not hold.
    #[error("the usage report was signed with an unknown key")]
    UnknownKey,
    /// The tag does not match.
    #[error("the usage report's signature is invalid")]
    BadSignature,
}

impl ReportError {
    /// The error code an admin answers with.
    pub fn code(self) -> ErrorCode {
        match self {
            ReportError::TooLarge => ErrorCode::BodyTooLarge,
            ReportError::Unsigned => ErrorCode::Malformed,
            ReportError::Malformed => ErrorCode::InvalidBody,
            ReportError::UnknownKey => ErrorCode::UnknownKey,
            ReportError::BadSignature => ErrorCode::BadSignature,
        }
    }
}

impl Report {
    /// The signed binary form, tagged with the keyring's signing key.
    ///
    /// The caller keeps the report within the limits ([`MAX_USES`], [`MAX_REASONS`], ordered
    /// uses); [`Report::verify`] refuses one that is not.
    pub fn sign(&self, keyring: &Keyring) -> Vec<u8> {
        let key = keyring.signing();
        let mut bin = Vec::with_capacity(64 + self.uses.len() * 30 + TAG_LEN);
        bin.extend_from_slice(MAGIC);
        bin.push(FORMAT);
        bin.short_str(&key.id);
        bin.extend_from_slice(&self.reporter.0);
        bin.varint(self.sequence);
        bin.extend_from_slice(&self.sent_at.to_be_bytes());
        bin.varint(self.uses.len() as u64);
        for u in &self.uses {
            bin.extend_from_slice(&u.token_id.0);
            bin.push(u.kind.code());
            bin.varint(u.count);
            bin.varint(u.last_seen);
        }
        bin.varint(self.counters.refused.len() as u64);
        for (reason, count) in &self.counters.refused {
            bin.short_str(reason.as_str());
            bin.varint(*count);
        }
        bin.varint(self.counters.verified);
        bin.varint(self.counters.rate_limited);
        let tag = key
            .usage_mac
            .clone()
            .chain_update(&bin)
            .finalize()
            .into_bytes();
        bin.extend_from_slice(&tag);
        bin
    }

    /// Checks a report's size, form and tag, and reads it. Never panics.
    pub fn verify(bin: &[u8], keyring: &Keyring) -> Result<Report, ReportError> {
        if bin.len() > MAX_REPORT_BYTES {
            return Err(ReportError::TooLarge);
        }
        let body_len = bin
            .len()
            .checked_sub(TAG_LEN)
            .ok_or(ReportError::Unsigned)?;
        let (body, tag) = bin.split_at(body_len);
        let mut r = Reader::new(body);
        let unsigned = |_| ReportError::Unsigned;
        if r.bytes(4).map_err(unsigned)? != MAGIC || r.u8().map_err(unsigned)? != FORMAT {
            return Err(ReportError::Unsigned);
        }
        let key_id = r
            .short_str(MAX_KEY_ID_LEN, valid_key_id)
            .map_err(unsigned)?;
        // The tag is checked before anything else is read, so unsigned content is never parsed.
        let key = keyring
            .get(key_id.as_bytes())
            .ok_or(ReportError::UnknownKey)?;
        key.usage_mac
            .clone()
            .chain_update(body)
            .verify_slice(tag)
            .map_err(|_| ReportError::BadSignature)?;
        read_body(&mut r).map_err(|_| ReportError::Malformed)
    }
}

fn read_body(r: &mut Reader<'_>) -> Result<Report, crate::codec::Invalid> {
    use crate::codec::Invalid;
    let reporter = ReporterId(r.array()?);
    let sequence = r.varint()?;
    let sent_at = r.u64()?;
    if sequence == 0 {
        return Err(Invalid);
    }
    let n = r.count(MAX_USES)?;
    let mut uses: Vec<TokenUse> = Vec::with_capacity(n.min(r.remaining() / 19));
    for _ in 0..n {
        let token_id = TokenId(r.array()?);
        let kind = Kind::from_code(r.u8()?).ok_or(Invalid)?;
        let count = r.varint()?;
        let last_seen = r.varint()?;
        let u = TokenUse {
            token_id,
            kind,
            count,
            last_seen,
        };
        let ordered = uses
            .last()
            .is_none_or(|p| (p.token_id.0, p.day()) < (u.token_id.0, u.day()));
        if count == 0 || !ordered {
            return Err(Invalid);
        }
        uses.push(u);
    }
    let n = r.count(MAX_REASONS)?;
    let mut refused: Vec<(Reason, u64)> = Vec::with_capacity(n);
    for _ in 0..n {
        let text = r.short_str(MAX_REASON_LEN, |s| {
            s.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
        })?;
        let reason = ErrorCode::parse(text).map_or(Reason::Other, Reason::Code);
        let count = r.varint()?;
        if count == 0 || refused.iter().any(|(seen, _)| *seen == reason) {
            return Err(Invalid);
        }
        refused.push((reason, count));
    }
    let verified = r.varint()?;
    let rate_limited = r.varint()?;
    r.finish()?;
    Ok(Report {
        reporter,
        sequence,
        sent_at,
        uses,
        counters: Counters {
            verified,
            refused,
            rate_limited,
        },
    })
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    const K1: &str = "k1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
    const K1_OTHER: &str = "k1:ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=";
    const DAY: u64 = 20_000 * SECONDS_PER_DAY;

    fn report() -> Report {
        Report {
            reporter: ReporterId([7; 16]),
            sequence: 3,
            sent_at: DAY + 100,
            uses: vec![
                TokenUse {
                    token_id: TokenId([1; 16]),
                    kind: Kind::Personal,
                    count: 5,
                    last_seen: DAY - 1,
                },
                TokenUse {
                    token_id: TokenId([1; 16]),
                    kind: Kind::Personal,
                    count: 2,
                    last_seen: DAY + 90,
                },
                TokenUse {
                    token_id: TokenId([2; 16]),
                    kind: Kind::Service,
                    count: 1,
                    last_seen: DAY + 99,
                },
            ],
            counters: Counters {
                verified: 8,
                refused: vec![
                    (Reason::Code(ErrorCode::Revoked), 3),
                    (Reason::Code(ErrorCode::RateLimited), 1),
                ],
                rate_limited: 1,
            },
        }
    }

    fn keyring(text: &str) -> Keyring {
        Keyring::parse(text).unwrap()
    }

    #[test]
    fn a_signed_report_reads_back() {
        let k = keyring(K1);
        let bin = report().sign(&k);
        assert_eq!(Report::verify(&bin, &k), Ok(report()));
        let empty = Report {
            uses: vec![],
            counters: Counters::default(),
            ..report()
        };
        assert_eq!(Report::verify(&empty.sign(&k), &k), Ok(empty));
    }

    #[test]
    fn another_key_or_purpose_does_not_pass() {
        let bin = report().sign(&keyring(K1));
        assert_eq!(
            Report::verify(&bin, &keyring(K1_OTHER)),
            Err(ReportError::BadSignature)
        );
        let k2 = keyring("k2:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=");
        assert_eq!(Report::verify(&bin, &k2), Err(ReportError::UnknownKey));
        for junk in [&b""[..], b"{\"uses\": []}", &[0u8; 40]] {
            assert_eq!(
                Report::verify(junk, &keyring(K1)),
                Err(ReportError::Unsigned)
            );
        }
        // A freshness statement signed by the same key is not a report.
        let statement = crate::Freshness {
            sequence: 1,
            as_of: 2,
        }
        .sign(&keyring(K1));
        assert!(Report::verify(statement.as_bytes(), &keyring(K1)).is_err());
    }

    #[test]
    fn every_changed_byte_is_refused() {
        let k = keyring(K1);
        let bin = report().sign(&k);
        for i in 0..bin.len() {
            let mut bad = bin.clone();
            bad[i] ^= 0x01;
            assert!(Report::verify(&bad, &k).is_err(), "byte {i}");
        }
        for cut in 0..bin.len() {
            assert!(Report::verify(&bin[..cut], &k).is_err(), "cut at {cut}");
        }
    }

    #[test]
    fn out_of_order_repeated_or_empty_entries_are_malformed() {
        let k = keyring(K1);
        let mut swapped = report();
        swapped.uses.swap(0, 2);
        let mut repeated = report();
        repeated.uses[1].last_seen = DAY - 5;
        let mut zero = report();
        zero.uses[0].count = 0;
        let mut twice = report();
        twice.counters.refused[1].0 = Reason::Code(ErrorCode::Revoked);
        let mut first = report();
        first.sequence = 0;
        for bad in [swapped, repeated, zero, twice, first] {
            assert_eq!(
                Report::verify(&bad.sign(&k), &k),
                Err(ReportError::Malformed)
            );
        }
    }

    #[test]
    fn an_unknown_reason_reads_as_other_and_size_is_capped() {
        let k = keyring(K1);
        let mut r = report();
        r.counters.refused = vec![(Reason::Other, 4)];
        assert_eq!(Report::verify(&r.sign(&k), &k), Ok(r));
        let mut full = report();
        full.uses = (0..MAX_USES as u32)
            .map(|i| TokenUse {
                token_id: TokenId(u128::from(i).to_be_bytes()),
                kind: Kind::Service,
                count: u64::MAX,
                last_seen: u64::MAX - 1,
            })
            .collect();
        let bin = full.sign(&k);
        assert!(bin.len() <= MAX_REPORT_BYTES);
        assert_eq!(Report::verify(&bin, &k).map(|r| r.uses.len()), Ok(MAX_USES));
        full.uses.push(TokenUse {
            token_id: TokenId([0xff; 16]),
            ..full.uses[0]
        });
        assert_eq!(
            Report::verify(&full.sign(&k), &k),
            Err(ReportError::Malformed)
        );
        assert_eq!(
            Report::verify(&vec![0; MAX_REPORT_BYTES + 1], &k),
            Err(ReportError::TooLarge)
        );
    }
}
