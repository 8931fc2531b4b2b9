//! The built binary as the template's `StreamFunction` runs it (`HANDLER=stream`): a fake
//! Lambda Runtime API hands it the sample stream batch of `events/stream/`, a fake
//! EventBridge endpoint takes its `PutEvents` calls, and its answer goes back to the runtime.

use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};
use tokio::sync::mpsc;

const SAMPLE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/events/stream/01-create-update-disable-delete.json"
);

#[derive(Clone)]
struct Runtime {
    event: Arc<Mutex<Option<String>>>,
    answers: mpsc::UnboundedSender<(String, Value)>,
}

async fn next(State(rt): State<Runtime>) -> (HeaderMap, String) {
    let Some(event) = rt.event.lock().unwrap().take() else {
        // One invocation only: later polls wait until the test ends the process.
        tokio::time::sleep(Duration::from_secs(600)).await;
        return (HeaderMap::new(), String::new());
    };
    let deadline = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis()
        + 30_000;
    let mut headers = HeaderMap::new();
    headers.insert("lambda-runtime-aws-request-id", "stream-1".parse().unwrap());
    headers.insert(
        "lambda-runtime-deadline-ms",
        deadline.to_string().parse().unwrap(),
    );
    headers.insert(
        "lambda-runtime-invoked-function-arn",
        "arn:aws:lambda:eu-west-1:123456789012:function:stream"
            .parse()
            .unwrap(),
    );
    (headers, event)
}

async fn answer(State(rt): State<Runtime>, Path((id, kind)): Path<(String, String)>, body: String) {
    let body = serde_json::from_str(&body).unwrap_or(Value::String(body));
    rt.answers.send((format!("{id}/{kind}"), body)).unwrap();
}

/// EventBridge's `PutEvents` (JSON 1.1 protocol): every entry accepted, every call kept.
async fn put_events(State(calls): State<Arc<Mutex<Vec<Value>>>>, body: String) -> Json<Value> {
    let request: Value = serde_json::from_str(&body).unwrap();
    let n = request["Entries"].as_array().map_or(0, Vec::len);
    calls.lock().unwrap().push(request);
    let entries: Vec<Value> = (0..n)
        .map(|i| json!({"EventId": format!("e-{i}")}))
        .collect();
    Json(json!({"FailedEntryCount": 0, "Entries": entries}))
}

async fn serve(app: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap().to_string();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    address
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_stream_function_puts_the_batch_on_the_bus_and_answers_no_failure() {
    let (tx, mut answers) = mpsc::unbounded_channel();
    let runtime = Runtime {
        event: Arc::new(Mutex::new(Some(std::fs::read_to_string(SAMPLE).unwrap()))),
        answers: tx,
    };
    let runtime_api = serve(
        Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next))
            .route("/2018-06-01/runtime/invocation/{id}/{kind}", post(answer))
            .with_state(runtime),
    )
    .await;
    let calls = Arc::new(Mutex::new(Vec::new()));
    let bus = serve(
        Router::new()
            .route("/", post(put_events))
            .with_state(calls.clone()),
    )
    .await;

    let mut child = Command::new(env!("CARGO_BIN_EXE_users-api"))
        .env_clear()
        .env("AWS_LAMBDA_RUNTIME_API", &runtime_api)
        .env("AWS_LAMBDA_FUNCTION_NAME", "stream")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("HANDLER", "stream")
        .env("EVENT_BUS_NAME", "users-bus")
        .env("AWS_ENDPOINT_URL_EVENTS", format!("http://{bus}"))
        .env("AWS_REGION", "eu-west-1")
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the binary starts");
    let got = tokio::time::timeout(Duration::from_secs(30), answers.recv()).await;
    let _ = child.kill();
    let _ = child.wait();
    let (path, body) = got.expect("an answer within 30 s").unwrap();
    assert_eq!(path, "stream-1/response", "{body}");
    assert_eq!(body, json!({"batchItemFailures": []}));

    // Four versions of one user: four calls, in version order, each on the bus.
    let calls = calls.lock().unwrap();
    let kinds: Vec<&str> = calls
        .iter()
        .flat_map(|c| c["Entries"].as_array().unwrap())
        .map(|e| {
            assert_eq!(
                (e["Source"].as_str(), e["EventBusName"].as_str()),
                (Some("users-api"), Some("users-bus"))
            );
            e["DetailType"].as_str().unwrap()
        })
        .collect();
    assert_eq!(calls.len(), 4);
    assert_eq!(
        kinds,
        ["UserCreated", "UserUpdated", "UserDisabled", "UserDeleted"]
    );
    let details: String = calls.iter().map(|c| c.to_string()).collect();
    assert!(
        !details.contains("ada@example.com") && !details.contains("Augusta"),
        "no value on the bus"
    );
}
