//! SCIM 2.0 as identity providers use it, on both stores: the sequences Entra ID and Okta
//! run (create, find, disable, re-enable, change e-mail, change externalId, replace, delete,
//! recreate), the shapes each is known to send, and one user seen alike through SCIM and
//! the native API.

use crate::common;

use std::sync::Arc;

use common::{send, WRITE_KEY};
use serde_json::{json, Value};
use users_api::store::UserStore;

const EXT: &str = "urn:users-api:scim:schemas:extension:2.0:User";

/// An identity provider: a SCIM client with the write key, and the look-ups IdPs make.
struct Idp(common::Client);

impl std::ops::Deref for Idp {
    type Target = common::Client;

    fn deref(&self) -> &common::Client {
        &self.0
    }
}

impl Idp {
    fn new(store: Arc<dyn UserStore>) -> Self {
        Self(common::Client::scim(store))
    }

    /// Finds by filter; the resources found.
    async fn find(&self, filter: &str) -> Vec<Value> {
        let q: String = form_urlencoded::byte_serialize(filter.as_bytes()).collect();
        let answer = self.call("GET", &format!("/Users?filter={q}"), None).await;
        assert_eq!(answer.status, 200, "{filter}: {}", answer.text);
        let body = answer.json();
        assert_eq!(
            body["totalResults"].as_u64().unwrap() as usize,
            body["Resources"].as_array().unwrap().len()
        );
        body["Resources"].as_array().unwrap().clone()
    }
}

fn patch_op(ops: Value) -> Value {
    json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": ops})
}

