//! One cold start's figures, their medians, and reading `Server-Timing` from an answer.

/// What one cold start of one binary measured.
#[derive(Default, Clone)]
pub struct Sample {
    pub init_ms: f64,
    pub first_ms: f64,
    pub first_db_ms: f64,
    pub db_ms: f64,
    pub rss_kib: u64,
    pub anon_kib: u64,
    pub cpu_health_us: f64,
    pub cpu_get_us: f64,
}

impl Sample {
    /// The median of each figure on its own.
    pub fn median_of(samples: &[Sample]) -> Sample {
        let of = |f: fn(&Sample) -> f64| median(&samples.iter().map(f).collect::<Vec<_>>());
        Sample {
            init_ms: of(|s| s.init_ms),
            first_ms: of(|s| s.first_ms),
            first_db_ms: of(|s| s.first_db_ms),
            db_ms: of(|s| s.db_ms),
            rss_kib: of(|s| s.rss_kib as f64) as u64,
            anon_kib: of(|s| s.anon_kib as f64) as u64,
            cpu_health_us: of(|s| s.cpu_health_us),
            cpu_get_us: of(|s| s.cpu_get_us),
        }
    }
}

/// The median (the mean of the middle two for an even count; 0 for none).
pub fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => 0.0,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

/// `dur` of the `db` metric in the `Server-Timing` header of a lambda_http answer document.
pub fn db_duration_ms(answer: &[u8]) -> Option<f64> {
    let doc: serde_json::Value = serde_json::from_slice(answer).ok()?;
    let timing = doc["headers"]["server-timing"].as_str()?;
    let db = timing
        .split(',')
        .map(str::trim)
        .find(|m| m.starts_with("db;"))?;
    db.split(';')
        .find_map(|p| p.strip_prefix("dur="))?
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_db_metric() {
        let answer = br#"{"statusCode":200,"headers":{"server-timing":"app;dur=1.5, db;dur=12.25;desc=\"1 requests, 0.5 RCU, 0 WCU\""}}"#;
        assert_eq!(db_duration_ms(answer), Some(12.25));
        assert_eq!(median(&[3.0, 1.0, 2.0, 10.0]), 2.5);
    }
}
