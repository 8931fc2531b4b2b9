//! A write that changes nothing visible writes nothing, for a boolean with a default too:
//! `enabled: null` on an enabled user reads as `true` before and after, so it makes no
//! version, no feed entry and no event, on either store and through either face.

use crate::common;

use std::sync::Arc;

use serde_json::json;
use users_api::domain::{BubbleId, Intent, Patch, UserRef};
use users_api::store::{UserStore, Window};

/// The version each user of the change feed is at (the feed holds a user's latest state).
async fn feed_versions(store: &Arc<dyn UserStore>) -> Vec<u64> {
    let feed = store
        .changes("1970-01-01T00:00:00.000Z", Window::after(None, 100))
        .await
        .unwrap();
    feed.items.iter().map(|u| u.version).collect()
}

async fn a_null_flag_on_an_enabled_user_changes_nothing_in_the_store(store: Arc<dyn UserStore>) {
    let b = BubbleId::parse("flag-1").unwrap();
    let key = UserRef::Bubble(b.clone());
    let write = |body| {
        let store = store.clone();
        let (b, key) = (b.clone(), key.clone());
        async move {
            let p = Patch::from_json(&body).unwrap();
            store
                .apply(&key, &Intent::Upsert(&b, &p), None)
                .await
                .unwrap()
        }
    };
    let created = write(json!({"firstName": "Ada"})).await;
    assert_eq!(created.version, 1);
    let nulled = write(json!({"enabled": null})).await;
    assert_eq!(
        nulled, created,
        "null restores the default the user already reads as"
    );
    let again = write(json!({"enabled": true})).await;
    assert_eq!(again, created);
    assert_eq!(feed_versions(&store).await, [1]);
    let disabled = write(json!({"enabled": false})).await;
    assert_eq!(disabled.version, 2);
    let restored = write(json!({"enabled": null})).await;
    assert_eq!((restored.version, restored.is_enabled()), (3, true));
    assert_eq!(feed_versions(&store).await, [3]);
}

async fn a_null_flag_is_a_no_op_over_the_native_api(store: Arc<dyn UserStore>) {
    let api = common::Client::new(store.clone());
    let created = api
        .call("POST", "/users/flag-2", Some(json!({"firstName": "Ada"})))
        .await;
    assert_eq!(created.status, 200, "{}", created.text);
    for body in [json!({"enabled": null}), json!({"enabled": true})] {
        let answer = api.call("POST", "/users/flag-2", Some(body.clone())).await;
        assert_eq!(answer.status, 200, "{body}: {}", answer.text);
        assert_eq!(answer.json()["version"], 1, "{body}");
        assert_eq!(answer.json()["enabled"], true, "{body}");
    }
    assert_eq!(feed_versions(&store).await, [1]);
}

async fn resetting_active_over_scim_is_a_no_op_and_removing_it_is_refused(
    store: Arc<dyn UserStore>,
) {
    let idp = common::Client::scim(store.clone());
    let created = idp
        .call(
            "POST",
            "/Users",
            Some(json!({"externalId": "flag-3", "userName": "flag3", "active": true})),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    let id = created.json()["id"].as_str().unwrap().to_owned();
    let ops = |op: serde_json::Value| json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [op]});
    for op in [
        json!({"op": "replace", "path": "active", "value": null}),
        json!({"op": "replace", "path": "active", "value": "True"}),
        json!({"op": "replace", "value": {"active": null}}),
    ] {
        let patched = idp
            .call("PATCH", &format!("/Users/{id}"), Some(ops(op.clone())))
            .await;
        assert_eq!(patched.status, 200, "{op}: {}", patched.text);
        assert_eq!(patched.json()["meta"]["version"], "W/\"1\"", "{op}");
        assert_eq!(patched.json()["active"], true, "{op}");
    }
    // RFC 7644 §3.5.2.2: a required attribute cannot be made unassigned.
    let removed = idp
        .call(
            "PATCH",
            &format!("/Users/{id}"),
            Some(ops(json!({"op": "remove", "path": "active"}))),
        )
        .await;
    assert_eq!(removed.status, 400, "{}", removed.text);
    assert_eq!(removed.json()["scimType"], "mutability");
    assert_eq!(feed_versions(&store).await, [1]);
}

on_both_stores!(
    a_null_flag_on_an_enabled_user_changes_nothing_in_the_store,
    a_null_flag_is_a_no_op_over_the_native_api,
    resetting_active_over_scim_is_a_no_op_and_removing_it_is_refused,
);
