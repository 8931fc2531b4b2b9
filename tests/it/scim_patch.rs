//! SCIM PATCH as Entra ID's default mappings send it, and hostile value types: an attribute
//! the directory does not keep never sinks the operations beside it, and a value of the
//! wrong type is refused without erasing anything.

use crate::common;

use std::sync::Arc;

use serde_json::{json, Value};
use users_api::store::UserStore;

fn ops(operations: Value) -> Value {
    json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": operations})
}

/// An IdP's client and a user it created: (client, id).
async fn provisioned(store: Arc<dyn UserStore>) -> (common::Client, String) {
    let idp = common::Client::scim(store);
    let created = idp
        .call(
            "POST",
            "/Users",
            Some(json!({"externalId": "e1", "userName": "ann@contoso.com",
            "active": true, "name": {"givenName": "Ann", "familyName": "Lee"},
            "emails": [{"value": "ann@contoso.com", "type": "work", "primary": true}],
            "phoneNumbers": [{"value": "+33600000001", "type": "mobile"}]})),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    let id = created.json()["id"].as_str().unwrap().to_owned();
    (idp, id)
}

async fn entra_deprovisioning_with_addresses_disables_the_user(store: Arc<dyn UserStore>) {
    let (idp, id) = provisioned(store).await;
    let answer = idp
        .call("PATCH", &format!("/Users/{id}"), Some(ops(json!([
            {"op": "Replace", "path": "active", "value": "False"},
            {"op": "Add", "path": "addresses[type eq \"work\"].locality", "value": "Paris"},
            {"op": "Add", "path": "addresses[type eq \"work\"].streetAddress", "value": "1 rue X"},
            {"op": "Add", "path": "addresses[type eq \"work\"].formatted", "value": "1 rue X, Paris"},
            {"op": "Replace", "path": "title", "value": "Engineer"},
            {"op": "Add", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department", "value": "R&D"},
        ])))).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(answer.json()["active"], false);
    assert!(answer.json().get("addresses").is_none());
}

async fn a_value_of_the_wrong_type_is_refused_and_erases_nothing(store: Arc<dyn UserStore>) {
    let (idp, id) = provisioned(store).await;
    for (path, value) in [
        ("name", json!("Ann Lee")),
        ("emails", json!("x@contoso.com")),
        ("phoneNumbers", json!(["+33600000002"])),
        ("active", json!("yes")),
    ] {
        let answer = idp
            .call(
                "PATCH",
                &format!("/Users/{id}"),
                Some(ops(
                    json!([{"op": "replace", "path": path, "value": value}]),
                )),
            )
            .await;
        assert_eq!(answer.status, 400, "{path}: {}", answer.text);
        assert_eq!(answer.json()["scimType"], "invalidValue", "{path}");
    }
    let now = idp.call("GET", &format!("/Users/{id}"), None).await.json();
    assert_eq!(
        now["name"],
        json!({"givenName": "Ann", "familyName": "Lee"})
    );
    assert_eq!(now["emails"][0]["value"], "ann@contoso.com");
    assert_eq!(now["meta"]["version"], "W/\"1\"");
}

async fn a_work_number_is_not_kept_as_the_mobile_one(store: Arc<dyn UserStore>) {
    let (idp, id) = provisioned(store).await;
    let answer = idp
        .call("PATCH", &format!("/Users/{id}"), Some(ops(json!([
            {"op": "add", "path": "phoneNumbers[type eq \"work\"].value", "value": "+3311111111"}]))))
        .await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(
        answer.json()["phoneNumbers"],
        json!([{"value": "+33600000001", "type": "mobile"}])
    );
    assert_eq!(
        answer.json()["meta"]["version"],
        "W/\"1\"",
        "nothing kept changed"
    );
}

async fn two_primary_emails_are_refused(store: Arc<dyn UserStore>) {
    let idp = common::Client::scim(store);
    let answer = idp
        .call("POST", "/Users", Some(json!({"externalId": "p2", "userName": "p2",
            "emails": [{"value": "a@x.io", "primary": true}, {"value": "b@x.io", "primary": true}]})))
        .await;
    assert_eq!(answer.status, 400, "{}", answer.text);
    assert_eq!(answer.json()["scimType"], "invalidValue");
}

async fn a_filter_value_may_hold_a_closing_bracket(store: Arc<dyn UserStore>) {
    let (idp, id) = provisioned(store).await;
    let answer = idp
        .call(
            "PATCH",
            &format!("/Users/{id}"),
            Some(ops(json!([
            {"op": "replace", "path": "emails[value eq \"a]b@x.io\"].value", "value": "c@x.io"}]))),
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.text);
}

on_both_stores!(
    entra_deprovisioning_with_addresses_disables_the_user,
    a_value_of_the_wrong_type_is_refused_and_erases_nothing,
    a_work_number_is_not_kept_as_the_mobile_one,
    two_primary_emails_are_refused,
    a_filter_value_may_hold_a_closing_bracket,
);
