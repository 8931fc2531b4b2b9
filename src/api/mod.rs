//! HTTP: the router, and the edge layer every request passes through.

pub mod auth;
pub mod body;
pub mod contract;
pub mod error;
pub mod filter;
pub mod handlers;
pub mod limits;
pub mod lists;
pub mod openapi;
pub mod paging;
pub mod params;
pub(crate) mod record;
pub mod render;
pub mod routes;

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::Router;
use http::{HeaderValue, Method};
use lambda_http::request::RequestContext;
use lambda_http::RequestExt;
use tower_http::cors::{AllowOrigin, CorsLayer};

use self::auth::{Authenticate, KeyRing};
use self::error::ApiError;
use self::handlers as h;
use self::limits::{Allowance, RateLimits};
use self::paging::{CursorKey, Params};
use self::render::{negotiate, Format, Rendered};
use crate::config::Config;
use crate::store::meter::{self, Meter};
use crate::store::retry;
use crate::store::UserStore;

/// What every handler shares: built once per cold start.
#[derive(Clone)]
pub struct AppState {
    /// Where users live.
    pub store: Arc<dyn UserStore>,
    /// The accepted API keys.
    pub keys: Arc<KeyRing>,
    /// Signs pagination cursors.
    pub cursors: CursorKey,
    /// Per-key rate limits.
    pub limits: Arc<RateLimits>,
    /// Browser origins allowed by CORS; empty keeps CORS closed.
    pub cors_origins: Vec<HeaderValue>,
    /// How long before the Lambda deadline a request gives up with a 503.
    pub deadline_margin: Duration,
    /// Each route's declared scope and query parameters, from the route table.
    pub rules: Arc<routes::RouteRules>,
    /// The EMF metric directive; `None` when metrics are off.
    pub metrics: Option<Arc<str>>,
}

impl AppState {
    /// State for `store` under `config`.
    pub fn new(store: Arc<dyn UserStore>, config: &Config) -> Self {
        Self {
            store,
            keys: Arc::new(config.keys.clone()),
            cursors: CursorKey::new(&config.cursor_secret),
            limits: Arc::new(RateLimits::per_second(
                config.rate_limit_rps,
                config.rate_limit_burst,
            )),
            cors_origins: config
                .cors_origins
                .iter()
                .filter_map(|o| HeaderValue::from_str(o).ok())
                .collect(),
            deadline_margin: Duration::from_millis(config.deadline_margin_ms),
            rules: Arc::new(routes::RouteRules::of(&routes::routes())),
            metrics: config
                .metrics_namespace
                .as_deref()
                .map(|ns| Arc::from(crate::metrics::directive(ns))),
        }
    }
}

/// The one router: Lambda, `cargo lambda watch` and the tests all use it.
pub fn app(state: AppState) -> Router {
    let cors = cors(&state.cors_origins);
    let scim = crate::scim::router(state.clone());
    let router = routes::routes()
        .into_iter()
        .fold(Router::new(), |router, r| router.route(r.path, r.handler))
        .method_not_allowed_fallback(h::method_not_allowed)
        .fallback(h::no_route)
        .layer(middleware::from_fn_with_state(state.clone(), edge))
        .with_state(state)
        .nest(crate::scim::BASE_PATH, scim);
    match cors {
        Some(layer) => router.layer(layer),
        None => router,
    }
}

/// CORS for the configured origins only; `None` (no CORS headers at all) when there are none.
fn cors(origins: &[HeaderValue]) -> Option<CorsLayer> {
    if origins.is_empty() {
        return None;
    }
    let header = |h: &'static str| http::HeaderName::from_static(h);
    Some(
        CorsLayer::new()
            .allow_origin(AllowOrigin::list(origins.iter().cloned()))
            .allow_methods([
                Method::GET,
                Method::POST,
                Method::PUT,
                Method::PATCH,
                Method::DELETE,
            ])
            .allow_headers([
                http::header::AUTHORIZATION,
                http::header::CONTENT_TYPE,
                http::header::IF_MATCH,
                header("x-api-key"),
                header("x-api-key-type"),
                header("x-client-id"),
            ])
            .expose_headers([
                http::header::ETAG,
                http::header::RETRY_AFTER,
                header("x-request-id"),
                header("server-timing"),
                header("x-ratelimit-limit"),
                header("x-ratelimit-remaining"),
                header("x-ratelimit-reset"),
            ]),
    )
}

/// The Lambda request id, else API Gateway's, else a fresh one (tests, local runs).
pub(crate) fn request_id(req: &Request) -> String {
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
pub(crate) fn client_id(req: &Request) -> Option<String> {
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
pub(crate) fn deadline(req: &Request, margin: Duration) -> Option<tokio::time::Instant> {
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
pub(crate) async fn until_deadline(
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
pub(crate) fn server_timing(meter: &Meter) -> String {
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

pub(crate) fn rate_limit_headers(headers: &mut http::HeaderMap, a: Allowance) {
    headers.insert("x-ratelimit-limit", HeaderValue::from(a.limit));
    headers.insert("x-ratelimit-remaining", HeaderValue::from(a.remaining));
    headers.insert("x-ratelimit-reset", HeaderValue::from(a.reset_secs));
}

/// Authenticates, runs the handler with storage metered, renders, and logs one line.
async fn edge(State(app): State<AppState>, mut req: Request, next: Next) -> Response {
    let started = Instant::now();
    let request_id = request_id(&req);
    let method = req.method().clone();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned());
    let client = client_id(&req);
    let deadline = deadline(&req, app.deadline_margin);
    let meter = Arc::new(Meter::default());
    let negotiated = negotiate(req.headers()).ok_or(ApiError::NotAcceptable);
    let format = negotiated.as_ref().copied().unwrap_or(Format::Json);
    let needed = app.rules.needed(&method, route.as_deref());

    let mut key_name = None;
    let mut allowance = None;
    let outcome = match (negotiated, needed) {
        (Err(e), _) => Err(e),
        (Ok(_), None) => Ok(()),
        (Ok(_), Some(needed)) => app
            .keys
            .authenticate(req.headers(), needed)
            .and_then(|caller| {
                let allowed = app.limits.check(&caller.name);
                allowance = Some(allowed);
                key_name = Some(caller.name.clone());
                req.extensions_mut().insert(caller);
                match allowed.retry_after {
                    Some(secs) => Err(ApiError::TooManyRequests(secs)),
                    None => Ok(()),
                }
            }),
    };
    let outcome = outcome.and_then(|()| {
        let params = Params::parse(req.uri().query())?;
        match app
            .rules
            .unknown_query(&method, route.as_deref(), params.names())
        {
            Some(name) => Err(ApiError::bad(name, "is not a parameter of this route")),
            None => Ok(()),
        }
    });
    let mut response = match outcome {
        Ok(()) => {
            let handler = retry::with_deadline(deadline, next.run(req));
            meter::scope(meter.clone(), until_deadline(deadline, handler)).await
        }
        Err(e) => e.into_response(),
    };
    if let Some(rendered) = response.extensions_mut().remove::<Rendered>() {
        rendered.render_into(&mut response, format);
    }

    answered(&mut response, allowance, &request_id, &meter);
    record::Record {
        request_id: &request_id,
        method: &method,
        route: route.as_deref(),
        status: response.status().as_u16(),
        started,
        meter: &meter,
        key: key_name.as_deref(),
        client: client.as_deref(),
        metrics: app.metrics.as_deref(),
    }
    .write();
    response
}

/// The headers every answer carries: the key's allowance, `X-Request-Id`, `Server-Timing`.
pub(crate) fn answered(
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
