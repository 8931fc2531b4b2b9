//! `/me` as a signed-in person and as an attacker would try it, on both stores, against a
//! test issuer on loopback: valid tokens read and edit their own record and nothing else;
//! every hostile token is a 401 with `WWW-Authenticate: Bearer error="invalid_token"` and
//! changes nothing.

mod issuer;

use crate::common;

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use base64::Engine;
use common::{Answer, Client};
use issuer::{Issuer, AUDIENCE};
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use serde_json::{json, Value};
use users_api::domain::Timestamp;
use users_api::oidc::{Oidc, OidcConfig};
use users_api::store::UserStore;
use users_api::{app, AppState};

/// The API with `issuer` configured (matching `OIDC_MATCH`), its clock `offset` ms ahead.
fn api(
    store: Arc<dyn UserStore>,
    issuer: &Issuer,
    vars: &[(&str, &str)],
    offset: Arc<AtomicI64>,
) -> Client {
    let mut all = vec![
        ("OIDC_ISSUER", issuer.url.as_str()),
        ("OIDC_AUDIENCE", AUDIENCE),
    ];
    all.extend_from_slice(vars);
    let config = OidcConfig::read(&|k: &str| {
        all.iter()
            .find(|(n, _)| *n == k)
            .map(|(_, v)| v.to_string())
    })
    .unwrap()
    .unwrap();
    let clock = Arc::new(move || {
        Timestamp::from_millis(Timestamp::now().millis() + offset.load(Ordering::SeqCst))
    });
    let mut state = AppState::new(store, &common::config());
    state.oidc = Some(Arc::new(Oidc::new(config, clock)));
    Client::on(app(state))
}

async fn me(c: &Client, token: &str) -> Answer {
    c.with_key(&format!("Bearer {token}"))
        .call("GET", "/me", None)
        .await
}

async fn patch_me(c: &Client, token: &str, body: Value) -> Answer {
    c.with_key(&format!("Bearer {token}"))
        .call("PATCH", "/me", Some(body))
        .await
}

fn refused(a: &Answer) {
    assert_eq!(a.status, 401, "{}", a.text);
    let challenge = a.headers["www-authenticate"].to_str().unwrap();
    assert!(challenge.contains("error=\"invalid_token\""), "{challenge}");
}

fn b64(v: &Value) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
}

async fn seed(admin: &Client) {
    for (b, first) in [("ada", "Ada"), ("bob", "Bob")] {
        let body = json!({"firstName": first, "email": format!("{b}@x.io"), "role": "member"});
        let made = admin.call("POST", &format!("/users/{b}"), Some(body)).await;
        assert_eq!(made.status, 200, "{}", made.text);
    }
}

