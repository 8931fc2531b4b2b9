//! SCIM's error response (RFC 7644 §3.12): `{"schemas": [Error], "status": "409",
//! "scimType": "uniqueness", "detail": "…"}` with the matching HTTP status, for every failure
//! on `/scim/v2`, the edge's (401, 403, 429, 503) included.

use axum::response::{IntoResponse, Response};
use http::{header, HeaderValue, StatusCode};
use serde_json::json;

use crate::domain::DomainError;
use crate::edge::error::ApiError;
use crate::store::StoreError;

/// The error message schema.
pub const ERROR_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:Error";

/// The `scimType` of a 400 or 409 (RFC 7644 §3.12, table 9).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScimType {
    /// The filter's syntax is invalid, or it asks for what is not supported.
    InvalidFilter,
    /// A value another resource already holds.
    Uniqueness,
    /// An attempt to change what cannot be changed.
    Mutability,
    /// The request body's structure is invalid.
    InvalidSyntax,
    /// A value of the wrong type, or one that breaks a rule.
    InvalidValue,
    /// A path that selects nothing where something is needed.
    NoTarget,
    /// A path that is not well formed, or names nothing the schema has.
    InvalidPath,
}

impl ScimType {
    /// Its name on the wire.
    pub const fn as_str(self) -> &'static str {
        match self {
            ScimType::InvalidFilter => "invalidFilter",
            ScimType::Uniqueness => "uniqueness",
            ScimType::Mutability => "mutability",
            ScimType::InvalidSyntax => "invalidSyntax",
            ScimType::InvalidValue => "invalidValue",
            ScimType::NoTarget => "noTarget",
            ScimType::InvalidPath => "invalidPath",
        }
    }
}

/// A SCIM error: the status, the `scimType` where RFC 7644 defines one, and a detail that
/// never carries internal text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScimError {
    /// The HTTP status.
    pub status: StatusCode,
    /// The `scimType`, where RFC 7644 defines one for the failure.
    pub scim_type: Option<ScimType>,
    /// What went wrong, for a person.
    pub detail: String,
    /// Seconds to wait, for 429 and 503.
    pub retry_after: Option<u64>,
}

impl ScimError {
    fn new(status: StatusCode, scim_type: Option<ScimType>, detail: impl Into<String>) -> Self {
        Self {
            status,
            scim_type,
            detail: detail.into(),
            retry_after: None,
        }
    }

    /// An error RFC 7644 gives no `scimType` (405, 413, 415, and the edge's own answers).
    pub fn status(status: StatusCode, detail: impl Into<String>) -> Self {
        Self::new(status, None, detail)
    }

    /// 400 with `scimType`.
    pub fn bad(scim_type: ScimType, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, Some(scim_type), detail)
    }

    /// 404: no such user (or route).
    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, None, detail)
    }

    /// 409 `uniqueness`.
    pub fn uniqueness(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, Some(ScimType::Uniqueness), detail)
    }

    /// 501: an operation this service does not offer.
    pub fn not_implemented(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_IMPLEMENTED, None, detail)
    }

    /// The error body.
    pub fn body(&self) -> serde_json::Value {
        let mut body = json!({
            "schemas": [ERROR_SCHEMA],
            "status": self.status.as_u16().to_string(),
            "detail": self.detail,
        });
        if let Some(t) = self.scim_type {
            body["scimType"] = json!(t.as_str());
        }
        body
    }
}

/// At most 200 characters of what a client sent, for an error's detail.
pub fn clip(s: &str) -> String {
    const MAX: usize = 200;
    match s.char_indices().nth(MAX) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_owned(),
    }
}

impl From<ApiError> for ScimError {
    fn from(e: ApiError) -> Self {
        let (status, _, message) = e.parts();
        let scim_type = match &e {
            ApiError::BadRequest(_) => Some(ScimType::InvalidValue),
            ApiError::MalformedJson(_) => Some(ScimType::InvalidSyntax),
            ApiError::Duplicate(_) => Some(ScimType::Uniqueness),
            _ => None,
        };
        let mut out = Self::new(status, scim_type, message);
        out.retry_after = match e {
            ApiError::TooManyRequests(secs) => Some(secs),
            ApiError::Unavailable => Some(1),
            _ => None,
        };
        out
    }
}

impl From<StoreError> for ScimError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Duplicate(field) => {
                Self::uniqueness(format!("this {} is already used", field.name()))
            }
            other => ApiError::from(other).into(),
        }
    }
}

impl From<DomainError> for ScimError {
    fn from(e: DomainError) -> Self {
        match e {
            DomainError::BubbleIdTaken => Self::uniqueness("this externalId is already used"),
            DomainError::NotFound => Self::not_found("no such user"),
            other => ApiError::from(other).into(),
        }
    }
}

impl IntoResponse for ScimError {
    fn into_response(self) -> Response {
        let mut response = (self.status, self.body().to_string()).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(super::wire::MEDIA_TYPE),
        );
        if let Some(secs) = self.retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        if self.status == StatusCode::UNAUTHORIZED {
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"users-api\""),
            );
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_names_its_schema_status_as_text_and_scim_type() {
        let e: ScimError = StoreError::Duplicate(crate::domain::UniqueField::Email).into();
        let body = e.body();
        assert_eq!(body["schemas"][0], ERROR_SCHEMA);
        assert_eq!(
            (body["status"].as_str(), body["scimType"].as_str()),
            (Some("409"), Some("uniqueness"))
        );
        let hidden: ScimError = StoreError::Backend("table users-prod".into()).into();
        assert!(!hidden.detail.contains("users-prod"));
        assert_eq!(hidden.status, StatusCode::INTERNAL_SERVER_ERROR);
    }
}
