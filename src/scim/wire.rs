//! SCIM's wire, shared by its handlers: where it is served, its media type, the base URL a
//! client used, and an answer in its media type.

use axum::response::{IntoResponse, Response};
use http::{HeaderMap, HeaderValue};

/// Where SCIM is served.
pub const BASE_PATH: &str = "/scim/v2";
/// SCIM's media type, for every answer.
pub const MEDIA_TYPE: &str = "application/scim+json";

/// The SCIM base URL the client used: from `Host` and `X-Forwarded-Proto` (API Gateway's),
/// else the path alone.
pub fn base_url(headers: &HeaderMap) -> String {
    let host = headers
        .get(http::header::HOST)
        .and_then(|h| h.to_str().ok());
    let proto = headers
        .get("x-forwarded-proto")
        .and_then(|h| h.to_str().ok())
        .unwrap_or("http");
    match host {
        Some(host) if !host.is_empty() => format!("{proto}://{host}{BASE_PATH}"),
        _ => BASE_PATH.to_owned(),
    }
}

/// A SCIM answer: `body` with SCIM's media type.
pub fn respond(status: http::StatusCode, body: serde_json::Value) -> Response {
    let mut response = (status, body.to_string()).into_response();
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static(MEDIA_TYPE),
    );
    response
}
