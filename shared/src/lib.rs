//! # tollgate-shared
//!
//! Tollgate's token core, shared by the admin (native) and the edge worker
//! (`wasm32-unknown-unknown`): the token format ([`token`]), the [`Keyring`],
//! minting and verification ([`Authority`]), the signed revocation list
//! ([`revocation`]), the signed freshness statements that accompany it
//! ([`freshness`]), the identity assertion the edge sends origins
//! ([`assertion`]) and the usage reports the edge sends the admin
//! ([`usage`]). It does no I/O and reads no clock: callers pass `now` as
//! Unix seconds.
//!
//! ```
//! use tollgate_shared::{Authority, Claims, Keyring, Kind, RevocationList, TokenId};
//!
//! let keyring = Keyring::parse("k1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=").unwrap();
//! let authority = Authority::new(keyring);
//! let claims = Claims {
//!     token_id: TokenId::random().unwrap(),
//!     subject: "alice".into(),
//!     kind: Kind::Personal,
//!     roles: vec!["user".into()],
//!     issued_at: 1_700_000_000,
//!     expires_at: 1_700_086_400,
//! };
//! let token = authority.mint(&claims).unwrap();
//! let verified = authority.verify(&token, 1_700_000_100, &RevocationList::default()).unwrap();
//! assert_eq!(verified.claims(), claims);
//! ```
#![forbid(unsafe_code)]

pub mod assertion;
mod authority;
mod codec;
pub mod error_code;
pub mod freshness;
pub mod keyring;
pub mod revocation;
mod tag;
pub mod token;
pub mod usage;
mod verified;

pub use assertion::{AssertionError, AssertionKeys, Identity};
pub use authority::{Authority, BadPrefix, DEFAULT_LEEWAY_SECONDS, MintError, VerifyError};
pub use error_code::ErrorCode;
pub use freshness::{Freshness, FreshnessError};
pub use keyring::{Keyring, KeyringError, generate_entry, generate_key};
pub use revocation::{Delta, Document, Entry, EntryState, ListError, RevocationList, SubjectRule};
pub use token::{
    Claims, DEFAULT_PREFIX, Kind, TokenId, contains_token, has_valid_checksum, is_well_formed,
    token_pattern, valid_prefix, valid_role, valid_subject,
};
pub use verified::Verified;
