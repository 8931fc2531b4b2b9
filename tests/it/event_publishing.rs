//! Publishing a batch of stream records: calls of at most ten events with no user twice,
//! partial failures retried, the first record that cannot be published reported (and
//! nothing after it put), and the EventBridge sink's answer read entry by entry.

use std::sync::Mutex;

use async_trait::async_trait;
use aws_sdk_eventbridge::operation::put_events::PutEventsOutput;
use aws_sdk_eventbridge::types::PutEventsResultEntry;
use aws_smithy_mocks::{mock, mock_client, RuleMode};
use serde_json::json;
use users_api::domain::{BubbleId, Intent, Patch, Plan, User};
use users_api::events::record::item_image;
use users_api::events::sinks::EventBridgeSink;
use users_api::events::EventError;
use users_api::events::{publish, BatchResponse, ChangeEvent, Sink, StreamRecord};
use users_api::store::dynamo::item::user_item;

/// A user's versions 1..=n.
fn versions(bubble_id: &str, n: u64) -> Vec<User> {
    let b = BubbleId::parse(bubble_id).unwrap();
    let mut out: Vec<User> = Vec::new();
    for v in 1..=n {
        let patch = Patch::from_json(&json!({"lastName": format!("v{v}")})).unwrap();
        match Intent::Upsert(&b, &patch).plan(out.last(), None) {
            Ok(Plan::Write(t)) => out.push(t.new),
            other => panic!("{other:?}"),
        }
    }
    out
}

/// The stream records of `users`' writes, `seq` numbered from 1 in the given order.
fn records(writes: &[(Option<&User>, &User)]) -> Vec<StreamRecord> {
    writes
        .iter()
        .enumerate()
        .map(|(i, (old, new))| {
            serde_json::from_value(json!({
                "eventName": if old.is_some() { "MODIFY" } else { "INSERT" },
                "dynamodb": {
                    "SequenceNumber": (i + 1).to_string(),
                    "OldImage": old.map(|u| item_image(&user_item(u, 4))),
                    "NewImage": item_image(&user_item(new, 4)),
                }
            }))
            .unwrap()
        })
        .collect()
}

/// Records every call; fails the events `fail` names (by bubbleId) `times` times each.
struct Bus {
    calls: Mutex<Vec<Vec<(String, u64)>>>,
    fail: Vec<&'static str>,
    times: Mutex<u32>,
}

impl Bus {
    fn new(fail: Vec<&'static str>, times: u32) -> Self {
        Self {
            calls: Mutex::default(),
            fail,
            times: Mutex::new(times),
        }
    }
}

#[async_trait]
impl Sink for Bus {
    async fn put(&self, events: &[ChangeEvent]) -> Vec<Result<(), EventError>> {
        assert!(events.len() <= 10);
        self.calls.lock().unwrap().push(
            events
                .iter()
                .map(|e| (e.detail.bubble_id.clone(), e.detail.version))
                .collect(),
        );
        let mut times = self.times.lock().unwrap();
        let failing = *times > 0;
        let out = events
            .iter()
            .map(|e| {
                if failing && self.fail.contains(&e.detail.bubble_id.as_str()) {
                    Err(EventError::Refused("ThrottlingException".into()))
                } else {
                    Ok(())
                }
            })
            .collect();
        if failing {
            *times -= 1;
        }
        out
    }
}

#[tokio::test]
async fn twenty_five_changes_take_three_calls() {
    let users: Vec<User> = (0..25)
        .map(|i| versions(&format!("u-{i}"), 1).remove(0))
        .collect();
    let writes: Vec<_> = users.iter().map(|u| (None, u)).collect();
    let bus = Bus::new(vec![], 0);
    let outcome = publish(&records(&writes), &bus).await;
    assert_eq!(
        (outcome.published, outcome.calls, outcome.failure),
        (25, 3, None)
    );
    let sizes: Vec<_> = bus.calls.lock().unwrap().iter().map(Vec::len).collect();
    assert_eq!(sizes, [10, 10, 5]);
}

