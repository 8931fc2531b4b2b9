//! Scopes: no key gives itself or another key more than it holds.

use crate::common;

use std::sync::Arc;

use common::Client;
use serde_json::json;
use users_api::store::UserStore;

use super::{make_key, ORG_A, ORG_B};

async fn no_key_gives_more_than_it_holds(store: Arc<dyn UserStore>) {
    let admin = Client::new(store);
    let (reader, _) = make_key(&admin, json!({"name": "reader", "scopes": ["read"]})).await;
    let reader = admin.with_key(&reader);
    assert_eq!(reader.call("GET", "/users", None).await.status, 200);
    let write = reader.call("POST", "/users/r1", Some(json!({}))).await;
    assert_eq!(
        (write.status.as_u16(), write.json()["error"].clone()),
        (403, json!("ALGOREP_032"))
    );
    assert_eq!(reader.call("GET", "/keys", None).await.status, 403);
    let (writer, _) = make_key(&admin, json!({"name": "writer", "scopes": ["write"]})).await;
    let writer = admin.with_key(&writer);
    writer.call("POST", "/users/w1", Some(json!({}))).await;
    assert_eq!(
        writer.call("POST", "/users/w1/erase", None).await.status,
        403,
        "write is not erase"
    );
    assert_eq!(
        writer.call("GET", "/users/w1", None).await.status,
        200,
        "write includes read"
    );
    // An organization's admin key manages its organization's keys, and no more.
    let (org_admin, _) = make_key(
        &admin,
        json!({"name": "a-admin", "scopes": ["keys", "read"], "producerId": ORG_A}),
    )
    .await;
    let org_admin = admin.with_key(&org_admin);
    for (body, field) in [
        (json!({"name": "x", "scopes": ["write"]}), "scopes"),
        (
            json!({"name": "x", "scopes": ["read"], "producerId": ORG_B}),
            "producerId",
        ),
        (
            json!({"name": "x", "scopes": ["read"], "sellerId": ORG_A}),
            "sellerId",
        ),
    ] {
        let refused = org_admin.call("POST", "/keys", Some(body)).await;
        assert_eq!(refused.status, 403, "{}", refused.text);
        assert_eq!(refused.json()["details"][0]["field"], field);
    }
    let (_, own) = make_key(&org_admin, json!({"name": "a-reader", "scopes": ["read"]})).await;
    let shown = org_admin
        .call("GET", &format!("/keys/{own}"), None)
        .await
        .json();
    assert_eq!(
        shown["producerId"], ORG_A,
        "a bound key's keys inherit its binding"
    );
    assert!(shown.get("secret").is_none() && !shown.to_string().contains("uak_"));
    let listed = org_admin.call("GET", "/keys", None).await.json();
    assert!(
        listed["data"]
            .as_array()
            .unwrap()
            .iter()
            .all(|k| k["producerId"] == ORG_A),
        "{listed}"
    );
    assert_eq!(
        admin.call("GET", "/keys", None).await.json()["data"]
            .as_array()
            .unwrap()
            .len(),
        4
    );
    let (_, other) = make_key(
        &admin,
        json!({"name": "b", "scopes": ["read"], "producerId": ORG_B}),
    )
    .await;
    for (method, path) in [
        ("GET", format!("/keys/{other}")),
        ("DELETE", format!("/keys/{other}")),
        ("POST", format!("/keys/{other}/rotate")),
    ] {
        assert_eq!(
            org_admin.call(method, &path, None).await.status,
            404,
            "{method} {path}"
        );
    }
    let (_, writer_id) = make_key(
        &admin,
        json!({"name": "w2", "scopes": ["write"], "producerId": ORG_A}),
    )
    .await;
    let rotate = org_admin
        .call("POST", &format!("/keys/{writer_id}/rotate"), None)
        .await;
    assert_eq!(
        rotate.status, 403,
        "rotating a key with more scopes would hand them out: {}",
        rotate.text
    );
}
on_both_stores!(no_key_gives_more_than_it_holds);
