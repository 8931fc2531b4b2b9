//! Bootstrap keys, as configured in `API_KEYS`: SHA-256 hashes, each with a name and a
//! scope (`read`, or `write`, which holds every scope).

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::{Scope, Scopes};

/// A configured key: its name (logged, and recorded as `deletedBy`), scope and hash.
#[derive(Debug, Clone)]
pub struct ApiKey {
    /// The key's name, never the key.
    pub name: String,
    /// What the key may do: `read`, or (`write`) everything.
    pub scopes: Scopes,
    hash: [u8; 32],
}

/// Every accepted key.
#[derive(Debug, Clone, Default)]
pub struct KeyRing(Vec<ApiKey>);

/// The SHA-256 of a key, hex-encoded: what `API_KEYS` holds.
pub fn hash_key(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

impl KeyRing {
    /// Parses `API_KEYS`: comma-separated `name:scope:sha256-hex` entries.
    pub fn parse(spec: &str) -> Result<Self, String> {
        let mut keys = Vec::new();
        for entry in spec.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let parts: Vec<&str> = entry.split(':').collect();
            let [name, scope, hash] = parts[..] else {
                return Err("API_KEYS entries are name:scope:sha256-hex".into());
            };
            let scopes = match Scope::parse(scope) {
                Some(Scope::Read) => Scopes::READ,
                Some(Scope::Write) => Scopes::ALL,
                _ => return Err(format!("API_KEYS: key {name} has an unknown scope")),
            };
            let mut digest = [0u8; 32];
            hex::decode_to_slice(hash.trim(), &mut digest)
                .map_err(|_| format!("API_KEYS: key {name} needs a 64-digit hex SHA-256"))?;
            if name.is_empty() {
                return Err("API_KEYS: every key needs a name".into());
            }
            keys.push(ApiKey {
                name: name.to_owned(),
                scopes,
                hash: digest,
            });
        }
        Ok(Self(keys))
    }

    /// Whether no key is configured (then every protected route answers 401).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The key whose hash matches, checking every key so timing says nothing.
    pub fn find(&self, presented: &str) -> Option<&ApiKey> {
        let digest = Sha256::digest(presented.as_bytes());
        let mut found = None;
        for key in &self.0 {
            if bool::from(key.hash.ct_eq(digest.as_slice())) {
                found = Some(key);
            }
        }
        found
    }
}
