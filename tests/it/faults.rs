//! Storage faults, injected with `aws-smithy-mocks`: throttling is retried then answered 503,
//! timeouts become 503, each transaction cancellation reason maps to its answer, and no
//! failure is followed by a second, partial write. Rules run in sequence: a request the test
//! did not expect finds no rule and fails the test.

use crate::common;

use std::sync::Arc;
use std::time::Duration;

use aws_sdk_dynamodb::config::retry::RetryConfig;
use aws_sdk_dynamodb::config::timeout::TimeoutConfig;
use aws_sdk_dynamodb::operation::get_item::GetItemOutput;
use aws_sdk_dynamodb::operation::transact_write_items::{
    TransactWriteItemsError, TransactWriteItemsOutput,
};
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::error::{
    ConditionalCheckFailedException, TransactionCanceledException,
};
use aws_sdk_dynamodb::types::CancellationReason;
use aws_sdk_dynamodb::Client as Dynamo;
use aws_smithy_mocks::{mock, mock_client, Rule, RuleMode};
use common::Client;
use serde_json::json;
use users_api::domain::{BubbleId, DeletionRecord, Intent, Patch, Plan, Relation, User, UserRef};
use users_api::store::dynamo::item::{user_item, Item};
use users_api::store::dynamo::{client_settings, local_client_with, DynamoStore};
use users_api::store::{Lookup, Slice, StoreError, UserStore, Window};

const THROTTLED: &str = r#"{"__type":"com.amazonaws.dynamodb.v20120810#ThrottlingException","message":"Rate exceeded"}"#;

fn client(rules: &[&Rule]) -> Client {
    let dynamo = mock_client!(aws_sdk_dynamodb, RuleMode::Sequential, rules, |c| c
        .retry_config(
            RetryConfig::standard()
                .with_max_attempts(3)
                .with_initial_backoff(Duration::from_millis(1))
        ));
    let store: Arc<dyn UserStore> = Arc::new(DynamoStore::new(dynamo, "users", "meta", 1));
    Client::new(store)
}

fn user(body: serde_json::Value) -> User {
    let b = BubbleId::parse("b1").unwrap();
    let p = Patch::from_json(&body).unwrap();
    match Intent::Upsert(&b, &p).plan(None, None).unwrap() {
        Plan::Write(t) => t.new,
        Plan::Unchanged(_) => unreachable!(),
    }
}

fn item(u: &User) -> Item {
    user_item(u, 1)
}

/// `GetItem` throttled on each of the client's three attempts.
fn throttled_reads() -> Rule {
    mock!(Dynamo::get_item)
        .sequence()
        .http_status(400, Some(THROTTLED.into()))
        .times(3)
        .build()
}

/// The blind update's failure for a user that does not exist yet.
fn no_such_user() -> Rule {
    mock!(Dynamo::update_item).then_error(|| {
        UpdateItemError::ConditionalCheckFailedException(
            ConditionalCheckFailedException::builder().build(),
        )
    })
}

/// The blind update's failure when the user exists as `current` (DynamoDB returns it).
fn blind_update_finds(current: &User) -> Rule {
    let current_item = item(current);
    mock!(Dynamo::update_item).then_error(move || {
        UpdateItemError::ConditionalCheckFailedException(
            ConditionalCheckFailedException::builder()
                .set_item(Some(current_item.clone()))
                .build(),
        )
    })
}

fn cancelled(reasons: Vec<CancellationReason>) -> TransactWriteItemsError {
    TransactWriteItemsError::TransactionCanceledException(
        TransactionCanceledException::builder()
            .set_cancellation_reasons(Some(reasons))
            .build(),
    )
}

fn reason(code: &str) -> CancellationReason {
    CancellationReason::builder().code(code).build()
}

#[tokio::test]
async fn throttling_is_retried_then_answered_503_with_retry_after() {
    let throttled = throttled_reads();
    let c = client(&[&throttled]);
    let answer = c.call("GET", "/users/b1", None).await;
    assert_eq!(answer.status, 503, "{}", answer.text);
    assert_eq!(answer.json()["error"], "ALGOREP_036");
    assert_eq!(answer.header("retry-after"), Some("1"));
    assert_eq!(throttled.num_calls(), 3, "three attempts before giving up");
    assert!(
        !answer.text.contains("Throttling"),
        "no internal text leaks"
    );
}

