//! The SDK client, built from the environment without `aws-config`.
//!
//! A Lambda is handed its region and credentials as environment variables, so that is all
//! the function reads: no profile files, no SSO/STS clients, no IMDS probe. `aws-config`'s
//! default chain would link three more service clients and read `~/.aws/*` at every cold
//! start to find what the environment already says.

use std::time::Duration;

use aws_sdk_dynamodb::config::retry::RetryConfig;
use aws_sdk_dynamodb::config::timeout::TimeoutConfig;
use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region, SharedHttpClient};
use aws_sdk_dynamodb::Client;
use aws_smithy_http_client::proxy::ProxyConfig;
use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode, TlsContext, TrustStore};
use aws_smithy_http_client::{Builder, ConnectorBuilder};

/// Amazon Trust Services' roots (Amazon Root CA 1–4, Starfield Services Root G2): every AWS
/// endpoint's certificate chains to one of them.
const AMAZON_ROOTS: &str = include_str!("certs/amazon-roots.pem");

/// Settings for the SDK client: bounded attempts and timeouts, so a slow or throttled table
/// turns into a quick 503 rather than a Lambda timeout.
pub fn client_settings() -> (RetryConfig, TimeoutConfig) {
    let retry = RetryConfig::standard()
        .with_max_attempts(3)
        .with_initial_backoff(Duration::from_millis(50))
        .with_max_backoff(Duration::from_secs(1));
    let timeouts = TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(1))
        .operation_attempt_timeout(Duration::from_secs(2))
        .operation_timeout(Duration::from_secs(6))
        .build();
    (retry, timeouts)
}

/// The client the function uses, from what Lambda puts in the environment (see
/// [`EnvSettings::read`]). `env` looks a variable up; the binary passes `std::env::var`.
pub fn client_from_env(env: impl Fn(&str) -> Option<String>) -> Result<Client, String> {
    Ok(client_from_settings(EnvSettings::read(env)?))
}

/// The client the function uses, from settings already read (see [`crate::config`]).
pub fn client_from_settings(settings: EnvSettings) -> Client {
    let (retry, timeouts) = client_settings();
    let mut conf = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(settings.region))
        .credentials_provider(settings.credentials)
        .retry_config(retry)
        .timeout_config(timeouts);
    if let Some(endpoint) = settings.endpoint {
        conf = conf.endpoint_url(endpoint);
    }
    if !settings.platform_roots {
        conf = conf.http_client(amazon_roots_client());
    }
    Client::from_conf(conf.build())
}

/// The SDK's default HTTPS client (rustls on aws-lc-rs), trusting only Amazon's roots.
///
/// The default client reads the platform's trust store when the client is built: 145
/// certificates, about 1.5–2 ms of every cold start here (`make bench` measures it); five
/// compiled-in roots parse in about 10 µs.
pub fn amazon_roots_client() -> SharedHttpClient {
    Builder::new().build_with_connector_fn(|settings, components| {
        let trust = TrustStore::empty()
            .with_native_roots(false)
            .with_pem_certificate(AMAZON_ROOTS.as_bytes());
        let context = TlsContext::builder()
            .with_trust_store(trust)
            .build()
            .expect("the compiled-in roots are valid PEM");
        let mut connector = ConnectorBuilder::default()
            .tls_provider(tls::Provider::Rustls(CryptoMode::AwsLc))
            .tls_context(context);
        connector.set_connector_settings(settings.cloned());
        if let Some(components) = components {
            connector.set_sleep_impl(components.sleep_impl());
        }
        connector.set_proxy_config(Some(ProxyConfig::from_env()));
        connector.build()
    })
}

/// What the client is built from.
#[derive(Debug, Clone)]
pub struct EnvSettings {
    /// `AWS_REGION`, else `AWS_DEFAULT_REGION`.
    pub region: String,
    /// `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and `AWS_SESSION_TOKEN`.
    pub credentials: Credentials,
    /// `AWS_ENDPOINT_URL_DYNAMODB`, else `AWS_ENDPOINT_URL` (a local server); none on AWS.
    pub endpoint: Option<String>,
    /// `TRUST_ROOTS=platform`: trust the platform's store instead of Amazon's compiled-in
    /// roots (an HTTPS endpoint with another CA, a TLS-intercepting proxy). Local servers
    /// speak plain HTTP and need neither.
    pub platform_roots: bool,
}

