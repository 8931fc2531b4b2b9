//! The store contract: one suite, run unchanged against the embedded store and the
//! DynamoDB store on the local server, so the two cannot drift.

use std::collections::HashSet;
use std::sync::Arc;

use serde_json::{json, Value};
use users_api::domain::{BubbleId, DomainError, Intent, Patch, UniqueField, User, UserRef};
use users_api::store::{Lookup, StoreError, UserStore, Window};

type Store = Arc<dyn UserStore>;

fn bubble(s: &str) -> BubbleId {
    BubbleId::parse(s).unwrap()
}

fn patch(body: Value) -> Patch {
    Patch::from_json(&body).unwrap()
}

async fn upsert(store: &Store, b: &str, body: Value) -> Result<User, StoreError> {
    let b = bubble(b);
    let p = patch(body);
    store
        .apply(&UserRef::Bubble(b.clone()), &Intent::Upsert(&b, &p), None)
        .await
}

async fn apply(
    store: &Store,
    key: &str,
    intent: Intent<'_>,
    expect: Option<u64>,
) -> Result<User, StoreError> {
    store
        .apply(&UserRef::parse(key).unwrap(), &intent, expect)
        .await
}

async fn get(store: &Store, key: &str) -> Option<User> {
    store.get(&UserRef::parse(key).unwrap()).await.unwrap()
}

fn field(user: &User, name: &str) -> Value {
    user.to_json()[name].clone()
}

fn is_duplicate(r: Result<User, StoreError>, name: &str) -> bool {
    matches!(r, Err(StoreError::Duplicate(f)) if f.name() == name)
}

async fn an_upsert_creates_a_user_with_a_fresh_id_at_version_1(store: Store) {
    let user = upsert(&store, "b1", json!({"firstName": "Ada", "isAlgorep": true}))
        .await
        .unwrap();
    assert_eq!(user.version, 1);
    assert_eq!(field(&user, "firstName"), "Ada");
    assert_eq!(field(&user, "isAlgorep"), true);
    assert_eq!(user.created_at, user.updated_at);
    assert_eq!(get(&store, "b1").await, Some(user.clone()));
    assert_eq!(get(&store, &user.id.to_string()).await, Some(user));
}

async fn absent_fields_stay_and_null_erases(store: Store) {
    upsert(
        &store,
        "b1",
        json!({"firstName": "Ada", "lastName": "Lovelace", "role": "admin"}),
    )
    .await
    .unwrap();
    let user = upsert(&store, "b1", json!({"firstName": null, "role": "owner"}))
        .await
        .unwrap();
    assert_eq!(field(&user, "firstName"), Value::Null);
    assert_eq!(field(&user, "lastName"), "Lovelace");
    assert_eq!(field(&user, "role"), "owner");
    assert_eq!(user.version, 2);
    assert_eq!(get(&store, "b1").await, Some(user));
}

async fn a_write_that_changes_nothing_keeps_version_and_updated_at(store: Store) {
    let first = upsert(
        &store,
        "b1",
        json!({"firstName": "Ada", "email": "ada@x.io"}),
    )
    .await
    .unwrap();
    let again = upsert(
        &store,
        "b1",
        json!({"firstName": "Ada", "email": "ada@x.io"}),
    )
    .await
    .unwrap();
    let empty = upsert(&store, "b1", json!({})).await.unwrap();
    assert_eq!(again, first);
    assert_eq!(empty, first);
    let feed = store
        .changes("1970-01-01T00:00:00.000Z", Window::after(None, 10))
        .await
        .unwrap();
    assert_eq!(feed.items.len(), 1);
}

async fn emails_are_unique_among_active_users_case_insensitively(store: Store) {
    upsert(&store, "b1", json!({"email": "Ada@X.io"}))
        .await
        .unwrap();
    assert!(is_duplicate(
        upsert(&store, "b2", json!({"email": "ada@x.io", "firstName": "B"})).await,
        "email"
    ));
    assert_eq!(
        get(&store, "b2").await,
        None,
        "a refused creation leaves nothing behind"
    );
    upsert(&store, "b3", json!({"firstName": "C"}))
        .await
        .unwrap();
    assert!(is_duplicate(
        upsert(&store, "b3", json!({"email": "ADA@x.io"})).await,
        "email"
    ));
    assert_eq!(
        field(&get(&store, "b3").await.unwrap(), "email"),
        Value::Null
    );
    assert_eq!(get(&store, "b3").await.unwrap().version, 1);
}

