//! A test identity provider on loopback: key pairs made for the run (ES256 and RS256), a
//! discovery document and a JWKS endpoint that can be taken down, counting its fetches.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{KeyPair as RsaKeyPair, KeySize};
use aws_lc_rs::signature::{EcdsaKeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
use base64::Engine;
use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// The audience the tests' app is.
pub const AUDIENCE: &str = "users-app";

/// A signing key of the issuer.
pub struct Signer {
    pub kid: &'static str,
    pub alg: Algorithm,
    pub key: EncodingKey,
    pub jwk: Jwk,
}

fn signer(kid: &'static str, alg: Algorithm, key: EncodingKey) -> Signer {
    let mut jwk = Jwk::from_encoding_key(&key, alg).expect("a public key");
    jwk.common.key_id = Some(kid.to_owned());
    Signer { kid, alg, key, jwk }
}

fn es256(kid: &'static str) -> Signer {
    let pkcs8 =
        EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &SystemRandom::new())
            .expect("a P-256 key");
    signer(
        kid,
        Algorithm::ES256,
        EncodingKey::from_ec_der(pkcs8.as_ref()),
    )
}

fn rs256(kid: &'static str) -> Signer {
    let pair = RsaKeyPair::generate(KeySize::Rsa2048).expect("an RSA key");
    let der = pair.as_der().expect("PKCS#8");
    let b64 = base64::engine::general_purpose::STANDARD.encode(der.as_ref());
    let pem = format!("-----BEGIN PRIVATE KEY-----\n{b64}\n-----END PRIVATE KEY-----\n");
    signer(
        kid,
        Algorithm::RS256,
        EncodingKey::from_rsa_pem(pem.as_bytes()).expect("PEM"),
    )
}

/// The running issuer.
pub struct Issuer {
    /// Its `iss`, and where its discovery document is.
    pub url: String,
    pub es: Signer,
    pub rs: Signer,
    /// A key it signs with but does not publish until [`Issuer::publish_late`].
    pub late: Signer,
    published: Arc<Mutex<JwkSet>>,
    /// While set, every request to it is dropped unanswered.
    pub down: Arc<AtomicBool>,
    /// How many times its key set was fetched.
    pub fetches: Arc<AtomicUsize>,
}

impl Issuer {
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let (es, rs, late) = (es256("es-1"), rs256("rs-1"), es256("es-late"));
        let published = Arc::new(Mutex::new(JwkSet {
            keys: vec![es.jwk.clone(), rs.jwk.clone()],
        }));
        let down = Arc::new(AtomicBool::new(false));
        let fetches = Arc::new(AtomicUsize::new(0));
        let (set, off, count, base) = (
            published.clone(),
            down.clone(),
            fetches.clone(),
            url.clone(),
        );
        tokio::spawn(async move {
            loop {
                let Ok((mut conn, _)) = listener.accept().await else {
                    return;
                };
                let (set, off, count, base) =
                    (set.clone(), off.clone(), count.clone(), base.clone());
                tokio::spawn(async move {
                    let mut buf = vec![0u8; 4096];
                    let n = conn.read(&mut buf).await.unwrap_or(0);
                    if off.load(Ordering::SeqCst) {
                        return;
                    }
                    let request = String::from_utf8_lossy(&buf[..n]);
                    let path = request.split(' ').nth(1).unwrap_or("");
                    let body = match path {
                        "/.well-known/openid-configuration" => {
                            json!({"issuer": base, "jwks_uri": format!("{base}/jwks")})
                        }
                        "/jwks" => {
                            count.fetch_add(1, Ordering::SeqCst);
                            serde_json::to_value(&*set.lock().unwrap()).unwrap()
                        }
                        _ => json!({}),
                    }
                    .to_string();
                    let answer = format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = conn.write_all(answer.as_bytes()).await;
                });
            }
        });
        Self {
            url,
            es,
            rs,
            late,
            published,
            down,
            fetches,
        }
    }

    /// Publishes the late key beside the others.
    pub fn publish_late(&self) {
        self.published
            .lock()
            .unwrap()
            .keys
            .push(self.late.jwk.clone());
    }

    /// Valid claims for `sub`, for five minutes.
    pub fn claims(&self, sub: &str) -> Value {
        let now = chrono::Utc::now().timestamp();
        json!({"iss": self.url, "aud": AUDIENCE, "sub": sub, "iat": now, "exp": now + 300})
    }

    /// `claims` signed by `signer`.
    pub fn sign(&self, signer: &Signer, claims: &Value) -> String {
        let mut header = Header::new(signer.alg);
        header.kid = Some(signer.kid.to_owned());
        encode(&header, claims, &signer.key).unwrap()
    }

    /// A valid ES256 token for `sub`.
    pub fn token(&self, sub: &str) -> String {
        self.sign(&self.es, &self.claims(sub))
    }
}
