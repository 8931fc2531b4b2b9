//! The sinks events are put on: the stack's EventBridge bus on AWS; locally a URL
//! (`EVENTS_URL`) or the log.

use async_trait::async_trait;
use aws_sdk_eventbridge::config::{BehaviorVersion, Region};
use aws_sdk_eventbridge::types::PutEventsRequestEntry;

use super::change::{ChangeEvent, SOURCE};
use super::error::EventError;
use super::local_http::LocalHttp;
use super::publish::Sink;
use crate::store::dynamo::{amazon_roots_client, client_settings, EnvSettings};

/// The stack's EventBridge bus.
pub struct EventBridgeSink {
    client: aws_sdk_eventbridge::Client,
    bus: String,
}

impl EventBridgeSink {
    /// A sink on the bus named `bus`, with the function's region and credentials;
    /// `endpoint` overrides EventBridge's (`AWS_ENDPOINT_URL_EVENTS`).
    pub fn new(settings: &EnvSettings, bus: &str, endpoint: Option<&str>) -> Self {
        let (retry, timeouts) = client_settings();
        let mut conf = aws_sdk_eventbridge::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(settings.region.clone()))
            .credentials_provider(settings.credentials.clone())
            .retry_config(retry)
            .timeout_config(timeouts);
        if let Some(endpoint) = endpoint {
            conf = conf.endpoint_url(endpoint);
        }
        if !settings.platform_roots {
            conf = conf.http_client(amazon_roots_client());
        }
        Self::with_client(aws_sdk_eventbridge::Client::from_conf(conf.build()), bus)
    }

    /// A sink on `bus` through `client` (tests pass a mocked one).
    pub fn with_client(client: aws_sdk_eventbridge::Client, bus: &str) -> Self {
        Self {
            client,
            bus: bus.to_owned(),
        }
    }
}

#[async_trait]
impl Sink for EventBridgeSink {
    async fn put(&self, events: &[ChangeEvent]) -> Vec<Result<(), EventError>> {
        let entries = events
            .iter()
            .map(|e| {
                PutEventsRequestEntry::builder()
                    .event_bus_name(&self.bus)
                    .source(SOURCE)
                    .detail_type(e.kind.name())
                    .detail(e.detail_json())
                    .build()
            })
            .collect();
        match self
            .client
            .put_events()
            .set_entries(Some(entries))
            .send()
            .await
        {
            Ok(out) => {
                let mut results: Vec<_> = out
                    .entries()
                    .iter()
                    .map(|r| match r.error_code() {
                        Some(code) => Err(EventError::Refused(code.to_owned())),
                        None => Ok(()),
                    })
                    .collect();
                // EventBridge answers one entry per event; anything else is a failure.
                results.resize_with(events.len(), || {
                    Err(EventError::Refused("no result for the entry".into()))
                });
                results
            }
            Err(e) => {
                let code = e
                    .as_service_error()
                    .and_then(|s| aws_sdk_eventbridge::error::ProvideErrorMetadata::code(s))
                    .unwrap_or("request failed")
                    .to_owned();
                tracing::warn!(code, "PutEvents failed");
                vec![Err(EventError::Refused(code)); events.len()]
            }
        }
    }
}

/// POSTs each event's JSON to a URL (`EVENTS_URL`, local development).
pub struct UrlSink {
    http: LocalHttp,
    url: String,
}

impl UrlSink {
    /// A sink that posts to `url` (plain HTTP).
    pub fn new(url: &str) -> Self {
        Self {
            http: LocalHttp::new(),
            url: url.to_owned(),
        }
    }
}

#[async_trait]
impl Sink for UrlSink {
    async fn put(&self, events: &[ChangeEvent]) -> Vec<Result<(), EventError>> {
        let mut results = Vec::with_capacity(events.len());
        for e in events {
            let body = e.to_json().to_string();
            results.push(match self.http.post(&self.url, &[], body).await {
                Ok((status, _)) if status.is_success() => Ok(()),
                Ok((status, _)) => Err(EventError::Refused(format!(
                    "the listener answered {status}"
                ))),
                Err(e) => Err(e),
            });
        }
        results
    }
}

/// Logs each event (local development without `EVENTS_URL`).
pub struct LogSink;

#[async_trait]
impl Sink for LogSink {
    async fn put(&self, events: &[ChangeEvent]) -> Vec<Result<(), EventError>> {
        for e in events {
            tracing::info!(event = %e.to_json(), "change event");
        }
        vec![Ok(()); events.len()]
    }
}
