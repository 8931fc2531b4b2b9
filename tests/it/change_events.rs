//! Change events end to end on the local engine: the API writes, the table's stream carries
//! the changes, the stream handler (following the local stream, as `make run` does) turns
//! them into events. And the EventBridge sink's batching and retries, on a mocked bus.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use serde_json::{json, Value};
use users_api::domain::ChangeKind;
use users_api::events::local::{LocalStream, Pace, Start};
use users_api::events::{publish, BatchResponse, ChangeEvent, Sink, StreamEvent};

use crate::common::{dynamo, dynamo_endpoint, Client};

/// Keeps what it is given, with how long after the test's start it came.
#[derive(Default)]
struct Capture {
    events: Mutex<Vec<(ChangeEvent, Duration)>>,
    start: Mutex<Option<Instant>>,
}

#[async_trait]
impl Sink for Capture {
    async fn put(&self, events: &[ChangeEvent]) -> Vec<Result<(), users_api::events::EventError>> {
        let since = self
            .start
            .lock()
            .unwrap()
            .get_or_insert_with(Instant::now)
            .elapsed();
        let mut kept = self.events.lock().unwrap();
        kept.extend(events.iter().map(|e| (e.clone(), since)));
        vec![Ok(()); events.len()]
    }
}

impl Capture {
    async fn wait_for(&self, n: usize) -> Vec<ChangeEvent> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let got: Vec<_> = self
                .events
                .lock()
                .unwrap()
                .iter()
                .map(|(e, _)| e.clone())
                .collect();
            if got.len() >= n || Instant::now() > deadline {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

fn of<'a>(events: &'a [ChangeEvent], id: &str) -> Vec<&'a ChangeEvent> {
    events.iter().filter(|e| e.detail.id == id).collect()
}

#[tokio::test]
async fn the_sample_stream_event_makes_the_events_it_records() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/events/stream/01-create-update-disable-delete.json"
    );
    let event: StreamEvent = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let capture = Capture::default();
    let outcome = publish(&event.records, &capture).await;
    assert_eq!((outcome.published, &outcome.failure), (4, &None));
    let events = capture.wait_for(4).await;
    let kinds: Vec<_> = events.iter().map(|e| e.kind.name()).collect();
    assert_eq!(
        kinds,
        ["UserCreated", "UserUpdated", "UserDisabled", "UserDeleted"]
    );
    let response = serde_json::to_value(BatchResponse::from(&outcome)).unwrap();
    assert_eq!(response, json!({"batchItemFailures": []}));
}

/// On the local engine (`make check` skips it).
mod dynamodb_only {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn every_change_is_one_event_in_version_order_with_names_and_no_values() {
        let store = dynamo().await;
        let (users_table, _) = store.table_names();
        let stream = LocalStream::new(&dynamo_endpoint(), users_table);
        let capture = Arc::new(Capture::default());
        let follower = {
            let capture = capture.clone();
            tokio::spawn(async move {
                stream
                    .follow(
                        capture.as_ref(),
                        Start::Oldest,
                        Pace {
                            poll: Duration::from_millis(50),
                            window: Duration::ZERO,
                        },
                    )
                    .await
            })
        };
        let store: Arc<dyn users_api::store::UserStore> = Arc::new(store);
        let api = Client::new(store.clone());
        let idp = Client::scim(store);

        let made = api
            .call(
                "POST",
                "/users/ev-1",
                Some(json!({"email": "Secret.Person@x.io", "firstName": "Zoé"})),
            )
            .await;
        assert_eq!(made.status, 200, "{}", made.text);
        let id = made.json()["id"].as_str().unwrap().to_owned();
        let path = format!("/users/{id}");
        let steps: [(&str, String, Option<Value>); 7] = [
            ("PATCH", path.clone(), Some(json!({"firstName": "Zoë"}))),
            ("PATCH", path.clone(), Some(json!({"firstName": "Zoë"}))), // no change: no event
            ("PATCH", path.clone(), Some(json!({"enabled": false}))),
            ("PATCH", path.clone(), Some(json!({"enabled": true}))),
            ("DELETE", path.clone(), None),
            ("POST", format!("{path}/restore"), None),
            (
                "POST",
                "/users?upsert=true".into(),
                Some(json!([
                    {"bubbleId": "ev-2", "lastName": "Two"},
                    {"bubbleId": "ev-3", "lastName": "Three"},
                    {"bubbleId": "ev-4", "lastName": "Four"}
                ])),
            ),
        ];
        for (method, path, body) in steps {
            let answer = api.call(method, &path, body).await;
            assert_eq!(answer.status, 200, "{method} {path}: {}", answer.text);
        }
        // A SCIM externalId change moves the user to a new bubbleId: one update, same id.
        let patch = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "replace", "path": "externalId", "value": "ev-1-moved"}]});
        let moved = idp
            .call("PATCH", &format!("/Users/{id}"), Some(patch))
            .await;
        assert_eq!(moved.status, 200, "{}", moved.text);
        let erased = api.call("POST", &format!("{path}/erase"), None).await;
        assert_eq!(erased.status, 200, "{}", erased.text);

        let events = capture.wait_for(11).await;
        follower.abort();
        assert_eq!(events.len(), 11, "{events:#?}");

        let mine = of(&events, &id);
        let kinds: Vec<_> = mine.iter().map(|e| e.kind).collect();
        use ChangeKind::*;
        assert_eq!(
            kinds,
            [Created, Updated, Disabled, Enabled, Deleted, Restored, Updated, Erased]
        );
        let versions: Vec<_> = mine.iter().map(|e| e.detail.version).collect();
        assert_eq!(
            versions,
            [1, 2, 3, 4, 5, 6, 7, 8],
            "one event per version, in order"
        );
        assert_eq!(
            mine[0].detail.changed,
            ["bubbleId", "email", "firstName", "enabled"]
        );
        assert_eq!(mine[1].detail.changed, ["firstName"]);
        assert_eq!(mine[2].detail.changed, ["enabled"]);
        assert_eq!(mine[4].detail.changed, ["deletedAt"]);
        assert_eq!(mine[6].detail.changed, ["bubbleId"]);
        assert_eq!(mine[6].detail.bubble_id, "ev-1-moved");
        for e in &mine {
            assert_eq!(e.detail.event_id, format!("{id}:{}", e.detail.version));
        }
        let batch: Vec<_> = events
            .iter()
            .filter(|e| e.detail.bubble_id.starts_with("ev-") && e.detail.id != id)
            .collect();
        assert_eq!(batch.len(), 3);
        assert!(batch
            .iter()
            .all(|e| e.kind == Created && e.detail.changed.contains(&"lastName")));

        let wire: String = events.iter().map(|e| e.to_json().to_string()).collect();
        for value in [
            "Secret.Person",
            "secret.person",
            "x.io",
            "Zoé",
            "Zoë",
            "Three",
        ] {
            assert!(
                !wire.contains(value),
                "an event carries the value {value}: {wire}"
            );
        }
    }
}
