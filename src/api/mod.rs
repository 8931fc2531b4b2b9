//! The native API: the route table, its handlers and the OpenAPI document built from the
//! table, behind an edge that negotiates JSON or XML, admits each request through the shared
//! gate with the scope its route declares, and refuses query parameters the route lacks.

pub mod body;
pub mod filter;
pub mod handlers;
pub mod key_routes;
pub mod keys;
pub mod lists;
pub mod me;
pub mod openapi;
pub mod paging;
pub mod params;
pub mod reply;
pub mod route;
pub mod routes;

use std::sync::{Arc, OnceLock};

use axum::extract::{Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::Router;

use self::handlers as h;
use self::routes::{Access, RouteRules};
use crate::edge::error::ApiError;
use crate::edge::exchange::Exchange;
use crate::edge::gate;
use crate::edge::query::Params;
use crate::edge::render::{negotiate, Format, Rendered};
use crate::edge::AppState;

/// The native API's router: every route of the table, behind [`edge`].
pub fn router(state: AppState) -> Router {
    h::serve_spec_from(spec_text);
    let rules = Arc::new(RouteRules::of(&routes::routes()));
    routes::routes()
        .into_iter()
        .fold(Router::new(), |router, r| router.route(r.path, r.handler))
        .method_not_allowed_fallback(h::method_not_allowed)
        .fallback(h::no_route)
        .layer(middleware::from_fn_with_state((state.clone(), rules), edge))
        .with_state(state)
}

/// The OpenAPI document's text, built from the route table on first use.
fn spec_text() -> &'static str {
    static DOC: OnceLock<String> = OnceLock::new();
    DOC.get_or_init(|| openapi::document().to_string())
}

/// Negotiates the format, admits the request through the gate with its route's scope,
/// checks its query parameters, runs the handler with storage metered, renders, and logs
/// one line.
async fn edge(
    State((app, rules)): State<(AppState, Arc<RouteRules>)>,
    mut req: Request,
    next: Next,
) -> Response {
    let mut x = Exchange::start(&req, &app);
    let negotiated = negotiate(req.headers()).ok_or(ApiError::NotAcceptable);
    let format = negotiated.as_ref().copied().unwrap_or(Format::Json);
    let needed = rules.needed(&x.method, x.route.as_deref());
    let outcome = match (negotiated, needed) {
        (Err(e), _) => Err(e),
        (Ok(_), Access::Public) => Ok(()),
        (Ok(_), Access::Key(needed)) => gate::admit(&app, &mut x, &mut req, needed).await,
        (Ok(_), Access::Token) => gate::admit_person(&app, &mut x, &mut req).await,
    };
    let outcome = outcome.and_then(|()| {
        let params = Params::parse(req.uri().query())?;
        match rules.unknown_query(&x.method, x.route.as_deref(), params.names()) {
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
