//! Model-based property test: random sequences of upserts, updates, deletes, restores,
//! batch creates, batch upserts and finds by e-mail and username run against the embedded
//! store and the DynamoDB store (local server). Both must give the same observable result
//! for every step, and keep every invariant.

use crate::common;

use std::sync::Arc;

use common::invariants;
use proptest::prelude::*;
use serde_json::{json, Map, Value};
use users_api::domain::{identity, BubbleId, Intent, Patch, UniqueField, User, UserRef};
use users_api::store::{batch, Lookup, StoreError, UserStore, Window};

const BUBBLES: [&str; 4] = ["b0", "b1", "b2", "b3"];
const EMAILS: [&str; 3] = ["a@x.io", "A@X.io", "c@x.io"];
const USERNAMES: [&str; 2] = ["ada", "bob"];

#[derive(Debug, Clone)]
enum Op {
    Upsert(usize, Value),
    Update(usize, Value),
    Delete(usize),
    Restore(usize),
    Erase(usize),
    Batch(Vec<(usize, Value)>),
    BatchUpsert(Vec<(usize, Value)>),
    FindEmail(usize),
    FindUsername(usize),
}

/// A field that is absent, erased or set to one of `values`.
fn slot(
    name: &'static str,
    values: &'static [&'static str],
) -> impl Strategy<Value = Option<(String, Value)>> {
    prop_oneof![
        2 => Just(None),
        1 => Just(Some((name.to_owned(), Value::Null))),
        3 => proptest::sample::select(values).prop_map(move |v| Some((name.to_owned(), json!(v)))),
    ]
}

/// `enabled`: absent, reset (`null`) or set.
fn enabled() -> impl Strategy<Value = Option<(String, Value)>> {
    prop_oneof![
        2 => Just(None),
        1 => Just(Some(("enabled".to_owned(), Value::Null))),
        2 => proptest::bool::ANY.prop_map(|b| Some(("enabled".to_owned(), json!(b)))),
    ]
}

fn body() -> impl Strategy<Value = Value> {
    (
        slot("email", &EMAILS),
        slot("username", &USERNAMES),
        slot("firstName", &["Ada", "Bob"]),
        slot("displayName", &["Ada L.", "B"]),
        enabled(),
    )
        .prop_map(|(a, b, c, d, e)| {
            Value::Object([a, b, c, d, e].into_iter().flatten().collect::<Map<_, _>>())
        })
}

fn op() -> impl Strategy<Value = Op> {
    let b = 0..BUBBLES.len();
    prop_oneof![
        3 => (b.clone(), body()).prop_map(|(i, v)| Op::Upsert(i, v)),
        2 => (b.clone(), body()).prop_map(|(i, v)| Op::Update(i, v)),
        // A flag reset alone: on an enabled user, no change at all.
        1 => b.clone().prop_map(|i| Op::Upsert(i, json!({"enabled": null}))),
        2 => b.clone().prop_map(Op::Delete),
        2 => b.clone().prop_map(Op::Restore),
        1 => b.clone().prop_map(Op::Erase),
        1 => proptest::collection::vec((b.clone(), body()), 1..3).prop_map(Op::Batch),
        1 => (0..EMAILS.len()).prop_map(Op::FindEmail),
        1 => (0..USERNAMES.len()).prop_map(Op::FindUsername),
        2 => proptest::collection::vec((b, body()), 1..4).prop_map(|mut items| {
            // The API refuses a bubbleId twice in one batch before the store sees it.
            let mut seen = std::collections::HashSet::new();
            items.retain(|(i, _)| seen.insert(*i));
            Op::BatchUpsert(items)
        }),
    ]
}

/// What a client can observe of an outcome: ids and timestamps differ between stores.
fn observed(r: Result<User, StoreError>) -> String {
    match r {
        Ok(u) => {
            let mut j = u.to_json();
            let deleted = !j["deletedAt"].is_null();
            let erased = !j["erasedAt"].is_null();
            for k in ["id", "createdAt", "updatedAt", "deletedAt", "erasedAt"] {
                j.as_object_mut().unwrap().remove(k);
            }
            format!("ok deleted={deleted} erased={erased} {j}")
        }
        Err(StoreError::Domain(d)) => format!("domain {d:?}"),
        Err(StoreError::Duplicate(f)) => format!("duplicate {}", f.name()),
        Err(e) => panic!("storage failure in a model run: {e:?}"),
    }
}