async fn a_person_reads_and_edits_only_their_own_record(store: Arc<dyn UserStore>) {
    let issuer = Issuer::start().await;
    let c = api(store.clone(), &issuer, &[], Arc::default());
    seed(&c).await;
    let ada = issuer.token("ada");
    let read = me(&c, &ada).await;
    assert_eq!(read.status, 200, "{}", read.text);
    assert_eq!(read.json()["bubbleId"], "ada");
    assert_eq!(read.headers["etag"], "\"1\"");
    let rs = issuer.sign(&issuer.rs, &issuer.claims("ada"));
    assert_eq!(me(&c, &rs).await.status, 200, "RS256 as well");

    let edited = patch_me(&c, &ada, json!({"lastName": "Lovelace", "firstName": null})).await;
    assert_eq!(edited.status, 200, "{}", edited.text);
    assert_eq!(edited.json()["lastName"], "Lovelace");
    assert_eq!(edited.json()["firstName"], Value::Null);
    let sneaky_values = [
        ("role", json!("admin")),
        ("email", json!("bob@x.io")),
        ("producerId", json!("0a0a0a0a-0000-4000-8000-00000000000a")),
        ("enabled", json!(true)),
        ("bubbleId", json!("bob")),
    ];
    for (field, value) in sneaky_values {
        let sneaky = patch_me(&c, &ada, json!({field: value, "lastName": "L"})).await;
        assert_eq!(sneaky.status, 403, "{field}: {}", sneaky.text);
        assert_eq!(sneaky.json()["details"][0]["field"], field);
    }
    let stale = c
        .with_key(&format!("Bearer {ada}"))
        .call_with(
            "PATCH",
            "/me",
            &[("if-match", "\"1\"")],
            Some(json!({"lastName": "Z"})),
        )
        .await;
    assert_eq!(stale.status, 412, "{}", stale.text);
    let now = c.call("GET", "/users/ada", None).await.json();
    assert_eq!(
        (now["lastName"].clone(), now["version"].clone()),
        (json!("Lovelace"), json!(2))
    );
    assert_eq!(
        now["role"], "member",
        "nothing of the refused writes is stored"
    );
    let bob = c.call("GET", "/users/bob", None).await.json();
    assert_eq!(bob["version"], 1, "bob untouched");

    // A token is only for /me, and /me only for a token.
    let token_elsewhere = c
        .with_key(&format!("Bearer {ada}"))
        .call("GET", "/users/bob", None)
        .await;
    assert_eq!(token_elsewhere.status, 401);
    let scim = c
        .with_key(&ada)
        .scim_face()
        .call("GET", "/Users", None)
        .await;
    assert_eq!(scim.status, 401);
    refused(&me(&c, common::WRITE_KEY).await);
    let key_header = c
        .with_key(&format!("Bearer {ada}"))
        .call_with("GET", "/me", &[("x-api-key", common::WRITE_KEY)], None)
        .await;
    refused(&key_header);
    refused(&c.with_key("").call("GET", "/me", None).await);

    // Unknown, disabled, deleted.
    assert_eq!(me(&c, &issuer.token("nobody")).await.status, 404);
    let off = c
        .call("PATCH", "/users/bob", Some(json!({"enabled": false})))
        .await;
    assert_eq!(off.status, 200);
    let bob_token = issuer.token("bob");
    assert_eq!(me(&c, &bob_token).await.status, 403);
    assert_eq!(
        patch_me(&c, &bob_token, json!({"lastName": "B"}))
            .await
            .status,
        403
    );
    assert_eq!(c.call("DELETE", "/users/ada", None).await.status, 200);
    assert_eq!(me(&c, &ada).await.status, 403);
}

async fn hostile_tokens_are_refused_and_change_nothing(store: Arc<dyn UserStore>) {
    let issuer = Issuer::start().await;
    let c = api(store.clone(), &issuer, &[], Arc::default());
    seed(&c).await;
    let now = chrono::Utc::now().timestamp();
    let with = |extra: Value| {
        let mut claims = issuer.claims("ada");
        for (k, v) in extra.as_object().unwrap() {
            claims[k] = v.clone();
        }
        issuer.sign(&issuer.es, &claims)
    };
    let valid = issuer.token("ada");
    let (head, rest) = valid.split_once('.').unwrap();
    let signature = rest.split_once('.').unwrap().1;
    let mut hostile = vec![
        ("expired", with(json!({"exp": now - 120}))),
        ("not yet valid", with(json!({"nbf": now + 300}))),
        ("wrong iss", with(json!({"iss": "https://evil.example"}))),
        ("wrong aud", with(json!({"aud": "another-app"}))),
        ("no exp", {
            let mut claims = issuer.claims("ada");
            claims.as_object_mut().unwrap().remove("exp");
            issuer.sign(&issuer.es, &claims)
        }),
        (
            "alg none",
            format!(
                "{}.{}.",
                b64(&json!({"alg": "none", "kid": "es-1"})),
                b64(&issuer.claims("ada"))
            ),
        ),
        (
            "tampered payload",
            format!("{head}.{}.{signature}", b64(&issuer.claims("bob"))),
        ),
        (
            "unknown kid",
            issuer.sign(&issuer.late, &issuer.claims("ada")),
        ),
        ("oversized", with(json!({"pad": "x".repeat(9000)}))),
        ("garbage", "not.a.jwt".to_owned()),
    ];
    // HS256 keyed with the issuer's public RSA key, the classic confusion.
    let public = serde_json::to_vec(&issuer.rs.jwk).unwrap();
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some("rs-1".into());
    let claims = issuer.claims("ada");
    hostile.push((
        "HS256 with the public key",
        encode(&header, &claims, &EncodingKey::from_secret(&public)).unwrap(),
    ));
    // ES256 claimed on the RSA key.
    let mut header = Header::new(Algorithm::ES256);
    header.kid = Some("rs-1".into());
    hostile.push((
        "ES256 on an RSA kid",
        encode(&header, &claims, &issuer.es.key).unwrap(),
    ));
    for (what, token) in &hostile {
        let read = me(&c, token).await;
        assert_eq!(read.status, 401, "{what}: {}", read.text);
        refused(&read);
        let write = patch_me(&c, token, json!({"lastName": "pwned"})).await;
        assert_eq!(write.status, 401, "{what}: {}", write.text);
    }
    for b in ["ada", "bob"] {
        let user = c.call("GET", &format!("/users/{b}"), None).await.json();
        assert_eq!(
            (user["version"].clone(), user["lastName"].clone()),
            (json!(1), Value::Null),
            "{b}"
        );
    }
}

