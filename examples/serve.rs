//! The router on a plain local HTTP server, without the Lambda emulator: what `make test`
//! fuzzes with schemathesis and `make bench` loads (the emulator adds its own overhead and
//! cannot forward non-UTF-8 bodies, which API Gateway base64-encodes for the function).
//!
//! `cargo run --example serve -- 9000` (same environment variables as the function).

use users_api::config::Config;
use users_api::{app, build_store, AppState};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let port: u16 = std::env::args()
        .nth(1)
        .map(|p| p.parse())
        .transpose()?
        .unwrap_or(9000);
    let config = Config::from_env()?;
    let store = build_store(&config).await?;
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    eprintln!("serving on http://127.0.0.1:{port}");
    axum::serve(listener, app(AppState::new(store, &config))).await?;
    Ok(())
}
