//! The credentials file the platform's Python command line keeps, read and written the same
//! way, so a user can switch tools without logging in again.
//!
//! `~/.config/geopera/credentials.json` (directory 0700, file 0600 on Unix) holds one entry
//! per profile name:
//!
//! ```json
//! {
//!   "default": {
//!     "api_url": "https://api.geopera.com",
//!     "auth": {"type": "oauth", "access_token": "…", "refresh_token": "…",
//!              "expires_at": 1750000000.5, "scope": "openid profile",
//!              "issuer": "https://api.geopera.com"}
//!   },
//!   "ci": {"api_url": "…", "auth": {"type": "api_key", "api_key": "gpra_…"}}
//! }
//! ```
//!
//! `expires_at` is Unix seconds (a number, possibly fractional, or `null` for "unknown").
//! Like the Python tool, the directory is found from the home directory only
//! (`XDG_CONFIG_HOME` is not consulted, so both tools always share one file). Keys this
//! module does not know are kept when it writes. The file is replaced atomically (a
//! 0600 temporary file renamed over it) and its contents are never printed.

use serde_json::{Map, Value, json};
use std::fmt;
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

/// The API used when no flag, environment variable or profile names one.
pub const DEFAULT_API_URL: &str = "https://api.geopera.com";
/// The profile used when neither `--profile` nor `GEOPERA_PROFILE` names one.
pub const DEFAULT_PROFILE: &str = "default";
/// Environment variable overriding the stored API base URL.
pub const ENV_API_URL: &str = "GEOPERA_API_URL";
/// Environment variable holding a token or API key that bypasses the store (e.g. in CI).
pub const ENV_API_TOKEN: &str = "GEOPERA_API_TOKEN";
/// Environment variable naming the active profile.
pub const ENV_PROFILE: &str = "GEOPERA_PROFILE";
/// A token with this prefix is an API key (sent as `x-api-key`), any other a bearer token.
pub const API_KEY_PREFIX: &str = "gpra_";

/// A credential read from the file or the environment: printed as `<redacted>`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps `value`.
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The secret itself, for a request header or the credentials file only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// What a profile authenticates with.
#[derive(Debug, Clone, PartialEq)]
pub enum StoredAuth {
    /// Tokens from the device login.
    OAuth(OAuthTokens),
    /// An API key (`login --api-key`).
    ApiKey(Secret),
}

/// The tokens of a device login, as the Python tool stores them.
#[derive(Debug, Clone, PartialEq)]
pub struct OAuthTokens {
    /// The bearer token for API calls.
    pub access_token: Secret,
    /// The token that gets a new access token (rotated on every refresh).
    pub refresh_token: Option<Secret>,
    /// When the access token expires, Unix seconds; `None` when the server did not say.
    pub expires_at: Option<f64>,
    /// The granted scope.
    pub scope: Option<String>,
    /// The API base URL the tokens were issued for.
    pub issuer: Option<String>,
}

impl OAuthTokens {
    /// Whether the access token expires within `leeway_secs` of now (never, when the expiry
    /// is unknown).
    pub fn expires_within(&self, leeway_secs: f64) -> bool {
        self.expires_at
            .is_some_and(|at| unix_now() >= at - leeway_secs)
    }
}

/// One profile's entry.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Profile {
    /// The API base URL stored with it.
    pub api_url: Option<String>,
    /// Its credential, if logged in.
    pub auth: Option<StoredAuth>,
}

/// Why the credentials file could not be used. Never carries a credential.
#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    /// No home directory to find the file in.
    #[error("cannot find the home directory for the credentials file")]
    NoHome,
    /// Reading or writing the file failed.
    #[error("credentials file {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What failed.
        source: io::Error,
    },
    /// The file is not the JSON object it should be (it is left untouched).
    #[error("credentials file {path} is not valid: {reason}; fix or remove it")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong (never the file's contents).
        reason: String,
    },
}

