//! Connecting: the global options to a client, through [`crate::auth::resolve`] (the base
//! URL and credential with the platform's Python command line's precedence: flag, then
//! environment, then the stored profile, then the default), and a call that survives one
//! expired device login.

use geopera::Geopera;

use crate::auth::{self, AuthOptions, Session};
use crate::exit::Failure;

/// The user agent the command line sends.
const USER_AGENT: &str = concat!("geopera-cli/", env!("CARGO_PKG_VERSION"));

/// The session the options resolve to (a device-login token near expiry is refreshed and
/// stored first).
pub async fn session(options: &AuthOptions) -> Result<Session, Failure> {
    Ok(auth::resolve(options).await?)
}

/// A client for `session`.
pub fn client(session: &Session) -> Result<Geopera, Failure> {
    Ok(session
        .client_builder()
        .default_header("user-agent", USER_AGENT)
        .build()?)
}

/// A client for the API and credential the options resolve to.
pub async fn connect(options: &AuthOptions) -> Result<Geopera, Failure> {
    client(&session(options).await?)
}

/// Calls operation `id` with `body`; after a 401 with a stored device login, refreshes it
/// once (storing the new tokens) and calls again, as the Python command line does.
pub async fn invoke(
    options: &AuthOptions,
    id: &str,
    body: serde_json::Value,
) -> Result<serde_json::Value, Failure> {
    let session = session(options).await?;
    match client(&session)?.invoke(id, body.clone()).await {
        Err(e) if e.status_code() == Some(401) && session.can_refresh() => {
            let fresh = auth::refresh_after_unauthorized(&session).await?;
            Ok(client(&fresh)?.invoke(id, body).await?)
        }
        answer => Ok(answer?),
    }
}
