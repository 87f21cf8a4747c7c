//! Credentials: the bearer token or API key, kept out of `Debug` output and marked
//! sensitive on the wire so HTTP tooling does not print it.

use std::fmt;

use reqwest::header::HeaderValue;

use crate::Error;

/// How requests authenticate. `Debug` shows the kind, never the secret.
#[derive(Clone)]
pub(crate) enum Credential {
    /// `Authorization: Bearer <token>`, pre-built and marked sensitive.
    Bearer(HeaderValue),
    /// `x-api-key: <key>`, sent through the operation's declared header parameter.
    ApiKey(String),
}

impl Credential {
    /// A bearer credential; fails (without echoing the token) when it cannot be a header.
    pub(crate) fn bearer(token: &str) -> Result<Credential, Error> {
        let token = token.trim();
        if token.is_empty() {
            return Err(Error::Config {
                message: "the API token is empty".into(),
            });
        }
        let mut value =
            HeaderValue::from_str(&format!("Bearer {token}")).map_err(|_| Error::Config {
                message: "the API token contains characters not allowed in an HTTP header".into(),
            })?;
        value.set_sensitive(true);
        Ok(Credential::Bearer(value))
    }

    /// An `x-api-key` credential, checked the same way.
    pub(crate) fn api_key(key: &str) -> Result<Credential, Error> {
        let key = key.trim();
        if key.is_empty() || HeaderValue::from_str(key).is_err() {
            return Err(Error::Config {
                message:
                    "the API key is empty or contains characters not allowed in an HTTP header"
                        .into(),
            });
        }
        Ok(Credential::ApiKey(key.to_owned()))
    }
}

impl Credential {
    /// The secret itself (the token without `Bearer `, or the key), so that errors can
    /// remove it from server text that echoes it.
    pub(crate) fn secret(&self) -> &str {
        match self {
            Credential::Bearer(value) => std::str::from_utf8(value.as_bytes())
                .ok()
                .and_then(|v| v.strip_prefix("Bearer "))
                .unwrap_or_default(),
            Credential::ApiKey(key) => key,
        }
    }
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credential::Bearer(_) => f.write_str("Bearer(<redacted>)"),
            Credential::ApiKey(_) => f.write_str("ApiKey(<redacted>)"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_secret() {
        let c = Credential::bearer("s3cret-token").unwrap();
        assert_eq!(format!("{c:?}"), "Bearer(<redacted>)");
        let Credential::Bearer(v) = &c else {
            panic!("expected a bearer credential")
        };
        assert!(v.is_sensitive());
        assert_eq!(
            format!("{:?}", Credential::api_key("k3y").unwrap()),
            "ApiKey(<redacted>)"
        );
    }

    #[test]
    fn the_secret_is_the_token_or_key_alone() {
        assert_eq!(Credential::bearer(" tok-1 ").unwrap().secret(), "tok-1");
        assert_eq!(Credential::api_key("k3y").unwrap().secret(), "k3y");
    }

    #[test]
    fn bad_tokens_are_config_errors_that_do_not_echo() {
        let e = Credential::bearer("bad\ntoken-s3cret").unwrap_err();
        assert!(!e.to_string().contains("s3cret"));
        assert!(Credential::bearer("  ").is_err());
        assert!(Credential::api_key("").is_err());
    }
}
