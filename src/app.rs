//! The one router, used by the Lambda binary, `cargo lambda watch` and the tests: the native
//! API and SCIM side by side on the shared state, under CORS for the configured origins, and
//! gzip for answers large enough to gain from it.

use axum::Router;
use http::{HeaderValue, Method};
use tower_http::compression::predicate::{Predicate, SizeAbove};
use tower_http::compression::{CompressionLayer, CompressionLevel};
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::edge::AppState;
use crate::{api, scim};

/// The one router: Lambda, `cargo lambda watch` and the tests all use it.
pub fn app(state: AppState) -> Router {
    let cors = cors(&state.cors_origins);
    let router = api::router(state.clone()).nest(scim::BASE_PATH, scim::router(state));
    let router = match cors {
        Some(layer) => router.layer(layer),
        None => router,
    };
    router.layer(compression())
}

/// Answers below this many bytes go as they are: a single user, an error, a small page gain
/// less from gzip than its header and the CPU cost.
pub const COMPRESS_ABOVE: u16 = 1024;

/// gzip when the client sends `Accept-Encoding: gzip` and the answer is over
/// [`COMPRESS_ABOVE`] bytes (such an answer says `Vary: Accept-Encoding` either way), at the fastest level: on a page of users it keeps most of the
/// best level's saving for a fraction of its CPU (docs/PERFORMANCE.md). A compressed answer
/// is binary to Lambda (`lambda_http` base64-encodes a body with `Content-Encoding`), which
/// API Gateway decodes before it reaches the client.
fn compression() -> CompressionLayer<impl Predicate> {
    CompressionLayer::new()
        .gzip(true)
        .quality(CompressionLevel::Fastest)
        .compress_when(SizeAbove::new(COMPRESS_ABOVE))
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
