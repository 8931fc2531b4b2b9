//! A fake Lambda Runtime API: hands out the events it is given, one per `next` call, and
//! reports when the function first asked (its init is over) and each answer.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue};
use axum::routing::{get, post};
use axum::Router;
use bytes::Bytes;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot};

/// One answer of the function.
pub struct Answer {
    /// When it arrived.
    pub at: Instant,
    /// The response document lambda_http wrote (statusCode, headers, body).
    pub body: Bytes,
}

struct Shared {
    events: tokio::sync::Mutex<mpsc::Receiver<Bytes>>,
    first_next: Mutex<Option<oneshot::Sender<Instant>>>,
    answers: mpsc::UnboundedSender<Answer>,
}

/// The test side of one fake runtime: push events, read answers.
pub struct RuntimeApi {
    /// `host:port` for `AWS_LAMBDA_RUNTIME_API`.
    pub address: String,
    events: mpsc::Sender<Bytes>,
    /// Resolves when the function first calls `next`.
    pub init_done: Option<oneshot::Receiver<Instant>>,
    answers: mpsc::UnboundedReceiver<Answer>,
    server: tokio::task::JoinHandle<()>,
}

impl RuntimeApi {
    /// Listens on a fresh loopback port.
    pub async fn start() -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let address = listener.local_addr()?.to_string();
        let (events, events_rx) = mpsc::channel(1);
        let (answers_tx, answers) = mpsc::unbounded_channel();
        let (first_tx, first_rx) = oneshot::channel();
        let shared = Arc::new(Shared {
            events: tokio::sync::Mutex::new(events_rx),
            first_next: Mutex::new(Some(first_tx)),
            answers: answers_tx,
        });
        let app = Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next))
            .route(
                "/2018-06-01/runtime/invocation/{id}/response",
                post(response),
            )
            .route("/2018-06-01/runtime/invocation/{id}/error", post(failed))
            .route("/2018-06-01/runtime/init/error", post(init_failed))
            .with_state(shared);
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self {
            address,
            events,
            init_done: Some(first_rx),
            answers,
            server,
        })
    }

    /// Sends one event and waits for the function's answer.
    pub async fn invoke(&mut self, event: &Bytes) -> Answer {
        self.events
            .send(event.clone())
            .await
            .expect("runtime server is up");
        self.answers.recv().await.expect("the function answers")
    }
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn next(State(shared): State<Arc<Shared>>) -> (HeaderMap, Bytes) {
    if let Some(first) = shared.first_next.lock().unwrap().take() {
        let _ = first.send(Instant::now());
    }
    let event = shared.events.lock().await.recv().await.unwrap_or_default();
    let deadline = chrono::Utc::now().timestamp_millis() + 30_000;
    let mut headers = HeaderMap::new();
    let id = uuid::Uuid::new_v4().to_string();
    headers.insert(
        "lambda-runtime-aws-request-id",
        HeaderValue::from_str(&id).unwrap(),
    );
    headers.insert("lambda-runtime-deadline-ms", HeaderValue::from(deadline));
    headers.insert(
        "lambda-runtime-invoked-function-arn",
        HeaderValue::from_static("arn:aws:lambda:us-east-1:123456789012:function:users-api"),
    );
    headers.insert("content-type", HeaderValue::from_static("application/json"));
    (headers, event)
}

async fn response(State(shared): State<Arc<Shared>>, Path(_id): Path<String>, body: Bytes) {
    let _ = shared.answers.send(Answer {
        at: Instant::now(),
        body,
    });
}

async fn failed(State(shared): State<Arc<Shared>>, Path(_id): Path<String>, body: Bytes) {
    let _ = shared.answers.send(Answer {
        at: Instant::now(),
        body,
    });
}

async fn init_failed(body: Bytes) {
    panic!(
        "the function failed to initialise: {}",
        String::from_utf8_lossy(&body)
    );
}