async fn entra_id_provisions_a_user_through_its_whole_life(store: Arc<dyn UserStore>) {
    let idp = Idp::new(store.clone());
    let native = common::Client::new(store);
    // Test connection: a filter on a random GUID finds nothing, and says so with 200.
    let probe = idp
        .call(
            "GET",
            "/Users?filter=userName+eq+%2263c5c2f8-8c1b-4a0e-9a1f-3b6f0f0e2d11%22&aadOptscim062020",
            None,
        )
        .await;
    assert_eq!(probe.status, 200, "{}", probe.text);
    assert_eq!(probe.json()["totalResults"], 0);
    assert_eq!(probe.header("content-type"), Some("application/scim+json"));
    // Create.
    let created = idp
        .call(
            "POST",
            "/Users",
            Some(json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                "externalId": "aad-0001",
                "userName": "ann@contoso.com",
                "active": true,
                "displayName": "Ann Lee",
                "emails": [{"primary": true, "type": "work", "value": "ann@contoso.com"}],
                "name": {"givenName": "Ann", "familyName": "Lee"},
                "phoneNumbers": [{"type": "mobile", "value": "+33 6 00 00 00 01"}],
                "title": "Engineer",
            })),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    let user = created.json();
    let id = user["id"].as_str().unwrap().to_owned();
    assert_eq!(
        created.header("location"),
        Some(format!("/scim/v2/Users/{id}").as_str())
    );
    assert_eq!(created.header("etag"), Some("W/\"1\""));
    assert_eq!(
        (user["active"].clone(), user["name"]["familyName"].clone()),
        (json!(true), json!("Lee"))
    );
    // The same user, natively.
    let seen = native.call("GET", "/users/aad-0001", None).await.json();
    assert_eq!(
        (
            seen["id"].as_str(),
            seen["email"].as_str(),
            seen["displayName"].as_str()
        ),
        (Some(id.as_str()), Some("ann@contoso.com"), Some("Ann Lee"))
    );
    assert_eq!(
        (
            seen["username"].as_str(),
            seen["mobilePhone"].as_str(),
            seen["enabled"].as_bool()
        ),
        (
            Some("ann@contoso.com"),
            Some("+33 6 00 00 00 01"),
            Some(true)
        )
    );
    // Find it the ways Entra does.
    for filter in [
        "userName eq \"ANN@contoso.com\"",
        "externalId eq \"aad-0001\"",
        "emails[type eq \"work\"].value eq \"ann@contoso.com\"",
        "userName eq \"ann@contoso.com\" and externalId eq \"aad-0001\"",
    ] {
        let found = idp.find(filter).await;
        assert_eq!(found.len(), 1, "{filter}");
        assert_eq!(found[0]["id"], id.as_str());
    }
    assert!(
        idp.find("externalId eq \"AAD-0001\"").await.is_empty(),
        "externalId is exact"
    );
    // Disable with a capitalised op and a string boolean; the user stays, identity held.
    let path = format!("/Users/{id}");
    let off = idp
        .call(
            "PATCH",
            &path,
            Some(patch_op(
                json!([{"op": "Replace", "path": "active", "value": "False"}]),
            )),
        )
        .await;
    assert_eq!(off.status, 200, "{}", off.text);
    assert_eq!(off.json()["active"], false);
    assert_eq!(
        native.call("GET", "/users/aad-0001", None).await.json()["enabled"],
        false
    );
    assert_eq!(
        idp.find("userName eq \"ann@contoso.com\"").await.len(),
        1,
        "still found"
    );
    let taken = native
        .call(
            "POST",
            "/users/other",
            Some(json!({"email": "ann@contoso.com"})),
        )
        .await;
    assert_eq!(taken.status, 409, "a disabled user keeps its e-mail");
    // Re-enable with a replace without path.
    let on = idp
        .call(
            "PATCH",
            &path,
            Some(patch_op(
                json!([{"op": "replace", "value": {"active": true, "name.givenName": "Annie"}}]),
            )),
        )
        .await;
    assert_eq!(
        (
            on.json()["active"].clone(),
            on.json()["name"]["givenName"].clone()
        ),
        (json!(true), json!("Annie"))
    );
    // Change the e-mail by a filtered path.
    let mail = idp
        .call("PATCH", &path, Some(patch_op(json!([
            {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "ann.lee@contoso.com"}
        ]))))
        .await;
    assert_eq!(mail.json()["emails"][0]["value"], "ann.lee@contoso.com");
    assert!(idp
        .find("emails.value eq \"ann@contoso.com\"")
        .await
        .is_empty());
    // Change externalId: the user moves to the new bubbleId in one write, same id.
    let moved = idp
        .call(
            "PATCH",
            &path,
            Some(patch_op(
                json!([{"op": "Replace", "path": "externalId", "value": "aad-0002"}]),
            )),
        )
        .await;
    assert_eq!(moved.status, 200, "{}", moved.text);
    assert_eq!(
        (
            moved.json()["id"].as_str(),
            moved.json()["externalId"].as_str()
        ),
        (Some(id.as_str()), Some("aad-0002"))
    );
    assert_eq!(
        native.call("GET", "/users/aad-0001", None).await.status,
        404
    );
    assert_eq!(
        native.call("GET", "/users/aad-0002", None).await.json()["id"],
        id.as_str()
    );
    // Delete, then gone, identity free; recreate makes a user again.
    let gone = idp.call("DELETE", &path, None).await;
    assert_eq!(gone.status, 204, "{}", gone.text);
    assert!(gone.text.is_empty());
    assert_eq!(idp.call("GET", &path, None).await.status, 404);
    assert!(idp.find("userName eq \"ann@contoso.com\"").await.is_empty());
    let again = idp
        .call(
            "POST",
            "/Users",
            Some(
                json!({"externalId": "aad-0002", "userName": "ann@contoso.com",
            "emails": [{"value": "ann.lee@contoso.com", "type": "work", "primary": true}]}),
            ),
        )
        .await;
    assert_eq!(again.status, 201, "{}", again.text);
    assert_eq!(
        again.json()["id"],
        id.as_str(),
        "a deleted externalId comes back as its user"
    );
    assert_eq!(
        again.json()["displayName"],
        Value::Null,
        "described by the new body only"
    );
}

