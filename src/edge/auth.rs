//! Authentication at the edge: the key a request presents, who it is ([`Keys`]), and what it
//! may do here (its scopes, narrowed by `X-API-KEY-TYPE`).

use http::HeaderMap;

use super::error::ApiError;
pub use crate::keys::{hash_key, ApiKey, Caller, KeyRing, Keys, Refusal, Scope, Scopes};

/// The scopes `caller` may use on this request: its own, narrowed to the scope
/// `X-API-KEY-TYPE` names; asking for one it lacks is 403.
pub fn usable_scopes(caller: &Caller, headers: &HeaderMap) -> Result<Scopes, ApiError> {
    let Some(v) = headers.get("x-api-key-type") else {
        return Ok(caller.scopes);
    };
    let asked = v
        .to_str()
        .ok()
        .and_then(Scope::parse)
        .filter(|s| matches!(s, Scope::Read | Scope::Write))
        .ok_or_else(|| ApiError::bad("X-API-KEY-TYPE", "must be read or write"))?;
    if !caller.scopes.holds(asked) {
        return Err(ApiError::Forbidden);
    }
    Ok(caller.scopes.narrowed_to(asked))
}

/// The key from `X-API-KEY`, `Authorization: Bearer <key>` or `Authorization: <key>`.
pub fn presented_key(headers: &HeaderMap) -> Option<&str> {
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
    use std::sync::Arc;

    use super::*;
    use crate::domain::Timestamp;
    use crate::keys::MemoryKeys;

    fn keys() -> Keys {
        let ring = KeyRing::parse(&format!(
            "bubble:write:{},reports:read:{}",
            hash_key("w-secret"),
            hash_key("r-secret")
        ))
        .unwrap();
        Keys::new(
            ring,
            Arc::new(MemoryKeys::default()),
            Arc::new(Timestamp::now),
        )
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn every_documented_header_form_is_read() {
        for h in [
            headers(&[("authorization", "w-secret")]),
            headers(&[("authorization", "Bearer w-secret")]),
            headers(&[("x-api-key", "w-secret")]),
        ] {
            assert_eq!(presented_key(&h), Some("w-secret"));
        }
        assert_eq!(presented_key(&headers(&[("x-api-key", " ")])), None);
    }

    #[tokio::test]
    async fn a_bootstrap_write_key_holds_every_scope_and_a_read_key_only_read() {
        let k = keys();
        let w = k.authenticate("w-secret").await.unwrap();
        assert_eq!(w.name, "bubble");
        assert_eq!(w.scopes, Scopes::ALL);
        let r = k.authenticate("r-secret").await.unwrap();
        assert_eq!(r.scopes, Scopes::READ);
        assert_eq!(k.authenticate("nope").await.unwrap_err(), Refusal::Unknown);
        assert_eq!(
            k.authenticate("uak_nope").await.unwrap_err(),
            Refusal::Unknown
        );
    }

    #[tokio::test]
    async fn the_type_header_narrows_and_never_widens() {
        let k = keys();
        let read = k.authenticate("r-secret").await.unwrap();
        let asks = headers(&[("x-api-key-type", "write")]);
        assert!(matches!(
            usable_scopes(&read, &asks),
            Err(ApiError::Forbidden)
        ));
        let write = k.authenticate("w-secret").await.unwrap();
        let narrowed = usable_scopes(&write, &headers(&[("x-api-key-type", "read")])).unwrap();
        assert!(!narrowed.holds(Scope::Write) && narrowed.holds(Scope::Read));
        assert!(usable_scopes(&write, &headers(&[("x-api-key-type", "keys")])).is_err());
    }

    #[test]
    fn malformed_key_specs_are_refused_at_start() {
        assert!(KeyRing::parse("a:write:nothex").is_err());
        assert!(KeyRing::parse("a:admin:00").is_err());
        assert!(KeyRing::parse("a:erase:00").is_err());
        assert!(KeyRing::parse("justakey").is_err());
    }
}
