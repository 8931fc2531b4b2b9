//! The Lambda binary: configuration, the store, and the router, built once per cold start.

use users_api::config::Config;
use users_api::{app, build_store, telemetry, AppState};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    telemetry::init();
    let config =
        Config::from_env().inspect_err(|e| tracing::error!(error = %e, "bad configuration"))?;
    if config.keys.is_empty() {
        tracing::warn!("API_KEYS is empty: every protected route answers 401");
    }
    let store = build_store(&config).await?;
    lambda_http::run(app(AppState::new(store, &config))).await
}
