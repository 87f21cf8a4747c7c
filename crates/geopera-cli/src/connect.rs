//! Connecting: the one function that turns the global options into a client.
//!
//! Precedence, as in the platform's Python command line: a flag, then the environment
//! (`GEOPERA_API_URL`, `GEOPERA_API_TOKEN`), then the default base URL. Stored profiles
//! (`--profile`, `GEOPERA_PROFILE`) are read by `geopera login`'s credentials file, which
//! this function will consult between the environment and the default.

use geopera::Geopera;

use crate::cli::Global;

/// The user agent the command line sends.
const USER_AGENT: &str = concat!("geopera-cli/", env!("CARGO_PKG_VERSION"));

/// A client for the API the global options name, authenticated with `GEOPERA_API_TOKEN`.
///
/// The token is read from the environment only, never from a flag, so it does not land
/// in shell history or a process listing. A missing token is an [`geopera::Error::Config`]
/// (exit code 3).
pub fn connect(global: &Global) -> Result<Geopera, geopera::Error> {
    let mut builder = Geopera::builder().default_header("user-agent", USER_AGENT);
    if let Some(url) = global.api_url.as_deref().filter(|u| !u.trim().is_empty()) {
        builder = builder.base_url(url);
    }
    match std::env::var("GEOPERA_API_TOKEN") {
        Ok(token) if !token.trim().is_empty() => builder.token(token.trim()).build(),
        _ => Err(geopera::Error::Config {
            message: match &global.profile {
                Some(profile) => format!(
                    "GEOPERA_API_TOKEN is not set (profile {profile:?} cannot be read by this build)"
                ),
                None => "GEOPERA_API_TOKEN is not set".into(),
            },
        }),
    }
}
