//! Model-based property test: random sequences of upserts, updates, deletes, restores,
//! batch creates, batch upserts, finds by e-mail and username, lists and feeds, each as the
//! whole directory or as one of two organizations sees it (a bound view, what a bound key
//! is given), and managed keys made, rotated, revoked and used, run against the embedded
//! store and the DynamoDB store (local server). Both must give the same observable result
//! for every step, keep every invariant, and no organization's view may show another's user.

use crate::common;

mod steps;

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use common::invariants;
use proptest::prelude::*;
use serde_json::Value;
use steps::{step, Op, Step, BUBBLES, EMAILS, ORGS, USERNAMES};
use users_api::domain::{
    identity, BubbleId, Intent, Patch, Relation, Timestamp, UniqueField, User, UserRef,
};
use users_api::keys::{Binding, KeyRecord, KeyRing, Keys, Scope, Scopes};
use users_api::store::bound::Bound;
use users_api::store::{batch, Lookup, StoreError, UserStore, Window};

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

/// A user operation on `store` (the directory or a bound view of it).
async fn run_users(store: &Arc<dyn UserStore>, op: &Op) -> Vec<String> {
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
        Op::List
        | Op::Feed
        | Op::KeyMake(..)
        | Op::KeyRotate(_)
        | Op::KeyRevoke(_)
        | Op::KeyUse(..) => {
            unreachable!("not a user operation")
        }
    }
}

/// One store under test: its users, its managed keys as one instance sees them, and the
/// keys made so far with every secret each was given.
struct Subject {
    store: Arc<dyn UserStore>,
    keys: Keys,
    made: Vec<(String, Vec<String>)>,
}

impl Subject {
    fn new(store: Arc<dyn UserStore>, now: &Arc<AtomicI64>) -> Self {
        let now = now.clone();
        let clock = Arc::new(move || Timestamp::from_millis(now.load(Ordering::SeqCst)));
        let keys = Keys::new(KeyRing::parse("").unwrap(), store.keys(), clock);
        Self {
            store,
            keys,
            made: Vec::new(),
        }
    }
}

fn binding(org: usize) -> Binding {
    Binding {
        relation: Relation::Producer,
        id: ORGS[org].parse().unwrap(),
    }
}

