//! The one gate every protected request of either face passes, once, before its handler
//! runs and before any data is read: who is calling, whether its key may do what the route
//! needs, and whether it is within its rate. What the caller then sees is its
//! [`View`](super::view::View): the whole directory, or its organization's.

use axum::extract::Request;

use super::auth::{presented_key, usable_scopes, Refusal, Scope};
use super::error::ApiError;
use super::exchange::Exchange;
use super::state::AppState;
use crate::store::meter;

/// Admits `req` to a route that needs `needed`: authenticates its key, checks its scopes,
/// charges its rate allowance (recorded on `x` for the answer's headers and the log line)
/// and hands the handler the [`Caller`](super::auth::Caller). A 401, 403 or 429 otherwise.
pub(crate) async fn admit(
    app: &AppState,
    x: &mut Exchange,
    req: &mut Request,
    needed: Scope,
) -> Result<(), ApiError> {
    let presented = presented_key(req.headers()).map(str::to_owned);
    let found = match presented {
        None => Err(Refusal::Missing),
        // Metered like the handler: a managed key's lookup shows in `Server-Timing`.
        Some(secret) => meter::scope(x.meter(), app.keys.authenticate(&secret)).await,
    };
    let caller = found.map_err(|why| match why {
        Refusal::Unavailable => ApiError::Unavailable,
        Refusal::Throttled => ApiError::TooManyRequests(1),
        why => {
            x.refusal = Some(why);
            ApiError::Unauthorized
        }
    })?;
    x.key = Some(caller.name.clone());
    if !usable_scopes(&caller, req.headers())?.holds(needed) {
        return Err(ApiError::Forbidden);
    }
    let allowed = app.limits.check(&caller.name);
    x.allowance = Some(allowed);
    req.extensions_mut().insert(caller);
    match allowed.retry_after {
        Some(secs) => Err(ApiError::TooManyRequests(secs)),
        None => Ok(()),
    }
}
