//! One request's bookkeeping at the edge, native and SCIM alike: its ids, route, deadline
//! and storage meter when it starts; the headers every answer carries, and its log and
//! metrics lines, when it ends.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::extract::{MatchedPath, Request};
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, Method};
use lambda_http::request::RequestContext;
use lambda_http::RequestExt;

use super::error::ApiError;
use super::limits::Allowance;
use super::record;
use super::state::AppState;
use crate::store::meter::{self, Meter};
use crate::store::retry;

/// A request on its way through the edge.
pub(crate) struct Exchange {
    started: Instant,
    request_id: String,
    /// The request's method.
    pub method: Method,
    /// The matched route template.
    pub route: Option<String>,
    client: Option<String>,
    deadline: Option<tokio::time::Instant>,
    meter: Arc<Meter>,
    /// The name of the key that called, once authenticated.
    pub key: Option<String>,
    /// The key's rate-limit allowance, once checked.
    pub allowance: Option<Allowance>,
    /// Why the key was refused, for a 401.
    pub refusal: Option<crate::keys::Refusal>,
}

impl Exchange {
    /// Starts the bookkeeping of `req`.
    pub fn start(req: &Request, app: &AppState) -> Self {
        Self {
            started: Instant::now(),
            request_id: request_id(req),
            method: req.method().clone(),
            route: req
                .extensions()
                .get::<MatchedPath>()
                .map(|p| p.as_str().to_owned()),
            client: client_id(req),
            deadline: deadline(req, app.deadline_margin),
            meter: Arc::new(Meter::default()),
            key: None,
            allowance: None,
            refusal: None,
        }
    }

    /// This request's storage meter: what `Server-Timing` and the log line report.
    pub fn meter(&self) -> Arc<Meter> {
        self.meter.clone()
    }

    /// Runs the handler against the deadline, with its storage metered.
    pub async fn run(&self, handler: impl Future<Output = Response>) -> Response {
        let handler = retry::with_deadline(self.deadline, handler);
        meter::scope(self.meter.clone(), until_deadline(self.deadline, handler)).await
    }

    /// Adds the headers every answer carries and writes the request's log and metrics lines.
    pub fn finish(self, mut response: Response, app: &AppState) -> Response {
        answered(&mut response, self.allowance, &self.request_id, &self.meter);
        record::Record {
            request_id: &self.request_id,
            method: &self.method,
            route: self.route.as_deref(),
            status: response.status().as_u16(),
            started: self.started,
            meter: &self.meter,
            key: self.key.as_deref(),
            refusal: self.refusal.map(crate::keys::Refusal::name),
            client: self.client.as_deref(),
            metrics: app.metrics.as_deref(),
        }
        .write();
        response
    }
}

/// The Lambda request id, else API Gateway's, else a fresh one (tests, local runs).
fn request_id(req: &Request) -> String {
    if let Some(ctx) = req.lambda_context_ref() {
        return ctx.request_id.clone();
    }
    if let Some(RequestContext::ApiGatewayV2(ctx)) = req.request_context_ref() {
        if let Some(id) = &ctx.request_id {
            return id.clone();
        }
    }
    uuid::Uuid::new_v4().to_string()
}

/// `X-CLIENT-ID`, reduced to a short, log-safe token.
fn client_id(req: &Request) -> Option<String> {
    let raw = req.headers().get("x-client-id")?.to_str().ok()?;
    let safe: String = raw
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':'))
        .take(64)
        .collect();
    Some(safe).filter(|s| !s.is_empty())
}

/// When this request must have answered: the invocation's deadline less `margin`, so the
/// function answers 503 itself rather than be stopped by the platform. `None` outside
/// Lambda (tests, the plain HTTP server), where nothing stops a request.
fn deadline(req: &Request, margin: Duration) -> Option<tokio::time::Instant> {
    let ctx = req.lambda_context_ref().filter(|c| c.deadline > 0)?;
    let now = SystemTime::now().duration_since(UNIX_EPOCH).ok()?;
    let left = time_left(ctx.deadline, now).saturating_sub(margin);
    Some(tokio::time::Instant::now() + left)
}

/// The time left before `deadline_ms`. Lambda sends milliseconds since the epoch;
/// `cargo lambda watch` sends the timeout itself (600000), which no epoch time this
/// service will ever see is as small as, so a value before 2001 reads as time left.
fn time_left(deadline_ms: u64, now: Duration) -> Duration {
    const EPOCH_2001_MS: u64 = 978_307_200_000;
    let deadline = Duration::from_millis(deadline_ms);
    if deadline_ms < EPOCH_2001_MS {
        deadline
    } else {
        deadline.saturating_sub(now)
    }
}

/// Runs the handler, or answers 503 `ALGOREP_036` when `deadline` comes first. Dropping the
/// handler cancels its storage requests; a write is one conditional request or one
/// transaction, so nothing is left half-written.
async fn until_deadline(
    deadline: Option<tokio::time::Instant>,
    handler: impl std::future::Future<Output = Response>,
) -> Response {
    let Some(at) = deadline else {
        return handler.await;
    };
    match tokio::time::timeout_at(at, handler).await {
        Ok(response) => response,
        Err(_) => {
            tracing::warn!("the request ran into the function's deadline");
            ApiError::Unavailable.into_response()
        }
    }
}

/// `Server-Timing`: storage requests, their time, and the capacity units they consumed.
fn server_timing(meter: &Meter) -> String {
    let round = |x: f64| (x * 100.0).round() / 100.0;
    let capacity = meter.capacity();
    format!(
        "db;dur={:.1};desc=\"{} requests, {} RCU, {} WCU\"",
        meter.duration().as_secs_f64() * 1000.0,
        meter.requests(),
        round(capacity.read),
        round(capacity.write)
    )
}

fn rate_limit_headers(headers: &mut http::HeaderMap, a: Allowance) {
    headers.insert("x-ratelimit-limit", HeaderValue::from(a.limit));
    headers.insert("x-ratelimit-remaining", HeaderValue::from(a.remaining));
    headers.insert("x-ratelimit-reset", HeaderValue::from(a.reset_secs));
}

/// The headers every answer carries: the key's allowance, `X-Request-Id`, `Server-Timing`.
fn answered(
    response: &mut Response,
    allowance: Option<Allowance>,
    request_id: &str,
    meter: &Meter,
) {
    let headers = response.headers_mut();
    if let Some(a) = allowance {
        rate_limit_headers(headers, a);
    }
    if let Ok(v) = HeaderValue::from_str(request_id) {
        headers.insert("x-request-id", v);
    }
    if let Ok(v) = HeaderValue::from_str(&server_timing(meter)) {
        headers.insert("server-timing", v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lambda_deadline_is_epoch_time_and_the_emulators_is_time_left() {
        let now = Duration::from_millis(1_795_519_000_000);
        assert_eq!(time_left(1_795_519_003_000, now), Duration::from_secs(3));
        assert_eq!(time_left(1_795_518_000_000, now), Duration::ZERO);
        assert_eq!(time_left(600_000, now), Duration::from_secs(600));
    }
}
