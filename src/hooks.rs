//! The progenitor client hooks: before sending (`pre`), the credential, the `api-version`
//! header, the client's default headers and its per-attempt timeout. Sending is
//! progenitor's default. [`send`] runs `pre`, `exec` and `post` for one request, where
//! progenitor's methods ran them inline.
//!
//! Nothing here decides or remembers anything: the trace span, retries and errors are
//! `call.rs`'s.

use std::future::Future;

use progenitor_client::{ClientHooks, ClientInfo, OperationInfo};
use reqwest::header::{AUTHORIZATION, HeaderName, HeaderValue};

use crate::auth::Credential;
use crate::client::Settings;
use crate::generated::Client;

const API_VERSION: HeaderName = HeaderName::from_static("api-version");

impl ClientHooks<Settings> for Client {
    async fn pre<E>(
        &self,
        request: &mut reqwest::Request,
        _info: &OperationInfo,
    ) -> Result<(), progenitor_client::Error<E>> {
        let settings = self.inner();
        let headers = request.headers_mut();
        match &settings.credential {
            Credential::Bearer(value) => {
                headers.insert(AUTHORIZATION, value.clone());
            }
            Credential::ApiKey(_) => {
                if let Some(v) = headers.get_mut("x-api-key") {
                    v.set_sensitive(true);
                }
            }
        }
        // The API version the code was generated for. progenitor's methods would add it
        // through a `HeaderMap` of their own per call; `build/streamline.rs` takes that out,
        // so it is set here, before the default headers (which never replace it).
        headers.insert(API_VERSION, HeaderValue::from_static(Client::api_version()));
        for (name, value) in &settings.headers {
            if !headers.contains_key(name) {
                headers.insert(name.clone(), value.clone());
            }
        }
        if let Some(t) = settings.timeout {
            *request.timeout_mut() = Some(t);
        }
        Ok(())
    }
}

/// One request through the hooks: `pre`, `exec`, `post`, as progenitor's methods run them
/// inline (`build/streamline.rs` puts a call to this in their place, and the statements that
/// build the request into `build`). Built here, the request lives in this future only until
/// `exec` takes it; inline, its slot (264 bytes), the result's (136) and the header map's
/// (96) stayed reserved in the method's future while the body was read.
#[expect(
    clippy::manual_async_fn,
    reason = "an `async fn` keeps each argument twice in its future"
)]
pub(crate) fn send<'a, B>(
    client: &'a Client,
    info: &'a OperationInfo,
    build: B,
) -> impl Future<Output = Result<reqwest::Response, progenitor_client::Error<()>>> + Send + 'a
where
    B: FnOnce() -> Result<reqwest::Request, progenitor_client::Error<()>> + Send + 'a,
{
    async move {
        let result = {
            let mut request = build()?;
            client.pre(&mut request, info).await?;
            client.exec(request, info)
        }
        .await;
        post(client, result, info).await
    }
}

/// The `post` hook, then the result: a future of its own, so that the result, which
/// `post` borrows across an `.await`, is not kept in every state of `send`'s.
#[expect(
    clippy::manual_async_fn,
    reason = "an `async fn` keeps each argument twice in its future"
)]
fn post<'a>(
    client: &'a Client,
    result: reqwest::Result<reqwest::Response>,
    info: &'a OperationInfo,
) -> impl Future<Output = Result<reqwest::Response, progenitor_client::Error<()>>> + Send + 'a {
    async move {
        client.post(&result, info).await?;
        Ok(result?)
    }
}
