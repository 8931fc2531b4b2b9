//! SDK errors → [`StoreError`]: throttling and transport trouble become `Unavailable`
//! (after the SDK's own retries), everything else an opaque backend failure.

use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};

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
    E: ProvideErrorMetadata + std::fmt::Debug,
    R: std::fmt::Debug,
{
    match err {
        SdkError::ServiceError(ctx) => Ok(ctx.into_err()),
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            Err(StoreError::Unavailable)
        }
        other => Err(StoreError::Backend(format!("{other:?}"))),
    }
}

/// Maps an operation error no caller handles specially.
pub fn other<E: ProvideErrorMetadata + std::fmt::Debug>(err: E) -> StoreError {
    match err.code() {
        Some(code) if TRANSIENT.contains(&code) => StoreError::Unavailable,
        _ => StoreError::Backend(format!("{err:?}")),
    }
}

/// Maps any SDK error of an operation that has no expected failures.
pub fn store_error<E, R>(err: SdkError<E, R>) -> StoreError
where
    E: ProvideErrorMetadata + std::fmt::Debug,
    R: std::fmt::Debug,
{
    service_error(err).map_or_else(|e| e, other)
}