#[tokio::test]
async fn a_throttle_that_clears_within_the_retries_is_invisible() {
    let stored = item(&user(json!({"firstName": "A"})));
    let rule = mock!(Dynamo::get_item)
        .sequence()
        .http_status(400, Some(THROTTLED.into()))
        .times(2)
        .output(move || {
            GetItemOutput::builder()
                .set_item(Some(stored.clone()))
                .build()
        })
        .build();
    let c = client(&[&rule]);
    let answer = c.call("GET", "/users/b1", None).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(rule.num_calls(), 3);
}

#[tokio::test]
async fn a_storage_timeout_is_a_503() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let (retry, _) = client_settings();
    let timeouts = TimeoutConfig::builder()
        .operation_attempt_timeout(Duration::from_millis(100))
        .operation_timeout(Duration::from_millis(500))
        .build();
    let dynamo = local_client_with(
        &endpoint,
        retry.with_initial_backoff(Duration::from_millis(1)),
        timeouts,
    );
    let store: Arc<dyn UserStore> = Arc::new(DynamoStore::new(dynamo, "users", "meta", 1));
    let answer = Client::new(store).call("GET", "/users/b1", None).await;
    assert_eq!(answer.status, 503, "{}", answer.text);
    assert_eq!(answer.json()["error"], "ALGOREP_036");
    drop(listener);
}

#[test]
fn production_clients_have_attempt_and_operation_timeouts() {
    let (retry, timeouts) = client_settings();
    assert_eq!(retry.max_attempts(), 3);
    assert!(timeouts.operation_attempt_timeout().is_some());
    assert!(timeouts.operation_timeout().is_some());
    assert!(timeouts.connect_timeout().is_some());
}

#[tokio::test]
async fn a_taken_email_cancels_the_creation_and_nothing_else_is_written() {
    let blind = no_such_user();
    let tx = mock!(Dynamo::transact_write_items).then_error(|| {
        cancelled(vec![
            reason("None"),
            reason("ConditionalCheckFailed"),
            reason("None"),
        ])
    });
    let c = client(&[&blind, &tx]);
    let answer = c
        .call("POST", "/users/b1", Some(json!({"email": "a@x.io"})))
        .await;
    assert_eq!(answer.status, 409, "{}", answer.text);
    assert_eq!(answer.json()["details"][0]["field"], "email");
    assert_eq!(
        (blind.num_calls(), tx.num_calls()),
        (1, 1),
        "one transaction, no follow-up write"
    );
}

#[tokio::test]
async fn a_lost_creation_race_is_planned_again_on_the_winners_item() {
    let winner = user(json!({"firstName": "W"}));
    let winner_item = item(&winner);
    let blind = no_such_user();
    let lost = mock!(Dynamo::transact_write_items).then_error(move || {
        let mut user_failed = reason("ConditionalCheckFailed");
        user_failed.item = Some(winner_item.clone());
        cancelled(vec![user_failed, reason("None")])
    });
    // Now an update of the winner that adds an e-mail: a transaction again.
    let merged = mock!(Dynamo::transact_write_items)
        .then_output(|| TransactWriteItemsOutput::builder().build());
    let c = client(&[&blind, &lost, &merged]);
    let answer = c
        .call("POST", "/users/b1", Some(json!({"email": "a@x.io"})))
        .await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    let body = answer.json();
    assert_eq!(
        (
            body["id"].as_str().unwrap(),
            body["firstName"].as_str(),
            body["version"].as_u64()
        ),
        (winner.id.to_string().as_str(), Some("W"), Some(2))
    );
    assert_eq!(merged.num_calls(), 1);
}

#[tokio::test]
async fn a_transaction_conflict_is_retried_after_reading_again() {
    let blind = no_such_user();
    let conflict = mock!(Dynamo::transact_write_items)
        .then_error(|| cancelled(vec![reason("TransactionConflict"), reason("None")]));
    let reread = mock!(Dynamo::get_item).then_output(|| GetItemOutput::builder().build());
    let ok = mock!(Dynamo::transact_write_items)
        .then_output(|| TransactWriteItemsOutput::builder().build());
    let c = client(&[&blind, &conflict, &reread, &ok]);
    let answer = c
        .call("POST", "/users/b1", Some(json!({"email": "a@x.io"})))
        .await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(
        (conflict.num_calls(), reread.num_calls(), ok.num_calls()),
        (1, 1, 1)
    );
}