async fn usernames_are_unique_too(store: Store) {
    upsert(&store, "b1", json!({"username": "Ada"}))
        .await
        .unwrap();
    assert!(is_duplicate(
        upsert(&store, "b2", json!({"username": "ada"})).await,
        "username"
    ));
}

async fn changing_an_email_frees_the_old_one(store: Store) {
    upsert(&store, "b1", json!({"email": "old@x.io"}))
        .await
        .unwrap();
    let moved = upsert(&store, "b1", json!({"email": "new@x.io"}))
        .await
        .unwrap();
    assert_eq!(moved.version, 2);
    upsert(&store, "b2", json!({"email": "old@x.io"}))
        .await
        .unwrap();
    assert!(is_duplicate(
        upsert(&store, "b3", json!({"email": "new@x.io"})).await,
        "email"
    ));
    let erased = upsert(&store, "b1", json!({"email": null})).await.unwrap();
    assert_eq!(field(&erased, "email"), Value::Null);
    upsert(&store, "b3", json!({"email": "NEW@x.io"}))
        .await
        .unwrap();
}

async fn an_email_may_change_case_without_losing_it(store: Store) {
    upsert(&store, "b1", json!({"email": "ada@x.io"}))
        .await
        .unwrap();
    let user = upsert(&store, "b1", json!({"email": "Ada@X.io"}))
        .await
        .unwrap();
    assert_eq!(field(&user, "email"), "Ada@X.io");
    assert!(is_duplicate(
        upsert(&store, "b2", json!({"email": "ada@x.io"})).await,
        "email"
    ));
}

async fn concurrent_upserts_of_one_new_bubble_id_make_one_user(store: Store) {
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                upsert(&store, "racer", json!({"firstName": format!("n{i}")})).await
            })
        })
        .collect();
    let mut ids = HashSet::new();
    for t in tasks {
        ids.insert(t.await.unwrap().unwrap().id);
    }
    assert_eq!(ids.len(), 1, "one bubbleId, one id");
    let listed = store.list_active(Window::after(None, 100)).await.unwrap();
    assert_eq!(listed.items.len(), 1);
    assert_eq!(store.count_active().await.unwrap(), 1);
}

async fn concurrent_claims_of_one_email_leave_one_owner(store: Store) {
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                upsert(&store, &format!("u{i}"), json!({"email": "same@x.io"})).await
            })
        })
        .collect();
    let mut winners = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(_) => winners += 1,
            Err(StoreError::Duplicate(UniqueField::Email)) => {}
            Err(e) => panic!("unexpected {e:?}"),
        }
    }
    assert_eq!(winners, 1);
    let owners = store.list_active(Window::after(None, 100)).await.unwrap();
    assert_eq!(
        owners
            .items
            .iter()
            .filter(|u| u.email() == Some("same@x.io"))
            .count(),
        1
    );
    assert_eq!(owners.items.len(), 1, "losers leave nothing behind");
}

async fn a_stale_if_match_fails_and_changes_nothing(store: Store) {
    let user = upsert(&store, "b1", json!({"firstName": "Ada"}))
        .await
        .unwrap();
    let p = patch(json!({"firstName": "Eve"}));
    let b = bubble("b1");
    let stale = store
        .apply(
            &UserRef::Bubble(b.clone()),
            &Intent::Upsert(&b, &p),
            Some(7),
        )
        .await;
    assert!(matches!(
        stale,
        Err(StoreError::Domain(DomainError::PreconditionFailed))
    ));
    assert_eq!(get(&store, "b1").await, Some(user.clone()));
    let fresh = store
        .apply(
            &UserRef::Bubble(b.clone()),
            &Intent::Upsert(&b, &p),
            Some(1),
        )
        .await
        .unwrap();
    assert_eq!(fresh.version, 2);
    let by_id = apply(
        &store,
        &user.id.to_string(),
        Intent::Update(&patch(json!({"role": "x"}))),
        Some(1),
    )
    .await;
    assert!(matches!(
        by_id,
        Err(StoreError::Domain(DomainError::PreconditionFailed))
    ));
}

