//! What one entry of the route table declares: method, path, who may call it, its
//! parameters, body and answers, and its handler.

use axum::routing::MethodRouter;
use http::Method;

use super::params::Param;
use crate::edge::auth::Scope;
use crate::edge::AppState;

/// The body an operation takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyKind {
    /// One user's fields, merged (`UserWrite`).
    User,
    /// An array of users to create (`UserWrite` with `bubbleId`).
    Batch,
    /// A managed key to create (`KeyCreate`).
    Key,
    /// A rotation (`KeyRotation`), optional.
    Rotation,
}

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone.
    Public,
    /// An API key holding this scope.
    Key(Scope),
    /// A person, with a sign-in token of the configured issuer (never an API key).
    Token,
}

/// One documented operation.
pub struct Route {
    /// HTTP method.
    pub method: Method,
    /// Path, with `{name}` parameters (as axum and OpenAPI both write them).
    pub path: &'static str,
    /// OpenAPI `operationId`.
    pub operation_id: &'static str,
    /// One-line summary.
    pub summary: &'static str,
    /// Who may call it.
    pub access: Access,
    /// Parameters.
    pub params: &'static [Param],
    /// Request body.
    pub body: Option<BodyKind>,
    /// Success status and the schema of its body.
    pub success: (u16, &'static str),
    /// Error statuses beyond the ones every protected route can answer.
    pub errors: &'static [u16],
    /// Whether the route honours `If-Match`.
    pub if_match: bool,
    /// The handler.
    pub handler: MethodRouter<AppState>,
}
