//! The platform's OpenID Connect realm, as the Python command line speaks to it: the device
//! login of RFC 8628 with PKCE (RFC 7636, S256), the refresh-token grant, `userinfo` and
//! logout, under `{api}/realms/public/protocol/openid-connect/`, as the public client
//! `geopera-cli`.

use crate::profile::{OAuthTokens, Secret, StoredAuth, unix_now};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::fmt;
use std::time::Duration;

/// The realm's path below the API's base URL.
pub const REALM_PATH: &str = "/realms/public/protocol/openid-connect";
/// The public (secretless) client id the command lines log in as.
pub const CLIENT_ID: &str = "geopera-cli";
/// The scope a login asks for unless told otherwise.
pub const DEFAULT_SCOPE: &str = "openid profile";
/// An access token this close to its expiry (seconds) is refreshed before use.
pub const REFRESH_LEEWAY_SECS: f64 = 30.0;
const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";
/// RFC 8628 §3.5: `slow_down` adds five seconds to the interval.
const SLOW_DOWN_STEP: Duration = Duration::from_secs(5);
/// RFC 8628 §3.2: without an `interval`, clients wait five seconds.
const DEFAULT_INTERVAL_SECS: u64 = 5;
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// `{base_url}/realms/public/protocol/openid-connect/{endpoint}`.
pub fn realm_url(base_url: &str, endpoint: &str) -> String {
    format!(
        "{}{REALM_PATH}/{}",
        base_url.trim_end_matches('/'),
        endpoint.trim_start_matches('/')
    )
}

/// Why a realm call failed. Never carries a token, key or code verifier.
#[derive(Debug, thiserror::Error)]
pub enum OidcError {
    /// The request did not get an answer.
    #[error("cannot reach the login service: {0}")]
    Transport(String),
    /// The credential was refused (HTTP 401).
    #[error("the credentials were refused (HTTP 401)")]
    Unauthorized,
    /// The user denied the device login.
    #[error("the login was denied")]
    Denied,
    /// The device login expired before it was approved.
    #[error("the login request expired before it was approved; run `geopera login` again")]
    Expired,
    /// The realm answered with an OAuth error.
    #[error("the login service refused the request (HTTP {status}, {error}){}", describe(.description))]
    Rejected {
        /// The HTTP status.
        status: u16,
        /// The OAuth `error` code.
        error: String,
        /// The `error_description`, if any.
        description: Option<String>,
    },
    /// The answer was not what the realm should send.
    #[error("unexpected answer from the login service: {0}")]
    InvalidResponse(String),
    /// The OS random number generator failed.
    #[error("cannot make a PKCE verifier: the OS random number generator failed")]
    Random,
}

fn describe(description: &Option<String>) -> String {
    description
        .as_deref()
        .map(|d| format!(": {d}"))
        .unwrap_or_default()
}

/// A PKCE pair: the secret verifier and its S256 challenge.
pub struct Pkce {
    verifier: Secret,
    challenge: String,
}

impl fmt::Debug for Pkce {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pkce")
            .field("challenge", &self.challenge)
            .finish_non_exhaustive()
    }
}

impl Pkce {
    /// A fresh verifier (32 random bytes, base64url: 43 characters) and its challenge.
    pub fn generate() -> Result<Pkce, OidcError> {
        let mut bytes = [0u8; 32];
        getrandom::getrandom(&mut bytes).map_err(|_| OidcError::Random)?;
        Ok(Pkce::from_verifier(URL_SAFE_NO_PAD.encode(bytes)))
    }

    /// The pair for a given verifier.
    pub fn from_verifier(verifier: String) -> Pkce {
        let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
        Pkce {
            verifier: Secret::new(verifier),
            challenge,
        }
    }

    /// `BASE64URL(SHA256(verifier))`, sent with the device request.
    pub fn challenge(&self) -> &str {
        &self.challenge
    }
}

/// The realm's answer to a device authorization request (RFC 8628 §3.2).
#[derive(Clone, Deserialize)]
pub struct DeviceAuthorization {
    device_code: String,
    /// The code the user confirms.
    pub user_code: String,
    /// The page where the user confirms it.
    pub verification_uri: String,
    /// The page with the code filled in, if the realm gives one.
    #[serde(default)]
    pub verification_uri_complete: Option<String>,
    /// Seconds until the request expires.
    #[serde(default)]
    pub expires_in: Option<u64>,
    /// Seconds to wait between polls.
    #[serde(default)]
    pub interval: Option<u64>,
}

impl fmt::Debug for DeviceAuthorization {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeviceAuthorization")
            .field("user_code", &self.user_code)
            .field("verification_uri", &self.verification_uri)
            .field("expires_in", &self.expires_in)
            .field("interval", &self.interval)
            .finish_non_exhaustive()
    }
}

/// A token endpoint answer.
#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
    #[serde(default)]
    refresh_token: Option<String>,
    #[serde(default)]
    expires_in: Option<f64>,
    #[serde(default)]
    scope: Option<String>,
}

