//! A verified token, read in place.
//!
//! [`Authority::verify`](crate::Authority::verify) decodes the token into a
//! fixed buffer inside [`Verified`] and hands out views of it, so a check at
//! the edge allocates nothing. [`Verified::claims`] makes an owned copy.

use core::fmt;

use crate::token::{Claims, Kind, MAX_BINARY_LEN, TokenId, ascii, role_section};

/// A token that passed every check: its claims, after the subject's role
/// cut-offs and any changed expiry, and the id of the key that signed it.
#[derive(Clone)]
pub struct Verified {
    /// The decoded token; names below are byte ranges into it, checked to be ASCII.
    pub(crate) bin: [u8; MAX_BINARY_LEN],
    pub(crate) key_id: (u8, u8),
    pub(crate) subject: (u8, u8),
    pub(crate) roles: (u8, u8),
    /// Bit `i` set: the `i`-th encoded role was cut by a subject rule.
    pub(crate) dropped: u16,
    pub(crate) token_id: TokenId,
    pub(crate) kind: Kind,
    pub(crate) issued_at: u64,
    pub(crate) expires_at: u64,
}

impl Verified {
    pub(crate) fn blank() -> Self {
        Verified {
            bin: [0; MAX_BINARY_LEN],
            key_id: (0, 0),
            subject: (0, 0),
            roles: (0, 0),
            dropped: 0,
            token_id: TokenId([0; 16]),
            kind: Kind::Session,
            issued_at: 0,
            expires_at: 0,
        }
    }

    /// The token's random id.
    pub fn token_id(&self) -> TokenId {
        self.token_id
    }

    /// The user or service account the token speaks for.
    #[allow(
        clippy::indexing_slicing,
        reason = "the ranges were bounded by Payload::parse over this same buffer"
    )]
    pub fn subject(&self) -> &str {
        ascii(&self.bin[usize::from(self.subject.0)..usize::from(self.subject.1)])
    }

    /// Session, personal or service.
    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// The roles still in force, ascending.
    pub fn roles(&self) -> impl Iterator<Item = &str> + '_ {
        self.role_bytes().map(ascii)
    }

    /// True if the token carries `role` (after cut-offs).
    pub fn has_role(&self, role: &str) -> bool {
        self.role_bytes().any(|r| r == role.as_bytes())
    }

    #[allow(
        clippy::indexing_slicing,
        reason = "the ranges were bounded by Payload::parse over this same buffer"
    )]
    fn role_bytes(&self) -> impl Iterator<Item = &[u8]> + '_ {
        let section = &self.bin[usize::from(self.roles.0)..usize::from(self.roles.1)];
        let dropped = self.dropped;
        role_section(section)
            .enumerate()
            .filter(move |(i, _)| dropped & (1 << i) == 0)
            .map(|(_, role)| role)
    }

    /// Issue time, Unix seconds.
    pub fn issued_at(&self) -> u64 {
        self.issued_at
    }

    /// Expiry, Unix seconds: the signed one, or the one the revocation list set.
    pub fn expires_at(&self) -> u64 {
        self.expires_at
    }

    /// The id of the key that signed the token.
    #[allow(
        clippy::indexing_slicing,
        reason = "the ranges were bounded by Payload::parse over this same buffer"
    )]
    pub fn key_id(&self) -> &str {
        ascii(&self.bin[usize::from(self.key_id.0)..usize::from(self.key_id.1)])
    }

    /// An owned copy of the claims, as verified.
    pub fn claims(&self) -> Claims {
        Claims {
            token_id: self.token_id,
            subject: self.subject().to_owned(),
            kind: self.kind,
            roles: self.roles().map(str::to_owned).collect(),
            issued_at: self.issued_at,
            expires_at: self.expires_at,
        }
    }
}

impl fmt::Debug for Verified {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Verified")
            .field("claims", &self.claims())
            .field("key_id", &self.key_id)
            .finish()
    }
}

impl PartialEq for Verified {
    fn eq(&self, other: &Self) -> bool {
        self.claims() == other.claims() && self.key_id() == other.key_id()
    }
}

impl Eq for Verified {}
