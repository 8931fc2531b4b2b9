//! The issuer's signing keys: fetched on first use (never on the cold-start path), kept per
//! instance, and fetched again when a token names a key not held, at most once a minute,
//! so a flood of made-up key ids costs the issuer nothing. When the issuer cannot be
//! reached, the keys held go on working.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use http_body_util::{BodyExt, Empty, Limited};
use hyper::body::Bytes;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, JwkSet, KeyAlgorithm, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey};

use crate::domain::Timestamp;

/// The shortest time between two fetches of the keys.
pub const REFRESH_MS: i64 = 60_000;
/// How long one fetch may take.
const FETCH_TIMEOUT: Duration = Duration::from_secs(2);
/// The largest key set or discovery document read.
const MAX_DOCUMENT: usize = 256 * 1024;

/// A clock, injected so tests can move it.
pub type Clock = Arc<dyn Fn() -> Timestamp + Send + Sync>;

/// A key the issuer signs with: its algorithm (RS256 or ES256) and its public key.
#[derive(Clone)]
pub struct SigningKey {
    /// The algorithm a token signed with it must name.
    pub algorithm: Algorithm,
    /// Its public key.
    pub key: DecodingKey,
}

#[derive(Default)]
struct Held {
    keys: HashMap<String, SigningKey>,
    /// When a fetch was last tried.
    tried: Option<Timestamp>,
}

/// The issuer's keys as this instance holds them.
pub struct Jwks {
    /// `OIDC_JWKS_URL`, or none to read the discovery document at `discovery`.
    jwks_url: Option<String>,
    discovery: String,
    held: Mutex<Held>,
    /// One fetch at a time.
    fetching: tokio::sync::Mutex<()>,
    clock: Clock,
    client: OnceLock<Client<HttpsConnector<HttpConnector>, Empty<Bytes>>>,
}

impl Jwks {
    /// Keys read from `jwks_url`, or from the `jwks_uri` of the `discovery` document.
    pub fn new(jwks_url: Option<String>, discovery: String, clock: Clock) -> Self {
        Self {
            jwks_url,
            discovery,
            held: Mutex::default(),
            fetching: tokio::sync::Mutex::new(()),
            clock,
            client: OnceLock::new(),
        }
    }

    /// The key `kid` names, fetching the key set again if it is not held and the last
    /// fetch was over a minute ago.
    pub async fn key(&self, kid: &str) -> Option<SigningKey> {
        if let Some(key) = self.held(kid) {
            return Some(key);
        }
        let _one = self.fetching.lock().await;
        if let Some(key) = self.held(kid) {
            return Some(key);
        }
        let now = (self.clock)();
        {
            let mut held = self.lock();
            if held
                .tried
                .is_some_and(|t| now.millis() - t.millis() < REFRESH_MS)
            {
                return None;
            }
            held.tried = Some(now);
        }
        match self.fetch().await {
            Ok(keys) => self.lock().keys = keys,
            Err(why) => tracing::warn!(%why, "the identity provider's keys could not be fetched"),
        }
        self.held(kid)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Held> {
        self.held.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn held(&self, kid: &str) -> Option<SigningKey> {
        self.lock().keys.get(kid).cloned()
    }

    async fn fetch(&self) -> Result<HashMap<String, SigningKey>, String> {
        let url = match &self.jwks_url {
            Some(url) => url.clone(),
            None => {
                let doc: serde_json::Value = self.get_json(&self.discovery).await?;
                let url = doc["jwks_uri"].as_str().ok_or("no jwks_uri in discovery")?;
                url.to_owned()
            }
        };
        let set: JwkSet = self.get_json(&url).await?;
        Ok(signing_keys(&set))
    }

    async fn get_json<T: serde::de::DeserializeOwned>(&self, url: &str) -> Result<T, String> {
        let client = self.client()?;
        let uri: http::Uri = url.parse().map_err(|_| "not a URL")?;
        let answer = tokio::time::timeout(FETCH_TIMEOUT, async {
            let response = client.get(uri).await.map_err(|e| e.to_string())?;
            if !response.status().is_success() {
                return Err(format!("status {}", response.status()));
            }
            let body = Limited::new(response.into_body(), MAX_DOCUMENT);
            let bytes = body.collect().await.map_err(|e| e.to_string())?;
            Ok(bytes.to_bytes())
        })
        .await
        .map_err(|_| "timed out".to_owned())??;
        serde_json::from_slice(&answer).map_err(|e| e.to_string())
    }

    fn client(&self) -> Result<&Client<HttpsConnector<HttpConnector>, Empty<Bytes>>, String> {
        if let Some(client) = self.client.get() {
            return Ok(client);
        }
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_native_roots()
            .map_err(|e| e.to_string())?
            .https_or_http()
            .enable_http1()
            .build();
        Ok(self
            .client
            .get_or_init(|| Client::builder(TokioExecutor::new()).build(https)))
    }
}

/// The keys of `set` a token may be signed with: RSA keys for RS256 and P-256 keys for
/// ES256, each under its `kid`; encryption keys and every other kind are left out.
pub fn signing_keys(set: &JwkSet) -> HashMap<String, SigningKey> {
    let mut keys = HashMap::new();
    for jwk in &set.keys {
        let Some(kid) = jwk.common.key_id.clone() else {
            continue;
        };
        if matches!(jwk.common.public_key_use, Some(PublicKeyUse::Encryption)) {
            continue;
        }
        let algorithm = match (&jwk.algorithm, jwk.common.key_algorithm) {
            (AlgorithmParameters::RSA(_), None | Some(KeyAlgorithm::RS256)) => Algorithm::RS256,
            (AlgorithmParameters::EllipticCurve(ec), None | Some(KeyAlgorithm::ES256))
                if ec.curve == EllipticCurve::P256 =>
            {
                Algorithm::ES256
            }
            _ => continue,
        };
        if let Ok(key) = DecodingKey::from_jwk(jwk) {
            keys.insert(kid, SigningKey { algorithm, key });
        }
    }
    keys
}
