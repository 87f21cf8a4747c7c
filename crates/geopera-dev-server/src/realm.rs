//! A stand-in for the platform's OpenID Connect realm, mounted where the platform mounts it
//! (`/realms/public/protocol/openid-connect/…`), so command lines log in and say who they
//! are offline:
//!
//! - `GET`/`POST userinfo`: who a token is. The configured tokens answer as API keys (by
//!   `Authorization: Bearer` or `x-api-key`), tokens issued here as the dev user.
//! - `POST auth/device`: the device authorization request of RFC 8628, with PKCE (S256).
//! - `POST token`: the `device_code` grant (with `authorization_pending`, `slow_down`,
//!   `expired_token` and `access_denied` as RFC 8628 §3.5 says, and the PKCE check) and the
//!   `refresh_token` grant, which rotates the refresh token.
//! - `POST logout`: ends the session of a refresh token.
//!
//! A device request is approved by [`DevState::approve_device`], by the verification page
//! (`GET /realms/public/device`, which a browser opens), or at once with
//! [`DevConfig::auto_approve_device`]. Issued access tokens are accepted by every operation
//! with every scope until they expire ([`DevConfig::access_token_ttl`]).
//!
//! [`DevConfig::auto_approve_device`]: crate::DevConfig::auto_approve_device
//! [`DevConfig::access_token_ttl`]: crate::DevConfig::access_token_ttl

use super::auth::{api_key, bearer};
use super::entropy::{hex, random_bytes};
use super::op_route::base_url;
use super::state::DevState;
use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Json, Response};
use axum::routing::{get, post};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

/// Where the platform mounts its OpenID Connect endpoints, below the API's base URL.
pub(super) const REALM_PATH: &str = "/realms/public/protocol/openid-connect";
/// The page a user opens to approve a device request.
const DEVICE_PAGE: &str = "/realms/public/device";
/// The public client the command lines identify as (no secret: RFC 8628 native client).
const CLIENT_ID: &str = "geopera-cli";
const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";
/// RFC 8628 §3.5: each `slow_down` adds five seconds to the polling interval.
const SLOW_DOWN_STEP: Duration = Duration::from_secs(5);
/// Realm requests are small forms; anything larger is refused.
const MAX_FORM_BYTES: usize = 16 * 1024;
/// The dev user every device login signs in as.
const DEV_USER: &str = "usr_dev";
const DEV_ORG: &str = "org_dev";
/// User codes avoid vowels and look-alikes (RFC 8628 §6.1).
const USER_CODE_ALPHABET: &[u8; 20] = b"BCDFGHJKLMNPQRSTVWXZ";

/// The realm's settings, part of [`crate::DevConfig`].
#[derive(Debug, Clone)]
pub(super) struct RealmSettings {
    pub(super) access_token_ttl: Duration,
    pub(super) device_code_ttl: Duration,
    pub(super) poll_interval: Duration,
    pub(super) auto_approve: bool,
}

impl Default for RealmSettings {
    fn default() -> RealmSettings {
        RealmSettings {
            // The platform's realm (Keycloak) defaults.
            access_token_ttl: Duration::from_secs(300),
            device_code_ttl: Duration::from_secs(600),
            poll_interval: Duration::from_secs(5),
            auto_approve: false,
        }
    }
}

/// The realm's state: device requests, sessions and the tokens issued for them.
#[derive(Default)]
pub(super) struct Realm {
    db: Mutex<RealmDb>,
}

#[derive(Default)]
struct RealmDb {
    /// By device code.
    devices: HashMap<String, Device>,
    /// Access token → its expiry and session.
    access: HashMap<String, (Instant, u64)>,
    /// Refresh token → its session (one live refresh token per session: rotation).
    refresh: HashMap<String, u64>,
    /// Session → the scope it was granted.
    sessions: HashMap<u64, String>,
    next_session: u64,
}

