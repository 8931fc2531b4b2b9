//! The `/keys` routes' entries in the route table: each needs scope `keys`.

use axum::routing::{delete, get, post};
use http::Method;
use serde_json::json;

use super::params::Param;
use super::route::{Access, BodyKind, Route};
use crate::edge::auth::Scope;
use crate::edge::AppState;
use axum::routing::MethodRouter;

const KEY_ID: Param = Param {
    name: "keyId",
    location: "path",
    schema: || json!({"type": "string", "pattern": "^key_[0-9a-f]{32}$"}),
    doc: "The managed key's id.",
};

/// A `/keys` route: scope `keys`, no `If-Match`.
fn key_route(
    method: Method,
    path: &'static str,
    (operation_id, summary): (&'static str, &'static str),
    params: &'static [Param],
    body: Option<BodyKind>,
    success: (u16, &'static str),
    handler: MethodRouter<AppState>,
) -> Route {
    Route {
        method,
        path,
        operation_id,
        summary,
        access: Access::Key(Scope::Keys),
        params,
        body,
        success,
        errors: &[400, 404, 413, 415],
        if_match: false,
        handler,
    }
}

/// The managed keys' routes.
pub fn routes() -> Vec<Route> {
    use super::keys as k;
    vec![
        key_route(Method::POST, "/keys", ("createKey", "Create a managed key; its secret is in this answer only"),
            &[],
            Some(BodyKind::Key),
            (201, "KeyWithSecret"),
            post(k::create),
        ),
        key_route(Method::GET, "/keys", ("listKeys", "The managed keys this key may manage, oldest first"),
            &[],
            None,
            (200, "KeyList"),
            get(k::list),
        ),
        key_route(Method::GET, "/keys/{keyId}", ("getKey", "One managed key's record (never its secret)"),
            &[KEY_ID],
            None,
            (200, "Key"),
            get(k::get),
        ),
        key_route(Method::POST, "/keys/{keyId}/rotate", ("rotateKey", "A new secret; the old one keeps working for overlapHours (default 24, at most 168)"),
            &[KEY_ID],
            Some(BodyKind::Rotation),
            (200, "KeyWithSecret"),
            post(k::rotate),
        ),
        key_route(Method::DELETE, "/keys/{keyId}", ("revokeKey", "Revoke: refused by every instance within 10 s"),
            &[KEY_ID],
            None,
            (200, "Key"),
            delete(k::revoke),
        ),
    ]
}
