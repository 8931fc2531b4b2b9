//! Logs: one flat JSON object a line on stdout (CloudWatch), with AWS Lambda Powertools'
//! key names (`timestamp`, `level`, `message`, `service`, `cold_start`,
//! `function_request_id`, …), levels from `RUST_LOG` (default `info`), read as
//! [`Targets`]: `warn`, or `info,users_api=debug`.

use std::sync::atomic::{AtomicBool, Ordering};

use tracing_subscriber::filter::Targets;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;

/// The `service` every request line carries.
pub const SERVICE: &str = "users-api";

static COLD: AtomicBool = AtomicBool::new(true);

/// Whether this is the first request this process serves: `true` once, then `false`.
pub fn cold_start() -> bool {
    COLD.swap(false, Ordering::Relaxed)
}

/// The log format, writing to `writer` at the levels `rust_log` asks for (`info` when
/// `None`): fields at the top level, no span lists.
pub fn subscriber<W>(writer: W, rust_log: Option<&str>) -> impl tracing::Subscriber + Send + Sync
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    tracing_subscriber::fmt()
        .json()
        .flatten_event(true)
        .with_current_span(false)
        .with_span_list(false)
        .with_target(false)
        .with_max_level(tracing::Level::TRACE)
        .with_writer(writer)
        .finish()
        .with(levels(rust_log))
}

/// The levels `RUST_LOG` asks for; `info` when it is unset or unreadable.
fn levels(rust_log: Option<&str>) -> Targets {
    let info = || Targets::new().with_default(tracing::Level::INFO);
    rust_log
        .and_then(|spec| spec.parse::<Targets>().ok())
        .unwrap_or_else(info)
}

/// Installs the JSON log subscriber on stdout at the levels `rust_log` asks for (`RUST_LOG`,
/// read with the rest of the configuration); call once, first thing in `main`.
pub fn init(rust_log: Option<&str>) {
    // A second call (tests) keeps the first subscriber.
    let _ = tracing::subscriber::set_global_default(subscriber(std::io::stdout, rust_log));
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracing::level_filters::LevelFilter;

    #[test]
    fn rust_log_sets_levels_and_a_bad_one_means_info() {
        assert_eq!(levels(None).default_level(), Some(LevelFilter::INFO));
        assert_eq!(
            levels(Some("warn")).default_level(),
            Some(LevelFilter::WARN)
        );
        let mixed = levels(Some("info,users_api=debug"));
        assert!(mixed.would_enable("users_api::api", &tracing::Level::DEBUG));
        assert!(!mixed.would_enable("aws_smithy_runtime", &tracing::Level::DEBUG));
        assert_eq!(levels(Some("=&=")).default_level(), Some(LevelFilter::INFO));
    }
}