/// Seconds since the Unix epoch, with fraction (0 for a clock before 1970).
pub fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// `~/.config/geopera/credentials.json`.
pub fn default_path() -> Result<PathBuf, ProfileError> {
    let home = std::env::home_dir()
        .filter(|home| !home.as_os_str().is_empty())
        .ok_or(ProfileError::NoHome)?;
    Ok(home
        .join(".config")
        .join("geopera")
        .join("credentials.json"))
}

/// The whole credentials file in memory: every profile, unknown keys included.
#[derive(Clone)]
pub struct Store {
    path: PathBuf,
    doc: Map<String, Value>,
}

impl fmt::Debug for Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Store")
            .field("path", &self.path)
            .field("profiles", &self.doc.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl Store {
    /// Reads the file at [`default_path`] (empty when it does not exist).
    pub fn load() -> Result<Store, ProfileError> {
        Store::open(default_path()?)
    }

    /// Reads the file at `path` (empty when it does not exist).
    pub fn open(path: impl Into<PathBuf>) -> Result<Store, ProfileError> {
        let path = path.into();
        let text = match fs::read_to_string(&path) {
            Ok(text) => text,
            Err(err) if err.kind() == io::ErrorKind::NotFound => String::new(),
            Err(source) => return Err(ProfileError::Io { path, source }),
        };
        let doc = if text.trim().is_empty() {
            Map::new()
        } else {
            match serde_json::from_str::<Value>(&text) {
                Ok(Value::Object(doc)) => doc,
                Ok(_) => {
                    return Err(ProfileError::Invalid {
                        path,
                        reason: "the top level is not a JSON object".into(),
                    });
                }
                Err(err) => {
                    return Err(ProfileError::Invalid {
                        path,
                        // Line and column only: serde_json's message never quotes the input.
                        reason: format!("not JSON ({err})"),
                    });
                }
            }
        };
        Ok(Store { path, doc })
    }

    /// The file this store reads and writes.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The profile `name`, empty if absent. Entries and fields of the wrong shape read as
    /// absent, as the Python tool reads them.
    pub fn profile(&self, name: &str) -> Profile {
        let Some(entry) = self.doc.get(name).and_then(Value::as_object) else {
            return Profile::default();
        };
        let api_url = entry
            .get("api_url")
            .and_then(Value::as_str)
            .map(str::to_owned);
        let auth = entry
            .get("auth")
            .and_then(Value::as_object)
            .and_then(parse_auth);
        Profile { api_url, auth }
    }

    /// Sets profile `name`'s API URL and credential, keeping its other keys and every other
    /// profile. Call [`Store::save`] to write.
    pub fn set_profile(&mut self, name: &str, api_url: &str, auth: &StoredAuth) {
        let entry = self
            .doc
            .entry(name.to_owned())
            .or_insert_with(|| Value::Object(Map::new()));
        if !entry.is_object() {
            *entry = Value::Object(Map::new());
        }
        if let Value::Object(entry) = entry {
            entry.insert("api_url".into(), Value::String(api_url.to_owned()));
            entry.insert("auth".into(), auth_json(auth));
        }
    }

    /// Removes profile `name`'s credential, keeping its API URL. Returns whether there was
    /// one. Call [`Store::save`] to write.
    pub fn clear_auth(&mut self, name: &str) -> bool {
        self.doc
            .get_mut(name)
            .and_then(Value::as_object_mut)
            .and_then(|entry| entry.remove("auth"))
            .is_some()
    }

    /// Writes the file: the directory is created with mode 0700, the file replaced
    /// atomically by a temporary file created with mode 0600 (Unix).
    pub fn save(&self) -> Result<(), ProfileError> {
        let io_err = |source| ProfileError::Io {
            path: self.path.clone(),
            source,
        };
        let dir = self.path.parent().unwrap_or(Path::new("."));
        create_private_dir(dir).map_err(io_err)?;
        let mut text = serde_json::to_string_pretty(&sorted(&Value::Object(self.doc.clone())))
            .map_err(|err| io_err(io::Error::other(err)))?;
        text.push('\n');
        // The Python tool's temporary name: `credentials.json.tmp`.
        let temp_path = self.path.with_extension("json.tmp");
        let written = private_file(&temp_path)
            .and_then(|mut temp| {
                temp.write_all(text.as_bytes())?;
                temp.sync_all()
            })
            .and_then(|()| fs::rename(&temp_path, &self.path));
        written.map_err(|err| {
            let _ = fs::remove_file(&temp_path);
            io_err(err)
        })
    }
}

/// The temporary file next to the credentials file, created with mode 0600 from the start
/// so the secret is never readable by others, even briefly.
fn private_file(path: &Path) -> io::Result<fs::File> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let file = options.open(path)?;
    // A temp file left by a crash may exist with other bits: set them again.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(fs::Permissions::from_mode(0o600))?;
    }
    Ok(file)
}