async fn okta_provisions_deactivates_by_put_and_imports_by_pages(store: Arc<dyn UserStore>) {
    let idp = Idp::new(store.clone());
    let body = |active: bool| {
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": "bob@example.com",
            "name": {"givenName": "Bob", "familyName": "Ray"},
            "emails": [{"primary": true, "value": "bob@example.com", "type": "work"}],
            "displayName": "Bob Ray",
            "active": active,
            "password": "t1meMa$heen",
            "groups": [],
            EXT: {"role": "seller"},
        })
    };
    let created = idp.call("POST", "/Users", Some(body(true))).await;
    assert_eq!(created.status, 201, "{}", created.text);
    let user = created.json();
    assert!(
        user.get("password").is_none() && user.get("groups").is_none(),
        "never returned"
    );
    assert_eq!(user.get("externalId"), None, "none sent, none shown");
    assert_eq!(user[EXT]["role"], "seller");
    let id = user["id"].as_str().unwrap().to_owned();
    // The same userName again: 409 uniqueness.
    let twice = idp.call("POST", "/Users", Some(body(true))).await;
    assert_eq!(twice.status, 409);
    assert_eq!(twice.json()["scimType"], "uniqueness");
    assert_eq!(twice.json()["status"], "409");
    // Deactivation by full PUT, with If-Match.
    let path = format!("/Users/{id}");
    let stale = idp
        .call_with("PUT", &path, &[("if-match", "W/\"9\"")], Some(body(false)))
        .await;
    assert_eq!(stale.status, 412, "{}", stale.text);
    let off = idp
        .call_with("PUT", &path, &[("if-match", "W/\"1\"")], Some(body(false)))
        .await;
    assert_eq!(off.status, 200, "{}", off.text);
    assert_eq!(
        (
            off.json()["active"].clone(),
            off.json()["meta"]["version"].clone()
        ),
        (json!(false), json!("W/\"2\""))
    );
    // The same PUT again writes nothing.
    let same = idp.call("PUT", &path, Some(body(false))).await;
    assert_eq!(same.json()["meta"]["version"], "W/\"2\"");
    // A PUT without userName is refused and changes nothing.
    let bad = idp.call("PUT", &path, Some(json!({"active": true}))).await;
    assert_eq!(
        (bad.status.as_u16(), bad.json()["scimType"].clone()),
        (400, json!("invalidValue"))
    );
    // Import: pages by startIndex/count, and the total alone.
    for i in 0..4 {
        let more = json!({"userName": format!("u{i}@example.com")});
        assert_eq!(idp.call("POST", "/Users", Some(more)).await.status, 201);
    }
    let total = idp.call("GET", "/Users?count=0", None).await.json();
    assert_eq!(
        (
            total["totalResults"].as_u64(),
            total["Resources"].as_array().map(Vec::len)
        ),
        (Some(5), Some(0))
    );
    let mut seen = Vec::new();
    for start in [1, 3, 5] {
        let page = idp
            .call("GET", &format!("/Users?startIndex={start}&count=2"), None)
            .await
            .json();
        assert_eq!(page["startIndex"], start);
        assert_eq!(page["totalResults"], 5);
        for r in page["Resources"].as_array().unwrap() {
            seen.push(r["id"].as_str().unwrap().to_owned());
        }
    }
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 5, "every user once");
    // Cursors walk the same list.
    let mut cursor = String::new();
    let mut walked = 0;
    loop {
        let page = idp
            .call("GET", &format!("/Users?count=2&cursor={cursor}"), None)
            .await;
        assert_eq!(page.status, 200, "{}", page.text);
        let page = page.json();
        walked += page["Resources"].as_array().unwrap().len();
        match page["nextCursor"].as_str() {
            Some(next) => cursor = next.to_owned(),
            None => break,
        }
    }
    assert_eq!(walked, 5);
    // attributes and excludedAttributes.
    let shaped = idp
        .call(
            "GET",
            &format!("{path}?attributes=userName,name.givenName"),
            None,
        )
        .await
        .json();
    let mut keys: Vec<String> = shaped.as_object().unwrap().keys().cloned().collect();
    keys.sort();
    assert_eq!(keys, ["id", "name", "schemas", "userName"]);
    assert_eq!(shaped["name"], json!({"givenName": "Bob"}));
    let without = idp
        .call(
            "GET",
            &format!("{path}?excludedAttributes=emails,{EXT}:role"),
            None,
        )
        .await
        .json();
    assert!(without.get("emails").is_none() && without[EXT].get("role").is_none());
}

