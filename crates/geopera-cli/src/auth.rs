//! `geopera login`, `logout` and `whoami`, and [`resolve`]: the base URL and credential every
//! other command connects with, with the Python command line's precedence and refresh.
//!
//! Precedence: the base URL is `--api-url`, else `GEOPERA_API_URL`, else the profile's stored
//! `api_url`, else `https://api.geopera.com`; the profile is `--profile`, else
//! `GEOPERA_PROFILE`, else `default`; the credential is `GEOPERA_API_TOKEN` (an API key when
//! it starts with `gpra_`), else the profile's. A device-login access token within 30 s of
//! its expiry is refreshed (and the rotated tokens stored) before use.

use crate::oidc::{DEFAULT_SCOPE, OidcError, Pkce, REFRESH_LEEWAY_SECS, Realm};
use crate::profile::{
    self, API_KEY_PREFIX, ENV_API_TOKEN, ProfileError, Secret, Store, StoredAuth,
};
use serde_json::Value;
use std::io::{self, BufRead, IsTerminal};

/// The options every command takes: which stored identity, which API.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct AuthOptions {
    /// Stored identity to use [default: default]
    #[arg(long, global = true, env = "GEOPERA_PROFILE", value_name = "NAME")]
    pub profile: Option<String>,
    /// API base URL [default: the profile's, else the platform's]
    #[arg(long, global = true, env = "GEOPERA_API_URL", value_name = "URL")]
    pub api_url: Option<String>,
}

/// `geopera login`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct LoginArgs {
    /// Store an API key instead of the device login. The key is read from a hidden prompt
    /// on a terminal, else from the first line of standard input (`--api-key -` forces
    /// standard input); it is never taken as an argument, which shell history keeps.
    #[arg(long, value_name = "-", num_args = 0..=1, default_missing_value = "")]
    pub api_key: Option<String>,
    /// Accepted as the Python command line accepts it: this one never opens a browser, it
    /// prints the verification page and the code.
    #[arg(long)]
    pub no_browser: bool,
    /// The OAuth scope to ask for.
    #[arg(long, default_value = DEFAULT_SCOPE)]
    pub scope: String,
}

/// `geopera whoami`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct WhoamiArgs {
    /// Print the realm's userinfo JSON as it is.
    #[arg(long)]
    pub json: bool,
}

/// The login commands, for a `#[command(flatten)]` in the command line's command enum.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum AuthCommand {
    /// Log in: the device flow (RFC 8628 with PKCE), or `--api-key` for headless use.
    Login(LoginArgs),
    /// Forget the profile's credential (and end its session on the server).
    Logout,
    /// Show who the credential in force belongs to.
    Whoami(WhoamiArgs),
}

impl AuthCommand {
    /// Runs the command.
    pub async fn run(&self, options: &AuthOptions) -> Result<(), AuthError> {
        match self {
            AuthCommand::Login(args) => login(options, args).await,
            AuthCommand::Logout => logout(options).await,
            AuthCommand::Whoami(args) => whoami(options, args).await,
        }
    }
}

/// Where a session's credential came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredentialSource {
    /// `GEOPERA_API_TOKEN`.
    Environment,
    /// The profile in the credentials file.
    Profile,
}

/// What a command connects with: the API base URL and a usable credential.
#[derive(Debug, Clone)]
pub struct Session {
    /// The profile in force.
    pub profile: String,
    /// The API base URL, without a trailing slash.
    pub base_url: String,
    /// The credential (an OAuth access token, refreshed if it was near expiry, or an API key).
    pub credential: StoredAuth,
    /// Where the credential came from.
    pub source: CredentialSource,
}

impl Session {
    /// A fluent client builder with this session's base URL and credential (a bearer token,
    /// or `x-api-key` for an API key).
    pub fn client_builder(&self) -> geopera::GeoperaBuilder {
        let builder = geopera::Geopera::builder().base_url(&self.base_url);
        match &self.credential {
            StoredAuth::ApiKey(key) => builder.api_key(key.expose()),
            StoredAuth::OAuth(tokens) => builder.token(tokens.access_token.expose()),
        }
    }

    /// Whether a 401 with this session is worth a [`refresh_after_unauthorized`].
    pub fn can_refresh(&self) -> bool {
        self.source == CredentialSource::Profile
            && matches!(&self.credential, StoredAuth::OAuth(t) if t.refresh_token.is_some())
    }
}