async fn run(store: &Arc<dyn UserStore>, op: &Op) -> Vec<String> {
    let key = |i: usize| UserRef::Bubble(BubbleId::parse(BUBBLES[i]).unwrap());
    let patch = |v: &Value| Patch::from_json(v).unwrap();
    let one = |r: Result<User, StoreError>| vec![observed(r)];
    match op {
        Op::Upsert(i, v) => {
            let (b, p) = (BubbleId::parse(BUBBLES[*i]).unwrap(), patch(v));
            one(store.apply(&key(*i), &Intent::Upsert(&b, &p), None).await)
        }
        Op::Update(i, v) => one(store
            .apply(&key(*i), &Intent::Update(&patch(v)), None)
            .await),
        Op::Delete(i) => one(store.apply(&key(*i), &Intent::Delete("model"), None).await),
        Op::Restore(i) => one(store.apply(&key(*i), &Intent::Restore, None).await),
        Op::Erase(i) => one(store.apply(&key(*i), &Intent::Erase("model"), None).await),
        Op::Batch(items) => {
            let mut out = Vec::new();
            // Items run one after another so both stores see the same order.
            for (i, v) in items {
                let (b, p) = (BubbleId::parse(BUBBLES[*i]).unwrap(), patch(v));
                out.push(observed(
                    store.apply(&key(*i), &Intent::Create(&b, &p), None).await,
                ));
            }
            out
        }
        Op::FindEmail(i) => {
            let key = identity::email_key(EMAILS[*i]);
            let found = store
                .find_active(&Lookup::Unique(UniqueField::Email, key))
                .await
                .unwrap();
            vec![format!("{:?}", found.map(|u| u.bubble_id))]
        }
        Op::FindUsername(i) => {
            let key = identity::username_key(USERNAMES[*i]);
            let found = store
                .find_active(&Lookup::Unique(UniqueField::Username, key))
                .await
                .unwrap();
            vec![format!("{:?}", found.map(|u| u.bubble_id))]
        }
        Op::BatchUpsert(items) => {
            let items: Vec<(BubbleId, Patch)> = items
                .iter()
                .map(|(i, v)| (BubbleId::parse(BUBBLES[*i]).unwrap(), patch(v)))
                .collect();
            // One write at a time, so both stores see the same order.
            let results = batch::upsert_all(store.as_ref(), &items, 1).await.unwrap();
            results
                .into_iter()
                .map(|r| match r {
                    Ok((user, outcome)) => format!("{} {}", outcome.as_str(), observed(Ok(user))),
                    Err(e) => observed(Err(e)),
                })
                .collect()
        }
    }
}

/// Each user's version and what a client sees of it but for the version and `updatedAt`.
async fn versions(store: &Arc<dyn UserStore>) -> std::collections::HashMap<String, (u64, String)> {
    invariants::all_users(store)
        .await
        .into_iter()
        .map(|u| {
            let mut j = u.to_json();
            for k in ["version", "updatedAt"] {
                j.as_object_mut().unwrap().remove(k);
            }
            (u.bubble_id.to_string(), (u.version, j.to_string()))
        })
        .collect()
}

/// A version moves only when what a client sees of the user moves (`enabled: null` on an
/// enabled user, say, is no change).
fn no_silent_versions(
    before: &std::collections::HashMap<String, (u64, String)>,
    after: &std::collections::HashMap<String, (u64, String)>,
    op: &Op,
) {
    for (b, (version, seen)) in after {
        if let Some((was, seen_before)) = before.get(b) {
            if seen == seen_before {
                assert_eq!(
                    version, was,
                    "{b}: a new version for no change after {op:?}"
                );
            }
        }
    }
}

async fn snapshot(store: &Arc<dyn UserStore>) -> (Vec<String>, u64, Vec<String>) {
    let mut users: Vec<String> = invariants::all_users(store)
        .await
        .into_iter()
        .map(|u| observed(Ok(u)))
        .collect();
    users.sort();
    // Who was deleted and what identity each record still holds (an erasure scrubs it).
    let mut deletions: Vec<String> = store
        .deletions(Window::after(None, 100))
        .await
        .unwrap()
        .items
        .iter()
        .map(|d| format!("{} {:?} {:?}", d.bubble_id, d.email, d.username))
        .collect();
    deletions.sort();
    (users, store.count_active().await.unwrap(), deletions)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn both_stores_agree_and_keep_the_invariants(ops in proptest::collection::vec(op(), 1..14)) {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        rt.block_on(async {
            let memory = common::memory_store();
            let dynamo = common::dynamo_store().await;
            for (step, op) in ops.iter().enumerate() {
                let before = (versions(&memory).await, versions(&dynamo).await);
                let expected = run(&memory, op).await;
                let actual = run(&dynamo, op).await;
                assert_eq!(actual, expected, "step {step}: {op:?}");
                no_silent_versions(&before.0, &versions(&memory).await, op);
                no_silent_versions(&before.1, &versions(&dynamo).await, op);
            }
            assert_eq!(snapshot(&dynamo).await, snapshot(&memory).await);
            invariants::check(&memory).await;
            invariants::check(&dynamo).await;
        });
    }
}
