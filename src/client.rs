//! [`AuthenticatedClient`] and its [`ClientBuilder`]: base URL, credential, timeouts, default
//! headers, user agent, retry policy, and the `reqwest::Client` connection pool.
//!
//! The credential is added per API request (in `hooks.rs`), never as a default header of
//! the pool, so [`AuthenticatedClient::http_client`] can be used for signed-URL transfers
//! without sending the token to object storage.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use progenitor_client::ClientInfo;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

use crate::auth::Credential;
use crate::{Error, RetryPolicy};

/// The default API base URL.
pub const DEFAULT_BASE_URL: &str = "https://api.geopera.com";
/// The user agent every request carries, unless replaced.
pub const USER_AGENT: &str = concat!("geopera-rust/", env!("CARGO_PKG_VERSION"));

/// How long an idle pooled connection is kept (for the pool this crate builds).
pub const POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(50);

/// The configured, authenticated connection to the Geopera API that every
/// [`crate::ops`] function takes. Cheap to clone (one `Arc`), `Send + Sync`, meant to be
/// shared across tasks. `Debug` never shows the credential.
#[derive(Clone)]
pub struct AuthenticatedClient {
    pub(crate) shared: Arc<Shared>,
}

/// What every call of one client shares: progenitor's client (base URL, connection pool
/// and the [`Settings`] its hooks read), built once, and the retry policy.
pub(crate) struct Shared {
    pub(crate) api: crate::generated::Client,
    pub(crate) retry: RetryPolicy,
}

/// What the progenitor hooks add to every request of one client.
#[derive(Clone, Debug)]
pub struct Settings {
    pub(crate) credential: Credential,
    pub(crate) timeout: Option<Duration>,
    pub(crate) headers: HeaderMap,
}

impl AuthenticatedClient {
    /// A client for `base_url` with a bearer `token` and default settings.
    pub fn new(
        base_url: impl AsRef<str>,
        token: impl AsRef<str>,
    ) -> Result<AuthenticatedClient, Error> {
        ClientBuilder::new().base_url(base_url).token(token).build()
    }

    /// Starts a builder with every setting at its default.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::new()
    }

    /// A client from the environment, as the official CLI reads it: `GEOPERA_API_URL`
    /// (default `https://api.geopera.com`) and `GEOPERA_API_TOKEN` (required).
    pub fn from_env() -> Result<AuthenticatedClient, Error> {
        ClientBuilder::from_env().build()
    }

    /// The base URL, without a trailing slash.
    pub fn base_url(&self) -> &str {
        self.shared.api.baseurl()
    }

    /// The retry policy in force.
    pub fn retry_policy(&self) -> &RetryPolicy {
        &self.shared.retry
    }

    /// A client sharing this one's connection pool and settings, with another retry policy.
    pub fn with_retry_policy(&self, retry: RetryPolicy) -> AuthenticatedClient {
        AuthenticatedClient {
            shared: Arc::new(Shared {
                api: self.shared.api.clone(),
                retry,
            }),
        }
    }

    /// The underlying connection pool. It carries no credentials (they are added to API
    /// requests only), so it is safe for PUT/GET of signed URLs.
    pub fn http_client(&self) -> &reqwest::Client {
        self.shared.api.client()
    }

    /// The `x-api-key` value, when the client authenticates that way (the generated
    /// methods take it as a parameter).
    pub(crate) fn api_key(&self) -> Option<&str> {
        match &self.shared.api.inner().credential {
            Credential::ApiKey(k) => Some(k),
            Credential::Bearer(_) => None,
        }
    }
}

impl fmt::Debug for AuthenticatedClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthenticatedClient")
            .field("base_url", &self.base_url())
            .field("credential", &self.shared.api.inner().credential)
            .field("timeout", &self.shared.api.inner().timeout)
            .field("retry", &self.shared.retry)
            .finish_non_exhaustive()
    }
}

/// Builds an [`AuthenticatedClient`]. Setters never fail; the first invalid setting is
/// remembered and returned by [`ClientBuilder::build`].
#[must_use]
pub struct ClientBuilder {
    base_url: String,
    token: Option<String>,
    api_key: Option<String>,
    timeout: Option<Duration>,
    connect_timeout: Option<Duration>,
    headers: HeaderMap,
    http: Option<reqwest::Client>,
    retry: RetryPolicy,
    allow_http: bool,
    error: Option<Error>,
}

impl Default for ClientBuilder {
    fn default() -> ClientBuilder {
        ClientBuilder::new()
    }
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("base_url", &self.base_url)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .field("timeout", &self.timeout)
            .field("connect_timeout", &self.connect_timeout)
            .finish_non_exhaustive()
    }
}

