//! Per-request metrics as CloudWatch Embedded Metric Format (EMF), the convention of AWS
//! Lambda Powertools: one JSON line on stdout per request, which CloudWatch Logs turns into
//! metrics with no API call and no agent.
//!
//! Dimensions are the service and the route *template* (`/users/{ref}`), never an id, so the
//! number of metric series stays fixed. Every request reports every metric (0 or 1 for the
//! status counts), so a sum is a count and an average is a rate.

use serde_json::{json, Value};

/// The namespace when `POWERTOOLS_METRICS_NAMESPACE` is unset.
pub const DEFAULT_NAMESPACE: &str = "UsersApi";

/// What one request did.
#[derive(Debug, Clone, Copy, Default)]
pub struct Figures<'a> {
    /// The matched route template, or `-` for none.
    pub route: &'a str,
    /// The answer's status.
    pub status: u16,
    /// Time from the request to its answer.
    pub latency_ms: f64,
    /// Storage requests made.
    pub db_requests: u64,
    /// Read capacity units DynamoDB reported consumed.
    pub rcu: f64,
    /// Write capacity units DynamoDB reported consumed.
    pub wcu: f64,
    /// Whether this was the instance's first request.
    pub cold_start: bool,
    /// Why a 401 refused the key (`missing`, `unknown`, `revoked`, `expired`).
    pub refusal: Option<&'a str>,
}

/// The metrics of a request: name, unit, value.
fn values(f: &Figures) -> [(&'static str, &'static str, f64); 15] {
    let is = |b: bool| if b { 1.0 } else { 0.0 };
    let refused = |why: &str| is(f.refusal == Some(why));
    [
        ("Requests", "Count", 1.0),
        ("Latency", "Milliseconds", f.latency_ms),
        ("StorageRequests", "Count", f.db_requests as f64),
        ("ConsumedRCU", "Count", f.rcu),
        ("ConsumedWCU", "Count", f.wcu),
        ("Status4xx", "Count", is((400..500).contains(&f.status))),
        ("Status409", "Count", is(f.status == 409)),
        ("Status412", "Count", is(f.status == 412)),
        ("Status429", "Count", is(f.status == 429)),
        ("Unauthorized401Missing", "Count", refused("missing")),
        ("Unauthorized401Unknown", "Count", refused("unknown")),
        ("Unauthorized401Revoked", "Count", refused("revoked")),
        ("Unauthorized401Expired", "Count", refused("expired")),
        ("Status5xx", "Count", is(f.status >= 500)),
        ("ColdStart", "Count", is(f.cold_start)),
    ]
}

/// The part of every line that does not change: the metric directive.
/// The EMF metric directive for `namespace`, built once per cold start.
pub fn directive(namespace: &str) -> String {
    let definitions: Vec<Value> = values(&Figures::default())
        .iter()
        .map(|(name, unit, _)| json!({"Name": name, "Unit": unit}))
        .collect();
    json!([{
        "Namespace": namespace,
        "Dimensions": [["service", "route"], ["service"]],
        "Metrics": definitions,
    }])
    .to_string()
}

