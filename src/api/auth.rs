//! API keys: configured as SHA-256 hashes, compared in constant time, with a scope each.

use http::HeaderMap;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::error::ApiError;

/// What a key may do. `Write` includes `Read`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Scope {
    /// GET routes.
    Read,
    /// Every route.
    Write,
}

impl Scope {
    fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "read" => Some(Scope::Read),
            "write" => Some(Scope::Write),
            _ => None,
        }
    }
}

/// A configured key: its name (logged, and recorded as `deletedBy`), scope and hash.
#[derive(Debug, Clone)]
pub struct ApiKey {
    /// The key's name, never the key.
    pub name: String,
    /// What the key may do.
    pub scope: Scope,
    hash: [u8; 32],
}

/// The caller a request was authenticated as.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The key's name.
    pub name: String,
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
            let scope = Scope::parse(scope)
                .ok_or_else(|| format!("API_KEYS: key {name} has an unknown scope"))?;
            let mut digest = [0u8; 32];
            hex::decode_to_slice(hash.trim(), &mut digest)
                .map_err(|_| format!("API_KEYS: key {name} needs a 64-digit hex SHA-256"))?;
            if name.is_empty() {
                return Err("API_KEYS: every key needs a name".into());
            }
            keys.push(ApiKey {
                name: name.to_owned(),
                scope,
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
    fn find(&self, presented: &str) -> Option<&ApiKey> {
        let digest = Sha256::digest(presented.as_bytes());
        let mut found = None;
        for key in &self.0 {
            if bool::from(key.hash.ct_eq(digest.as_slice())) {
                found = Some(key);
            }
        }
        found
    }

    /// Authenticates a request that needs `needed`.
    pub fn authenticate(&self, headers: &HeaderMap, needed: Scope) -> Result<Caller, ApiError> {
        let presented = presented_key(headers).ok_or(ApiError::Unauthorized)?;
        let key = self.find(presented).ok_or(ApiError::Unauthorized)?;
        let asked = match headers.get("x-api-key-type") {
            None => None,
            Some(v) => Some(
                v.to_str()
                    .ok()
                    .and_then(Scope::parse)
                    .ok_or_else(|| ApiError::bad("X-API-KEY-TYPE", "must be read or write"))?,
            ),
        };
        if asked.is_some_and(|a| a > key.scope) {
            return Err(ApiError::Forbidden);
        }
        if needed > asked.unwrap_or(key.scope) {
            return Err(ApiError::Forbidden);
        }
        Ok(Caller {
            name: key.name.clone(),
        })
    }
}

/// The key from `X-API-KEY`, `Authorization: Bearer <key>` or `Authorization: <key>`.
fn presented_key(headers: &HeaderMap) -> Option<&str> {
    if let Some(k) = headers.get("x-api-key").and_then(|v| v.to_str().ok()) {
        return Some(k.trim()).filter(|k| !k.is_empty());
    }
    let auth = headers
        .get(http::header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .trim();
    let key = match auth.split_once(' ') {
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("bearer") => rest.trim(),
        _ => auth,
    };
    Some(key).filter(|k| !k.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring() -> KeyRing {
        KeyRing::parse(&format!(
            "bubble:write:{},reports:read:{}",
            hash_key("w-secret"),
            hash_key("r-secret")
        ))
        .unwrap()
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn every_documented_header_form_is_accepted() {
        let r = ring();
        for h in [
            headers(&[("authorization", "w-secret")]),
            headers(&[("authorization", "Bearer w-secret")]),
            headers(&[("x-api-key", "w-secret")]),
        ] {
            assert_eq!(r.authenticate(&h, Scope::Write).unwrap().name, "bubble");
        }
    }

    #[test]
    fn a_read_key_cannot_write_and_cannot_ask_to() {
        let r = ring();
        let read = headers(&[("x-api-key", "r-secret")]);
        assert!(matches!(
            r.authenticate(&read, Scope::Write),
            Err(ApiError::Forbidden)
        ));
        let asks = headers(&[("x-api-key", "r-secret"), ("x-api-key-type", "write")]);
        assert!(matches!(
            r.authenticate(&asks, Scope::Read),
            Err(ApiError::Forbidden)
        ));
        let narrowed = headers(&[("x-api-key", "w-secret"), ("x-api-key-type", "read")]);
        assert!(matches!(
            r.authenticate(&narrowed, Scope::Write),
            Err(ApiError::Forbidden)
        ));
    }

    #[test]
    fn no_keys_configured_refuses_everyone() {
        let h = headers(&[("x-api-key", "")]);
        assert!(matches!(
            KeyRing::default().authenticate(&h, Scope::Read),
            Err(ApiError::Unauthorized)
        ));
        let h = headers(&[("x-api-key", "anything")]);
        assert!(matches!(
            KeyRing::default().authenticate(&h, Scope::Read),
            Err(ApiError::Unauthorized)
        ));
    }

    #[test]
    fn malformed_key_specs_are_refused_at_start() {
        assert!(KeyRing::parse("a:write:nothex").is_err());
        assert!(KeyRing::parse("a:admin:00").is_err());
        assert!(KeyRing::parse("justakey").is_err());
    }
}