impl ClientBuilder {
    /// Every setting at its default: `https://api.geopera.com`, no credential yet, a 60 s
    /// request timeout, a 10 s connect timeout, [`RetryPolicy::default`].
    pub fn new() -> ClientBuilder {
        ClientBuilder {
            base_url: DEFAULT_BASE_URL.into(),
            token: None,
            api_key: None,
            timeout: Some(Duration::from_secs(60)),
            connect_timeout: Some(Duration::from_secs(10)),
            headers: HeaderMap::new(),
            http: None,
            retry: RetryPolicy::default(),
            allow_http: false,
            error: None,
        }
    }

    /// Starts from `GEOPERA_API_URL` and `GEOPERA_API_TOKEN`; a missing token is reported by
    /// [`ClientBuilder::build`].
    pub fn from_env() -> ClientBuilder {
        let mut b = ClientBuilder::new();
        if let Some(url) = std::env::var("GEOPERA_API_URL")
            .ok()
            .filter(|u| !u.trim().is_empty())
        {
            b = b.base_url(url);
        }
        match std::env::var("GEOPERA_API_TOKEN") {
            Ok(token) if !token.trim().is_empty() => b.token(token),
            _ => b.fail(Error::Config {
                message: "GEOPERA_API_TOKEN is not set".into(),
            }),
        }
    }

    fn fail(mut self, e: Error) -> ClientBuilder {
        self.error.get_or_insert(e);
        self
    }

    /// The API base URL (scheme, host, optional port and path prefix).
    pub fn base_url(mut self, url: impl AsRef<str>) -> ClientBuilder {
        self.base_url = url.as_ref().trim().trim_end_matches('/').to_owned();
        self
    }

    /// Authenticates with `Authorization: Bearer <token>`.
    pub fn token(mut self, token: impl AsRef<str>) -> ClientBuilder {
        self.token = Some(token.as_ref().to_owned());
        self
    }

    /// Authenticates with the `x-api-key` header instead of the bearer token.
    pub fn api_key(mut self, key: impl AsRef<str>) -> ClientBuilder {
        self.api_key = Some(key.as_ref().to_owned());
        self
    }

    /// The timeout of one attempt, from sending to the end of the body (`None`: no limit).
    pub fn timeout(mut self, timeout: impl Into<Option<Duration>>) -> ClientBuilder {
        self.timeout = timeout.into();
        self
    }

    /// The connect timeout (only for the pool this builder creates).
    pub fn connect_timeout(mut self, timeout: impl Into<Option<Duration>>) -> ClientBuilder {
        self.connect_timeout = timeout.into();
        self
    }

    /// A header sent with every API request (not with signed-URL transfers).
    pub fn default_header(self, name: impl AsRef<str>, value: impl AsRef<str>) -> ClientBuilder {
        match (
            HeaderName::from_bytes(name.as_ref().as_bytes()),
            HeaderValue::from_str(value.as_ref()),
        ) {
            (Ok(n), Ok(v)) => {
                let mut b = self;
                b.headers.insert(n, v);
                b
            }
            _ => self.fail(Error::Config {
                message: format!(
                    "default header `{}` is not a valid HTTP header",
                    name.as_ref()
                ),
            }),
        }
    }

    /// Replaces the `geopera-rust/<version>` user agent.
    pub fn user_agent(self, agent: impl AsRef<str>) -> ClientBuilder {
        self.default_header("user-agent", agent)
    }

    /// Uses the caller's own `reqwest::Client` (its pool, proxy and TLS settings). The
    /// connect timeout of this builder then does not apply; the request timeout does.
    pub fn http_client(mut self, client: reqwest::Client) -> ClientBuilder {
        self.http = Some(client);
        self
    }

    /// The retry policy ([`RetryPolicy::disabled`] for none).
    pub fn retry_policy(mut self, retry: RetryPolicy) -> ClientBuilder {
        self.retry = retry;
        self
    }

    /// Allows a plain `http://` base URL on a non-loopback host. Loopback addresses
    /// (`127.0.0.0/8`, `::1`, `localhost`) are always allowed, for tests and the dev server.
    pub fn allow_http(mut self, allow: bool) -> ClientBuilder {
        self.allow_http = allow;
        self
    }

