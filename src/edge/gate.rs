//! The one gate every protected request of either face passes, once, before its handler
//! runs and before any data is read: who is calling, whether its key may do what the route
//! needs, and whether it is within its rate. What the caller then sees is its
//! [`View`](super::view::View): the whole directory, or its organization's. A person's
//! routes (`/me`) pass [`admit_person`] instead: a sign-in token, never a key.

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

/// Admits `req` to a person's route: a sign-in token of the configured issuer, presented as
/// `Authorization: Bearer <token>` and nowhere else, verified, holding `OIDC_SCOPE` for a
/// write, within its rate. The handler gets the [`Person`]. An API key, in any header, is
/// 401 here, as is every refused token (the reason is logged, never answered).
pub(crate) async fn admit_person(
    app: &AppState,
    x: &mut Exchange,
    req: &mut Request,
) -> Result<(), ApiError> {
    let headers = req.headers();
    let token = headers
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim().to_owned());
    let (Some(oidc), Some(token), false) = (&app.oidc, token, headers.contains_key("x-api-key"))
    else {
        return Err(ApiError::InvalidToken);
    };
    let person = oidc.verify(&token).await.map_err(|why| {
        tracing::info!(refused = why.name(), "sign-in token refused");
        ApiError::InvalidToken
    })?;
    let actor = person.actor();
    x.key = Some(actor.clone());
    let writes = req.method() != http::Method::GET && req.method() != http::Method::HEAD;
    if let Some(scope) = oidc.config.scope.as_deref().filter(|_| writes) {
        if !person.has_scope(scope) {
            return Err(ApiError::InsufficientScope);
        }
    }
    let allowed = app.limits.check(&actor);
    x.allowance = Some(allowed);
    req.extensions_mut().insert(person);
    match allowed.retry_after {
        Some(secs) => Err(ApiError::TooManyRequests(secs)),
        None => Ok(()),
    }
}
