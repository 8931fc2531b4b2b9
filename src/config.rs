//! The environment, read and validated once at start.

use crate::keys::KeyRing;
use crate::store::dynamo::EnvSettings;

/// Where users are stored.
#[derive(Debug, Clone)]
pub enum StoreConfig {
    /// The embedded in-memory store (`STORE=memory`, the default).
    Memory,
    /// DynamoDB (`STORE=dynamodb`).
    Dynamo {
        /// `TABLE_NAME`: the users table.
        users_table: String,
        /// `META_TABLE_NAME`: guards, counters and the deleted history.
        meta_table: String,
        /// `CREATE_TABLES=true`: create missing tables at start (local runs only).
        create_tables: bool,
        /// Region, credentials and endpoint, as Lambda sets them (see [`EnvSettings`]).
        aws: EnvSettings,
    },
}

/// What the binary serves (`HANDLER`).
#[derive(Debug, Clone)]
pub enum Handler {
    /// The API, behind API Gateway (the default).
    Http,
    /// The users table's DynamoDB stream, publishing change events on EventBridge
    /// (`HANDLER=stream`).
    Stream {
        /// `EVENT_BUS_NAME`: the bus events go to.
        bus: String,
        /// Region and credentials, as Lambda sets them.
        aws: EnvSettings,
        /// `AWS_ENDPOINT_URL_EVENTS`: another EventBridge endpoint (none on AWS).
        endpoint: Option<String>,
    },
    /// Local development: follows the local engine's stream (`HANDLER=local-stream`).
    LocalStream {
        /// `AWS_ENDPOINT_URL_DYNAMODB`: the local engine.
        engine: String,
        /// `TABLE_NAME`: the users table.
        table: String,
        /// `EVENTS_URL`: where events are POSTed; unset, they are logged.
        url: Option<String>,
    },
}

impl Handler {
    fn read(var: &impl Fn(&str) -> Option<String>) -> Result<Self, String> {
        Ok(match var("HANDLER").as_deref().unwrap_or("http") {
            "http" => Self::Http,
            "stream" => Self::Stream {
                bus: var("EVENT_BUS_NAME")
                    .ok_or("EVENT_BUS_NAME is required with HANDLER=stream")?,
                aws: EnvSettings::read(var)?,
                endpoint: var("AWS_ENDPOINT_URL_EVENTS"),
            },
            "local-stream" => Self::LocalStream {
                engine: var("AWS_ENDPOINT_URL_DYNAMODB")
                    .ok_or("AWS_ENDPOINT_URL_DYNAMODB is required with HANDLER=local-stream")?,
                table: var("TABLE_NAME")
                    .ok_or("TABLE_NAME is required with HANDLER=local-stream")?,
                url: var("EVENTS_URL"),
            },
            other => {
                return Err(format!(
                    "HANDLER must be http, stream or local-stream, not {other}"
                ))
            }
        })
    }
}