/// What `step` observes on `subject` at `now`; panics if a bound view shows another
/// organization's user.
async fn run(subject: &mut Subject, step: &Step, now: Timestamp) -> Vec<String> {
    let view: Arc<dyn UserStore> = match step.by {
        None => subject.store.clone(),
        Some(o) => Arc::new(Bound::new(subject.store.clone(), binding(o))),
    };
    let ours = |u: &User| match step.by {
        None => true,
        Some(o) => u.text("producerId") == Some(ORGS[o]) || u.profile.iter().next().is_none(),
    };
    match &step.op {
        Op::List | Op::Feed => {
            let page = match step.op {
                Op::List => view.list_active(Window::after(None, 100)).await,
                _ => view.changes("1970", Window::after(None, 100)).await,
            }
            .unwrap();
            assert!(
                page.items.iter().all(ours),
                "{step:?} shows another organization's user"
            );
            let mut seen: Vec<String> = page
                .items
                .iter()
                .map(|u| format!("{} deleted={}", u.bubble_id, u.deleted_at.is_some()))
                .collect();
            seen.sort();
            seen
        }
        Op::KeyMake(org, write) => {
            let scopes = match write {
                true => Scopes::of([Scope::Read, Scope::Write]),
                false => Scopes::READ,
            };
            let name = format!("k{}", subject.made.len());
            let (record, secret) =
                KeyRecord::create(name, scopes, org.map(binding), None, "model", now);
            subject.keys.store().create(&record).await.unwrap();
            subject
                .made
                .push((record.id, vec![secret.expose().to_owned()]));
            vec!["made".into()]
        }
        Op::KeyRotate(k) | Op::KeyRevoke(k) => {
            let Some((id, secrets)) = subject.made.get_mut(*k) else {
                return vec!["no such key".into()];
            };
            let store = subject.keys.store();
            let current = store.get(id).await.unwrap().expect("made");
            let next = match step.op {
                Op::KeyRotate(_) => {
                    let (next, secret) = current.rotated(0, now);
                    secrets.push(secret.expose().to_owned());
                    next
                }
                _ => current.revoked(now),
            };
            store.replace(&current, &next).await.unwrap();
            subject.keys.forget(id);
            vec![format!("{:?}", next.revoked_at.is_some())]
        }
        Op::KeyUse(k, s) => {
            let Some(secret) = subject.made.get(*k).and_then(|(_, all)| all.get(*s)) else {
                return vec!["no such secret".into()];
            };
            match subject.keys.authenticate(secret).await {
                Ok(c) => vec![format!(
                    "ok {} {:?} {:?}",
                    c.name,
                    c.scopes.names(),
                    c.binding.map(Binding::value)
                )],
                Err(why) => vec![why.name().to_owned()],
            }
        }
        op => {
            // An erasure scrubs the relation ids, so whose it was is read before.
            let held = match (step.by, op) {
                (Some(o), Op::Erase(i)) => held_by(&subject.store, *i, o).await,
                _ => false,
            };
            let out = run_users(&view, op).await;
            // What a bound view answers is its organization's, or a refusal.
            assert!(
                out.iter().all(|o| !o.starts_with("ok")
                    || step.by.is_none()
                    || o.contains(ORGS[step.by.unwrap()])
                    || (held && o.contains("erased=true"))),
                "{step:?} answered {out:?}"
            );
            out
        }
    }
}

/// Whether user `i` belongs to organization `org` in the whole directory.
async fn held_by(store: &Arc<dyn UserStore>, i: usize, org: usize) -> bool {
    let key = UserRef::Bubble(BubbleId::parse(BUBBLES[i]).unwrap());
    let user = store.get(&key).await.unwrap();
    user.is_some_and(|u| u.text("producerId") == Some(ORGS[org]))
}

/// Each organization's count, as its bound view answers it, is the number of its active
/// users a walk of its list finds.
async fn counts_hold(store: &Arc<dyn UserStore>) {
    for (o, org) in ORGS.iter().enumerate() {
        let walked = store
            .list_related(Relation::Producer, org, Window::after(None, 100))
            .await
            .unwrap()
            .items
            .len() as u64;
        let bound = Bound::new(store.clone(), binding(o));
        assert_eq!(bound.count_active().await.unwrap(), walked, "{org}");
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
    fn both_stores_agree_and_keep_the_invariants(steps in proptest::collection::vec(step(), 1..16)) {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        rt.block_on(async {
            // One clock for both key caches, a second a step: their 10 s agree exactly.
            let clock = Arc::new(AtomicI64::new(Timestamp::now().millis()));
            let mut memory = Subject::new(common::memory_store(), &clock);
            let mut dynamo = Subject::new(common::dynamo_store().await, &clock);
            for (i, step) in steps.iter().enumerate() {
                let now = Timestamp::from_millis(clock.fetch_add(1_000, Ordering::SeqCst));
                let before = (versions(&memory.store).await, versions(&dynamo.store).await);
                let expected = run(&mut memory, step, now).await;
                let actual = run(&mut dynamo, step, now).await;
                assert_eq!(actual, expected, "step {i}: {step:?}");
                no_silent_versions(&before.0, &versions(&memory.store).await, &step.op);
                no_silent_versions(&before.1, &versions(&dynamo.store).await, &step.op);
                counts_hold(&memory.store).await;
                counts_hold(&dynamo.store).await;
            }
            assert_eq!(snapshot(&dynamo.store).await, snapshot(&memory.store).await);
            invariants::check(&memory.store).await;
            invariants::check(&dynamo.store).await;
        });
    }
}
