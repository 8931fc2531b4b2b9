//! `userName` is an identity: the name a user shows as `userName` (its username, else its
//! e-mail, else its bubbleId) is held in the username namespace, so a `userName` filter finds
//! exactly the user that shows it, and no other user can come to show it too.

use crate::common;

use std::sync::Arc;

use serde_json::{json, Value};
use users_api::store::UserStore;

async fn find(idp: &common::Client, user_name: &str) -> Vec<Value> {
    let q: String =
        form_urlencoded::byte_serialize(format!("userName eq \"{user_name}\"").as_bytes())
            .collect();
    let answer = idp.call("GET", &format!("/Users?filter={q}"), None).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    answer.json()["Resources"].as_array().unwrap().clone()
}

async fn a_derived_user_name_cannot_be_taken_by_another_person(store: Arc<dyn UserStore>) {
    let api = common::Client::new(store.clone());
    let idp = common::Client::scim(store);
    let a1 = api
        .call("POST", "/users/a1", Some(json!({"email": "x@x.io"})))
        .await;
    assert_eq!(a1.status, 200, "{}", a1.text);
    let taken = idp
        .call(
            "POST",
            "/Users",
            Some(json!({"externalId": "b1", "userName": "X@x.io",
            "emails": [{"value": "other@x.io"}]})),
        )
        .await;
    assert_eq!(taken.status, 409, "{}", taken.text);
    assert_eq!(taken.json()["scimType"], "uniqueness");
    assert!(!taken.text.contains("a1") && !taken.text.contains(a1.json()["id"].as_str().unwrap()));
    let found = find(&idp, "x@x.io").await;
    assert_eq!(found.len(), 1);
    assert_eq!(found[0]["externalId"], "a1");
    // Natively too: the e-mail a user shows as its name is no one else's username.
    let native = api
        .call("POST", "/users/a2", Some(json!({"username": "x@X.io"})))
        .await;
    assert_eq!(native.status, 409, "{}", native.text);
}

async fn a_user_with_neither_is_found_by_its_bubble_id_and_keeps_it(store: Arc<dyn UserStore>) {
    let api = common::Client::new(store.clone());
    let idp = common::Client::scim(store);
    let bare = api
        .call("POST", "/users/bare-1", Some(json!({"firstName": "B"})))
        .await;
    assert_eq!(bare.status, 200, "{}", bare.text);
    let found = find(&idp, "bare-1").await;
    assert_eq!(found.len(), 1, "the bubbleId it shows as userName finds it");
    assert_eq!(found[0]["userName"], "bare-1");
    let taken = idp
        .call(
            "POST",
            "/Users",
            Some(json!({"externalId": "other", "userName": "BARE-1"})),
        )
        .await;
    assert_eq!(taken.status, 409, "{}", taken.text);
    // Once it has an e-mail, it shows that, and its bubbleId is free as a name.
    let mailed = api
        .call("POST", "/users/bare-1", Some(json!({"email": "bare@x.io"})))
        .await;
    assert_eq!(mailed.status, 200, "{}", mailed.text);
    assert_eq!(find(&idp, "bare@x.io").await.len(), 1);
    let free = idp
        .call(
            "POST",
            "/Users",
            Some(json!({"externalId": "other", "userName": "bare-1"})),
        )
        .await;
    assert_eq!(free.status, 201, "{}", free.text);
}

async fn a_user_name_sent_in_a_put_is_kept(store: Arc<dyn UserStore>) {
    let api = common::Client::new(store.clone());
    let idp = common::Client::scim(store);
    let id = api
        .call("POST", "/users/a1", Some(json!({"email": "x@x.io"})))
        .await
        .json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let put = idp
        .call(
            "PUT",
            &format!("/Users/{id}"),
            Some(json!({"externalId": "a1", "userName": "x@x.io",
            "emails": [{"value": "new@x.io", "type": "work"}]})),
        )
        .await;
    assert_eq!(put.status, 200, "{}", put.text);
    assert_eq!(put.json()["userName"], "x@x.io", "what was sent is kept");
    assert_eq!(put.json()["emails"][0]["value"], "new@x.io");
    let native = api.call("GET", "/users/a1", None).await.json();
    assert_eq!(
        (native["username"].clone(), native["email"].clone()),
        (json!("x@x.io"), json!("new@x.io"))
    );
    let found = find(&idp, "x@x.io").await;
    assert_eq!(found.len(), 1);
    assert_eq!(found[0]["id"], id.as_str());
}

on_both_stores!(
    a_derived_user_name_cannot_be_taken_by_another_person,
    a_user_with_neither_is_found_by_its_bubble_id_and_keeps_it,
    a_user_name_sent_in_a_put_is_kept,
);