fn create_private_dir(dir: &Path) -> io::Result<()> {
    fs::create_dir_all(dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

/// `value` with every object's keys sorted, as the Python tool writes (`sort_keys=True`).
fn sorted(value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            Value::Object(
                keys.into_iter()
                    .map(|k| (k.clone(), sorted(&map[k])))
                    .collect(),
            )
        }
        Value::Array(items) => Value::Array(items.iter().map(sorted).collect()),
        other => other.clone(),
    }
}

fn parse_auth(auth: &Map<String, Value>) -> Option<StoredAuth> {
    let text = |key: &str| auth.get(key).and_then(Value::as_str).map(str::to_owned);
    match auth.get("type").and_then(Value::as_str)? {
        "api_key" => Some(StoredAuth::ApiKey(Secret(
            text("api_key").filter(|k| !k.is_empty())?,
        ))),
        "oauth" => Some(StoredAuth::OAuth(OAuthTokens {
            access_token: Secret(text("access_token").filter(|t| !t.is_empty())?),
            refresh_token: text("refresh_token").filter(|t| !t.is_empty()).map(Secret),
            expires_at: auth
                .get("expires_at")
                .and_then(Value::as_f64)
                .filter(|at| at.is_finite() && *at > 0.0),
            scope: text("scope"),
            issuer: text("issuer"),
        })),
        _ => None,
    }
}

fn auth_json(auth: &StoredAuth) -> Value {
    match auth {
        StoredAuth::ApiKey(key) => json!({"type": "api_key", "api_key": key.expose()}),
        StoredAuth::OAuth(tokens) => json!({
            "type": "oauth",
            "access_token": tokens.access_token.expose(),
            "refresh_token": tokens.refresh_token.as_ref().map(Secret::expose),
            "expires_at": tokens.expires_at,
            "scope": tokens.scope,
            "issuer": tokens.issuer,
        }),
    }
}

/// The profile name in force: `--profile`, else `GEOPERA_PROFILE`, else `default`.
pub fn resolve_profile_name(flag: Option<&str>) -> String {
    flag.filter(|p| !p.is_empty())
        .map(str::to_owned)
        .or_else(|| env_nonempty(ENV_PROFILE))
        .unwrap_or_else(|| DEFAULT_PROFILE.to_owned())
}

/// The API base URL in force, without a trailing slash: `--api-url`, else `GEOPERA_API_URL`,
/// else the profile's stored `api_url`, else [`DEFAULT_API_URL`].
pub fn resolve_api_url(flag: Option<&str>, stored: Option<&str>) -> String {
    flag.filter(|u| !u.is_empty())
        .map(str::to_owned)
        .or_else(|| env_nonempty(ENV_API_URL))
        .or_else(|| stored.filter(|u| !u.is_empty()).map(str::to_owned))
        .unwrap_or_else(|| DEFAULT_API_URL.to_owned())
        .trim_end_matches('/')
        .to_owned()
}

/// The credential `GEOPERA_API_TOKEN` gives, if set: an API key when it starts with
/// [`API_KEY_PREFIX`], a bearer token otherwise.
pub fn env_credential() -> Option<StoredAuth> {
    let token = env_nonempty(ENV_API_TOKEN)?;
    Some(if token.starts_with(API_KEY_PREFIX) {
        StoredAuth::ApiKey(Secret(token))
    } else {
        StoredAuth::OAuth(OAuthTokens {
            access_token: Secret(token),
            refresh_token: None,
            expires_at: None,
            scope: None,
            issuer: None,
        })
    })
}