async fn errors_are_scim_errors_and_refusals_store_nothing(store: Arc<dyn UserStore>) {
    let idp = Idp::new(store.clone());
    let no_key = send(&idp.app, "GET", "/scim/v2/Users", &[], None).await;
    assert_eq!(no_key.status, 401);
    assert_eq!(
        no_key.json()["schemas"][0],
        "urn:ietf:params:scim:api:messages:2.0:Error"
    );
    assert!(no_key.header("www-authenticate").is_some());
    let read = format!("Bearer {}", common::READ_KEY);
    let forbidden = send(
        &idp.app,
        "POST",
        "/scim/v2/Users",
        &[("authorization", &read)],
        Some("{}"),
    )
    .await;
    assert_eq!(forbidden.status, 403);
    assert_eq!(idp.call("GET", "/Users/not-a-uuid", None).await.status, 404);
    let unknown = idp
        .call("GET", &format!("/Users/{}", uuid::Uuid::new_v4()), None)
        .await;
    assert_eq!(
        (unknown.status.as_u16(), unknown.json()["status"].clone()),
        (404, json!("404"))
    );
    let filter = idp
        .call("GET", "/Users?filter=displayName+eq+%22x%22", None)
        .await;
    assert_eq!(filter.json()["scimType"], "invalidFilter");
    let bad_email = idp
        .call(
            "POST",
            "/Users",
            Some(json!({"userName": "c", "emails": [{"value": "not an address"}]})),
        )
        .await;
    assert_eq!(
        (
            bad_email.status.as_u16(),
            bad_email.json()["scimType"].clone()
        ),
        (400, json!("invalidValue"))
    );
    assert!(
        idp.find("userName eq \"c\"").await.is_empty(),
        "nothing stored"
    );
    let syntax = send(
        &idp.app,
        "POST",
        "/scim/v2/Users",
        &[("authorization", &format!("Bearer {WRITE_KEY}"))],
        Some("{"),
    )
    .await;
    assert_eq!(syntax.json()["scimType"], "invalidSyntax");
    assert_eq!(idp.call("POST", "/Bulk", Some(json!({}))).await.status, 501);
    let discovery = idp.call("GET", "/ServiceProviderConfig", None).await.json();
    assert_eq!(discovery["patch"]["supported"], true);
    let types = idp.call("GET", "/ResourceTypes", None).await.json();
    assert_eq!(types["Resources"][0]["schemaExtensions"][0]["schema"], EXT);
    let schemas = idp.call("GET", "/Schemas", None).await.json();
    assert_eq!(schemas["totalResults"], 2);
    let ext = idp
        .call("GET", &format!("/Schemas/{EXT}"), None)
        .await
        .json();
    assert!(ext["attributes"]
        .as_array()
        .unwrap()
        .iter()
        .any(|a| a["name"] == "lastConnexion" && a["mutability"] == "readOnly"));
}

async fn a_filter_or_a_get_costs_at_most_two_storage_requests(store: Arc<dyn UserStore>) {
    let idp = Idp::new(store);
    let made = idp.call("POST", "/Users", Some(json!({"externalId": "c-1", "userName": "cost", "emails": [{"value": "cost@x.io"}]}))).await;
    let id = made.json()["id"].as_str().unwrap().to_owned();
    for path in [
        format!("/Users/{id}"),
        "/Users?filter=userName+eq+%22cost%22".to_owned(),
        "/Users?filter=userName+eq+%22cost%40x.io%22".to_owned(),
        "/Users?filter=externalId+eq+%22c-1%22".to_owned(),
        "/Users?filter=emails.value+eq+%22cost%40x.io%22".to_owned(),
        format!("/Users?filter=id+eq+%22{id}%22"),
    ] {
        let answer = idp.call("GET", &path, None).await;
        assert_eq!(answer.status, 200, "{path}");
        assert!(
            answer.db_requests() <= 2,
            "{path}: {} requests",
            answer.db_requests()
        );
    }
}

on_both_stores!(
    entra_id_provisions_a_user_through_its_whole_life,
    okta_provisions_deactivates_by_put_and_imports_by_pages,
    errors_are_scim_errors_and_refusals_store_nothing,
    a_filter_or_a_get_costs_at_most_two_storage_requests,
);

/// The edge's refusals are SCIM errors too: a body over 256 KiB (413) and a key over its
/// rate (429, with `Retry-After`).
#[tokio::test]
async fn too_large_and_too_many_are_scim_errors() {
    use std::time::Duration;
    use users_api::edge::limits::RateLimits;
    let mut state = users_api::AppState::new(common::memory_store(), &common::config());
    state.limits = Arc::new(RateLimits::per_period(Duration::from_secs(3600), 2));
    let app = users_api::app(state);
    let auth = format!("Bearer {WRITE_KEY}");
    let h = [
        ("authorization", auth.as_str()),
        ("content-type", "application/scim+json"),
    ];
    let big = json!({"userName": "x", "displayName": "y".repeat(300 * 1024)}).to_string();
    let too_large = send(&app, "POST", "/scim/v2/Users", &h, Some(&big)).await;
    assert_eq!(too_large.status, 413);
    assert_eq!(too_large.json()["status"], "413");
    send(&app, "GET", "/scim/v2/Users", &h, None).await;
    let limited = send(&app, "GET", "/scim/v2/Users", &h, None).await;
    assert_eq!(limited.status, 429);
    assert_eq!(
        limited.json()["schemas"][0],
        "urn:ietf:params:scim:api:messages:2.0:Error"
    );
    assert!(limited.header("retry-after").is_some());
}