struct Device {
    user_code: String,
    challenge: Option<String>,
    scope: String,
    expires: Instant,
    interval: Duration,
    last_poll: Instant,
    status: Approval,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Approval {
    Pending,
    Approved,
    Denied,
}

impl Realm {
    fn db(&self) -> MutexGuard<'_, RealmDb> {
        self.db.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether `headers` carry an access token issued here that has not expired (such a
    /// token holds every scope).
    pub(super) fn accepts(&self, headers: &HeaderMap) -> bool {
        let now = Instant::now();
        let db = self.db();
        [bearer(headers), api_key(headers)]
            .into_iter()
            .flatten()
            .any(|token| db.live_session(token, now).is_some())
    }
}

impl RealmDb {
    /// The session of a live access token.
    fn live_session(&self, token: &str, now: Instant) -> Option<u64> {
        let (expires, session) = self.access.get(token)?;
        (now < *expires && self.sessions.contains_key(session)).then_some(*session)
    }

    /// Issues an access and a refresh token for `session`, as the token endpoint answers.
    fn issue(&mut self, session: u64, ttl: Duration, now: Instant) -> Result<Value, OAuthError> {
        let access = format!("dev_at_{}", fresh_secret()?);
        let refresh = format!("dev_rt_{}", fresh_secret()?);
        let expires = later(now, ttl);
        // Expired access tokens are dropped here, so the table stays small.
        self.access.retain(|_, (at, _)| *at > now);
        self.access.insert(access.clone(), (expires, session));
        self.refresh.insert(refresh.clone(), session);
        let scope = self.sessions.get(&session).cloned().unwrap_or_default();
        Ok(json!({
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": ttl.as_secs(),
            "refresh_token": refresh,
            "scope": scope,
        }))
    }

    /// Ends `session`: its refresh token and access tokens stop working.
    fn end_session(&mut self, session: u64) {
        self.sessions.remove(&session);
        self.refresh.retain(|_, s| *s != session);
        self.access.retain(|_, (_, s)| *s != session);
    }
}

impl DevState {
    /// Approves the pending device login with `user_code` (as shown to the user; case and
    /// the dash do not matter). Returns whether such a request was pending.
    pub fn approve_device(&self, user_code: &str) -> bool {
        self.decide_device(user_code, Approval::Approved)
    }

    /// Denies the pending device login with `user_code`: its next poll gets `access_denied`.
    /// Returns whether such a request was pending.
    pub fn deny_device(&self, user_code: &str) -> bool {
        self.decide_device(user_code, Approval::Denied)
    }

    /// The user codes of the device logins waiting for approval.
    pub fn pending_device_codes(&self) -> Vec<String> {
        let now = Instant::now();
        self.realm()
            .db()
            .devices
            .values()
            .filter(|d| d.status == Approval::Pending && now < d.expires)
            .map(|d| d.user_code.clone())
            .collect()
    }

    /// Makes every access token issued so far expire now (their refresh tokens keep
    /// working), as if their lifetime had run out.
    pub fn expire_access_tokens(&self) {
        let now = Instant::now();
        for (expires, _) in self.realm().db().access.values_mut() {
            *expires = now;
        }
    }

    fn decide_device(&self, user_code: &str, decision: Approval) -> bool {
        let wanted = normalize_user_code(user_code);
        let now = Instant::now();
        let mut db = self.realm().db();
        match db.devices.values_mut().find(|d| {
            d.status == Approval::Pending
                && now < d.expires
                && normalize_user_code(&d.user_code) == wanted
        }) {
            Some(device) => {
                device.status = decision;
                true
            }
            None => false,
        }
    }
}

/// The realm's routes, merged into the dev server's router.
pub(super) fn routes() -> Router<DevState> {
    Router::new()
        .route(
            &format!("{REALM_PATH}/userinfo"),
            get(userinfo).post(userinfo),
        )
        .route(
            &format!("{REALM_PATH}/auth/device"),
            post(device_authorization),
        )
        .route(&format!("{REALM_PATH}/token"), post(token))
        .route(&format!("{REALM_PATH}/logout"), post(logout))
        .route(DEVICE_PAGE, get(device_page).post(device_decision))
}

/// An OAuth error (RFC 6749 §5.2), rendered as its JSON body with `status`.
struct OAuthError {
    status: StatusCode,
    error: &'static str,
    description: &'static str,
}

fn oauth_error(status: StatusCode, error: &'static str, description: &'static str) -> OAuthError {
    OAuthError {
        status,
        error,
        description,
    }
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let body = json!({ "error": self.error, "error_description": self.description });
        let mut response = (self.status, Json(body)).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if self.error == "invalid_token" {
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer error=\"invalid_token\""),
            );
        }
        response
    }
}