async fn an_update_finds_the_user_by_either_id(store: Store) {
    let user = upsert(&store, "b1", json!({"firstName": "Ada"}))
        .await
        .unwrap();
    let p = patch(json!({"lastName": "L"}));
    let by_id = apply(&store, &user.id.to_string(), Intent::Update(&p), None)
        .await
        .unwrap();
    assert_eq!(by_id.version, 2);
    let p = patch(json!({"role": "r"}));
    let by_bubble = apply(&store, "b1", Intent::Update(&p), None).await.unwrap();
    assert_eq!(by_bubble.version, 3);
    assert_eq!(field(&by_bubble, "lastName"), "L");
    let missing = apply(&store, "nobody", Intent::Update(&p), None).await;
    assert!(matches!(
        missing,
        Err(StoreError::Domain(DomainError::NotFound))
    ));
    let unknown_id = apply(
        &store,
        "50658c1e-356e-4407-b120-d110552292d8",
        Intent::Update(&p),
        None,
    )
    .await;
    assert!(matches!(
        unknown_id,
        Err(StoreError::Domain(DomainError::NotFound))
    ));
}

async fn a_soft_delete_frees_email_and_username_and_is_recorded(store: Store) {
    let user = upsert(&store, "b1", json!({"email": "a@x.io", "username": "ada"}))
        .await
        .unwrap();
    let deleted = apply(&store, "b1", Intent::Delete("ops"), None)
        .await
        .unwrap();
    assert!(deleted.deleted_at.is_some());
    assert_eq!(deleted.id, user.id);
    assert_eq!(deleted.version, 2);
    assert_eq!(store.count_active().await.unwrap(), 0);
    upsert(&store, "b2", json!({"email": "A@x.io", "username": "ADA"}))
        .await
        .unwrap();
    let again = apply(&store, "b1", Intent::Delete("ops"), None).await;
    assert!(matches!(
        again,
        Err(StoreError::Domain(DomainError::NotFound))
    ));
    let history = store.deletions(Window::after(None, 10)).await.unwrap();
    assert_eq!(history.items.len(), 1);
    let record = &history.items[0];
    assert_eq!((record.id, record.deleted_by.as_str()), (user.id, "ops"));
    assert_eq!(record.email.as_deref(), Some("a@x.io"));
    assert_eq!(Some(record.deleted_at), deleted.deleted_at);
    let p = patch(json!({"role": "x"}));
    let update = apply(&store, "b1", Intent::Update(&p), None).await;
    assert!(matches!(
        update,
        Err(StoreError::Domain(DomainError::NotFound))
    ));
}

async fn a_restore_keeps_the_id_and_refuses_a_taken_email(store: Store) {
    let user = upsert(&store, "b1", json!({"email": "a@x.io"}))
        .await
        .unwrap();
    apply(&store, "b1", Intent::Delete("ops"), None)
        .await
        .unwrap();
    let thief = upsert(&store, "b2", json!({"email": "a@x.io"}))
        .await
        .unwrap();
    let refused = apply(&store, &user.id.to_string(), Intent::Restore, None).await;
    assert!(is_duplicate(refused, "email"));
    assert!(
        get(&store, "b1").await.unwrap().deleted_at.is_some(),
        "nothing changed"
    );
    apply(
        &store,
        "b2",
        Intent::Update(&patch(json!({"email": "b@x.io"}))),
        None,
    )
    .await
    .unwrap();
    let restored = apply(&store, &user.id.to_string(), Intent::Restore, None)
        .await
        .unwrap();
    assert_eq!(restored.id, user.id);
    assert!(restored.is_active());
    assert_eq!(restored.version, 3);
    assert!(is_duplicate(
        upsert(&store, "b3", json!({"email": "a@x.io"})).await,
        "email"
    ));
    assert_eq!(store.count_active().await.unwrap(), 2);
    assert_eq!(
        store
            .deletions(Window::after(None, 10))
            .await
            .unwrap()
            .items
            .len(),
        1,
        "history survives a restore"
    );
    let _ = thief;
}

