//! The library path other commands connect through: `auth::resolve` gives a session whose
//! `client_builder()` reaches the API, refreshing a device-login token near expiry, and
//! `refresh_after_unauthorized` recovers from a 401.
//!
//! Its own test binary without the test harness: it points HOME at a scratch directory,
//! which is only sound while no other thread runs (set before the runtime starts).

use geopera::models::ClipJobInput;
use geopera_cli::auth::{self, AuthOptions, CredentialSource};
use geopera_cli::oidc::{DEFAULT_SCOPE, Pkce, Realm};
use geopera_cli::profile::{Secret, Store, StoredAuth};
use geopera_dev_server::{DevConfig, DevServer};
use std::time::Duration;

fn main() {
    let home = tempfile::tempdir().expect("temp home");
    // SAFETY: no other thread exists yet: the runtime is built below.
    unsafe {
        std::env::set_var("HOME", home.path());
        std::env::remove_var("GEOPERA_API_URL");
        std::env::remove_var("GEOPERA_API_TOKEN");
        std::env::remove_var("GEOPERA_PROFILE");
    }
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(a_resolved_session_reaches_the_api());
    println!("connect: 1 passed, 0 failed");
}

async fn a_resolved_session_reaches_the_api() {
    let config = DevConfig::default()
        .auto_approve_device(true)
        .device_poll_interval(Duration::ZERO)
        // Inside the 30 s leeway: resolve() refreshes before handing the token out.
        .access_token_ttl(Duration::from_secs(10));
    let dev = DevServer::start_with(config).await.expect("dev server");
    let demo = dev.state().seed_demo().expect("demo");
    let call = |session: auth::Session| {
        let job = demo.clip_job_id.clone();
        async move {
            let client = session.client_builder().build().expect("client");
            client.clip().job().downloads(ClipJobInput::new(&job)).await
        }
    };

    // A device login, stored as `geopera login` stores it.
    let realm = Realm::new(dev.base_url()).expect("realm");
    let pkce = Pkce::generate().expect("pkce");
    let device = realm
        .device_authorize(DEFAULT_SCOPE, &pkce)
        .await
        .expect("device");
    let tokens = realm
        .wait_for_approval(&device, &pkce)
        .await
        .expect("approved");
    let mut store = Store::load().expect("store");
    store.set_profile(
        "default",
        dev.base_url(),
        &StoredAuth::OAuth(tokens.clone()),
    );
    store.save().expect("saved");

    let session = auth::resolve(&AuthOptions::default())
        .await
        .expect("resolved");
    assert_eq!(session.base_url, dev.base_url());
    assert_eq!(session.profile, "default");
    assert_eq!(session.source, CredentialSource::Profile);
    let StoredAuth::OAuth(fresh) = &session.credential else {
        panic!("oauth expected")
    };
    assert_ne!(fresh.access_token, tokens.access_token, "refreshed first");
    // The rotated tokens are stored (expires_at may differ in its last bit through JSON).
    let Some(StoredAuth::OAuth(stored)) = Store::load().expect("store").profile("default").auth
    else {
        panic!("oauth stored")
    };
    assert_eq!(stored.access_token, fresh.access_token);
    assert_eq!(stored.refresh_token, fresh.refresh_token);
    assert_ne!(stored.refresh_token, tokens.refresh_token);
    call(session.clone())
        .await
        .expect("the refreshed token works");

    // A 401 (the server expired the token early) is recovered from by one refresh.
    dev.state().expire_access_tokens();
    let refused = call(session.clone()).await.expect_err("expired token");
    assert_eq!(refused.status_code(), Some(401), "{refused}");
    assert!(session.can_refresh());
    let recovered = auth::refresh_after_unauthorized(&session)
        .await
        .expect("refreshed");
    call(recovered).await.expect("the new token works");

    // An API key profile goes out as x-api-key, and cannot be refreshed.
    let mut store = Store::load().expect("store");
    store.set_profile(
        "ci",
        dev.base_url(),
        &StoredAuth::ApiKey(Secret::new(dev.token())),
    );
    store.save().expect("saved");
    let options = AuthOptions {
        profile: Some("ci".into()),
        api_url: None,
    };
    let session = auth::resolve(&options).await.expect("resolved");
    assert!(!session.can_refresh());
    call(session.clone()).await.expect("the API key works");
    let err = auth::refresh_after_unauthorized(&session)
        .await
        .expect_err("API keys do not refresh");
    assert_eq!(err.exit_code(), 3);

    // A profile that was never logged in.
    let missing = AuthOptions {
        profile: Some("nobody".into()),
        api_url: None,
    };
    let err = auth::resolve(&missing).await.expect_err("not logged in");
    assert!(err.to_string().contains("profile 'nobody'"), "{err}");
}
