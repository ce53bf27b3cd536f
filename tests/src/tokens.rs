//! Keys and tokens for tests: a fresh keyring per test, tokens minted with it.

use tollgate_shared::{Authority, Claims, Keyring, Kind, TokenId, generate_entry};

/// Now, in Unix seconds.
pub fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

/// A keyring (as `TOLLGATE_KEYS` text and parsed) and an authority minting with it.
#[derive(Debug, Clone)]
pub struct Keys {
    /// `id:base64key`, the value for `TOLLGATE_KEYS`.
    pub text: String,
    /// The parsed keyring.
    pub keyring: Keyring,
    /// Mints and verifies with the keyring and the default prefix.
    pub authority: Authority,
}

/// A minted token and what it says.
#[derive(Debug, Clone)]
pub struct Minted {
    /// The token text.
    pub token: String,
    /// Its claims (roles sorted).
    pub claims: Claims,
}

impl Minted {
    /// `Bearer <token>`.
    pub fn bearer(&self) -> String {
        format!("Bearer {}", self.token)
    }

    /// The token id.
    pub fn id(&self) -> TokenId {
        self.claims.token_id
    }
}

impl Keys {
    /// A fresh random key with id `id`.
    pub fn generate(id: &str) -> Keys {
        let text = generate_entry(id).expect("the OS random generator works");
        let keyring = Keyring::parse(&text).expect("a generated entry parses");
        Keys {
            text,
            authority: Authority::new(keyring.clone()),
            keyring,
        }
    }

    /// Mints a token for `subject` with `roles`, issued a minute ago, valid for `ttl` seconds from now.
    pub fn mint(&self, subject: &str, kind: Kind, roles: &[&str], ttl: u64) -> Minted {
        let now = now();
        self.mint_claims(Claims {
            token_id: TokenId::random().expect("the OS random generator works"),
            subject: subject.into(),
            kind,
            roles: roles.iter().map(|r| (*r).to_owned()).collect(),
            issued_at: now - 60,
            expires_at: now + ttl,
        })
    }

    /// Mints exactly `claims` (roles get sorted).
    pub fn mint_claims(&self, mut claims: Claims) -> Minted {
        let token = self.authority.mint(&claims).expect("test claims are valid");
        claims.roles.sort();
        claims.roles.dedup();
        Minted { token, claims }
    }
}