impl EnvSettings {
    /// Reads the variables through `env`; a missing region or key is an error.
    pub fn read(env: impl Fn(&str) -> Option<String>) -> Result<Self, String> {
        let region = env("AWS_REGION")
            .or_else(|| env("AWS_DEFAULT_REGION"))
            .ok_or("AWS_REGION is not set")?;
        let (Some(key), Some(secret)) = (env("AWS_ACCESS_KEY_ID"), env("AWS_SECRET_ACCESS_KEY"))
        else {
            return Err(
                "AWS credentials are not set: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY".into(),
            );
        };
        let token = env("AWS_SESSION_TOKEN");
        Ok(Self {
            region,
            credentials: Credentials::new(key, secret, token, None, "environment"),
            endpoint: env("AWS_ENDPOINT_URL_DYNAMODB").or_else(|| env("AWS_ENDPOINT_URL")),
            platform_roots: env("TRUST_ROOTS").as_deref() == Some("platform"),
        })
    }
}

/// A client for a local DynamoDB engine (DynamoDB Local) at `endpoint`: fixed region and
/// dummy credentials, the same retry and timeout settings as in production.
pub fn local_client(endpoint: &str) -> Client {
    let (retry, timeouts) = client_settings();
    local_client_with(endpoint, retry, timeouts)
}

/// [`local_client`] with minutes of patience per request, for benchmarks: a local engine on
/// a loaded 2-core machine can take seconds for what DynamoDB answers in milliseconds.
pub fn local_client_unhurried(endpoint: &str) -> Client {
    let (retry, _) = client_settings();
    let timeouts = TimeoutConfig::builder()
        .operation_attempt_timeout(Duration::from_secs(120))
        .operation_timeout(Duration::from_secs(300))
        .build();
    local_client_with(endpoint, retry, timeouts)
}

/// [`local_client`] with other retry and timeout settings (fault tests).
pub fn local_client_with(endpoint: &str, retry: RetryConfig, timeouts: TimeoutConfig) -> Client {
    let conf = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("local", "local", None, None, "local"))
        .retry_config(retry)
        .timeout_config(timeouts)
        .build();
    Client::from_conf(conf)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn lambda_environment_gives_region_and_endpoint() {
        let vars = [
            ("AWS_REGION", "eu-west-3"),
            ("AWS_ACCESS_KEY_ID", "AKIA"),
            ("AWS_SECRET_ACCESS_KEY", "secret"),
            ("AWS_SESSION_TOKEN", "token"),
            ("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:8000"),
        ];
        let settings = EnvSettings::read(env(&vars)).unwrap();
        assert_eq!(settings.region, "eu-west-3");
        assert_eq!(settings.credentials.session_token(), Some("token"));
        assert_eq!(settings.endpoint.as_deref(), Some("http://127.0.0.1:8000"));
        let client = client_from_env(env(&vars)).unwrap();
        assert_eq!(
            client.config().region().map(|r| r.as_ref()),
            Some("eu-west-3")
        );
        assert!(!settings.platform_roots);
    }

    #[test]
    fn the_compiled_in_roots_are_amazons_five() {
        use rustls_pki_types::pem::PemObject;
        let roots = rustls_pki_types::CertificateDer::pem_slice_iter(AMAZON_ROOTS.as_bytes())
            .collect::<Result<Vec<_>, _>>()
            .expect("valid PEM");
        assert_eq!(roots.len(), 5);
        let on_aws = [
            ("AWS_REGION", "us-east-1"),
            ("AWS_ACCESS_KEY_ID", "a"),
            ("AWS_SECRET_ACCESS_KEY", "b"),
        ];
        let client = client_from_env(env(&on_aws)).unwrap();
        assert!(client.config().http_client().is_some());
    }

    #[test]
    fn missing_region_or_credentials_is_a_configuration_error() {
        let no_region = [("AWS_ACCESS_KEY_ID", "a"), ("AWS_SECRET_ACCESS_KEY", "b")];
        assert!(EnvSettings::read(env(&no_region))
            .unwrap_err()
            .contains("AWS_REGION"));
        let no_secret = [
            ("AWS_DEFAULT_REGION", "us-east-1"),
            ("AWS_ACCESS_KEY_ID", "a"),
        ];
        assert!(EnvSettings::read(env(&no_secret))
            .unwrap_err()
            .contains("credentials"));
    }
}