fn server_error() -> OAuthError {
    oauth_error(
        StatusCode::INTERNAL_SERVER_ERROR,
        "server_error",
        "the OS random number generator failed",
    )
}

/// `ttl` after `now`; lifetimes are capped at a century, so any configured one works.
fn later(now: Instant, ttl: Duration) -> Instant {
    const CENTURY: Duration = Duration::from_secs(100 * 365 * 86_400);
    now.checked_add(ttl.min(CENTURY)).unwrap_or(now)
}

/// 32 random bytes in hex, for tokens and device codes.
fn fresh_secret() -> Result<String, OAuthError> {
    random_bytes()
        .map(|bytes| hex(&bytes))
        .map_err(|_| server_error())
}

/// `XXXX-XXXX` from the user-code alphabet (20^8 codes, about 34 bits).
fn fresh_user_code() -> Result<String, OAuthError> {
    let bytes = random_bytes().map_err(|_| server_error())?;
    let mut code = String::with_capacity(9);
    for (i, byte) in bytes.iter().take(8).enumerate() {
        if i == 4 {
            code.push('-');
        }
        let index = usize::from(*byte) % USER_CODE_ALPHABET.len();
        code.push(char::from(USER_CODE_ALPHABET[index]));
    }
    Ok(code)
}

fn normalize_user_code(code: &str) -> String {
    code.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

/// The `application/x-www-form-urlencoded` fields of a request body (last value wins).
async fn read_form(body: Body) -> Result<HashMap<String, String>, OAuthError> {
    let bytes = axum::body::to_bytes(body, MAX_FORM_BYTES)
        .await
        .map_err(|_| {
            oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "the request body could not be read or is too large",
            )
        })?;
    Ok(form_urlencoded::parse(&bytes).into_owned().collect())
}

/// The form of a realm request from the `geopera-cli` client.
async fn client_form(body: Body) -> Result<HashMap<String, String>, OAuthError> {
    let form = read_form(body).await?;
    match form.get("client_id").map(String::as_str) {
        Some(CLIENT_ID) => Ok(form),
        Some(_) => Err(oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "unknown client_id; this realm serves `geopera-cli`",
        )),
        None => Err(oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "client_id is required",
        )),
    }
}

async fn userinfo(State(state): State<DevState>, headers: HeaderMap) -> Response {
    let candidates: Vec<&str> = [bearer(&headers), api_key(&headers)]
        .into_iter()
        .flatten()
        .collect();
    // A configured token is an API key of the dev organisation.
    if let Some((token, scopes)) = candidates
        .iter()
        .find_map(|t| state.config().tokens.get_key_value(*t))
    {
        let digest = Sha256::digest(token.as_bytes());
        let principal = format!("key_{}", hex(&digest[..8]));
        let scope: Vec<&str> = scopes.iter().map(String::as_str).collect();
        return Json(json!({
            "sub": principal,
            "geopera_principal_id": principal,
            "geopera_principal_type": "api_key",
            "geopera_org_id": DEV_ORG,
            "scope": scope.join(" "),
        }))
        .into_response();
    }
    let now = Instant::now();
    let db = state.realm().db();
    let session = candidates
        .iter()
        .find_map(|token| db.live_session(token, now));
    match session.and_then(|s| db.sessions.get(&s)) {
        Some(scope) => Json(json!({
            "sub": DEV_USER,
            "preferred_username": "dev",
            "email": "dev@localhost",
            "geopera_principal_id": DEV_USER,
            "geopera_principal_type": "user",
            "geopera_org_id": DEV_ORG,
            "scope": scope,
        }))
        .into_response(),
        None => oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_token",
            "the access token is missing, unknown or expired",
        )
        .into_response(),
    }
}