    /// Checks the settings and builds the client.
    pub fn build(self) -> Result<AuthenticatedClient, Error> {
        if let Some(e) = self.error {
            return Err(e);
        }
        let url = reqwest::Url::parse(&self.base_url).map_err(|e| Error::Config {
            message: format!(
                "base URL `{}` is not a URL: {e}",
                crate::redact::url(&self.base_url)
            ),
        })?;
        match url.scheme() {
            "https" => {}
            "http" if self.allow_http || is_loopback(&url) => {}
            "http" => {
                return Err(Error::Config {
                    message: format!(
                        "base URL `{}` is plain http on a non-loopback host; use https, or allow_http(true)",
                        url.host_str().unwrap_or("")
                    ),
                });
            }
            other => {
                return Err(Error::Config {
                    message: format!("base URL scheme `{other}` is not http or https"),
                });
            }
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(Error::Config {
                message: "base URL must not have a query or fragment".into(),
            });
        }
        let credential = match (&self.api_key, &self.token) {
            (Some(key), _) => Credential::api_key(key)?,
            (None, Some(token)) => Credential::bearer(token)?,
            (None, None) => {
                return Err(Error::Config {
                    message: "no credential: set token(...) or api_key(...)".into(),
                });
            }
        };
        let http = match self.http {
            Some(http) => http,
            None => {
                install_crypto_provider();
                // Idle pooled connections are dropped after 50 s, before the 60-75 s idle
                // timeouts of common load balancers close them under a request in flight.
                let mut b = reqwest::Client::builder()
                    .user_agent(USER_AGENT)
                    .pool_idle_timeout(POOL_IDLE_TIMEOUT);
                if let Some(t) = self.connect_timeout {
                    b = b.connect_timeout(t);
                }
                b.build().map_err(|e| Error::Config {
                    message: format!(
                        "building the HTTP client: {}",
                        crate::redact::error_chain(&e)
                    ),
                })?
            }
        };
        let mut headers = self.headers;
        headers
            .entry(reqwest::header::USER_AGENT)
            .or_insert(HeaderValue::from_static(USER_AGENT));
        let settings = Settings {
            credential,
            timeout: self.timeout,
            headers,
        };
        Ok(AuthenticatedClient {
            shared: Arc::new(Shared {
                api: crate::generated::Client::new_with_client(&self.base_url, http, settings),
                retry: self.retry,
            }),
        })
    }
}

/// With the `rustls` feature reqwest has no crypto provider of its own and panics in
/// `Client::build()` when none is installed for the process (even for plain http): install
/// *ring*'s as the process default unless one is installed already. Losing a race to
/// another thread's install is fine: either provider serves.
#[cfg(feature = "rustls")]
fn install_crypto_provider() {
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
}

#[cfg(not(feature = "rustls"))]
fn install_crypto_provider() {}

fn is_loopback(url: &reqwest::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_redacts_the_token() {
        let c = AuthenticatedClient::new("https://api.example", "tok-s3cret").unwrap();
        let d = format!("{c:?}");
        assert!(!d.contains("s3cret"), "{d}");
        assert!(d.contains("Bearer(<redacted>)"), "{d}");
        let b = format!(
            "{:?}",
            ClientBuilder::new()
                .token("tok-s3cret")
                .api_key("key-s3cret")
        );
        assert!(!b.contains("s3cret"), "{b}");
    }

    #[test]
    fn plain_http_only_for_loopback_or_when_asked() {
        assert!(AuthenticatedClient::new("http://127.0.0.1:9", "t").is_ok());
        assert!(AuthenticatedClient::new("http://localhost:9", "t").is_ok());
        assert!(AuthenticatedClient::new("http://[::1]:9", "t").is_ok());
        let e = AuthenticatedClient::new("http://api.example", "t").unwrap_err();
        assert!(matches!(e, Error::Config { .. }), "{e}");
        assert!(
            AuthenticatedClient::builder()
                .base_url("http://api.example")
                .token("t")
                .allow_http(true)
                .build()
                .is_ok()
        );
        assert!(AuthenticatedClient::new("ftp://x", "t").is_err());
        assert!(AuthenticatedClient::new("not a url", "t").is_err());
    }

    #[test]
    fn builder_reports_the_first_bad_setting() {
        let e = AuthenticatedClient::builder()
            .token("t")
            .default_header("bad header", "v")
            .user_agent("ok")
            .build()
            .unwrap_err();
        assert!(e.to_string().contains("`bad header`"), "{e}");
        let e = AuthenticatedClient::builder().build().unwrap_err();
        assert!(e.to_string().contains("no credential"), "{e}");
    }

    #[test]
    fn trailing_slash_is_dropped() {
        let c = AuthenticatedClient::new("https://api.example/prefix/", "t").unwrap();
        assert_eq!(c.base_url(), "https://api.example/prefix");
    }

    #[test]
    fn client_is_shareable() {
        fn assert_send_sync_clone<T: Send + Sync + Clone + 'static>() {}
        assert_send_sync_clone::<AuthenticatedClient>();
    }
}
