//! How a route's parameters are described: the route table, the filters and the OpenAPI
//! document share this shape.

use serde_json::{json, Value};

use crate::edge::contract::BUBBLE_ID_PATTERN;

/// A query or path parameter.
#[derive(Debug, Clone, Copy)]
pub struct Param {
    /// Its name.
    pub name: &'static str,
    /// `path` or `query`.
    pub location: &'static str,
    /// JSON Schema of its value.
    pub schema: fn() -> Value,
    /// What it means.
    pub doc: &'static str,
}

/// The JSON Schema of a `{ref}`: an id or a bubbleId.
pub fn ref_schema() -> Value {
    json!({"type": "string", "pattern": BUBBLE_ID_PATTERN})
}