/// An OAuth error body.
#[derive(Deserialize, Default)]
struct ErrorAnswer {
    #[serde(default)]
    error: String,
    #[serde(default)]
    error_description: Option<String>,
}

/// What one poll of the token endpoint said.
enum Poll {
    Tokens(TokenAnswer),
    Pending,
    SlowDown,
}

/// A client for the realm under one API base URL.
#[derive(Debug, Clone)]
pub struct Realm {
    http: reqwest::Client,
    base_url: String,
}

/// The HTTP client for realm calls: installs ring's crypto provider first when none is
/// (reqwest is built without one under the SDK's default `rustls` feature).
fn http_client() -> Result<reqwest::Client, OidcError> {
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
    reqwest::Client::builder()
        .timeout(REQUEST_TIMEOUT)
        .user_agent(concat!("geopera-cli/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|err| OidcError::Transport(err.without_url().to_string()))
}

impl Realm {
    /// The realm of the API at `base_url`.
    pub fn new(base_url: &str) -> Result<Realm, OidcError> {
        Ok(Realm {
            http: http_client()?,
            base_url: base_url.trim_end_matches('/').to_owned(),
        })
    }

    /// The API base URL.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    async fn post_form(
        &self,
        endpoint: &str,
        fields: &[(&str, &str)],
    ) -> Result<reqwest::Response, OidcError> {
        let body = form_urlencoded::Serializer::new(String::new())
            .append_pair("client_id", CLIENT_ID)
            .extend_pairs(fields)
            .finish();
        self.http
            .post(realm_url(&self.base_url, endpoint))
            .header(
                reqwest::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .body(body)
            .send()
            .await
            .map_err(transport)
    }

    /// Starts a device login (RFC 8628 §3.1) for `scope` with the PKCE challenge.
    pub async fn device_authorize(
        &self,
        scope: &str,
        pkce: &Pkce,
    ) -> Result<DeviceAuthorization, OidcError> {
        let response = self
            .post_form(
                "auth/device",
                &[
                    ("scope", scope),
                    ("code_challenge", pkce.challenge()),
                    ("code_challenge_method", "S256"),
                ],
            )
            .await?;
        if !response.status().is_success() {
            return Err(rejected(response).await);
        }
        response
            .json()
            .await
            .map_err(|err| OidcError::InvalidResponse(err.without_url().to_string()))
    }

    /// Polls the token endpoint until the user approves (the tokens), denies
    /// ([`OidcError::Denied`]) or the request expires ([`OidcError::Expired`]), waiting the
    /// interval before each poll and five more seconds after each `slow_down`.
    pub async fn wait_for_approval(
        &self,
        device: &DeviceAuthorization,
        pkce: &Pkce,
    ) -> Result<OAuthTokens, OidcError> {
        let mut interval = Duration::from_secs(device.interval.unwrap_or(DEFAULT_INTERVAL_SECS));
        let lifetime = Duration::from_secs(device.expires_in.unwrap_or(600));
        // A lifetime past what an Instant can hold (from a confused server) never ends.
        let deadline = tokio::time::Instant::now().checked_add(lifetime);
        loop {
            if deadline.is_some_and(|deadline| tokio::time::Instant::now() >= deadline) {
                return Err(OidcError::Expired);
            }
            tokio::time::sleep(interval).await;
            match self.poll(device, pkce).await? {
                Poll::Tokens(answer) => return Ok(self.tokens(answer, None)),
                Poll::Pending => {}
                Poll::SlowDown => interval = interval.saturating_add(SLOW_DOWN_STEP),
            }
        }
    }

    async fn poll(&self, device: &DeviceAuthorization, pkce: &Pkce) -> Result<Poll, OidcError> {
        let response = self
            .post_form(
                "token",
                &[
                    ("grant_type", DEVICE_GRANT),
                    ("device_code", &device.device_code),
                    ("code_verifier", pkce.verifier.expose()),
                ],
            )
            .await?;
        if response.status().is_success() {
            return token_answer(response).await.map(Poll::Tokens);
        }
        match rejected(response).await {
            OidcError::Rejected { error, .. } if error == "authorization_pending" => {
                Ok(Poll::Pending)
            }
            OidcError::Rejected { error, .. } if error == "slow_down" => Ok(Poll::SlowDown),
            OidcError::Rejected { error, .. } if error == "access_denied" => Err(OidcError::Denied),
            OidcError::Rejected { error, .. } if error == "expired_token" => {
                Err(OidcError::Expired)
            }
            other => Err(other),
        }
    }

    /// Exchanges `previous`'s refresh token for new tokens. The realm rotates refresh
    /// tokens, so both are replaced (the old refresh token is kept only when the answer
    /// has none, as the Python tool does).
    pub async fn refresh(&self, previous: &OAuthTokens) -> Result<OAuthTokens, OidcError> {
        let Some(refresh_token) = &previous.refresh_token else {
            return Err(OidcError::Unauthorized);
        };
        let response = self
            .post_form(
                "token",
                &[
                    ("grant_type", "refresh_token"),
                    ("refresh_token", refresh_token.expose()),
                ],
            )
            .await?;
        if !response.status().is_success() {
            return Err(rejected(response).await);
        }
        let answer = token_answer(response).await?;
        Ok(self.tokens(answer, Some(previous)))
    }

    /// `GET userinfo` with `credential` (a bearer token, or `x-api-key` for an API key).
    pub async fn userinfo(&self, credential: &StoredAuth) -> Result<Value, OidcError> {
        let request = self.http.get(realm_url(&self.base_url, "userinfo"));
        let request = match credential {
            StoredAuth::ApiKey(key) => request.header("x-api-key", sensitive(key.expose())?),
            StoredAuth::OAuth(tokens) => request.header(
                reqwest::header::AUTHORIZATION,
                sensitive(&format!("Bearer {}", tokens.access_token.expose()))?,
            ),
        };
        let response = request.send().await.map_err(transport)?;
        if response.status() == reqwest::StatusCode::UNAUTHORIZED {
            return Err(OidcError::Unauthorized);
        }
        if !response.status().is_success() {
            return Err(rejected(response).await);
        }
        let info: Value = response
            .json()
            .await
            .map_err(|err| OidcError::InvalidResponse(err.without_url().to_string()))?;
        if !info.is_object() {
            return Err(OidcError::InvalidResponse(
                "userinfo is not a JSON object".into(),
            ));
        }
        Ok(info)
    }

    /// Ends the session of `refresh_token` (RP-initiated logout).
    pub async fn logout(&self, refresh_token: &Secret) -> Result<(), OidcError> {
        let response = self
            .post_form("logout", &[("refresh_token", refresh_token.expose())])
            .await?;
        if response.status().is_success() {
            Ok(())
        } else {
            Err(rejected(response).await)
        }
    }

    /// The stored form of a token answer, as the Python tool builds it.
    fn tokens(&self, answer: TokenAnswer, previous: Option<&OAuthTokens>) -> OAuthTokens {
        let expires_at = answer
            .expires_in
            .filter(|secs| secs.is_finite() && *secs > 0.0)
            .map(|secs| unix_now() + secs);
        OAuthTokens {
            access_token: Secret::new(answer.access_token),
            refresh_token: answer
                .refresh_token
                .map(Secret::new)
                .or_else(|| previous.and_then(|p| p.refresh_token.clone())),
            expires_at,
            scope: answer
                .scope
                .or_else(|| previous.and_then(|p| p.scope.clone()))
                .or_else(|| Some(DEFAULT_SCOPE.to_owned())),
            issuer: Some(self.base_url.clone()),
        }
    }
}

fn sensitive(value: &str) -> Result<reqwest::header::HeaderValue, OidcError> {
    let mut header = reqwest::header::HeaderValue::from_str(value).map_err(|_| {
        OidcError::InvalidResponse("the stored credential is not a valid header value".into())
    })?;
    header.set_sensitive(true);
    Ok(header)
}

fn transport(err: reqwest::Error) -> OidcError {
    OidcError::Transport(err.without_url().to_string())
}

async fn token_answer(response: reqwest::Response) -> Result<TokenAnswer, OidcError> {
    let answer: TokenAnswer = response
        .json()
        .await
        .map_err(|_| OidcError::InvalidResponse("the token answer is not valid".into()))?;
    if answer.access_token.is_empty() {
        return Err(OidcError::InvalidResponse(
            "the token answer has no access_token".into(),
        ));
    }
    Ok(answer)
}

/// The OAuth error of a non-success answer (its description is the realm's words, never a
/// credential: the realm echoes none).
async fn rejected(response: reqwest::Response) -> OidcError {
    let status = response.status().as_u16();
    if status == 401 {
        return OidcError::Unauthorized;
    }
    let body: ErrorAnswer = response.json().await.unwrap_or_default();
    OidcError::Rejected {
        status,
        error: if body.error.is_empty() {
            "no error code".to_owned()
        } else {
            body.error
        },
        description: body.error_description,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkce_matches_rfc_7636_appendix_b() {
        let pkce = Pkce::from_verifier("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk".into());
        assert_eq!(
            pkce.challenge(),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
        let fresh = Pkce::generate().unwrap();
        assert_eq!(fresh.verifier.expose().len(), 43);
        assert_ne!(fresh.challenge(), Pkce::generate().unwrap().challenge());
        assert!(!format!("{fresh:?}").contains(fresh.verifier.expose()));
    }

    #[test]
    fn realm_urls_join_without_double_slashes() {
        assert_eq!(
            realm_url("http://h:1/", "token"),
            "http://h:1/realms/public/protocol/openid-connect/token"
        );
        assert_eq!(
            realm_url("http://h", "/auth/device"),
            "http://h/realms/public/protocol/openid-connect/auth/device"
        );
    }
}
