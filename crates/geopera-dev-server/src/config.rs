//! [`DevConfig`]: tokens and scopes, quota, signed-URL lifetime, storage location, limits
//! and connection handling.

use super::realm::RealmSettings;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Settings for a dev server. Build with [`DevConfig::default`] and the chainable setters.
#[derive(Clone)]
#[non_exhaustive]
pub struct DevConfig {
    pub(super) tokens: BTreeMap<String, BTreeSet<String>>,
    pub(super) quota_bytes: u64,
    pub(super) url_ttl: Duration,
    pub(super) data_dir: Option<PathBuf>,
    pub(super) max_object_bytes: u64,
    pub(super) max_request_bytes: usize,
    pub(super) seed_demo: bool,
    pub(super) public_url: Option<String>,
    pub(super) log_requests: bool,
    pub(super) body_read_timeout: Option<Duration>,
    pub(super) max_connections: usize,
    pub(super) realm: RealmSettings,
    pub(super) storage_bandwidth: Option<u64>,
    pub(super) storage_latency: Option<Duration>,
}

impl DevConfig {
    /// Every scope an operation of the dev server requires.
    pub const ALL_SCOPES: [&'static str; 3] = ["uploads:write", "items:read", "clip:read"];

    /// Replaces the token table: each token with the scopes it grants.
    pub fn tokens<T, S>(mut self, tokens: impl IntoIterator<Item = (T, S)>) -> DevConfig
    where
        T: Into<String>,
        S: IntoIterator,
        S::Item: Into<String>,
    {
        self.tokens = tokens
            .into_iter()
            .map(|(token, scopes)| (token.into(), scopes.into_iter().map(Into::into).collect()))
            .collect();
        self
    }

    /// Adds (or replaces) one token with its scopes, e.g. `with_token("ro", ["items:read"])`.
    pub fn with_token<S>(mut self, token: impl Into<String>, scopes: S) -> DevConfig
    where
        S: IntoIterator,
        S::Item: Into<String>,
    {
        self.tokens
            .insert(token.into(), scopes.into_iter().map(Into::into).collect());
        self
    }

    /// The organisation's storage quota in bytes (default 10 GiB).
    pub fn quota_bytes(mut self, bytes: u64) -> DevConfig {
        self.quota_bytes = bytes;
        self
    }

    /// How long signed URLs stay valid, whole seconds (default 15 minutes; zero means already
    /// expired). Any length is accepted; URLs are signed for at most the seven days Google
    /// Cloud Storage allows (`X-Goog-Expires=604800`).
    pub fn url_ttl(mut self, ttl: Duration) -> DevConfig {
        self.url_ttl = ttl;
        self
    }

    /// Where objects are stored (created if missing, never removed). Default: a fresh
    /// directory under the system temp dir, removed when the server state is dropped.
    pub fn data_dir(mut self, dir: impl Into<PathBuf>) -> DevConfig {
        self.data_dir = Some(dir.into());
        self
    }

    /// The largest object a signed PUT may store (default 5 GiB); larger uploads get 413.
    pub fn max_object_bytes(mut self, bytes: u64) -> DevConfig {
        self.max_object_bytes = bytes;
        self
    }

    /// The largest operation request body (default 1 MiB); larger bodies get a 413 Problem.
    pub fn max_request_bytes(mut self, bytes: usize) -> DevConfig {
        self.max_request_bytes = bytes;
        self
    }

    /// Whether to create the demo project, item and clip job at start (default false).
    pub fn seed_demo(mut self, seed: bool) -> DevConfig {
        self.seed_demo = seed;
        self
    }

    /// The base URL put into signed URLs, e.g. `http://localhost:8787`. Default: taken from
    /// each request's `Host` header, so URLs work through port mappings.
    pub fn public_url(mut self, url: impl Into<String>) -> DevConfig {
        self.public_url = Some(url.into().trim_end_matches('/').to_owned());
        self
    }

    /// Whether to print one line per request to stderr (method, path, status; never the query).
    pub fn log_requests(mut self, log: bool) -> DevConfig {
        self.log_requests = log;
        self
    }

    /// How long a request body may stall (default 60 s): when no body bytes arrive for this
    /// long, the request is answered 408 (an XML `RequestTimeout` for storage, a Problem for
    /// operations) and its connection closed. It bounds each pause, not the whole transfer,
    /// so a slow but steady upload never times out. `Duration::ZERO` disables the timeout.
    pub fn body_read_timeout(mut self, timeout: Duration) -> DevConfig {
        self.body_read_timeout = (!timeout.is_zero()).then_some(timeout);
        self
    }

    /// The most connections served at once (default 1,024; 0 is taken as 1). Beyond the cap
    /// the server stops accepting: new connections wait in the listen backlog and are
    /// served, in order, as open ones close. Idle keep-alive connections count until their
    /// client closes them or they sit 120 s without a request.
    pub fn max_connections(mut self, max: usize) -> DevConfig {
        self.max_connections = max;
        self
    }

    /// How long access tokens issued by the stand-in realm (device login, refresh) stay
    /// valid, whole seconds (default 300, the platform's). Short lifetimes let a test see
    /// a client refresh; refresh tokens live until rotated or logged out.
    pub fn access_token_ttl(mut self, ttl: Duration) -> DevConfig {
        self.realm.access_token_ttl = ttl;
        self
    }

    /// How long a device login may wait for approval (default 600 s), after which its
    /// polls get `expired_token`.
    pub fn device_code_ttl(mut self, ttl: Duration) -> DevConfig {
        self.realm.device_code_ttl = ttl;
        self
    }

    /// The polling interval a device login is told, whole seconds (default 5, RFC 8628's);
    /// polling faster gets `slow_down`.
    pub fn device_poll_interval(mut self, interval: Duration) -> DevConfig {
        self.realm.poll_interval = interval;
        self
    }

    /// Whether device logins are approved as soon as they are requested (default false:
    /// approve with [`DevState::approve_device`](crate::DevState::approve_device) or on the
    /// verification page).
    pub fn auto_approve_device(mut self, approve: bool) -> DevConfig {
        self.realm.auto_approve = approve;
        self
    }

    /// Caps every storage body (each object GET's response and each PUT's request) at
    /// `bytes_per_sec`, as an object store caps each connection: a token bucket per
    /// request, bursting at most ~20 ms of traffic. 0 (the default) means no cap. One
    /// request's cap can also come from a [`FaultKind::Bandwidth`](super::FaultKind::Bandwidth) fault.
    pub fn storage_bandwidth(mut self, bytes_per_sec: u64) -> DevConfig {
        self.storage_bandwidth = (bytes_per_sec > 0).then_some(bytes_per_sec);
        self
    }

    /// Added latency: every storage request (object GET or PUT) waits this long before it
    /// is handled, as a distant object store's first byte does (default none). One
    /// request's can also come from a [`FaultKind::Delay`](super::FaultKind::Delay) fault.
    pub fn storage_latency(mut self, latency: Duration) -> DevConfig {
        self.storage_latency = (!latency.is_zero()).then_some(latency);
        self
    }

    /// The configured data directory, if any.
    pub fn configured_data_dir(&self) -> Option<&Path> {
        self.data_dir.as_deref()
    }
}

impl Default for DevConfig {
    fn default() -> DevConfig {
        DevConfig {
            tokens: BTreeMap::new(),
            quota_bytes: 10 << 30,
            url_ttl: Duration::from_secs(15 * 60),
            data_dir: None,
            max_object_bytes: 5 << 30,
            max_request_bytes: 1 << 20,
            seed_demo: false,
            public_url: None,
            log_requests: false,
            body_read_timeout: Some(Duration::from_secs(60)),
            max_connections: 1024,
            realm: RealmSettings::default(),
            storage_bandwidth: None,
            storage_latency: None,
        }
    }
}

impl fmt::Debug for DevConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let tokens: Vec<String> = self
            .tokens
            .values()
            .map(|scopes| {
                let scopes: Vec<&str> = scopes.iter().map(String::as_str).collect();
                format!("<redacted>: [{}]", scopes.join(", "))
            })
            .collect();
        f.debug_struct("DevConfig")
            .field("tokens", &tokens)
            .field("quota_bytes", &self.quota_bytes)
            .field("url_ttl", &self.url_ttl)
            .field("data_dir", &self.data_dir)
            .field("max_object_bytes", &self.max_object_bytes)
            .field("max_request_bytes", &self.max_request_bytes)
            .field("seed_demo", &self.seed_demo)
            .field("public_url", &self.public_url)
            .field("log_requests", &self.log_requests)
            .field("body_read_timeout", &self.body_read_timeout)
            .field("max_connections", &self.max_connections)
            .field("realm", &self.realm)
            .field("storage_bandwidth", &self.storage_bandwidth)
            .field("storage_latency", &self.storage_latency)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn setters_chain_and_tokens_merge() {
        let config = DevConfig::default()
            .tokens([("a", vec!["items:read"])])
            .with_token("b", DevConfig::ALL_SCOPES)
            .with_token("a", ["clip:read"])
            .quota_bytes(5)
            .public_url("http://x:1/");
        assert_eq!(config.tokens.len(), 2);
        assert!(
            config.tokens["a"].contains("clip:read") && !config.tokens["a"].contains("items:read")
        );
        assert_eq!(config.tokens["b"].len(), 3);
        assert_eq!(config.quota_bytes, 5);
        assert_eq!(config.public_url.as_deref(), Some("http://x:1"));
    }

    #[test]
    fn debug_redacts_tokens() {
        let config = DevConfig::default().with_token("super-secret-token", ["items:read"]);
        let debug = format!("{config:?}");
        assert!(!debug.contains("super-secret-token"), "{debug}");
        assert!(debug.contains("<redacted>: [items:read]"));
    }
}