fn env_nonempty(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn oauth(expires_at: Option<f64>) -> StoredAuth {
        StoredAuth::OAuth(OAuthTokens {
            access_token: Secret::new("at-secret"),
            refresh_token: Some(Secret::new("rt-secret")),
            expires_at,
            scope: Some("openid profile".into()),
            issuer: Some("http://x".into()),
        })
    }

    #[test]
    fn reads_the_python_layout_and_keeps_unknown_keys() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("credentials.json");
        fs::write(
            &path,
            r#"{"default": {"api_url": "http://a", "extra": 1,
                 "auth": {"type": "oauth", "access_token": "at", "refresh_token": "rt",
                          "expires_at": 1750000000.25, "scope": "openid", "issuer": "http://a"}},
                "ci": {"auth": {"type": "api_key", "api_key": "gpra_k"}},
                "odd": {"auth": {"type": "saml"}}}"#,
        )
        .unwrap();
        let mut store = Store::open(&path).unwrap();
        let profile = store.profile("default");
        assert_eq!(profile.api_url.as_deref(), Some("http://a"));
        let Some(StoredAuth::OAuth(tokens)) = profile.auth else {
            panic!("oauth expected")
        };
        assert_eq!(tokens.access_token.expose(), "at");
        assert_eq!(tokens.expires_at, Some(1_750_000_000.25));
        assert!(tokens.expires_within(0.0));
        assert_eq!(
            store.profile("ci").auth,
            Some(StoredAuth::ApiKey(Secret::new("gpra_k")))
        );
        assert_eq!(store.profile("odd").auth, None);
        assert_eq!(store.profile("missing"), Profile::default());

        store.set_profile("default", "http://b", &oauth(None));
        assert!(store.clear_auth("ci"));
        assert!(!store.clear_auth("ci"));
        store.save().unwrap();
        let text = fs::read_to_string(&path).unwrap();
        let doc: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(doc["default"]["extra"], 1);
        assert_eq!(doc["default"]["api_url"], "http://b");
        assert_eq!(doc["default"]["auth"]["expires_at"], Value::Null);
        assert_eq!(doc["ci"], json!({}));
        assert_eq!(doc["odd"]["auth"]["type"], "saml");
        // Sorted keys, two-space indent: the Python tool's own layout.
        assert!(text.starts_with("{\n  \"ci\""), "{text}");
        assert!(!dir.path().join("credentials.json.tmp").exists());
    }

    #[cfg(unix)]
    #[test]
    fn the_file_is_0600_and_its_directory_0700() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested").join("credentials.json");
        let mut store = Store::open(&path).unwrap();
        store.set_profile("default", "http://a", &oauth(Some(1.0)));
        store.save().unwrap();
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&path), 0o600);
        assert_eq!(mode(path.parent().unwrap()), 0o700);
    }

    #[test]
    fn invalid_files_are_typed_errors_that_do_not_quote_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("credentials.json");
        fs::write(&path, "{\"default\": gpra_secret").unwrap();
        let err = Store::open(&path).unwrap_err();
        assert!(matches!(err, ProfileError::Invalid { .. }));
        assert!(!err.to_string().contains("gpra_secret"), "{err}");
        fs::write(&path, "[1]").unwrap();
        assert!(matches!(
            Store::open(&path),
            Err(ProfileError::Invalid { .. })
        ));
        fs::write(&path, "").unwrap();
        assert!(Store::open(&path).is_ok());
    }

    #[test]
    fn secrets_never_show_in_debug() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path().join("c.json")).unwrap();
        store.set_profile("p", "http://a", &oauth(None));
        let debug = format!("{store:?} {:?}", store.profile("p"));
        assert!(
            !debug.contains("at-secret") && !debug.contains("rt-secret"),
            "{debug}"
        );
    }
}
