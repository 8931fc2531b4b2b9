//! Change events: the users table's stream → one event per change, pushed to subscribers.
//!
//! On AWS the stream drives this binary as a second function (`HANDLER=stream`), which puts
//! the events on the stack's EventBridge bus; locally `HANDLER=local-stream` follows the
//! local engine's stream and posts them to `EVENTS_URL` or logs them. Either way a record
//! goes through [`change::event_for`] (at most one event, ids and field names only) and
//! [`publish::publish`] (ordered calls, partial failures retried).

pub mod change;
pub mod error;
pub mod local;
mod local_http;
pub mod publish;
pub mod record;
pub mod sinks;

use std::time::Duration;

use lambda_runtime::{service_fn, LambdaEvent};

pub use change::{event_for, ChangeEvent, Detail};
pub use error::EventError;
pub use publish::{publish, BatchResponse, Outcome, Sink};
pub use record::{StreamEvent, StreamRecord};

use crate::config::Handler;

/// How `make run`'s follower paces itself: a poll every 200 ms, each poll's records
/// published at once (on AWS the mapping gathers up to a second's worth).
pub const LOCAL_PACE: local::Pace = local::Pace {
    poll: Duration::from_millis(200),
    window: Duration::ZERO,
};

/// Runs the stream handler the configuration names; `Handler::Http` is not one.
pub async fn run(handler: Handler) -> Result<(), lambda_runtime::Error> {
    match handler {
        Handler::Http => Err("the HTTP handler is not a stream handler".into()),
        Handler::Stream { bus, aws, endpoint } => {
            let sink = sinks::EventBridgeSink::new(&aws, &bus, endpoint.as_deref());
            let sink = &sink;
            lambda_runtime::run(service_fn(
                move |event: LambdaEvent<StreamEvent>| async move {
                    let outcome = publish(&event.payload.records, sink).await;
                    log_outcome(&outcome);
                    Ok::<_, lambda_runtime::Error>(BatchResponse::from(&outcome))
                },
            ))
            .await
        }
        Handler::LocalStream { engine, table, url } => {
            let sink: Box<dyn Sink> = match &url {
                Some(url) => Box::new(sinks::UrlSink::new(url)),
                None => Box::new(sinks::LogSink),
            };
            let stream = local::LocalStream::new(&engine, &table);
            match stream
                .follow(sink.as_ref(), local::Start::Latest, LOCAL_PACE)
                .await {}
        }
    }
}

fn log_outcome(outcome: &Outcome) {
    match &outcome.failure {
        None => tracing::info!(
            published = outcome.published,
            quiet = outcome.quiet,
            calls = outcome.calls,
            "stream batch published"
        ),
        Some((seq, reason)) => tracing::warn!(
            published = outcome.published,
            sequence = %seq,
            reason = %reason,
            "stream batch stopped; redelivery from the named record"
        ),
    }
}
