//! The progenitor client hooks: before sending (`pre`), the credential, the client's
//! default headers and its per-attempt timeout; around sending (`exec`), the status and
//! request id recorded on the attempt's `geopera.call` span, which `call.rs` opened.
//!
//! Nothing here decides or remembers anything: retries and errors are `call.rs`'s.
//! Traces carry the operation id, attempt, status, latency and request id, never the
//! credential and never a URL query.

use progenitor_client::{ClientHooks, ClientInfo, OperationInfo};
use reqwest::header::AUTHORIZATION;

use crate::auth::Credential;
use crate::client::Settings;
use crate::generated::Client;

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

    async fn exec(
        &self,
        request: reqwest::Request,
        _info: &OperationInfo,
    ) -> reqwest::Result<reqwest::Response> {
        let result = self.client().execute(request).await;
        if let Ok(response) = &result {
            let span = tracing::Span::current();
            if !span.is_disabled() {
                span.record("status", response.status().as_u16());
                if let Some(id) = crate::response::request_id(response.headers()) {
                    span.record("request_id", id);
                }
            }
        }
        result
    }
}
