//! Access as an attacker would try it, on both stores: a key bound to one organization can
//! neither read nor change another organization's users on any route, native or SCIM, and
//! no key can give itself or another key more than it holds.

mod departures;
mod dynamodb_races;
mod lookups;
mod pages;
mod recount;
mod scopes;
mod timing;

use crate::common;

use std::sync::Arc;

use common::Client;
use serde_json::{json, Value};
use users_api::store::UserStore;

pub const ORG_A: &str = "0a0a0a0a-0000-4000-8000-00000000000a";
pub const ORG_B: &str = "0b0b0b0b-0000-4000-8000-00000000000b";

/// A managed key made by `admin`; answers its secret and id.
pub async fn make_key(admin: &Client, body: Value) -> (String, String) {
    let made = admin.call("POST", "/keys", Some(body)).await;
    assert_eq!(made.status, 201, "{}", made.text);
    let key = made.json();
    (
        key["secret"].as_str().unwrap().to_owned(),
        key["id"].as_str().unwrap().to_owned(),
    )
}

/// Organization A's and B's clients, each on its own bound managed key.
pub async fn two_organizations(admin: &Client) -> (Client, Client) {
    let scopes = json!(["read", "write", "erase"]);
    let (a, _) = make_key(
        admin,
        json!({"name": "org-a", "scopes": scopes, "producerId": ORG_A}),
    )
    .await;
    let (b, _) = make_key(
        admin,
        json!({"name": "org-b", "scopes": scopes, "producerId": ORG_B}),
    )
    .await;
    (admin.with_key(&a), admin.with_key(&b))
}

