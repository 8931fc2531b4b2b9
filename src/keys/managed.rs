//! Managed keys: records kept in storage, each with the hashes of the secrets that open it.

use base64::Engine;
use serde_json::{json, Value as Json};
use sha2::{Digest, Sha256};

use super::{Binding, Scope, Scopes};
use crate::domain::{Relation, Timestamp};

/// What every managed secret starts with, so a leaked one is recognisable.
pub const PREFIX: &str = "uak_";
/// Random bytes in a secret, after the prefix.
const SECRET_BYTES: usize = 32;
/// The longest overlap a rotation may give the old secret: 7 days.
pub const MAX_OVERLAP_HOURS: u32 = 168;
/// The overlap a rotation gives when none is asked for.
pub const DEFAULT_OVERLAP_HOURS: u32 = 24;

/// A new secret, shown once; only its hash is kept.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    /// A fresh secret: the prefix and 32 random bytes, base64url.
    pub fn generate() -> Self {
        let mut bytes = [0u8; SECRET_BYTES];
        getrandom::fill(&mut bytes).expect("the system's random source");
        let text = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
        Secret(format!("{PREFIX}{text}"))
    }

    /// The secret's text, for the one answer that shows it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Its SHA-256, hex: what storage keeps.
    pub fn hash(&self) -> String {
        hash_secret(&self.0)
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(…)")
    }
}

/// The SHA-256 of a presented secret, hex.
pub fn hash_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// One secret's hash and, once rotated out, until when it still opens the key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretHash {
    /// SHA-256, hex.
    pub hash: String,
    /// `None` while current; after a rotation, the end of its overlap.
    pub until: Option<Timestamp>,
}

/// A managed key's record. Its secrets are kept only as hashes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRecord {
    /// `key_` and 32 hex digits.
    pub id: String,
    /// A name for people and logs.
    pub name: String,
    /// What it may do.
    pub scopes: Scopes,
    /// The organization it is bound to, if any.
    pub binding: Option<Binding>,
    /// When it was created.
    pub created_at: Timestamp,
    /// The name of the key that created it.
    pub created_by: String,
    /// When it stops working, if ever.
    pub expires_at: Option<Timestamp>,
    /// When it was last used, at most a minute stale.
    pub last_used_at: Option<Timestamp>,
    /// When it was revoked.
    pub revoked_at: Option<Timestamp>,
    /// Grows by one per change, for conditional writes.
    pub version: u64,
    /// The hashes of the secrets that open it.
    pub secrets: Vec<SecretHash>,
}

/// Why a presented secret does not open its key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Closed {
    /// Revoked.
    Revoked,
    /// Past `expiresAt`, or a rotated-out secret past its overlap.
    Expired,
}

impl KeyRecord {
    /// A new record and the secret that opens it.
    pub fn create(
        name: String,
        scopes: Scopes,
        binding: Option<Binding>,
        expires_at: Option<Timestamp>,
        created_by: &str,
        now: Timestamp,
    ) -> (Self, Secret) {
        let secret = Secret::generate();
        let record = Self {
            id: format!("key_{}", uuid::Uuid::new_v4().simple()),
            name,
            scopes,
            binding,
            created_at: now,
            created_by: created_by.to_owned(),
            expires_at,
            last_used_at: None,
            revoked_at: None,
            version: 1,
            secrets: vec![SecretHash {
                hash: secret.hash(),
                until: None,
            }],
        };
        (record, secret)
    }

    /// Whether the secret hashed `hash` opens this key at `now`.
    pub fn opens(&self, hash: &str, now: Timestamp) -> Result<(), Closed> {
        if self.revoked_at.is_some() {
            return Err(Closed::Revoked);
        }
        if self.expires_at.is_some_and(|at| at <= now) {
            return Err(Closed::Expired);
        }
        match self.secrets.iter().find(|s| s.hash == hash) {
            Some(s) if s.until.is_none_or(|until| now < until) => Ok(()),
            _ => Err(Closed::Expired),
        }
    }

    /// The record after a rotation at `now`: a new current secret; the old ones open the
    /// key for `overlap_hours` more (never longer than they already would).
    pub fn rotated(&self, overlap_hours: u32, now: Timestamp) -> (Self, Secret) {
        let until = Timestamp::from_millis(now.millis() + i64::from(overlap_hours) * 3_600_000);
        let secret = Secret::generate();
        let mut next = self.clone();
        next.version += 1;
        for s in &mut next.secrets {
            s.until = Some(s.until.map_or(until, |u| u.min(until)));
        }
        // Hashes past their overlap open nothing: keep the record small.
        next.secrets.retain(|s| s.until.is_none_or(|u| now < u));
        next.secrets.push(SecretHash {
            hash: secret.hash(),
            until: None,
        });
        (next, secret)
    }