async fn unknown_keys_refresh_at_most_once_a_minute_and_an_outage_keeps_the_known(
    store: Arc<dyn UserStore>,
) {
    let issuer = Issuer::start().await;
    let offset = Arc::new(AtomicI64::new(0));
    let c = api(store.clone(), &issuer, &[], offset.clone());
    seed(&c).await;
    assert_eq!(
        issuer.fetches.load(Ordering::SeqCst),
        0,
        "nothing fetched before a token"
    );
    assert_eq!(me(&c, &issuer.token("ada")).await.status, 200);
    assert_eq!(issuer.fetches.load(Ordering::SeqCst), 1);
    let late = issuer.sign(&issuer.late, &issuer.claims("ada"));
    for _ in 0..5 {
        refused(&me(&c, &late).await);
    }
    assert_eq!(
        issuer.fetches.load(Ordering::SeqCst),
        1,
        "refreshed at most once a minute"
    );
    issuer.publish_late();
    refused(&me(&c, &late).await);
    offset.store(61_000, Ordering::SeqCst);
    assert_eq!(
        me(&c, &late).await.status,
        200,
        "a minute on, the new key is fetched"
    );
    assert_eq!(issuer.fetches.load(Ordering::SeqCst), 2);

    // The issuer goes down: the keys held still work, an unknown one is 401, never 500.
    issuer.down.store(true, Ordering::SeqCst);
    offset.store(200_000, Ordering::SeqCst);
    let mut header = Header::new(Algorithm::ES256);
    header.kid = Some("es-unknown".into());
    let unknown = encode(&header, &issuer.claims("ada"), &issuer.es.key).unwrap();
    refused(&me(&c, &unknown).await);
    assert_eq!(me(&c, &issuer.token("ada")).await.status, 200);
}

async fn an_email_match_needs_a_verified_email(store: Arc<dyn UserStore>) {
    let issuer = Issuer::start().await;
    let c = api(
        store.clone(),
        &issuer,
        &[("OIDC_MATCH", "email")],
        Arc::default(),
    );
    seed(&c).await;
    let token = |verified: Value| {
        let mut claims = issuer.claims("idp-123");
        claims["email"] = json!("ADA@X.IO");
        claims["email_verified"] = verified;
        issuer.sign(&issuer.es, &claims)
    };
    let found = me(&c, &token(json!(true))).await;
    assert_eq!(found.status, 200, "{}", found.text);
    assert_eq!(
        found.json()["bubbleId"],
        "ada",
        "the canonical e-mail key finds it"
    );
    assert_eq!(me(&c, &token(json!(false))).await.status, 404);
    assert_eq!(me(&c, &token(Value::Null)).await.status, 404);
}

async fn a_write_scope_is_required_when_configured(store: Arc<dyn UserStore>) {
    let issuer = Issuer::start().await;
    let c = api(
        store.clone(),
        &issuer,
        &[("OIDC_SCOPE", "profile:write")],
        Arc::default(),
    );
    seed(&c).await;
    let plain = issuer.token("ada");
    assert_eq!(me(&c, &plain).await.status, 200, "reading needs no scope");
    let denied = patch_me(&c, &plain, json!({"lastName": "L"})).await;
    assert_eq!(denied.status, 403, "{}", denied.text);
    let challenge = denied.headers["www-authenticate"].to_str().unwrap();
    assert!(challenge.contains("insufficient_scope"), "{challenge}");
    let mut claims = issuer.claims("ada");
    claims["scope"] = json!("openid profile:write");
    let scoped = issuer.sign(&issuer.es, &claims);
    assert_eq!(
        patch_me(&c, &scoped, json!({"lastName": "L"})).await.status,
        200
    );
}

on_both_stores!(
    a_person_reads_and_edits_only_their_own_record,
    hostile_tokens_are_refused_and_change_nothing,
    unknown_keys_refresh_at_most_once_a_minute_and_an_outage_keeps_the_known,
    an_email_match_needs_a_verified_email,
    a_write_scope_is_required_when_configured,
);
