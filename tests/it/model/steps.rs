//! What the model test runs: random steps over a few users, e-mails, usernames and two
//! organizations, each as the whole directory or as one organization sees it.

use proptest::prelude::*;
use serde_json::{json, Map, Value};

pub const BUBBLES: [&str; 4] = ["b0", "b1", "b2", "b3"];
pub const EMAILS: [&str; 3] = ["a@x.io", "A@X.io", "c@x.io"];
pub const USERNAMES: [&str; 2] = ["ada", "bob"];
pub const ORGS: [&str; 2] = [
    "0a0a0a0a-0000-4000-8000-00000000000a",
    "0b0b0b0b-0000-4000-8000-00000000000b",
];

/// One step: an operation, as the whole directory (`None`) or an organization sees it.
#[derive(Debug, Clone)]
pub struct Step {
    pub by: Option<usize>,
    pub op: Op,
}

/// What a step does: a user operation, a read of a page, or a managed key's life.
#[derive(Debug, Clone)]
pub enum Op {
    Upsert(usize, Value),
    Update(usize, Value),
    Delete(usize),
    Restore(usize),
    Erase(usize),
    Batch(Vec<(usize, Value)>),
    BatchUpsert(Vec<(usize, Value)>),
    FindEmail(usize),
    FindUsername(usize),
    List,
    Feed,
    /// A managed key, bound to an organization or not, with `write` or only `read`.
    KeyMake(Option<usize>, bool),
    /// Rotates key `k` with no overlap: its former secrets stop at once.
    KeyRotate(usize),
    KeyRevoke(usize),
    /// Presents the `s`-th secret made for key `k`.
    KeyUse(usize, usize),
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
        slot("producerId", &ORGS),
    )
        .prop_map(|(a, b, c, d, e, f)| {
            Value::Object(
                [a, b, c, d, e, f]
                    .into_iter()
                    .flatten()
                    .collect::<Map<_, _>>(),
            )
        })
}

pub fn step() -> impl Strategy<Value = Step> {
    let by = prop_oneof![2 => Just(None), 1 => Just(Some(0)), 1 => Just(Some(1))];
    (by, op()).prop_map(|(by, op)| Step { by, op })
}

fn op() -> impl Strategy<Value = Op> {
    let b = 0..BUBBLES.len();
    let org = prop_oneof![Just(None), Just(Some(0)), Just(Some(1))];
    prop_oneof![
        1 => Just(Op::List),
        1 => Just(Op::Feed),
        1 => (org, proptest::bool::ANY).prop_map(|(o, w)| Op::KeyMake(o, w)),
        1 => (0..3usize).prop_map(Op::KeyRotate),
        1 => (0..3usize).prop_map(Op::KeyRevoke),
        2 => (0..3usize, 0..3usize).prop_map(|(k, s)| Op::KeyUse(k, s)),
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
