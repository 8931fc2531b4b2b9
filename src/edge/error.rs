//! Every error a client can see: its status, `ALGOREP_nnn` code and body, in one place.

use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode};
use serde_json::json;

use super::render::Rendered;
use crate::domain::{DomainError, FieldIssue};
use crate::store::StoreError;

/// The most field errors an answer lists; the message counts the rest.
pub const MAX_DETAILS: usize = 20;
/// Field names and reasons are cut to these lengths (an unknown field's name is the
/// client's), so no error body exceeds 16 KiB.
const MAX_FIELD_CHARS: usize = 64;
const MAX_REASON_CHARS: usize = 256;

/// `s`, cut to `max` characters with an ellipsis when longer.
fn clip(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((end, _)) => format!("{}…", &s[..end]),
        None => s.to_owned(),
    }
}

/// An error answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiError {
    /// 400 `ALGOREP_005`, naming what is wrong.
    BadRequest(Vec<FieldIssue>),
    /// 400 `ALGOREP_005` for a body that is not valid JSON.
    MalformedJson(String),
    /// 404 `ALGOREP_029`.
    NotFound,
    /// 409 `ALGOREP_030`: the named field's value is taken.
    Duplicate(&'static str),
    /// 409 `ALGOREP_030`: the user was erased and cannot be restored.
    Erased,
    /// 410 `ALGOREP_039`: `updatedFrom` is before the retention horizon; resync.
    FeedHorizon(u32),
    /// 401 `ALGOREP_031`.
    Unauthorized,
    /// 401 `ALGOREP_031` on `/me`: no valid sign-in token (RFC 6750 `invalid_token`).
    InvalidToken,
    /// 403 `ALGOREP_032` on `/me`: the token lacks `OIDC_SCOPE` (RFC 6750
    /// `insufficient_scope`).
    InsufficientScope,
    /// 403 `ALGOREP_032` on `/me`: the person's record is disabled, deleted or erased.
    Inactive,
    /// 403 `ALGOREP_032`.
    Forbidden,
    /// 403 `ALGOREP_032`: the named field would leave the key's organization or scopes.
    ForbiddenField(&'static str, &'static str),
    /// 404 `ALGOREP_037`: no managed key with that id (that this key may see).
    NoSuchKey,
    /// 429 `ALGOREP_033`, come back after this many seconds.
    TooManyRequests(u64),
    /// 413 `ALGOREP_034`.
    TooLarge(String),
    /// 412 `ALGOREP_035`.
    PreconditionFailed,
    /// 503 `ALGOREP_036`.
    Unavailable,
    /// 404 `ALGOREP_037`.
    NoRoute,
    /// 405 `ALGOREP_037`.
    MethodNotAllowed,
    /// 415 `ALGOREP_038`.
    UnsupportedMediaType,
    /// 406 `ALGOREP_038`.
    NotAcceptable,
    /// 500 `ALGOREP_003`: the database failed (details only in the logs).
    Database,
    /// 500 `ALGOREP_001`.
    Internal,
}

/// One error the API answers with: its `ALGOREP_nnn` code, HTTP status and meaning.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Code {
    /// `ALGOREP_nnn`.
    pub code: &'static str,
    /// The HTTP status.
    pub status: u16,
    /// What it means, as the spec says it.
    pub meaning: &'static str,
}