async fn an_upsert_reactivates_a_deleted_user(store: Store) {
    let user = upsert(&store, "b1", json!({"email": "a@x.io", "firstName": "A"}))
        .await
        .unwrap();
    apply(&store, "b1", Intent::Delete("ops"), None)
        .await
        .unwrap();
    let back = upsert(&store, "b1", json!({"firstName": "B"}))
        .await
        .unwrap();
    assert_eq!(back.id, user.id);
    assert!(back.is_active());
    assert_eq!(field(&back, "email"), "a@x.io");
    assert_eq!(store.count_active().await.unwrap(), 1);
    assert!(is_duplicate(
        upsert(&store, "b2", json!({"email": "a@x.io"})).await,
        "email"
    ));
}

async fn a_create_refuses_an_existing_bubble_id(store: Store) {
    upsert(&store, "b1", json!({})).await.unwrap();
    let b = bubble("b1");
    let p = patch(json!({"firstName": "x"}));
    let again = store
        .apply(&UserRef::Bubble(b.clone()), &Intent::Create(&b, &p), None)
        .await;
    assert!(matches!(
        again,
        Err(StoreError::Domain(DomainError::BubbleIdTaken))
    ));
}

async fn the_active_list_pages_in_creation_order_without_deleted_users(store: Store) {
    for i in 0..7 {
        upsert(
            &store,
            &format!("u{i}"),
            json!({"firstName": format!("{i}")}),
        )
        .await
        .unwrap();
    }
    apply(&store, "u2", Intent::Delete("ops"), None)
        .await
        .unwrap();
    apply(&store, "u5", Intent::Delete("ops"), None)
        .await
        .unwrap();
    upsert(&store, "u0", json!({"firstName": "changed"}))
        .await
        .unwrap();
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = store
            .list_active(Window::after(after.as_deref(), 2))
            .await
            .unwrap();
        assert!(page.items.len() <= 2);
        seen.extend(page.items.iter().map(|u| u.bubble_id.to_string()));
        match page.next {
            Some(n) => after = Some(n),
            None => break,
        }
    }
    assert_eq!(seen, ["u0", "u1", "u3", "u4", "u6"]);
    assert_eq!(store.count_active().await.unwrap(), 5);
}

async fn the_feed_lists_every_change_in_order_with_tombstones(store: Store) {
    upsert(&store, "a", json!({"firstName": "1"}))
        .await
        .unwrap();
    let b = upsert(&store, "b", json!({"firstName": "1"}))
        .await
        .unwrap();
    upsert(&store, "c", json!({"firstName": "1"}))
        .await
        .unwrap();
    apply(&store, "a", Intent::Delete("ops"), None)
        .await
        .unwrap();
    upsert(&store, "c", json!({"firstName": "1"}))
        .await
        .unwrap();
    let all = store
        .changes("1970-01-01T00:00:00.000Z", Window::after(None, 10))
        .await
        .unwrap();
    let order: Vec<_> = all.items.iter().map(|u| u.bubble_id.to_string()).collect();
    assert_eq!(
        order,
        ["b", "c", "a"],
        "ascending by updatedAt; the unchanged write of c is not a change"
    );
    assert!(all.items[2].deleted_at.is_some());
    assert!(all.next.is_none());
    let since = store
        .changes(&b.updated_at.to_rfc3339(), Window::after(None, 10))
        .await
        .unwrap();
    assert_eq!(since.items.len(), 3, "the floor is inclusive");
    let first = store
        .changes("1970-01-01T00:00:00.000Z", Window::after(None, 1))
        .await
        .unwrap();
    let rest = store
        .changes(
            "1970-01-01T00:00:00.000Z",
            Window::after(first.next.as_deref(), 10),
        )
        .await
        .unwrap();
    assert_eq!(rest.items.len(), 2);
}

