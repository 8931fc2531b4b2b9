//! SDK errors → [`StoreError`]: throttling and transport trouble become `Unavailable`
//! (after the SDK's own retries), everything else an opaque backend failure.

use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::RequestId;

use crate::store::StoreError;

/// Error codes that mean "come back later", not "this request is wrong".
const TRANSIENT: [&str; 6] = [
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
    "InternalServerError",
    "ServiceUnavailable",
    "TransactionInProgressException",
];

/// Splits an SDK error into the operation's own error, or a finished [`StoreError`].
pub fn service_error<E, R>(err: SdkError<E, R>) -> Result<E, StoreError>
where
    E: ProvideErrorMetadata + RequestId + std::fmt::Debug,
    R: std::fmt::Debug,
{
    match err {
        SdkError::ServiceError(ctx) => Ok(ctx.into_err()),
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            Err(StoreError::Unavailable)
        }
        _ => Err(StoreError::Backend(format!(
            "{}: the request could not be built or sent",
            operation::<E>()
        ))),
    }
}

/// Maps an operation error no caller handles specially. What is kept for the log is the
/// operation, DynamoDB's error code and the AWS request id: never the message, which can
/// name the table or echo a key.
pub fn other<E: ProvideErrorMetadata + RequestId + std::fmt::Debug>(err: E) -> StoreError {
    match err.code() {
        Some(code) if TRANSIENT.contains(&code) => StoreError::Unavailable,
        code => StoreError::Backend(describe(operation::<E>(), code, err.request_id())),
    }
}

/// `GetItem: ResourceNotFoundException (the table or index does not exist), request id R`.
fn describe(operation: &str, code: Option<&str>, request_id: Option<&str>) -> String {
    let code = code.unwrap_or("no error code");
    let hint = match code {
        "ResourceNotFoundException" => " (the table or index does not exist)",
        "AccessDeniedException" => " (the function's role may not do this)",
        "ValidationException" => " (DynamoDB refused the request's shape)",
        _ => "",
    };
    let request_id = request_id.unwrap_or("none");
    format!("{operation}: {code}{hint}, request id {request_id}")
}

/// The operation an SDK error type belongs to: `GetItemError` → `GetItem`.
fn operation<E>() -> &'static str {
    let name = std::any::type_name::<E>();
    let last = name.rsplit("::").next().unwrap_or(name);
    last.strip_suffix("Error").unwrap_or(last)
}

/// Maps any SDK error of an operation that has no expected failures.
pub fn store_error<E, R>(err: SdkError<E, R>) -> StoreError
where
    E: ProvideErrorMetadata + RequestId + std::fmt::Debug,
    R: std::fmt::Debug,
{
    service_error(err).map_or_else(|e| e, other)
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_dynamodb::operation::get_item::GetItemError;

    #[test]
    fn an_unmapped_error_is_logged_as_operation_code_and_request_id() {
        assert_eq!(operation::<GetItemError>(), "GetItem");
        let logged = describe("GetItem", Some("ResourceNotFoundException"), Some("R1"));
        assert_eq!(
            logged,
            "GetItem: ResourceNotFoundException (the table or index does not exist), request id R1"
        );
    }
}
