//! The process's log output, captured in memory.
//!
//! One global subscriber for the whole test binary: a thread-scoped one (`set_default`)
//! loses events when other threads register the same callsites first (tracing caches a
//! callsite's interest per process). Tests find their own lines by a unique value.

use std::sync::{Arc, Mutex, OnceLock};

/// Every log line written so far, as the function writes them.
#[derive(Clone, Default)]
pub struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    /// What has been logged so far.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

/// The captured logs, with the function's log format installed as the global subscriber on
/// first use.
pub fn logs() -> &'static Captured {
    static LOGS: OnceLock<Captured> = OnceLock::new();
    LOGS.get_or_init(|| {
        let logs = Captured::default();
        tracing::subscriber::set_global_default(users_api::telemetry::subscriber(
            logs.clone(),
            None,
        ))
        .expect("no other global subscriber in the tests");
        logs
    })
}
