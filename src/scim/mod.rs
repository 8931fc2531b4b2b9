//! SCIM 2.0 (RFC 7643/7644) at `/scim/v2`: a second face on the same directory, so that an
//! identity provider (Entra ID, Okta, …) can create, find, update, disable and delete users
//! with no code of its own. It reuses the store, the planner, the keys and the limits; only
//! the wire is SCIM's own: resources and their mapping (`resource`), discovery, the filter
//! and PATCH grammars, and SCIM's error schema. It has its own edge: SCIM's media type, its
//! errors on every failure, and query parameters SCIM does not define are ignored.

pub mod discovery;
pub mod error;
pub mod filter;
pub mod patch;
pub mod resource;
mod search;
mod users;
pub mod wire;

use axum::extract::{Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use http::Method;

use self::error::ScimError;
pub use self::wire::BASE_PATH;
use self::wire::MEDIA_TYPE;
use crate::edge::auth::Scope;
use crate::edge::exchange::Exchange;
use crate::edge::gate;
use crate::edge::AppState;

/// The SCIM router, to be nested at [`BASE_PATH`].
pub fn router(state: AppState) -> Router {
    Router::new()
        .route(
            "/ServiceProviderConfig",
            get(users::service_provider_config),
        )
        .route("/ResourceTypes", get(users::resource_types))
        .route("/ResourceTypes/{id}", get(users::resource_type))
        .route("/Schemas", get(users::schemas))
        .route("/Schemas/{id}", get(users::schema))
        .route("/Users", get(search::list).post(users::create))
        .route(
            "/Users/{id}",
            get(users::read)
                .put(users::replace)
                .patch(users::patch)
                .delete(users::delete),
        )
        .route("/Bulk", post(users::not_implemented))
        .route("/.search", post(users::not_implemented))
        .route("/Users/.search", post(users::not_implemented))
        .method_not_allowed_fallback(|| async {
            ScimError::status(
                http::StatusCode::METHOD_NOT_ALLOWED,
                "method not allowed on this resource",
            )
        })
        .fallback(|| async { ScimError::not_found("no such resource") })
        .layer(middleware::from_fn_with_state(state.clone(), edge))
        .with_state(state)
}

/// Admits the request through the shared gate (a read key for GET, a write key for the
/// rest), runs the handler against the deadline with storage metered, and logs its line.
async fn edge(State(app): State<AppState>, mut req: Request, next: Next) -> Response {
    let mut x = Exchange::start(&req, &app);
    let needed = if x.method == Method::GET {
        Scope::Read
    } else {
        Scope::Write
    };
    let response = match gate::admit(&app, &mut x, &mut req, needed).await {
        Ok(()) => scim_errors(x.run(next.run(req)).await),
        Err(e) => ScimError::from(e).into_response(),
    };
    x.finish(response, &app)
}

/// The shared edge's own answers (a 503 at the deadline) in SCIM's error schema.
fn scim_errors(response: Response) -> Response {
    let is_scim = response
        .headers()
        .get(http::header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes() == MEDIA_TYPE.as_bytes());
    if is_scim || response.status().is_success() {
        return response;
    }
    let status = response.status();
    let reason = status.canonical_reason().unwrap_or("request failed");
    let mut error = ScimError::status(status, reason);
    if status == http::StatusCode::SERVICE_UNAVAILABLE {
        error.retry_after = Some(1);
    }
    error.into_response()
}
