//! A plain-HTTP client for local development: the local engine's stream API and
//! `EVENTS_URL`. Nothing on AWS uses it.

use std::time::Duration;

use bytes::Bytes;
use http::{Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::TokioExecutor;

use super::error::EventError;

/// How long one local request may take.
const TIMEOUT: Duration = Duration::from_secs(5);

/// A pooled HTTP/1 client.
#[derive(Clone)]
pub struct LocalHttp {
    client: Client<HttpConnector, Full<Bytes>>,
}

impl Default for LocalHttp {
    fn default() -> Self {
        Self::new()
    }
}

impl LocalHttp {
    /// A new client.
    pub fn new() -> Self {
        Self {
            client: Client::builder(TokioExecutor::new()).build_http(),
        }
    }

    /// POSTs `body` as JSON with `headers`; the status and the whole answer.
    pub async fn post(
        &self,
        url: &str,
        headers: &[(&str, &str)],
        body: String,
    ) -> Result<(StatusCode, Bytes), EventError> {
        let mut request = Request::post(url).header("content-type", "application/json");
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let request = request
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| EventError::Http(format!("bad request to {url}: {e}")))?;
        let exchange = async {
            let response = self
                .client
                .request(request)
                .await
                .map_err(|e| EventError::Http(e.to_string()))?;
            let status = response.status();
            let body = response
                .into_body()
                .collect()
                .await
                .map_err(|e| EventError::Http(e.to_string()))?
                .to_bytes();
            Ok((status, body))
        };
        tokio::time::timeout(TIMEOUT, exchange)
            .await
            .map_err(|_| EventError::Http(format!("no answer from {url} within {TIMEOUT:?}")))?
    }
}
