//! The progenitor client hooks: before sending (`pre`), the credential, the `api-version`
//! header, the client's default headers and its per-attempt timeout. Sending is
//! progenitor's default.
//!
//! Nothing here decides or remembers anything: the trace span, retries and errors are
//! `call.rs`'s.

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