async fn device_authorization(State(state): State<DevState>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let form = match client_form(body).await {
        Ok(form) => form,
        Err(err) => return err.into_response(),
    };
    let challenge = form
        .get("code_challenge")
        .filter(|c| !c.is_empty())
        .cloned();
    let method = form.get("code_challenge_method").map(String::as_str);
    if challenge.is_some() && method != Some("S256") {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "code_challenge_method must be S256",
        )
        .into_response();
    }
    let (device_code, user_code) = match (fresh_secret(), fresh_user_code()) {
        (Ok(device), Ok(user)) => (format!("dev_dc_{device}"), user),
        _ => return server_error().into_response(),
    };
    let settings = &state.config().realm;
    let now = Instant::now();
    let device = Device {
        user_code: user_code.clone(),
        challenge,
        scope: form
            .get("scope")
            .cloned()
            .unwrap_or_else(|| "openid".to_owned()),
        expires: later(now, settings.device_code_ttl),
        interval: settings.poll_interval,
        last_poll: now,
        status: if settings.auto_approve {
            Approval::Approved
        } else {
            Approval::Pending
        },
    };
    {
        let mut db = state.realm().db();
        db.devices.retain(|_, d| d.expires > now);
        db.devices.insert(device_code.clone(), device);
    }
    let page = format!("{}{DEVICE_PAGE}", base_url(&state, &parts));
    Json(json!({
        "device_code": device_code,
        "user_code": user_code,
        "verification_uri": page,
        "verification_uri_complete": format!("{page}?user_code={user_code}"),
        "expires_in": settings.device_code_ttl.as_secs(),
        "interval": settings.poll_interval.as_secs(),
    }))
    .into_response()
}

async fn token(State(state): State<DevState>, body: Body) -> Response {
    let form = match client_form(body).await {
        Ok(form) => form,
        Err(err) => return err.into_response(),
    };
    let result = match form.get("grant_type").map(String::as_str) {
        Some(DEVICE_GRANT) => device_grant(&state, &form),
        Some("refresh_token") => refresh_grant(&state, &form),
        Some(_) => Err(oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "this realm supports the device_code and refresh_token grants",
        )),
        None => Err(oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "grant_type is required",
        )),
    };
    match result {
        Ok(tokens) => {
            let mut response = Json(tokens).into_response();
            response
                .headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response
        }
        Err(err) => err.into_response(),
    }
}

/// One poll of the device-code grant (RFC 8628 §3.4, §3.5).
fn device_grant(state: &DevState, form: &HashMap<String, String>) -> Result<Value, OAuthError> {
    let bad = |error: &'static str, description: &'static str| {
        Err(oauth_error(StatusCode::BAD_REQUEST, error, description))
    };
    let Some(device_code) = form.get("device_code") else {
        return bad("invalid_request", "device_code is required");
    };
    let now = Instant::now();
    let mut db = state.realm().db();
    let Some(device) = db.devices.get_mut(device_code) else {
        return bad("invalid_grant", "unknown or already used device_code");
    };
    if now >= device.expires {
        db.devices.remove(device_code);
        return bad("expired_token", "the device code has expired");
    }
    if let Some(challenge) = &device.challenge {
        let verified = form.get("code_verifier").is_some_and(|verifier| {
            URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes())) == *challenge
        });
        if !verified {
            return bad("invalid_grant", "PKCE verification failed");
        }
    }
    match device.status {
        Approval::Denied => {
            db.devices.remove(device_code);
            bad("access_denied", "the user denied the request")
        }
        Approval::Pending => {
            let early = now.duration_since(device.last_poll) < device.interval;
            device.last_poll = now;
            if early {
                device.interval = device.interval.saturating_add(SLOW_DOWN_STEP);
                bad(
                    "slow_down",
                    "polling too fast; add 5 seconds to the interval",
                )
            } else {
                bad("authorization_pending", "the user has not approved yet")
            }
        }
        Approval::Approved => {
            let scope = device.scope.clone();
            db.devices.remove(device_code);
            let session = db.next_session;
            db.next_session = session.wrapping_add(1);
            db.sessions.insert(session, scope);
            db.issue(session, state.config().realm.access_token_ttl, now)
        }
    }
}