async fn the_deleted_history_lists_newest_first(store: Store) {
    for b in ["a", "b", "c"] {
        upsert(&store, b, json!({})).await.unwrap();
        apply(&store, b, Intent::Delete("ops"), None).await.unwrap();
    }
    apply(&store, "a", Intent::Restore, None).await.unwrap();
    apply(&store, "a", Intent::Delete("ops"), None)
        .await
        .unwrap();
    let first = store.deletions(Window::after(None, 3)).await.unwrap();
    let order: Vec<_> = first
        .items
        .iter()
        .map(|d| d.bubble_id.to_string())
        .collect();
    assert_eq!(order, ["a", "c", "b"]);
    let rest = store
        .deletions(Window::after(first.next.as_deref(), 3))
        .await
        .unwrap();
    assert_eq!(rest.items.len(), 1);
    assert_eq!(rest.items[0].bubble_id.as_str(), "a");
    assert!(rest.next.is_none());
}

async fn a_move_keeps_the_id_and_carries_the_identity_to_the_new_key(store: Store) {
    let user = upsert(
        &store,
        "old",
        json!({"email": "m@x.io", "username": "mover"}),
    )
    .await
    .unwrap();
    upsert(&store, "other", json!({})).await.unwrap();
    let to = bubble("new");
    let p = patch(json!({"firstName": "Moved"}));
    let moved = apply(&store, "old", Intent::Move(&p, &to), None)
        .await
        .unwrap();
    assert_eq!((moved.id, moved.version), (user.id, 2));
    assert!(get(&store, "old").await.is_none(), "the old key is gone");
    let by_id = get(&store, &user.id.to_string()).await.unwrap();
    assert_eq!(by_id.bubble_id.as_str(), "new");
    assert_eq!(field(&by_id, "firstName"), json!("Moved"));
    let key = UniqueField::Email.key("m@x.io");
    let found = store
        .find_active(&Lookup::Unique(UniqueField::Email, key))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        found.bubble_id.as_str(),
        "new",
        "the guard names the new key"
    );
    let taken = upsert(&store, "third", json!({"username": "MOVER"})).await;
    assert!(
        is_duplicate(taken, "username"),
        "the identity moved with the user"
    );
    let onto_other = apply(&store, "new", Intent::Move(&p, &bubble("other")), None).await;
    assert!(
        matches!(
            onto_other,
            Err(StoreError::Domain(DomainError::BubbleIdTaken))
        ),
        "{onto_other:?}"
    );
    let again = get(&store, "new").await.unwrap();
    assert_eq!(again.version, 2, "a refused move changes nothing");
    let deleted = apply(&store, "new", Intent::Delete("k"), None)
        .await
        .unwrap();
    assert!(!deleted.is_active());
    let reuse = upsert(&store, "fourth", json!({"email": "m@x.io"})).await;
    assert!(
        reuse.is_ok(),
        "a moved user's guards are released by its delete"
    );
}

on_both_stores!(
    a_move_keeps_the_id_and_carries_the_identity_to_the_new_key,
    an_upsert_creates_a_user_with_a_fresh_id_at_version_1,
    absent_fields_stay_and_null_erases,
    a_write_that_changes_nothing_keeps_version_and_updated_at,
    emails_are_unique_among_active_users_case_insensitively,
    usernames_are_unique_too,
    changing_an_email_frees_the_old_one,
    an_email_may_change_case_without_losing_it,
    concurrent_upserts_of_one_new_bubble_id_make_one_user,
    concurrent_claims_of_one_email_leave_one_owner,
    a_stale_if_match_fails_and_changes_nothing,
    an_update_finds_the_user_by_either_id,
    a_soft_delete_frees_email_and_username_and_is_recorded,
    a_restore_keeps_the_id_and_refuses_a_taken_email,
    an_upsert_reactivates_a_deleted_user,
    a_create_refuses_an_existing_bubble_id,
    the_active_list_pages_in_creation_order_without_deleted_users,
    the_feed_lists_every_change_in_order_with_tombstones,
    the_deleted_history_lists_newest_first,
);