/// The service's configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// What the binary serves.
    pub handler: Handler,
    /// The store to use.
    pub store: StoreConfig,
    /// `API_KEYS`: the accepted keys, as hashes.
    pub keys: KeyRing,
    /// `SHARDS`: partitions of the list and feed indexes and of the active counter.
    pub shards: u32,
    /// `CURSOR_SECRET`: signs pagination cursors (defaults to one derived from `API_KEYS`).
    pub cursor_secret: Vec<u8>,
    /// `RATE_LIMIT_RPS`: sustained requests per second per key.
    pub rate_limit_rps: u32,
    /// `RATE_LIMIT_BURST`: requests a key may make at once.
    pub rate_limit_burst: u32,
    /// `CORS_ALLOW_ORIGINS`: comma-separated origins allowed to call from a browser; none by default.
    pub cors_origins: Vec<String>,
    /// `DEADLINE_MARGIN_MS`: a request still running this long before the Lambda deadline
    /// answers 503 (default 500 ms: time to send the answer).
    pub deadline_margin_ms: u64,
    /// `DELETED_RETENTION_DAYS`: days a soft-deleted user is kept before it is erased for
    /// good (default 30); the change feed's horizon.
    pub deleted_retention_days: u32,
    /// `RUST_LOG`: log levels (`info` when unset or unreadable).
    pub log_levels: Option<String>,
    /// `POWERTOOLS_METRICS_NAMESPACE` (default `UsersApi`); `None` when
    /// `POWERTOOLS_METRICS_DISABLED=true` turns the per-request metrics off.
    pub metrics_namespace: Option<String>,
    /// `OIDC_ISSUER` and the rest: whose sign-in tokens open `/me` (none: `/me` is closed).
    pub oidc: Option<crate::oidc::OidcConfig>,
}

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, String> {
        Self::from_vars(|k| std::env::var(k).ok().filter(|v| !v.is_empty()))
    }

    /// Reads configuration through `var` (tests pass a map).
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Self, String> {
        let store = match var("STORE").as_deref().unwrap_or("memory") {
            "memory" => StoreConfig::Memory,
            "dynamodb" => StoreConfig::Dynamo {
                users_table: var("TABLE_NAME")
                    .ok_or("TABLE_NAME is required with STORE=dynamodb")?,
                meta_table: var("META_TABLE_NAME")
                    .ok_or("META_TABLE_NAME is required with STORE=dynamodb")?,
                create_tables: var("CREATE_TABLES").as_deref() == Some("true"),
                aws: EnvSettings::read(&var)?,
            },
            other => return Err(format!("STORE must be memory or dynamodb, not {other}")),
        };
        let raw_keys = var("API_KEYS").unwrap_or_default();
        let keys = KeyRing::parse(&raw_keys)?;
        let number = |name: &str, default: u32, range: std::ops::RangeInclusive<u32>| {
            let value = match var(name) {
                Some(v) => v
                    .parse()
                    .map_err(|_| format!("{name} must be a whole number"))?,
                None => default,
            };
            if range.contains(&value) {
                Ok(value)
            } else {
                Err(format!("{name} must be within {range:?}"))
            }
        };
        let cursor_secret = match var("CURSOR_SECRET") {
            Some(s) => s.into_bytes(),
            None => {
                use sha2::{Digest, Sha256};
                Sha256::digest(format!("users-api cursor key\n{raw_keys}")).to_vec()
            }
        };
        Ok(Self {
            handler: Handler::read(&var)?,
            store,
            keys,
            shards: number("SHARDS", 4, 1..=64)?,
            cursor_secret,
            rate_limit_rps: number("RATE_LIMIT_RPS", 50, 1..=100_000)?,
            rate_limit_burst: number("RATE_LIMIT_BURST", 100, 1..=100_000)?,
            cors_origins: var("CORS_ALLOW_ORIGINS")
                .map(|v| {
                    v.split(',')
                        .map(|o| o.trim().to_owned())
                        .filter(|o| !o.is_empty())
                        .collect()
                })
                .unwrap_or_default(),
            deadline_margin_ms: u64::from(number("DEADLINE_MARGIN_MS", 500, 0..=60_000)?),
            deleted_retention_days: number(
                "DELETED_RETENTION_DAYS",
                crate::domain::retention::DEFAULT_DAYS,
                1..=3650,
            )?,
            log_levels: var("RUST_LOG"),
            metrics_namespace: (var("POWERTOOLS_METRICS_DISABLED").as_deref() != Some("true"))
                .then(|| {
                    var("POWERTOOLS_METRICS_NAMESPACE")
                        .unwrap_or_else(|| crate::metrics::DEFAULT_NAMESPACE.to_owned())
                }),
            oidc: crate::oidc::OidcConfig::read(&var)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(vars: &[(&str, &str)]) -> Result<Config, String> {
        let map: HashMap<_, _> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_vars(|k| map.get(k).cloned())
    }

    #[test]
    fn defaults_to_the_embedded_store_with_no_keys() {
        let c = config(&[]).unwrap();
        assert!(matches!(c.store, StoreConfig::Memory));
        assert!(c.keys.is_empty());
        assert_eq!(c.shards, 4);
        assert_eq!(c.deleted_retention_days, 30);
        assert!(config(&[("DELETED_RETENTION_DAYS", "0")]).is_err());
    }

    #[test]
    fn dynamodb_needs_its_table_names() {
        assert!(config(&[("STORE", "dynamodb")])
            .unwrap_err()
            .contains("TABLE_NAME"));
        assert!(config(&[("STORE", "sqlite")]).is_err());
        assert!(config(&[("SHARDS", "0")]).is_err());
    }

    #[test]
    fn the_stream_handler_needs_its_bus() {
        assert!(matches!(config(&[]).unwrap().handler, Handler::Http));
        assert!(config(&[("HANDLER", "stream")])
            .unwrap_err()
            .contains("EVENT_BUS_NAME"));
        let local = config(&[
            ("HANDLER", "local-stream"),
            ("TABLE_NAME", "users"),
            ("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:8000"),
        ]);
        assert!(matches!(
            local.unwrap().handler,
            Handler::LocalStream { url: None, .. }
        ));
        assert!(config(&[("HANDLER", "cron")]).is_err());
    }
}
