//! Usage reports, as the admin reads them from the network: verification never panics, a report
//! that verifies is the one canonical encoding of what it says, and a report built from the
//! input (in any order, with any counts) is either read back as it was or refused as malformed.
//!
//! Two paths per input: the bytes as a report, and the bytes as a recipe for one, signed.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use tollgate_shared::usage::{Counters, Reason, Report, ReportError, ReporterId, TokenUse};
use tollgate_shared::{ErrorCode, Keyring, Kind, TokenId};

/// The test keyring used across the repository's tests (one key, `k1`).
const KEYS: &str = "k1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

fn keyring() -> &'static Keyring {
    static KEYRING: OnceLock<Keyring> = OnceLock::new();
    KEYRING.get_or_init(|| Keyring::parse(KEYS).expect("test keyring"))
}

fn u64_at(data: &[u8], at: usize) -> u64 {
    let mut b = [0u8; 8];
    for (i, x) in b.iter_mut().enumerate() {
        *x = data.get(at + i).copied().unwrap_or(0);
    }
    u64::from_le_bytes(b)
}

/// A report from the recipe: 9 bytes of header (sequence), then 26 bytes per use.
fn recipe(data: &[u8]) -> Report {
    let uses = data
        .get(9..)
        .unwrap_or_default()
        .chunks_exact(26)
        .map(|c| TokenUse {
            token_id: TokenId(c[..16].try_into().expect("16 bytes")),
            kind: [Kind::Session, Kind::Personal, Kind::Service][usize::from(c[16] % 3)],
            count: u64::from(c[17]) % 4,
            last_seen: u64_at(c, 18) % (1 << 40),
        })
        .collect();
    let codes = ErrorCode::ALL;
    let refused = data
        .iter()
        .take(3)
        .map(|b| {
            (
                Reason::Code(codes[usize::from(*b) % codes.len()]),
                u64::from(*b) + 1,
            )
        })
        .collect();
    Report {
        reporter: ReporterId([data.first().copied().unwrap_or(0); 16]),
        sequence: u64_at(data, 1) % 4,
        sent_at: u64_at(data, 1),
        uses,
        counters: Counters {
            verified: u64::from(data.len() as u32),
            refused,
            rate_limited: 1,
        },
    }
}

fuzz_target!(|data: &[u8]| {
    if let Ok(report) = Report::verify(data, keyring()) {
        assert_eq!(
            report.sign(keyring()),
            data,
            "a verified report is not the canonical encoding of {report:?}"
        );
    }
    let built = recipe(data);
    match Report::verify(&built.sign(keyring()), keyring()) {
        Ok(read) => assert_eq!(read, built),
        Err(e) => assert!(
            matches!(e, ReportError::Malformed | ReportError::TooLarge),
            "{e:?} for {built:?}"
        ),
    }
});
