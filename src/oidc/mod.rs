//! Sign-in tokens: OIDC access or ID tokens (JWT) from one configured issuer, verified by
//! the function itself (so `make run`, `cargo lambda watch` and Lambda behave the same):
//! RS256 or ES256 only, `iss`, `aud`, `exp` and `nbf` checked with at most 60 s of leeway,
//! the key found by `kid` in the issuer's key set ([`jwks`]). What a valid token says is a
//! [`Person`]; which user that is, `api::me` decides.

pub mod config;
pub mod jwks;

use std::collections::HashSet;

use jsonwebtoken::{decode, decode_header, Algorithm, Validation};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

pub use config::{Matching, OidcConfig};
use jwks::{Clock, Jwks};

/// The largest token read: anything longer is refused before it is parsed.
pub const MAX_TOKEN_BYTES: usize = 8 * 1024;
/// The clock skew allowed on `exp` and `nbf`.
pub const LEEWAY_SECONDS: u64 = 60;

/// Why a token was refused (logged; the caller sees one 401 for all of them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenRefusal {
    /// Longer than [`MAX_TOKEN_BYTES`].
    Oversized,
    /// Not a JWT.
    Malformed,
    /// An algorithm other than RS256 and ES256, or not the one its key is for.
    Algorithm,
    /// No `kid`, or one the issuer does not list (after at most one refresh a minute).
    UnknownKey,
    /// A bad signature, or a wrong `iss`, `aud`, or a token expired or not yet valid.
    Invalid,
}

impl TokenRefusal {
    /// The reason as logged.
    pub fn name(self) -> &'static str {
        match self {
            Self::Oversized => "oversized",
            Self::Malformed => "malformed",
            Self::Algorithm => "algorithm",
            Self::UnknownKey => "unknown_key",
            Self::Invalid => "invalid",
        }
    }
}

/// Who a verified token says the caller is.
#[derive(Debug, Clone)]
pub struct Person {
    /// The token's claims.
    pub claims: Map<String, Value>,
}

impl Person {
    /// A text claim.
    pub fn text(&self, claim: &str) -> Option<&str> {
        self.claims.get(claim).and_then(Value::as_str)
    }

    /// The caller as logged and recorded: `token:` and a hash of issuer and subject, never
    /// the token or the subject itself.
    pub fn actor(&self) -> String {
        let who = format!(
            "{}\n{}",
            self.text("iss").unwrap_or(""),
            self.text("sub").unwrap_or("")
        );
        let digest = Sha256::digest(who.as_bytes());
        format!("token:{}", &hex::encode(digest)[..16])
    }

    /// Whether the token grants `scope` (in `scope`, space-separated, or `scp`, a list or a
    /// space-separated text, as Entra writes it).
    pub fn has_scope(&self, scope: &str) -> bool {
        let listed = |v: &Value| match v {
            Value::String(s) => s.split(' ').any(|s| s == scope),
            Value::Array(a) => a.iter().any(|s| s.as_str() == Some(scope)),
            _ => false,
        };
        ["scope", "scp"]
            .iter()
            .any(|c| self.claims.get(*c).is_some_and(listed))
    }
}

/// The configured issuer and its keys.
pub struct Oidc {
    /// What `OIDC_*` configured.
    pub config: OidcConfig,
    jwks: Jwks,
}

impl Oidc {
    /// Tokens of `config`'s issuer; nothing is fetched until the first token.
    pub fn new(config: OidcConfig, clock: Clock) -> Self {
        let jwks = Jwks::new(config.jwks_url.clone(), config.discovery_url(), clock);
        Self { config, jwks }
    }

    /// Verifies `token`: its size, header, key, signature, issuer, audience and times.
    pub async fn verify(&self, token: &str) -> Result<Person, TokenRefusal> {
        if token.len() > MAX_TOKEN_BYTES {
            return Err(TokenRefusal::Oversized);
        }
        let header = decode_header(token).map_err(|_| TokenRefusal::Malformed)?;
        if !matches!(header.alg, Algorithm::RS256 | Algorithm::ES256) {
            return Err(TokenRefusal::Algorithm);
        }
        let kid = header.kid.ok_or(TokenRefusal::UnknownKey)?;
        let key = self.jwks.key(&kid).await.ok_or(TokenRefusal::UnknownKey)?;
        if key.algorithm != header.alg {
            return Err(TokenRefusal::Algorithm);
        }
        let mut validation = Validation::new(key.algorithm);
        validation.set_issuer(&[&self.config.issuer]);
        validation.set_audience(&self.config.audience);
        validation.leeway = LEEWAY_SECONDS;
        validation.validate_nbf = true;
        validation.required_spec_claims = HashSet::from(["exp", "iss", "aud"].map(str::to_owned));
        let data = decode::<Map<String, Value>>(token, &key.key, &validation)
            .map_err(|_| TokenRefusal::Invalid)?;
        Ok(Person {
            claims: data.claims,
        })
    }
}