#[tokio::test]
async fn a_call_never_holds_one_user_twice_so_versions_go_out_in_order() {
    let a = versions("a", 3);
    let b = versions("b", 2);
    let writes = [
        (None, &a[0]),
        (None, &b[0]),
        (Some(&a[0]), &a[1]),
        (Some(&b[0]), &b[1]),
        (Some(&a[1]), &a[2]),
    ];
    let bus = Bus::new(vec![], 0);
    let outcome = publish(&records(&writes), &bus).await;
    assert_eq!(outcome.published, 5);
    let calls = bus.calls.lock().unwrap().clone();
    let s = |b: &str, v: u64| (b.to_owned(), v);
    assert_eq!(
        calls,
        [
            vec![s("a", 1), s("b", 1)],
            vec![s("a", 2), s("b", 2)],
            vec![s("a", 3)]
        ]
    );
}

#[tokio::test]
async fn a_failed_entry_is_retried_alone() {
    let users: Vec<User> = ["x", "y", "z"]
        .iter()
        .map(|b| versions(b, 1).remove(0))
        .collect();
    let writes: Vec<_> = users.iter().map(|u| (None, u)).collect();
    let bus = Bus::new(vec!["y"], 1);
    let outcome = publish(&records(&writes), &bus).await;
    assert_eq!(
        (outcome.published, outcome.calls, outcome.failure),
        (3, 2, None)
    );
    assert_eq!(bus.calls.lock().unwrap()[1], [("y".to_owned(), 1)]);
}

#[tokio::test]
async fn an_entry_that_keeps_failing_stops_the_batch_at_its_record() {
    let a = versions("a", 2);
    let b = versions("b", 1);
    let writes = [(None, &a[0]), (None, &b[0]), (Some(&a[0]), &a[1])];
    let bus = Bus::new(vec!["b"], 99);
    let outcome = publish(&records(&writes), &bus).await;
    let (seq, reason) = outcome.failure.clone().expect("a failure");
    assert_eq!(
        (seq.as_str(), reason),
        ("2", EventError::Refused("ThrottlingException".into()))
    );
    // a's second version is after the failed record: not put, so it cannot overtake.
    let put: Vec<_> = bus.calls.lock().unwrap().concat();
    assert!(!put.contains(&("a".to_owned(), 2)), "{put:?}");
    let response = serde_json::to_value(BatchResponse::from(&outcome)).unwrap();
    assert_eq!(
        response,
        json!({"batchItemFailures": [{"itemIdentifier": "2"}]})
    );
}

#[tokio::test]
async fn a_poison_record_is_reported_after_what_precedes_it_is_published() {
    let a = versions("a", 1);
    let mut recs = records(&[(None, &a[0])]);
    let poison: StreamRecord = serde_json::from_value(json!({
        "eventName": "INSERT",
        "dynamodb": {"SequenceNumber": "2", "NewImage": {"bubbleId": {"S": "p"}}}
    }))
    .unwrap();
    recs.push(poison);
    let bus = Bus::new(vec![], 0);
    let outcome = publish(&recs, &bus).await;
    assert_eq!(outcome.published, 1);
    assert_eq!(outcome.failure.map(|f| f.0).as_deref(), Some("2"));
}

#[tokio::test]
async fn the_eventbridge_sink_reads_each_entry_of_the_answer() {
    let answer = mock!(aws_sdk_eventbridge::Client::put_events)
        .match_requests(|r| {
            r.entries().len() == 2
                && r.entries().iter().all(|e| {
                    e.source() == Some("users-api")
                        && e.event_bus_name() == Some("users-bus")
                        && e.detail().is_some_and(|d| d.contains("\"eventId\""))
                })
        })
        .then_output(|| {
            PutEventsOutput::builder()
                .failed_entry_count(1)
                .entries(PutEventsResultEntry::builder().event_id("e-1").build())
                .entries(
                    PutEventsResultEntry::builder()
                        .error_code("InternalFailure")
                        .error_message("try again")
                        .build(),
                )
                .build()
        });
    let client = mock_client!(aws_sdk_eventbridge, RuleMode::Sequential, [&answer]);
    let sink = EventBridgeSink::with_client(client, "users-bus");
    let users: Vec<User> = ["m", "n"]
        .iter()
        .map(|b| versions(b, 1).remove(0))
        .collect();
    let events: Vec<ChangeEvent> = records(&users.iter().map(|u| (None, u)).collect::<Vec<_>>())
        .iter()
        .map(|r| users_api::events::event_for(r).unwrap().unwrap())
        .collect();
    let results = sink.put(&events).await;
    assert_eq!(
        results,
        [Ok(()), Err(EventError::Refused("InternalFailure".into()))]
    );
}