#[tokio::test]
async fn a_throttled_transaction_is_a_503_and_not_retried_as_a_conflict() {
    let blind = no_such_user();
    let throttled = mock!(Dynamo::transact_write_items)
        .then_error(|| cancelled(vec![reason("ThrottlingError"), reason("None")]));
    let c = client(&[&blind, &throttled]);
    let answer = c
        .call("POST", "/users/b1", Some(json!({"email": "a@x.io"})))
        .await;
    assert_eq!(answer.status, 503, "{}", answer.text);
    assert_eq!(throttled.num_calls(), 1);
}

#[tokio::test]
async fn a_stale_if_match_found_by_the_blind_update_is_412_without_a_write() {
    let blind = blind_update_finds(&user(json!({"firstName": "A"})));
    let c = client(&[&blind]);
    let answer = c
        .call_with(
            "POST",
            "/users/b1",
            &[("if-match", "\"5\"")],
            Some(json!({"firstName": "B"})),
        )
        .await;
    assert_eq!(answer.status, 412, "{}", answer.text);
    assert_eq!(blind.num_calls(), 1);
}

#[tokio::test]
async fn an_unchanged_write_costs_the_one_failed_conditional_update() {
    let blind = blind_update_finds(&user(json!({"firstName": "A"})));
    let c = client(&[&blind]);
    let answer = c
        .call("POST", "/users/b1", Some(json!({"firstName": "A"})))
        .await;
    assert_eq!((answer.status.as_u16(), answer.db_requests()), (200, 1));
    assert_eq!(answer.json()["version"], 1);
}

