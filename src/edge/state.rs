//! What every handler of both faces shares, built once per cold start.

use std::sync::Arc;
use std::time::Duration;

use http::HeaderValue;

use super::auth::Keys;
use super::cursor::CursorKey;
use super::limits::RateLimits;
use crate::config::Config;
use crate::domain::{Retention, Timestamp};
use crate::keys::Binding;
use crate::oidc::Oidc;
use crate::store::UserStore;

/// What every handler shares: built once per cold start.
#[derive(Clone)]
pub struct AppState {
    /// Where users live.
    pub store: Arc<dyn UserStore>,
    /// Bootstrap and managed API keys.
    pub keys: Arc<Keys>,
    /// The organization the caller is bound to, in a bound caller's [`View`](super::view::View).
    pub binding: Option<Binding>,
    /// Signs pagination cursors.
    pub cursors: CursorKey,
    /// Per-key rate limits.
    pub limits: Arc<RateLimits>,
    /// Browser origins allowed by CORS; empty keeps CORS closed.
    pub cors_origins: Vec<HeaderValue>,
    /// How long before the Lambda deadline a request gives up with a 503.
    pub deadline_margin: Duration,
    /// The EMF metric directive; `None` when metrics are off.
    pub metrics: Option<Arc<str>>,
    /// How long deleted users are kept: the change feed's horizon.
    pub retention: Retention,
    /// The identity provider whose sign-in tokens open `/me`; `None` keeps `/me` closed.
    pub oidc: Option<Arc<Oidc>>,
}

impl AppState {
    /// State for `store` under `config`.
    pub fn new(store: Arc<dyn UserStore>, config: &Config) -> Self {
        Self {
            store: store.clone(),
            keys: Arc::new(Keys::new(
                config.keys.clone(),
                store.keys(),
                Arc::new(Timestamp::now),
            )),
            binding: None,
            cursors: CursorKey::new(&config.cursor_secret),
            limits: Arc::new(RateLimits::per_second(
                config.rate_limit_rps,
                config.rate_limit_burst,
            )),
            cors_origins: config
                .cors_origins
                .iter()
                .filter_map(|o| HeaderValue::from_str(o).ok())
                .collect(),
            deadline_margin: Duration::from_millis(config.deadline_margin_ms),
            retention: Retention::days(config.deleted_retention_days),
            oidc: config
                .oidc
                .clone()
                .map(|c| Arc::new(Oidc::new(c, Arc::new(Timestamp::now)))),
            metrics: config
                .metrics_namespace
                .as_deref()
                .map(|ns| Arc::from(crate::metrics::directive(ns))),
        }
    }
}
