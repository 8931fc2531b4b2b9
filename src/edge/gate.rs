//! The one gate every protected request of either face passes, once, before its handler
//! runs and before any data is read: who is calling, whether its key may do what the route
//! needs, and whether it is within its rate. Access control grows here, not in the faces.

use axum::extract::Request;

use super::auth::{Authenticate, Scope};
use super::error::ApiError;
use super::exchange::Exchange;
use super::state::AppState;

/// Admits `req` to a route that needs `needed`: authenticates its key, charges its rate
/// allowance (recorded on `x` for the answer's headers and the log line) and hands the
/// handler the [`Caller`](super::auth::Caller). A 401, 403 or 429 otherwise.
pub(crate) fn admit(
    app: &AppState,
    x: &mut Exchange,
    req: &mut Request,
    needed: Scope,
) -> Result<(), ApiError> {
    let caller = app.keys.authenticate(req.headers(), needed)?;
    let allowed = app.limits.check(&caller.name);
    x.allowance = Some(allowed);
    x.key = Some(caller.name.clone());
    req.extensions_mut().insert(caller);
    match allowed.retry_after {
        Some(secs) => Err(ApiError::TooManyRequests(secs)),
        None => Ok(()),
    }
}
