//! The directory's invariants, checked through the store's own API.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use serde_json::json;
use users_api::domain::{BubbleId, Intent, Patch, UniqueField, User, UserRef};
use users_api::store::{StoreError, UserStore, Window};

/// Every user, deleted ones included, read from the change feed.
pub async fn all_users(store: &Arc<dyn UserStore>) -> Vec<User> {
    let mut users = Vec::new();
    let mut after = None;
    loop {
        let page = store
            .changes(
                "1970-01-01T00:00:00.000Z",
                Window::after(after.as_deref(), 100),
            )
            .await
            .unwrap();
        users.extend(page.items);
        match page.next {
            Some(n) => after = Some(n),
            None => return users,
        }
    }
}

/// Panics unless: one user per bubbleId and per id; no two active users share an e-mail or
/// username; each held value is really guarded (a newcomer cannot take it) and each value of
/// a deleted user is really free; the active count and list are exact; every deleted user has
/// its history record and every history record belongs to a deletion that happened.
pub async fn check(store: &Arc<dyn UserStore>) {
    let users = all_users(store).await;
    let ids: HashSet<_> = users.iter().map(|u| u.id).collect();
    let bubbles: HashSet<_> = users.iter().map(|u| u.bubble_id.clone()).collect();
    assert_eq!(ids.len(), users.len(), "one id per user");
    assert_eq!(bubbles.len(), users.len(), "one user per bubbleId");

    let active: Vec<&User> = users.iter().filter(|u| u.is_active()).collect();
    let mut held = HashMap::new();
    for u in &active {
        for g in u.guards() {
            assert!(
                held.insert((g.field, g.key.clone()), u.bubble_id.clone())
                    .is_none(),
                "two active owners of {g:?}"
            );
        }
    }
    assert_eq!(
        store.count_active().await.unwrap(),
        active.len() as u64,
        "exact active count"
    );
    let listed = store.list_active(Window::after(None, 100)).await.unwrap();
    let listed: HashSet<_> = listed.items.iter().map(|u| u.bubble_id.clone()).collect();
    let expected: HashSet<_> = active.iter().map(|u| u.bubble_id.clone()).collect();
    assert_eq!(listed, expected, "the active list is the active users");

    let probe = BubbleId::parse("invariant-probe").unwrap();
    for u in &users {
        for field in UniqueField::ALL {
            let Some(value) = u.unique(field) else {
                continue;
            };
            let taken = held.contains_key(&(field, field.key(value)));
            let patch = Patch::from_json(&json!({ field.name(): value })).unwrap();
            let claim = store
                .apply(
                    &UserRef::Bubble(probe.clone()),
                    &Intent::Upsert(&probe, &patch),
                    None,
                )
                .await;
            match claim {
                Err(StoreError::Duplicate(f)) => {
                    assert!(taken && f == field, "{field:?} {value} refused but free")
                }
                Ok(_) => {
                    assert!(
                        !taken,
                        "{field:?} {value} held by an active user but claimable"
                    );
                    store
                        .apply(
                            &UserRef::Bubble(probe.clone()),
                            &Intent::Delete("probe"),
                            None,
                        )
                        .await
                        .unwrap();
                }
                Err(e) => panic!("probe failed: {e:?}"),
            }
        }
    }

    let mut history = Vec::new();
    let mut before = None;
    loop {
        let page = store
            .deletions(Window::after(before.as_deref(), 100))
            .await
            .unwrap();
        history.extend(page.items);
        match page.next {
            Some(n) => before = Some(n),
            None => break,
        }
    }
    let history: Vec<_> = history
        .into_iter()
        .filter(|d| d.bubble_id != probe)
        .collect();
    let by_id: HashMap<_, _> = users.iter().map(|u| (u.id, u)).collect();
    for d in &history {
        // An erased user's place may be taken by a new user: its records stay, scrubbed.
        let Some(u) = by_id.get(&d.id) else {
            assert!(
                d.email.is_none() && d.username.is_none(),
                "a record whose user was replaced holds no identity"
            );
            continue;
        };
        assert!(
            u.erased_at.is_none() || (d.email.is_none() && d.username.is_none()),
            "an erased user's records hold no identity"
        );
        assert!(
            d.deleted_at <= u.updated_at,
            "a record never precedes its deletion"
        );
    }
    for u in users
        .iter()
        .filter(|u| !u.is_active() && u.bubble_id != probe)
    {
        assert!(
            history
                .iter()
                .any(|d| d.id == u.id && Some(d.deleted_at) == u.deleted_at),
            "deleted user {} has its history record",
            u.bubble_id
        );
    }
}
