//! A native handler's successful answer, rendered as JSON or XML by the edge.

use axum::response::{IntoResponse, Response};
use http::{header, HeaderValue, StatusCode};
use serde_json::Value;

use crate::domain::User;
use crate::edge::render::Rendered;

/// A successful answer: a status and a JSON body, rendered by the edge layer.
pub struct Reply {
    status: StatusCode,
    body: Value,
    root: &'static str,
    etag: Option<u64>,
}

impl Reply {
    /// A single user, with its `ETag`.
    pub fn user(user: &User) -> Self {
        Self {
            status: StatusCode::OK,
            body: user.to_json(),
            root: "user",
            etag: Some(user.version),
        }
    }

    /// Any other document, under the XML root `root`.
    pub fn document(body: Value, root: &'static str) -> Self {
        Self {
            status: StatusCode::OK,
            body,
            root,
            etag: None,
        }
    }

    /// This answer with another status (`201 Created`).
    pub fn with_status(mut self, status: StatusCode) -> Self {
        self.status = status;
        self
    }

    /// A list envelope (XML root `<export>`, as in the seed).
    pub fn list(body: Value) -> Self {
        Self {
            status: StatusCode::OK,
            body,
            root: "export",
            etag: None,
        }
    }
}

impl IntoResponse for Reply {
    fn into_response(self) -> Response {
        let mut response = Rendered::response(self.status, self.body, self.root);
        if let Some(v) = self.etag {
            if let Ok(etag) = HeaderValue::from_str(&format!("\"{v}\"")) {
                response.headers_mut().insert(header::ETAG, etag);
            }
        }
        response
    }
}