/// The refresh-token grant: a new access token and a new refresh token; the old refresh
/// token stops working (rotation).
fn refresh_grant(state: &DevState, form: &HashMap<String, String>) -> Result<Value, OAuthError> {
    let Some(refresh) = form.get("refresh_token") else {
        return Err(oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "refresh_token is required",
        ));
    };
    let mut db = state.realm().db();
    let Some(session) = db
        .refresh
        .remove(refresh)
        .filter(|s| db.sessions.contains_key(s))
    else {
        return Err(oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "the refresh token is unknown, already used or its session ended",
        ));
    };
    db.issue(
        session,
        state.config().realm.access_token_ttl,
        Instant::now(),
    )
}

async fn logout(State(state): State<DevState>, body: Body) -> Response {
    let form = match client_form(body).await {
        Ok(form) => form,
        Err(err) => return err.into_response(),
    };
    let Some(refresh) = form.get("refresh_token") else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "refresh_token is required",
        )
        .into_response();
    };
    let mut db = state.realm().db();
    match db.refresh.get(refresh).copied() {
        Some(session) => {
            db.end_session(session);
            StatusCode::NO_CONTENT.into_response()
        }
        None => oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "the refresh token is unknown or already used",
        )
        .into_response(),
    }
}

/// The verification page: the code and two buttons.
async fn device_page(request: Request) -> Html<String> {
    let code = request
        .uri()
        .query()
        .and_then(|q| {
            form_urlencoded::parse(q.as_bytes())
                .find(|(k, _)| k == "user_code")
                .map(|(_, v)| normalize_user_code(&v))
        })
        .unwrap_or_default();
    Html(format!(
        "<!doctype html><title>geopera dev server: device login</title>\
         <h1>Device login (dev server)</h1>\
         <form method=post action=\"{DEVICE_PAGE}\">\
         <label>Code <input name=user_code value=\"{code}\"></label> \
         <button name=action value=approve>Approve</button> \
         <button name=action value=deny>Deny</button></form>"
    ))
}

async fn device_decision(State(state): State<DevState>, body: Body) -> Response {
    let form = match read_form(body).await {
        Ok(form) => form,
        Err(err) => return err.into_response(),
    };
    let code = form.get("user_code").map(String::as_str).unwrap_or("");
    let (done, verb) = match form.get("action").map(String::as_str) {
        Some("deny") => (state.deny_device(code), "denied"),
        _ => (state.approve_device(code), "approved"),
    };
    if done {
        Html(format!(
            "<!doctype html><p>Login {verb}. You can return to your terminal.</p>"
        ))
        .into_response()
    } else {
        (
            StatusCode::NOT_FOUND,
            Html("<!doctype html><p>No pending login has this code.</p>".to_owned()),
        )
            .into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_codes_are_two_groups_of_four_from_the_alphabet() {
        let code = fresh_user_code().ok().unwrap_or_default();
        assert_eq!(code.len(), 9, "{code}");
        assert_eq!(&code[4..5], "-");
        assert!(
            code.chars()
                .filter(|c| *c != '-')
                .all(|c| USER_CODE_ALPHABET.contains(&(c as u8)))
        );
        assert_eq!(normalize_user_code("bcdf-ghjk"), "BCDFGHJK");
    }

    #[test]
    fn any_lifetime_lies_ahead() {
        let now = Instant::now();
        assert!(later(now, Duration::MAX) > now);
        assert_eq!(
            later(now, Duration::from_secs(5)),
            now + Duration::from_secs(5)
        );
        assert_eq!(later(now, Duration::ZERO), now);
    }
}
