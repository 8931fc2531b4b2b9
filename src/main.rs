//! The Lambda binary: configuration, the store, and the router, built once per cold start.

use users_api::config::{Config, Handler};
use users_api::{app, build_store, telemetry, AppState};

fn main() -> Result<(), lambda_http::Error> {
    // Set by `cargo lambda watch` and by Lambda Managed Instances. This function serves one
    // request at a time per instance (scale comes from instances), so the runtime's "running
    // sequentially" warning on every start would only alarm. Cleared before any thread starts.
    if std::env::var_os("AWS_LAMBDA_MAX_CONCURRENCY").is_some() {
        std::env::remove_var("AWS_LAMBDA_MAX_CONCURRENCY");
    }
    serve()
}

/// One thread: Lambda sends an instance one request at a time, so worker threads would only
/// add cross-thread wake-ups and stacks. (Measured: `/health` costs 34 µs of CPU on this
/// runtime against 125 µs on the multi-threaded one, and building the same current-thread
/// runtime by hand around `block_on` cost 160 µs: keep the macro.)
#[tokio::main(flavor = "current_thread")]
async fn serve() -> Result<(), lambda_http::Error> {
    let config = Config::from_env();
    let levels = config.as_ref().ok().and_then(|c| c.log_levels.as_deref());
    telemetry::init(levels);
    let config = config.inspect_err(|e| tracing::error!(error = %e, "bad configuration"))?;
    if !matches!(config.handler, Handler::Http) {
        return users_api::events::run(config.handler).await;
    }
    if config.keys.is_empty() {
        tracing::warn!("API_KEYS is empty: every protected route answers 401");
    }
    let store = build_store(&config).await?;
    lambda_http::run(app(AppState::new(store, &config))).await
}
