//! The Lambda binary: configuration, the store, and the router, built once per cold start.

use users_api::config::Config;
use users_api::{app, build_store, telemetry, AppState};

/// One thread: Lambda sends an instance one request at a time, so worker threads would only
/// add cross-thread wake-ups (CPU per request) and stacks (memory).
fn main() -> Result<(), lambda_http::Error> {
    // Set by `cargo lambda watch` and by Lambda Managed Instances. This function serves one
    // request at a time per instance (scale comes from instances), so the runtime's "running
    // sequentially" warning on every start would only alarm. Cleared before any thread starts.
    if std::env::var_os("AWS_LAMBDA_MAX_CONCURRENCY").is_some() {
        std::env::remove_var("AWS_LAMBDA_MAX_CONCURRENCY");
    }
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(serve())
}

async fn serve() -> Result<(), lambda_http::Error> {
    telemetry::init();
    let config =
        Config::from_env().inspect_err(|e| tracing::error!(error = %e, "bad configuration"))?;
    if config.keys.is_empty() {
        tracing::warn!("API_KEYS is empty: every protected route answers 401");
    }
    let store = build_store(&config).await?;
    lambda_http::run(app(AppState::new(store, &config))).await
}