/// Why a login command or [`resolve`] failed. Never carries a credential.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// No credential for the profile.
    #[error("not logged in (profile '{profile}'); run `geopera login` first")]
    NotLoggedIn {
        /// The profile.
        profile: String,
    },
    /// The command line was used wrongly.
    #[error("{0}")]
    Usage(String),
    /// The credential was refused.
    #[error("{0}")]
    Refused(String),
    /// The stored tokens could not be refreshed.
    #[error("token refresh failed ({0}); your session may have been revoked: run `geopera login`")]
    RefreshFailed(OidcError),
    /// The credentials file.
    #[error(transparent)]
    Profile(#[from] ProfileError),
    /// The realm.
    #[error(transparent)]
    Oidc(#[from] OidcError),
    /// Reading the API key failed.
    #[error("cannot read the API key: {0}")]
    Input(io::Error),
}

impl AuthError {
    /// The process exit code for this failure: 2 usage, 3 authentication (not logged in,
    /// refused, denied, expired), 4 the credentials file, 5 transport, 1 anything else.
    pub fn exit_code(&self) -> u8 {
        match self {
            AuthError::Usage(_) => 2,
            AuthError::NotLoggedIn { .. }
            | AuthError::Refused(_)
            | AuthError::RefreshFailed(_)
            | AuthError::Oidc(OidcError::Unauthorized | OidcError::Denied | OidcError::Expired) => {
                3
            }
            AuthError::Profile(_) => 4,
            AuthError::Oidc(OidcError::Transport(_)) => 5,
            AuthError::Oidc(_) | AuthError::Input(_) => 1,
        }
    }
}

/// The base URL and credential in force for `options` (see the module docs for the
/// precedence), refreshing and storing a device-login token near its expiry.
pub async fn resolve(options: &AuthOptions) -> Result<Session, AuthError> {
    let name = profile::resolve_profile_name(options.profile.as_deref());
    let store = Store::load()?;
    let stored = store.profile(&name);
    let base_url = profile::resolve_api_url(options.api_url.as_deref(), stored.api_url.as_deref());
    if let Some(credential) = profile::env_credential() {
        return Ok(Session {
            profile: name,
            base_url,
            credential,
            source: CredentialSource::Environment,
        });
    }
    let credential = stored.auth.ok_or_else(|| AuthError::NotLoggedIn {
        profile: name.clone(),
    })?;
    let session = Session {
        profile: name,
        base_url,
        credential,
        source: CredentialSource::Profile,
    };
    match &session.credential {
        StoredAuth::OAuth(tokens) if tokens.expires_within(REFRESH_LEEWAY_SECS) => {
            refresh(store, session).await
        }
        _ => Ok(session),
    }
}

/// After a 401: refreshes the session's tokens once and stores them (the Python tool's
/// reactive refresh). An API key or an environment token cannot be refreshed:
/// [`AuthError::Refused`].
pub async fn refresh_after_unauthorized(session: &Session) -> Result<Session, AuthError> {
    if !session.can_refresh() {
        return Err(refused(session));
    }
    refresh(Store::load()?, session.clone()).await
}

async fn refresh(mut store: Store, session: Session) -> Result<Session, AuthError> {
    let StoredAuth::OAuth(tokens) = &session.credential else {
        return Ok(session);
    };
    let realm = Realm::new(&session.base_url)?;
    let fresh = realm
        .refresh(tokens)
        .await
        .map_err(AuthError::RefreshFailed)?;
    let credential = StoredAuth::OAuth(fresh);
    store.set_profile(&session.profile, &session.base_url, &credential);
    store.save()?;
    Ok(Session {
        credential,
        ..session
    })
}

fn refused(session: &Session) -> AuthError {
    AuthError::Refused(match (&session.source, &session.credential) {
        (CredentialSource::Environment, _) => {
            format!("the token in {ENV_API_TOKEN} was refused (HTTP 401)")
        }
        (_, StoredAuth::ApiKey(_)) => format!(
            "the API key of profile '{}' was refused (HTTP 401); check it or create a new one",
            session.profile
        ),
        (_, StoredAuth::OAuth(_)) => format!(
            "the session of profile '{}' was refused (HTTP 401); run `geopera login`",
            session.profile
        ),
    })
}

/// `geopera login`: the device flow, or `--api-key`.
pub async fn login(options: &AuthOptions, args: &LoginArgs) -> Result<(), AuthError> {
    let name = profile::resolve_profile_name(options.profile.as_deref());
    let mut store = Store::load()?;
    let stored = store.profile(&name);
    let base_url = profile::resolve_api_url(options.api_url.as_deref(), stored.api_url.as_deref());
    let realm = Realm::new(&base_url)?;
    let (credential, who) = match &args.api_key {
        Some(value) => {
            let key = read_api_key(value)?;
            let credential = StoredAuth::ApiKey(key);
            let info = realm.userinfo(&credential).await.map_err(|err| match err {
                OidcError::Unauthorized => {
                    AuthError::Refused("API key validation failed: the key was refused".into())
                }
                other => AuthError::Oidc(other),
            })?;
            let who = principal(&info, "api key");
            (credential, format!("{who} (API key"))
        }
        None => {
            let credential = StoredAuth::OAuth(device_login(&realm, &args.scope).await?);
            let info = realm.userinfo(&credential).await.ok();
            let who = info
                .as_ref()
                .map(|i| principal(i, "user"))
                .unwrap_or_else(|| "user".to_owned());
            (credential, format!("{who} (device login"))
        }
    };
    store.set_profile(&name, &base_url, &credential);
    store.save()?;
    eprintln!("Logged in as {who}, profile '{name}').");
    Ok(())
}

async fn device_login(realm: &Realm, scope: &str) -> Result<profile::OAuthTokens, AuthError> {
    let pkce = Pkce::generate()?;
    let device = realm.device_authorize(scope, &pkce).await?;
    let page = device
        .verification_uri_complete
        .as_deref()
        .unwrap_or(&device.verification_uri);
    eprintln!();
    eprintln!("  To sign in, visit:");
    eprintln!("    {page}");
    eprintln!();
    eprintln!("  And confirm this code:");
    eprintln!("    {}", device.user_code);
    eprintln!();
    eprintln!("Waiting for authorization...");
    Ok(realm.wait_for_approval(&device, &pkce).await?)
}

/// The key from a hidden prompt (terminal) or the first line of standard input.
fn read_api_key(value: &str) -> Result<Secret, AuthError> {
    if !value.is_empty() && value != "-" {
        return Err(AuthError::Usage(
            "`--api-key` takes no key on the command line (shell history keeps it): \
             type it at the prompt, or pipe it: `printf '%s' \"$KEY\" | geopera login --api-key -`"
                .into(),
        ));
    }
    let stdin = io::stdin();
    let key = if value.is_empty() && stdin.is_terminal() {
        rpassword::prompt_password("API key: ").map_err(AuthError::Input)?
    } else {
        let mut line = String::new();
        stdin
            .lock()
            .read_line(&mut line)
            .map_err(AuthError::Input)?;
        line
    };
    let key = key.trim();
    if key.is_empty() {
        return Err(AuthError::Usage("no API key given".into()));
    }
    if !key.starts_with(API_KEY_PREFIX) {
        eprintln!(
            "Note: this key has no '{API_KEY_PREFIX}' prefix. It will still work, but new \
             Geopera keys are expected to start with '{API_KEY_PREFIX}'."
        );
    }
    Ok(Secret::new(key))
}

fn principal(info: &Value, fallback: &str) -> String {
    ["geopera_principal_id", "sub"]
        .iter()
        .find_map(|key| info.get(*key).and_then(Value::as_str))
        .unwrap_or(fallback)
        .to_owned()
}

/// `geopera logout`: ends a device login's session on the server (best effort) and removes
/// the profile's credential, keeping its API URL.
pub async fn logout(options: &AuthOptions) -> Result<(), AuthError> {
    let name = profile::resolve_profile_name(options.profile.as_deref());
    let mut store = Store::load()?;
    let stored = store.profile(&name);
    if let Some(StoredAuth::OAuth(tokens)) = &stored.auth
        && let Some(refresh_token) = &tokens.refresh_token
    {
        let base_url =
            profile::resolve_api_url(options.api_url.as_deref(), stored.api_url.as_deref());
        // Best effort, as the Python tool: the local credential goes either way.
        if let Ok(realm) = Realm::new(&base_url) {
            let _ = realm.logout(refresh_token).await;
        }
    }
    if store.clear_auth(&name) {
        store.save()?;
        eprintln!("Logged out (profile '{name}').");
    } else {
        eprintln!("No stored credentials for profile '{name}'.");
    }
    Ok(())
}

/// `geopera whoami`: the realm's userinfo for the credential in force.
pub async fn whoami(options: &AuthOptions, args: &WhoamiArgs) -> Result<(), AuthError> {
    let mut session = resolve(options).await?;
    let realm = Realm::new(&session.base_url)?;
    let info = match realm.userinfo(&session.credential).await {
        Err(OidcError::Unauthorized) if session.can_refresh() => {
            session = refresh_after_unauthorized(&session).await?;
            realm.userinfo(&session.credential).await
        }
        other => other,
    }
    .map_err(|err| match err {
        OidcError::Unauthorized => refused(&session),
        other => AuthError::Oidc(other),
    })?;
    if args.json {
        let text = serde_json::to_string_pretty(&info)
            .map_err(|err| AuthError::Oidc(OidcError::InvalidResponse(err.to_string())))?;
        println!("{text}");
        return Ok(());
    }
    let field = |key: &str| {
        info.get(key)
            .and_then(Value::as_str)
            .unwrap_or("-")
            .to_owned()
    };
    println!("sub:             {}", field("sub"));
    println!("principal_type:  {}", field("geopera_principal_type"));
    println!("org_id:          {}", field("geopera_org_id"));
    println!("scope:           {}", field("scope"));
    println!("api_url:         {}", session.base_url);
    println!("profile:         {}", session.profile);
    Ok(())
}