    /// The record revoked at `now` (unchanged if it already is).
    pub fn revoked(&self, now: Timestamp) -> Self {
        let mut next = self.clone();
        if next.revoked_at.is_none() {
            next.revoked_at = Some(now);
            next.version += 1;
        }
        next
    }

    /// The record as the API shows it: never a secret or a hash.
    pub fn to_json(&self) -> Json {
        let at = |t: Option<Timestamp>| t.map_or(Json::Null, |t| json!(t.to_rfc3339()));
        let mut out = json!({
            "id": self.id,
            "name": self.name,
            "scopes": self.scopes.names(),
            "producerId": null,
            "sellerId": null,
            "originId": null,
            "createdAt": self.created_at.to_rfc3339(),
            "createdBy": self.created_by,
            "expiresAt": at(self.expires_at),
            "lastUsedAt": at(self.last_used_at),
            "revokedAt": at(self.revoked_at),
        });
        if let Some(b) = self.binding {
            out[b.field()] = json!(b.value());
        }
        out
    }

    /// The record as storage keeps it (hashes included, `lastUsedAt` apart).
    pub fn to_stored(&self) -> Json {
        let mut out = self.to_json();
        if let Some(o) = out.as_object_mut() {
            o.remove("lastUsedAt");
        }
        out["version"] = json!(self.version);
        out["secrets"] = self
            .secrets
            .iter()
            .map(|s| json!({"hash": s.hash, "until": s.until.map(Timestamp::to_rfc3339)}))
            .collect();
        out
    }

    /// A record as storage kept it, with `lastUsedAt` kept apart.
    pub fn from_stored(doc: &Json, last_used_at: Option<Timestamp>) -> Option<Self> {
        let time = |v: &Json| v.as_str().and_then(Timestamp::parse_rfc3339);
        let scopes = doc["scopes"].as_array()?;
        let scopes = Scopes::of(
            scopes
                .iter()
                .map(|s| s.as_str().and_then(Scope::parse))
                .collect::<Option<Vec<_>>>()?,
        );
        let binding = Relation::ALL.into_iter().find_map(|r| {
            doc[r.field()]
                .as_str()
                .and_then(|v| Binding::parse(r.field(), v))
        });
        let secrets = doc["secrets"]
            .as_array()?
            .iter()
            .map(|s| {
                Some(SecretHash {
                    hash: s["hash"].as_str()?.to_owned(),
                    until: time(&s["until"]),
                })
            })
            .collect::<Option<Vec<_>>>()?;
        Some(Self {
            id: doc["id"].as_str()?.to_owned(),
            name: doc["name"].as_str()?.to_owned(),
            scopes,
            binding,
            created_at: time(&doc["createdAt"])?,
            created_by: doc["createdBy"].as_str()?.to_owned(),
            expires_at: time(&doc["expiresAt"]),
            last_used_at,
            revoked_at: time(&doc["revokedAt"]),
            version: doc["version"].as_u64()?,
            secrets,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record() -> (KeyRecord, Secret) {
        KeyRecord::create(
            "acme-idp".into(),
            Scopes::of([Scope::Write]),
            None,
            None,
            "bootstrap",
            Timestamp::from_millis(1_000_000),
        )
    }

    #[test]
    fn a_secret_is_prefixed_and_carries_32_random_bytes() {
        let (a, b) = (Secret::generate(), Secret::generate());
        assert!(a.expose().starts_with("uak_"));
        assert_eq!(a.expose().len(), 4 + 43);
        assert_ne!(a.expose(), b.expose());
        assert_eq!(format!("{a:?}"), "Secret(…)");
    }

    #[test]
    fn a_rotated_out_secret_opens_the_key_for_its_overlap_only() {
        let (key, old) = record();
        let now = Timestamp::from_millis(2_000_000);
        let (next, new) = key.rotated(1, now);
        assert_eq!(next.opens(&new.hash(), now), Ok(()));
        assert_eq!(next.opens(&old.hash(), now), Ok(()));
        let later = Timestamp::from_millis(now.millis() + 3_600_000);
        assert_eq!(next.opens(&old.hash(), later), Err(Closed::Expired));
        assert_eq!(next.opens(&new.hash(), later), Ok(()));
        let (no_overlap, _) = next.rotated(0, later);
        assert_eq!(no_overlap.opens(&new.hash(), later), Err(Closed::Expired));
    }

    #[test]
    fn a_revoked_key_opens_with_no_secret_and_stored_records_read_back() {
        let (key, secret) = record();
        let revoked = key.revoked(Timestamp::from_millis(3_000_000));
        assert_eq!(
            revoked.opens(&secret.hash(), Timestamp::from_millis(3_000_001)),
            Err(Closed::Revoked)
        );
        let doc = revoked.to_stored();
        assert_eq!(KeyRecord::from_stored(&doc, None), Some(revoked.clone()));
        let shown = revoked.to_json().to_string();
        assert!(!shown.contains(&secret.hash()) && !shown.contains("secret"));
    }
}
