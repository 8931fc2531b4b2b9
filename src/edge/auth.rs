//! Authentication at the edge: the key a request presents, checked against the configured
//! [`KeyRing`] in constant time, and the scope the route needs.

use http::HeaderMap;

use super::error::ApiError;
pub use crate::keys::{hash_key, ApiKey, KeyRing, Scope};

/// The caller a request was authenticated as.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The key's name.
    pub name: String,
}

/// Authenticates a request against the configured keys.
pub trait Authenticate {
    /// The caller of a request that needs `needed`, or 401/403.
    fn authenticate(&self, headers: &HeaderMap, needed: Scope) -> Result<Caller, ApiError>;
}

impl Authenticate for KeyRing {
    fn authenticate(&self, headers: &HeaderMap, needed: Scope) -> Result<Caller, ApiError> {
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