fn ids(list: &Value) -> Vec<String> {
    let items = list["data"]
        .as_array()
        .or_else(|| list["Resources"].as_array());
    items
        .map(|a| {
            a.iter()
                .map(|u| {
                    u["bubbleId"]
                        .as_str()
                        .or(u["externalId"].as_str())
                        .unwrap()
                        .to_owned()
                })
                .collect()
        })
        .unwrap_or_default()
}
async fn a_bound_key_sees_and_changes_only_its_organization(store: Arc<dyn UserStore>) {
    let admin = Client::new(store);
    let (a, b) = two_organizations(&admin).await;
    // A creates through every creating route; the binding is set by the service.
    let one = a
        .call("POST", "/users/a1", Some(json!({"email": "a1@x.io"})))
        .await;
    assert_eq!(one.status, 200, "{}", one.text);
    assert_eq!(one.json()["producerId"], ORG_A);
    let a1_id = one.json()["id"].as_str().unwrap().to_owned();
    let batch = a
        .call(
            "POST",
            "/users",
            Some(json!([{"bubbleId": "a2", "firstName": "Al"}])),
        )
        .await;
    assert_eq!(
        batch.json()["data"][0]["user"]["producerId"],
        ORG_A,
        "{}",
        batch.text
    );
    let scim = a
        .scim_face()
        .call(
            "POST",
            "/Users",
            Some(json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "externalId": "a3", "userName": "a3@x.io"})),
        )
        .await;
    assert_eq!(scim.status, 201, "{}", scim.text);
    let a3_id = scim.json()["id"].as_str().unwrap().to_owned();
    assert_eq!(
        admin.call("GET", "/users/a3", None).await.json()["producerId"],
        ORG_A
    );
    let mine = b
        .call("POST", "/users/b1", Some(json!({"email": "b1@x.io"})))
        .await;
    assert_eq!(mine.status, 200);
    assert_eq!(b.call("DELETE", "/users/b1", None).await.status, 200);
    assert_eq!(b.call("POST", "/users/b1/restore", None).await.status, 200);
    a.call("DELETE", "/users/a2", None).await;

    // B reaches none of A's users, by any route: 404, never 403.
    for (method, path, body) in [
        ("GET", "/users/a1".to_owned(), None),
        ("GET", format!("/users/{a1_id}"), None),
        ("GET", "/users/a2?includeDeleted=true".to_owned(), None),
        (
            "PUT",
            "/users/a1".to_owned(),
            Some(json!({"firstName": "x"})),
        ),
        (
            "PATCH",
            format!("/users/{a1_id}"),
            Some(json!({"firstName": "x"})),
        ),
        ("DELETE", "/users/a1".to_owned(), None),
        ("POST", "/users/a2/restore".to_owned(), None),
        ("POST", "/users/a1/erase".to_owned(), None),
    ] {
        let answer = b.call(method, &path, body).await;
        assert_eq!(answer.status, 404, "{method} {path}: {}", answer.text);
        assert!(!answer.text.contains("a1@x.io"));
    }
    // An upsert of A's bubbleId, alone or in a batch, is a duplicate that shows nothing.
    let taken = b
        .call("POST", "/users/a1", Some(json!({"firstName": "x"})))
        .await;
    assert_eq!(taken.status, 409, "{}", taken.text);
    assert!(!taken.text.contains(&a1_id) && !taken.text.contains("a1@x.io"));
    for query in ["", "?upsert=true"] {
        let batch = b
            .call(
                "POST",
                &format!("/users{query}"),
                Some(json!([{"bubbleId": "a1"}])),
            )
            .await;
        assert_eq!(
            batch.json()["data"][0]["status"],
            409,
            "{query}: {}",
            batch.text
        );
    }
    // Uniqueness is directory-wide, and says no more than that.
    let dup = b
        .call("PATCH", "/users/b1", Some(json!({"email": "A1@x.io"})))
        .await;
    assert_eq!(dup.status, 409, "{}", dup.text);
    assert!(!dup.text.contains(&a1_id) && !dup.text.contains("a1@"));
    // Lists, finds, the feed and the deleted history hold only B's users.
    for query in [
        "",
        "?email=a1@x.io",
        &format!("?id={a1_id}"),
        &format!("?producerId={ORG_A}"),
        "?updatedFrom=1970-01-01",
        "?pageSize=1&page=2",
    ] {
        let list = b.call("GET", &format!("/users{query}"), None).await;
        assert_eq!(list.status, 200, "{query}: {}", list.text);
        assert!(
            ids(&list.json()).iter().all(|id| id == "b1"),
            "{query}: {}",
            list.text
        );
    }
    assert_eq!(
        b.call("GET", "/users", None).await.json()["pagination"]["totalItems"],
        1
    );
    let deleted = b.call("GET", "/deleted-users", None).await.json();
    assert!(
        deleted["data"]
            .as_array()
            .unwrap()
            .iter()
            .all(|d| d["bubbleId"] == "b1"),
        "{deleted}"
    );
    assert_eq!(
        admin.call("GET", "/deleted-users", None).await.json()["data"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    // SCIM: the same directory.
    let scim_b = b.scim_face();
    assert!(ids(&scim_b.call("GET", "/Users", None).await.json())
        .iter()
        .all(|id| id == "b1"));
    let filtered = scim_b
        .call("GET", "/Users?filter=userName%20eq%20%22a3@x.io%22", None)
        .await;
    assert_eq!(filtered.json()["totalResults"], 0, "{}", filtered.text);
    for method in ["GET", "PUT", "PATCH", "DELETE"] {
        let body = match method {
            "PUT" => Some(
                json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "z@x.io"}),
            ),
            "PATCH" => Some(
                json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                "Operations": [{"op": "replace", "path": "active", "value": false}]}),
            ),
            _ => None,
        };
        let answer = scim_b.call(method, &format!("/Users/{a3_id}"), body).await;
        assert_eq!(answer.status, 404, "SCIM {method}: {}", answer.text);
    }
    // Another organization's erased tombstone is absent too, but for taking its bubbleId.
    a.call("POST", "/users/ae", Some(json!({}))).await;
    assert_eq!(a.call("POST", "/users/ae/erase", None).await.status, 200);
    for path in ["/users/ae/restore", "/users/ae/erase"] {
        let answer = b.call("POST", path, None).await;
        assert_eq!(answer.status, 404, "{path}: {}", answer.text);
    }
    // A cannot move a user out of its organization, nor create into another.
    for value in [json!(ORG_B), Value::Null] {
        let out = a
            .call("PATCH", "/users/a1", Some(json!({"producerId": value})))
            .await;
        assert_eq!(out.status, 403, "{}", out.text);
        assert_eq!(out.json()["details"][0]["field"], "producerId");
        let into = a
            .call("POST", "/users/a9", Some(json!({"producerId": value})))
            .await;
        assert_eq!(into.status, 403, "{}", into.text);
    }
    assert_eq!(admin.call("GET", "/users/a9", None).await.status, 404);
    // Nothing of A's changed; the admin (unbound) sees both organizations.
    let a1 = admin.call("GET", "/users/a1", None).await.json();
    assert_eq!(
        (a1["version"].as_u64(), &a1["producerId"]),
        (Some(1), &json!(ORG_A))
    );
    assert_eq!(
        admin.call("GET", "/users", None).await.json()["pagination"]["totalItems"],
        3
    );
}

async fn cursors_do_not_cross_organizations(store: Arc<dyn UserStore>) {
    let admin = Client::new(store);
    let (a, b) = two_organizations(&admin).await;
    for i in 0..3 {
        a.call("POST", &format!("/users/ac{i}"), Some(json!({})))
            .await;
    }
    for query in ["pageSize=1", "pageSize=1&updatedFrom=1970-01-01"] {
        let page = a.call("GET", &format!("/users?{query}"), None).await.json();
        let next = page["pagination"]["nextPageUrl"]
            .as_str()
            .unwrap()
            .to_owned();
        assert_eq!(a.call("GET", &next, None).await.status, 200);
        let crossed = b.call("GET", &next, None).await;
        assert_eq!(crossed.status, 400, "{}", crossed.text);
        assert_eq!(crossed.json()["details"][0]["field"], "cursor");
        assert_eq!(admin.call("GET", &next, None).await.status, 400);
    }
}
on_both_stores!(
    a_bound_key_sees_and_changes_only_its_organization,
    cursors_do_not_cross_organizations,
);
