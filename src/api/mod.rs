//! HTTP: the router, and the edge layer every request passes through.

pub mod auth;
pub mod body;
pub mod contract;
pub mod error;
pub(crate) mod exchange;
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

use crate::domain::Retention;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::Router;
use http::{HeaderValue, Method};
use tower_http::cors::{AllowOrigin, CorsLayer};

use self::auth::{Authenticate, KeyRing};
use self::error::ApiError;
use self::exchange::Exchange;
use self::handlers as h;
use self::limits::RateLimits;
use self::paging::{CursorKey, Params};
use self::render::{negotiate, Format, Rendered};
use crate::config::Config;
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
    /// How long deleted users are kept: the change feed's horizon.
    pub retention: Retention,
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
            retention: Retention::days(config.deleted_retention_days),
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

/// Authenticates, runs the handler with storage metered, renders, and logs one line.
async fn edge(State(app): State<AppState>, mut req: Request, next: Next) -> Response {
    let mut x = Exchange::start(&req, &app);
    let negotiated = negotiate(req.headers()).ok_or(ApiError::NotAcceptable);
    let format = negotiated.as_ref().copied().unwrap_or(Format::Json);
    let needed = app.rules.needed(&x.method, x.route.as_deref());
    let outcome = match (negotiated, needed) {
        (Err(e), _) => Err(e),
        (Ok(_), None) => Ok(()),
        (Ok(_), Some(needed)) => app
            .keys
            .authenticate(req.headers(), needed)
            .and_then(|caller| {
                let allowed = app.limits.check(&caller.name);
                x.allowance = Some(allowed);
                x.key = Some(caller.name.clone());
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
            .unknown_query(&x.method, x.route.as_deref(), params.names())
        {
            Some(name) => Err(ApiError::bad(name, "is not a parameter of this route")),
            None => Ok(()),
        }
    });
    let mut response = match outcome {
        Ok(()) => x.run(next.run(req)).await,
        Err(e) => e.into_response(),
    };
    if let Some(rendered) = response.extensions_mut().remove::<Rendered>() {
        rendered.render_into(&mut response, format);
    }
    x.finish(response, &app)
}
