//! Revocation and rotation, timed by an injected clock, seen by two function instances on
//! one store: the instance that changed the key at once, the other within 10 s.

use super::*;
use std::sync::atomic::{AtomicI64, Ordering};
use users_api::domain::Timestamp;
use users_api::edge::auth::Keys;
use users_api::edge::AppState;

fn instance(store: &Arc<dyn UserStore>, ahead: &Arc<AtomicI64>) -> Client {
    let mut state = AppState::new(store.clone(), &common::config());
    let ahead = ahead.clone();
    let clock = Arc::new(move || {
        Timestamp::from_millis(Timestamp::now().millis() + ahead.load(Ordering::SeqCst))
    });
    state.keys = Arc::new(Keys::new(common::config().keys, store.keys(), clock));
    Client::on(users_api::app(state))
}

async fn revoked_and_rotated_secrets_stop_working_within_ten_seconds(store: Arc<dyn UserStore>) {
    let ahead = Arc::new(AtomicI64::new(0));
    let (one, two) = (instance(&store, &ahead), instance(&store, &ahead));
    let (secret, id) = make_key(&one, json!({"name": "leaky", "scopes": ["read"]})).await;
    let (on_one, on_two) = (one.with_key(&secret), two.with_key(&secret));
    assert_eq!(
        on_two.call("GET", "/users", None).await.status,
        200,
        "cached on two"
    );
    let used = one.call("GET", &format!("/keys/{id}"), None).await.json();
    let first_use = used["lastUsedAt"].as_str().expect("used").to_owned();
    assert_eq!(
        one.call("DELETE", &format!("/keys/{id}"), None)
            .await
            .status,
        200
    );
    assert_eq!(
        on_one.call("GET", "/users", None).await.status,
        401,
        "at once where revoked"
    );
    ahead.fetch_add(5_000, Ordering::SeqCst);
    assert_eq!(
        on_two.call("GET", "/users", None).await.status,
        200,
        "two's cache still holds"
    );
    ahead.fetch_add(5_001, Ordering::SeqCst);
    let refused = on_two.call("GET", "/users", None).await;
    assert_eq!(refused.status, 401, "refused everywhere within 10 s");
    assert_eq!(refused.json()["error"], "ALGOREP_031");

    let (old, id) = make_key(&one, json!({"name": "rolled", "scopes": ["read"]})).await;
    let rotated = one
        .call(
            "POST",
            &format!("/keys/{id}/rotate"),
            Some(json!({"overlapHours": 1})),
        )
        .await;
    assert_eq!(rotated.status, 200, "{}", rotated.text);
    let new = rotated.json()["secret"].as_str().unwrap().to_owned();
    assert_ne!(new, old);
    for secret in [&old, &new] {
        assert_eq!(
            two.with_key(secret)
                .call("GET", "/users", None)
                .await
                .status,
            200
        );
    }
    ahead.fetch_add(3_600_000, Ordering::SeqCst);
    assert_eq!(
        two.with_key(&old).call("GET", "/users", None).await.status,
        401,
        "overlap over"
    );
    assert_eq!(
        two.with_key(&new).call("GET", "/users", None).await.status,
        200
    );
    // lastUsedAt: written on first use, then at most once a minute.
    let touched = |c: &Client, id: String| {
        let c = Client::on(c.app.clone());
        async move { c.call("GET", &format!("/keys/{id}"), None).await.json()["lastUsedAt"].clone() }
    };
    let before = touched(&one, id.clone()).await;
    ahead.fetch_add(30_000, Ordering::SeqCst);
    two.with_key(&new).call("GET", "/users", None).await;
    assert_eq!(
        touched(&one, id.clone()).await,
        before,
        "not rewritten within a minute"
    );
    ahead.fetch_add(31_000, Ordering::SeqCst);
    two.with_key(&new).call("GET", "/users", None).await;
    assert_ne!(
        touched(&one, id.clone()).await,
        before,
        "rewritten after a minute"
    );
    assert_ne!(json!(first_use), before);
    // An expired key is refused like an unknown one.
    let soon =
        Timestamp::from_millis(Timestamp::now().millis() + ahead.load(Ordering::SeqCst) + 60_000);
    let (brief, _) = make_key(
        &one,
        json!({"name": "brief", "scopes": ["read"], "expiresAt": soon.to_rfc3339()}),
    )
    .await;
    assert_eq!(
        one.with_key(&brief)
            .call("GET", "/users", None)
            .await
            .status,
        200
    );
    ahead.fetch_add(71_000, Ordering::SeqCst);
    assert_eq!(
        one.with_key(&brief)
            .call("GET", "/users", None)
            .await
            .status,
        401
    );
}

on_both_stores!(revoked_and_rotated_secrets_stop_working_within_ten_seconds);
