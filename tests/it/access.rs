//! Access as an attacker would try it, on both stores: a key bound to one organization can
//! neither read nor change another organization's users on any route, native or SCIM, and
//! no key can give itself or another key more than it holds.

use crate::common;

use std::sync::Arc;

use common::Client;
use serde_json::{json, Value};
use users_api::store::UserStore;

const ORG_A: &str = "0a0a0a0a-0000-4000-8000-00000000000a";
const ORG_B: &str = "0b0b0b0b-0000-4000-8000-00000000000b";

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
async fn two_organizations(admin: &Client) -> (Client, Client) {
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

on_both_stores!(
    a_bound_key_sees_and_changes_only_its_organization,
    cursors_do_not_cross_organizations,
    no_key_gives_more_than_it_holds,
);

/// Revocation and rotation, timed by an injected clock, seen by two function instances on
/// one store: the instance that changed the key at once, the other within 10 s.
mod timing {
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

    async fn revoked_and_rotated_secrets_stop_working_within_ten_seconds(
        store: Arc<dyn UserStore>,
    ) {
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
        let soon = Timestamp::from_millis(
            Timestamp::now().millis() + ahead.load(Ordering::SeqCst) + 60_000,
        );
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
}

/// A user moved between organizations while both write it, through two instances on one
/// table: no write of the organization it left lands after the move.
mod races {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_user_moved_between_organizations_takes_no_write_of_the_one_it_left() {
        let stores = common::dynamo_instances(2).await;
        let (one, two) = (
            Client::new(stores[0].clone()),
            Client::new(stores[1].clone()),
        );
        let (a, b) = two_organizations(&one).await;
        let b = two.with_key(b.auth_key());
        let made = a
            .call("POST", "/users/mover", Some(json!({"firstName": "start"})))
            .await;
        assert_eq!(made.status, 200);
        let writes = |c: Client, org: &'static str| {
            tokio::spawn(async move {
                let mut shown = Vec::new();
                for i in 0..40 {
                    let answer = c
                        .call(
                            "PATCH",
                            "/users/mover",
                            Some(json!({"firstName": format!("{org}-{i}")})),
                        )
                        .await;
                    match answer.status.as_u16() {
                        200 => {
                            let user = answer.json();
                            assert_eq!(
                                user["producerId"],
                                org_id(org),
                                "{org} wrote outside its organization"
                            );
                            shown.push(user["version"].as_u64().unwrap());
                        }
                        404 => {}
                        other => panic!("{org}: {other} {}", answer.text),
                    }
                }
                shown
            })
        };
        let (from_a, from_b) = (writes(a, "a"), writes(b, "b"));
        tokio::time::sleep(std::time::Duration::from_millis(30)).await;
        let moved = two
            .call("PATCH", "/users/mover", Some(json!({"producerId": ORG_B})))
            .await;
        assert_eq!(moved.status, 200, "{}", moved.text);
        let move_version = moved.json()["version"].as_u64().unwrap();
        let (a_versions, b_versions) = (from_a.await.unwrap(), from_b.await.unwrap());
        assert!(
            a_versions.iter().all(|v| *v < move_version),
            "A wrote after the move: {a_versions:?} vs {move_version}"
        );
        assert!(
            b_versions.iter().all(|v| *v > move_version),
            "B wrote before the move: {b_versions:?}"
        );
        let last = one.call("GET", "/users/mover", None).await.json();
        assert_eq!(last["producerId"], ORG_B);
        assert_eq!(
            last["version"].as_u64().unwrap(),
            1 + a_versions.len() as u64 + b_versions.len() as u64 + 1,
            "one version per applied write: A {a_versions:?}, B {b_versions:?}, move {move_version}"
        );
    }

    fn org_id(org: &str) -> &'static str {
        if org == "a" {
            ORG_A
        } else {
            ORG_B
        }
    }
}
