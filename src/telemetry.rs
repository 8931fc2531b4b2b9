//! Logs: one flat JSON object a line on stdout (CloudWatch), with AWS Lambda Powertools'
//! key names (`timestamp`, `level`, `message`, `service`, `cold_start`,
//! `function_request_id`, …), level from `RUST_LOG` (default `info`).

use std::sync::atomic::{AtomicBool, Ordering};

use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::EnvFilter;

/// The `service` every request line carries.
pub const SERVICE: &str = "users-api";

static COLD: AtomicBool = AtomicBool::new(true);

/// Whether this is the first request this process serves: `true` once, then `false`.
pub fn cold_start() -> bool {
    COLD.swap(false, Ordering::Relaxed)
}

/// The log format, writing to `writer`: fields at the top level, no span lists.
pub fn subscriber<W>(writer: W) -> impl tracing::Subscriber + Send + Sync
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .json()
        .flatten_event(true)
        .with_current_span(false)
        .with_span_list(false)
        .with_target(false)
        .with_env_filter(filter)
        .with_writer(writer)
        .finish()
}

/// Installs the JSON log subscriber on stdout; call once, first thing in `main`.
pub fn init() {
    // A second call (tests) keeps the first subscriber.
    let _ = tracing::subscriber::set_global_default(subscriber(std::io::stdout));
}