macro_rules! codes {
    ($($name:ident = $code:literal, $status:literal, $meaning:literal;)*) => {
        $(#[doc = $meaning] pub const $name: Code = Code { code: $code, status: $status, meaning: $meaning };)*
        /// Every error the API answers with, for the spec.
        pub const CODES: &[Code] = &[$($name),*];
    };
}

codes! {
    UNKNOWN = "ALGOREP_001", 500, "Unknown error";
    DATABASE = "ALGOREP_003", 500, "The database failed to process the request";
    BAD_REQUEST = "ALGOREP_005", 400, "Bad request, naming the field or parameter";
    NOT_FOUND = "ALGOREP_029", 404, "User not found";
    DUPLICATE = "ALGOREP_030", 409, "E-mail, username or bubbleId already used";
    ERASED = "ALGOREP_030", 409, "(restore) the user was erased";
    UNAUTHORIZED = "ALGOREP_031", 401, "Missing or invalid API key";
    FORBIDDEN = "ALGOREP_032", 403, "The key's scope does not allow this";
    TOO_MANY_REQUESTS = "ALGOREP_033", 429, "Too many requests";
    TOO_LARGE = "ALGOREP_034", 413, "Body over 256 KiB or batch over 100";
    STALE = "ALGOREP_035", 412, "If-Match no longer matches";
    UNAVAILABLE = "ALGOREP_036", 503, "Storage throttled or unavailable, or the deadline is near";
    NO_ROUTE = "ALGOREP_037", 404, "No such route";
    METHOD_NOT_ALLOWED = "ALGOREP_037", 405, "Method not allowed on this route";
    NOT_JSON = "ALGOREP_038", 415, "Body is not JSON";
    NOT_ACCEPTABLE = "ALGOREP_038", 406, "Accept allows neither JSON nor XML";
    FEED_HORIZON = "ALGOREP_039", 410, "updatedFrom is older than the retention of deleted users: resync from 1970-01-01";
}

impl ApiError {
    /// A 400 naming one field, parameter or header.
    pub fn bad(field: &str, reason: impl Into<String>) -> Self {
        ApiError::BadRequest(vec![FieldIssue::new(field, reason)])
    }

    /// The status, code and message.
    pub fn parts(&self) -> (StatusCode, &'static str, String) {
        use ApiError::*;
        let (code, message): (Code, String) = match self {
            BadRequest(issues) => {
                let names: Vec<String> = issues
                    .iter()
                    .take(MAX_DETAILS)
                    .map(|i| clip(&i.field, MAX_FIELD_CHARS))
                    .collect();
                let more = match issues.len().saturating_sub(MAX_DETAILS) {
                    0 => String::new(),
                    n => format!(" and {n} more"),
                };
                (
                    BAD_REQUEST,
                    format!("Bad request: invalid {}{more}", names.join(", ")),
                )
            }
            MalformedJson(why) => (BAD_REQUEST, format!("Bad request: malformed JSON ({why})")),
            NotFound => (NOT_FOUND, "User not found".into()),
            Duplicate(field) => (
                DUPLICATE,
                format!("Duplicate entry: this {field} is already used"),
            ),
            Erased => (
                ERASED,
                "This user was erased: it cannot be restored (an upsert of its bubbleId creates a new user)".into(),
            ),
            FeedHorizon(days) => (
                FEED_HORIZON,
                format!(
                    "updatedFrom is more than {days} days ago: deleted users are erased after {days} days, \
                     so the feed no longer holds every deletion since then; resync from 1970-01-01 \
                     and drop what the full walk does not return"
                ),
            ),
            Unauthorized => (UNAUTHORIZED, "Missing or invalid API key".into()),
            InvalidToken => (UNAUTHORIZED, "Missing or invalid sign-in token".into()),
            InsufficientScope => (
                FORBIDDEN,
                "The sign-in token's scope does not allow this request".into(),
            ),
            Inactive => (
                FORBIDDEN,
                "This user is disabled, deleted or erased".into(),
            ),
            Forbidden => (
                FORBIDDEN,
                "This API key's scope does not allow this request".into(),
            ),
            ForbiddenField(field, _) => (
                FORBIDDEN,
                format!("This API key may not set {field} so"),
            ),
            NoSuchKey => (NO_ROUTE, "No such key".into()),
            TooManyRequests(_) => (TOO_MANY_REQUESTS, "Too many requests".into()),
            TooLarge(what) => (TOO_LARGE, format!("Too large: {what}")),
            PreconditionFailed => (STALE, "If-Match does not match the current version".into()),
            Unavailable => (UNAVAILABLE, "Storage is busy; retry later".into()),
            NoRoute => (NO_ROUTE, "No such route".into()),
            MethodNotAllowed => (
                METHOD_NOT_ALLOWED,
                "Method not allowed on this route".into(),
            ),
            UnsupportedMediaType => (NOT_JSON, "The body must be JSON (application/json)".into()),
            NotAcceptable => (
                NOT_ACCEPTABLE,
                "Accept must allow application/json or application/xml".into(),
            ),
            Database => (
                DATABASE,
                "The database failed to process the request".into(),
            ),
            Internal => (UNKNOWN, "The server encountered an unknown error".into()),
        };
        (
            StatusCode::from_u16(code.status).expect("valid status"),
            code.code,
            message,
        )
    }

    /// The error body: `{"error", "message", "status"}` plus `details` for field errors.
    pub fn body(&self) -> serde_json::Value {
        let (status, code, message) = self.parts();
        let mut body = json!({"error": code, "message": message, "status": status.as_u16()});
        let details = match self {
            ApiError::BadRequest(issues) => issues.clone(),
            ApiError::Duplicate(field) => {
                vec![FieldIssue::new(*field, "is already used by another user")]
            }
            ApiError::ForbiddenField(field, reason) => vec![FieldIssue::new(*field, *reason)],
            _ => vec![],
        };
        if !details.is_empty() {
            body["details"] = details
                .iter()
                .take(MAX_DETAILS)
                .map(|d| {
                    json!({
                        "field": clip(&d.field, MAX_FIELD_CHARS),
                        "reason": clip(&d.reason, MAX_REASON_CHARS),
                    })
                })
                .collect();
        }
        body
    }
}

impl From<DomainError> for ApiError {
    fn from(e: DomainError) -> Self {
        match e {
            DomainError::NotFound => ApiError::NotFound,
            DomainError::BubbleIdTaken => ApiError::Duplicate("bubbleId"),
            DomainError::PreconditionFailed => ApiError::PreconditionFailed,
            DomainError::Erased => ApiError::Erased,
            DomainError::OutsideBinding(field) => ApiError::ForbiddenField(
                field,
                "is the API key's organization: it cannot be set to another or removed",
            ),
            DomainError::BubbleIdMismatch => ApiError::bad(
                "bubbleId",
                "must equal the user's bubbleId (for an upsert, the path's)",
            ),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Domain(d) => d.into(),
            StoreError::Duplicate(field) => ApiError::Duplicate(field.name()),
            StoreError::Unavailable => ApiError::Unavailable,
            StoreError::Backend(detail) => {
                tracing::error!(error = %detail, "storage failure");
                ApiError::Database
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, _, _) = self.parts();
        let mut response = Rendered::response(status, self.body(), "error");
        let retry_after = match self {
            ApiError::TooManyRequests(secs) => Some(secs),
            ApiError::Unavailable => Some(1),
            _ => None,
        };
        let challenge = match self {
            ApiError::Unauthorized => Some("Bearer realm=\"users-api\""),
            ApiError::InvalidToken => Some("Bearer realm=\"users-api\", error=\"invalid_token\""),
            ApiError::InsufficientScope => {
                Some("Bearer realm=\"users-api\", error=\"insufficient_scope\"")
            }
            _ => None,
        };
        if let Some(challenge) = challenge {
            response.headers_mut().insert(
                http::header::WWW_AUTHENTICATE,
                HeaderValue::from_static(challenge),
            );
        }
        if let Some(secs) = retry_after {
            response
                .headers_mut()
                .insert(http::header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_errors_name_the_field_in_details() {
        let body = ApiError::bad("email", "must be an e-mail address").body();
        assert_eq!(body["error"], "ALGOREP_005");
        assert_eq!(body["status"], 400);
        assert_eq!(body["details"][0]["field"], "email");
    }

    #[test]
    fn at_most_20_details_are_listed_and_the_rest_counted_within_16_kib() {
        let issues: Vec<FieldIssue> = (0..20_000)
            .map(|i| FieldIssue::new(format!("field{i}{}", "x".repeat(500)), "is not a field"))
            .collect();
        let body = ApiError::BadRequest(issues).body();
        assert_eq!(body["details"].as_array().unwrap().len(), 20);
        assert!(body["message"]
            .as_str()
            .unwrap()
            .ends_with("and 19980 more"));
        assert!(
            body.to_string().len() <= 16 * 1024,
            "{}",
            body.to_string().len()
        );
    }

    #[test]
    fn backend_failures_are_opaque() {
        let e: ApiError =
            StoreError::Backend("ResourceNotFoundException: table users-prod".into()).into();
        assert!(!e.body().to_string().contains("users-prod"));
        assert_eq!(e.body()["error"], "ALGOREP_003");
    }
}