#[tokio::test]
async fn an_unexpected_storage_error_is_an_opaque_500() {
    let broken = mock!(Dynamo::update_item).then_http_response(|| {
        aws_smithy_runtime_api::http::Response::new(
            aws_smithy_runtime_api::http::StatusCode::try_from(400).unwrap(),
            aws_smithy_types::body::SdkBody::from(r#"{"__type":"com.amazonaws.dynamodb.v20120810#ResourceNotFoundException","message":"Requested resource not found: Table: users-prod"}"#),
        )
    });
    let logs = common::logs();
    let c = client(&[&broken]);
    let answer = c
        .call("POST", "/users/b1", Some(json!({"firstName": "A"})))
        .await;
    assert_eq!(answer.status, 500, "{}", answer.text);
    assert_eq!(answer.json()["error"], "ALGOREP_003");
    assert!(!answer.text.contains("users-prod") && !answer.text.contains("ResourceNotFound"));
    let text = logs.text();
    let line = text
        .lines()
        .find(|l| l.contains("UpdateItem: ResourceNotFoundException"))
        .unwrap_or_else(|| panic!("the log names the operation and the code: {text}"));
    assert!(
        line.contains("(the table or index does not exist), request id"),
        "{line}"
    );
    assert!(!line.contains("users-prod"), "no table name: {line}");
}

#[tokio::test]
async fn failures_are_logged_without_the_users_email_or_the_key() {
    let logs = common::logs();
    let client_id = format!("bubble-app-{}", uuid::Uuid::new_v4().simple());
    let existing = item(&user(json!({"email": "secret.person@x.io"})));
    let blind = no_such_user();
    let odd = mock!(Dynamo::transact_write_items).then_error(move || {
        let mut r = reason("ValidationError");
        r.item = Some(existing.clone());
        cancelled(vec![r, reason("None")])
    });
    let c = client(&[&blind, &odd]);
    let answer = c
        .call_with(
            "POST",
            "/users/b1",
            &[("x-client-id", &client_id)],
            Some(json!({"email": "secret.person@x.io"})),
        )
        .await;
    assert_eq!(answer.status, 500, "{}", answer.text);
    let text = logs.text();
    assert!(
        text.contains("ValidationError"),
        "the failure is logged: {text}"
    );
    let line: serde_json::Value = text
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .find(|l: &serde_json::Value| l["message"] == "request" && l["client_id"] == client_id)
        .expect("one request line");
    for key in [
        "timestamp",
        "level",
        "service",
        "cold_start",
        "function_request_id",
    ] {
        assert!(
            !line[key].is_null(),
            "Powertools key {key} at the top level: {line}"
        );
    }
    assert_eq!(
        (
            line["route"].as_str(),
            line["client_id"].as_str(),
            line["status"].as_u64()
        ),
        (Some("/users/{ref}"), Some(client_id.as_str()), Some(500)),
        "{line}"
    );
    assert!(
        !text.contains("secret.person"),
        "no e-mail in the logs: {text}"
    );
    assert!(!text.contains(common::WRITE_KEY), "no key in the logs");
}

/// A store that takes a minute to answer reads: a hung database.
struct Hung(Arc<dyn UserStore>);

#[async_trait::async_trait]
impl UserStore for Hung {
    async fn get(&self, key: &UserRef) -> Result<Option<User>, StoreError> {
        tokio::time::sleep(Duration::from_secs(60)).await;
        self.0.get(key).await
    }
    async fn apply(
        &self,
        key: &UserRef,
        intent: &Intent<'_>,
        expect: Option<u64>,
    ) -> Result<User, StoreError> {
        self.0.apply(key, intent, expect).await
    }
    async fn list_active(&self, window: Window<'_>) -> Result<Slice<User>, StoreError> {
        tokio::time::sleep(Duration::from_secs(60)).await;
        self.0.list_active(window).await
    }
    async fn changes(&self, floor: &str, window: Window<'_>) -> Result<Slice<User>, StoreError> {
        self.0.changes(floor, window).await
    }
    async fn deletions(&self, window: Window<'_>) -> Result<Slice<DeletionRecord>, StoreError> {
        self.0.deletions(window).await
    }
    async fn changes_related(
        &self,
        relation: Relation,
        value: &str,
        floor: &str,
        window: Window<'_>,
    ) -> Result<Slice<User>, StoreError> {
        self.0.changes_related(relation, value, floor, window).await
    }
    async fn count_active(&self) -> Result<u64, StoreError> {
        self.0.count_active().await
    }
    async fn count_related(&self, relation: Relation, value: &str) -> Result<u64, StoreError> {
        self.0.count_related(relation, value).await
    }
    async fn epoch(&self) -> Result<Option<users_api::domain::Timestamp>, StoreError> {
        self.0.epoch().await
    }
    fn keys(&self) -> Arc<dyn users_api::keys::KeyStore> {
        self.0.keys()
    }
    async fn find_active(&self, lookup: &Lookup) -> Result<Option<User>, StoreError> {
        self.0.find_active(lookup).await
    }
    async fn list_related(
        &self,
        relation: Relation,
        value: &str,
        window: Window<'_>,
    ) -> Result<Slice<User>, StoreError> {
        self.0.list_related(relation, value, window).await
    }
}

#[tokio::test(start_paused = true)]
async fn a_request_that_would_outlive_the_lambda_deadline_answers_503_before_it() {
    let app = common::router(Arc::new(Hung(common::memory_store())));
    for path in ["/users", "/users/someone"] {
        let mut ctx = lambda_runtime::Context::default();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap();
        ctx.deadline = (now + Duration::from_secs(3)).as_millis() as u64;
        let mut req = http::Request::builder()
            .uri(path)
            .header("authorization", common::WRITE_KEY)
            .body(axum::body::Body::empty())
            .unwrap();
        req.extensions_mut().insert(ctx);
        let started = tokio::time::Instant::now();
        let res = tower::ServiceExt::oneshot(app.clone(), req).await.unwrap();
        let waited = started.elapsed();
        assert_eq!(res.status(), 503, "{path}");
        assert!(res.headers().contains_key("retry-after"), "{path}");
        assert!(
            waited >= Duration::from_millis(2400) && waited <= Duration::from_millis(2600),
            "{path}: answered after {waited:?}, the deadline less the 500 ms margin"
        );
        let body = http_body_util::BodyExt::collect(res.into_body())
            .await
            .unwrap()
            .to_bytes();
        let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(body["error"], "ALGOREP_036");
    }
}

/// Storage trouble on `/scim/v2` is a 503 in SCIM's error schema, with `Retry-After`, and
/// no internal text.
#[tokio::test]
async fn throttling_on_a_scim_route_is_a_scim_503() {
    let throttled = throttled_reads();
    let c = client(&[&throttled]);
    let auth = format!("Bearer {}", common::WRITE_KEY);
    let path = format!("/scim/v2/Users/{}", uuid::Uuid::new_v4());
    let answer = common::send(&c.app, "GET", &path, &[("authorization", &auth)], None).await;
    assert_eq!(answer.status, 503, "{}", answer.text);
    assert_eq!(
        answer.json()["schemas"][0],
        "urn:ietf:params:scim:api:messages:2.0:Error"
    );
    assert_eq!(answer.json()["status"], "503");
    assert_eq!(answer.header("retry-after"), Some("1"));
    assert!(!answer.text.contains("Throttling"), "{}", answer.text);
}
