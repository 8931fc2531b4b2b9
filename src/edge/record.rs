//! What every request leaves behind: one log line and one metrics line.

use std::time::Instant;

use http::Method;

use crate::metrics::{self, Figures};
use crate::store::meter::Meter;
use crate::telemetry;

/// One answered request.
pub(crate) struct Record<'a> {
    pub request_id: &'a str,
    pub method: &'a Method,
    /// The matched route template.
    pub route: Option<&'a str>,
    pub status: u16,
    pub started: Instant,
    pub meter: &'a Meter,
    /// The name (never the value) of the key that called.
    pub key: Option<&'a str>,
    /// Why the key was refused (a 401), as the metric's reason.
    pub refusal: Option<&'a str>,
    pub client: Option<&'a str>,
    /// The EMF directive; `None` when metrics are off.
    pub metrics: Option<&'a str>,
}

impl Record<'_> {
    /// Writes the request's log line (Powertools' keys, no body, e-mail or key) and its
    /// metrics (EMF).
    pub fn write(&self) {
        let cold_start = telemetry::cold_start();
        let latency_ms = self.started.elapsed().as_secs_f64() * 1000.0;
        let route = self.route.unwrap_or("-");
        let capacity = self.meter.capacity();
        tracing::info!(
            service = telemetry::SERVICE,
            cold_start,
            function_request_id = self.request_id,
            method = %self.method,
            route,
            status = self.status,
            latency_ms,
            db_requests = self.meter.requests(),
            db_rounds = self.meter.rounds(),
            db_items_read = self.meter.items_read(),
            db_rcu = capacity.read,
            db_wcu = capacity.write,
            db_ms = self.meter.duration().as_secs_f64() * 1000.0,
            key = self.key.unwrap_or("-"),
            refused = self.refusal.unwrap_or("-"),
            client_id = self.client.unwrap_or("-"),
            "request"
        );
        if let Some(directive) = self.metrics {
            let figures = Figures {
                route,
                status: self.status,
                latency_ms,
                db_requests: self.meter.requests(),
                rcu: capacity.read,
                wcu: capacity.write,
                cold_start,
                refusal: self.refusal,
            };
            metrics::emit(&figures, directive);
        }
    }
}