/// The EMF line for `f`, stamped `timestamp_ms` (epoch milliseconds), after the
/// [`directive`] for the namespace. Written by hand: it is on every request's path, and
/// building a JSON tree for it cost 20 µs of CPU a request.
fn line(f: &Figures, service: &str, directive: &str, timestamp_ms: i64) -> String {
    let mut out = format!(
        r#"{{"_aws":{{"Timestamp":{timestamp_ms},"CloudWatchMetrics":{directive}}},"service":{},"route":{}"#,
        Value::from(service),
        Value::from(f.route),
    );
    for (name, _, value) in values(f) {
        out.push_str(&format!(r#","{name}":{value}"#));
    }
    out.push('}');
    out
}

/// The EMF document for `f` (what [`emit`] writes, parsed).
pub fn document(f: &Figures, service: &str, namespace: &str, timestamp_ms: i64) -> Value {
    serde_json::from_str(&line(f, service, &directive(namespace), timestamp_ms))
        .expect("the EMF line is JSON")
}

/// Writes the request's EMF line to stdout (CloudWatch Logs on Lambda), under `directive`
/// (see [`directive`]).
pub fn emit(f: &Figures, directive: &str) {
    let now = chrono::Utc::now().timestamp_millis();
    println!("{}", line(f, crate::telemetry::SERVICE, directive, now));
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Checks `line` against the EMF specification: a JSON object whose `_aws` names a
    /// millisecond timestamp and metric directives, each dimension a top-level string, each
    /// metric a top-level number; at most 30 dimensions and 100 metrics.
    fn assert_valid_emf(line: &str) -> Value {
        let doc: Value = serde_json::from_str(line).expect("one JSON object");
        let aws = &doc["_aws"];
        assert!(aws["Timestamp"]
            .as_i64()
            .is_some_and(|t| t > 1_500_000_000_000));
        let directives = aws["CloudWatchMetrics"].as_array().expect("directives");
        assert!(!directives.is_empty());
        for d in directives {
            assert!(d["Namespace"]
                .as_str()
                .is_some_and(|n| !n.is_empty() && n.len() <= 255));
            for set in d["Dimensions"].as_array().expect("dimension sets") {
                let set = set.as_array().expect("a dimension set");
                assert!(set.len() <= 30);
                for key in set {
                    let key = key.as_str().expect("a dimension name");
                    assert!(
                        doc[key].is_string(),
                        "dimension {key} is a top-level string"
                    );
                }
            }
            let metrics = d["Metrics"].as_array().expect("metrics");
            assert!(!metrics.is_empty() && metrics.len() <= 100);
            for m in metrics {
                let name = m["Name"].as_str().expect("a metric name");
                assert!(doc[name].is_number(), "metric {name} is a top-level number");
                let unit = m["Unit"].as_str().unwrap_or("None");
                assert!(["Count", "Milliseconds", "None"].contains(&unit));
            }
        }
        doc
    }

    #[test]
    fn a_request_line_is_valid_emf_with_low_cardinality_dimensions() {
        let f = Figures {
            route: "/users/{ref}",
            status: 409,
            latency_ms: 12.5,
            db_requests: 2,
            rcu: 1.0,
            wcu: 4.0,
            cold_start: true,
            refusal: None,
        };
        let line = document(&f, "users-api", DEFAULT_NAMESPACE, 1_795_000_000_000).to_string();
        let doc = assert_valid_emf(&line);
        assert_eq!(doc["route"], "/users/{ref}");
        assert_eq!(doc["Unauthorized401Revoked"].as_f64(), Some(0.0));
        let revoked = Figures {
            status: 401,
            refusal: Some("revoked"),
            ..f
        };
        let line =
            document(&revoked, "users-api", DEFAULT_NAMESPACE, 1_795_000_000_000).to_string();
        let refused = assert_valid_emf(&line);
        assert_eq!(refused["Unauthorized401Revoked"].as_f64(), Some(1.0));
        assert_eq!(refused["Unauthorized401Unknown"].as_f64(), Some(0.0));
        assert_eq!(
            (doc["Status409"].as_f64(), doc["Status4xx"].as_f64()),
            (Some(1.0), Some(1.0))
        );
        assert_eq!(
            (doc["Status412"].as_f64(), doc["Status5xx"].as_f64()),
            (Some(0.0), Some(0.0))
        );
        assert_eq!(doc["StorageRequests"], 2.0);
        assert_eq!(doc["ColdStart"], 1.0);
        let dims = doc["_aws"]["CloudWatchMetrics"][0]["Dimensions"].to_string();
        assert!(
            !dims.contains("id") && !dims.contains("key"),
            "no per-user or per-key dimension: {dims}"
        );
    }
}
