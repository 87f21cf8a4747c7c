//! The progenitor client hooks: credentials, default headers and the per-attempt timeout
//! before sending (`pre`), and the retry loop with its tracing span around sending (`exec`).
//!
//! Traces carry the operation id, attempt, status, latency and request id, never the
//! credential and never a URL query.

use std::time::{Duration, Instant};

use progenitor_client::{ClientHooks, ClientInfo, OperationInfo};
use reqwest::header::AUTHORIZATION;
use tracing::Instrument;

use crate::auth::Credential;
use crate::call::CallContext;
use crate::generated::Client;
use crate::retry::{self, Verdict};

impl ClientHooks<CallContext> for Client {
    async fn pre<E>(
        &self,
        request: &mut reqwest::Request,
        _info: &OperationInfo,
    ) -> Result<(), progenitor_client::Error<E>> {
        let shared = &self.inner().shared;
        let headers = request.headers_mut();
        match &shared.credential {
            Credential::Bearer(value) => {
                headers.insert(AUTHORIZATION, value.clone());
            }
            Credential::ApiKey(_) => {
                if let Some(v) = headers.get_mut("x-api-key") {
                    v.set_sensitive(true);
                }
            }
        }
        for (name, value) in &shared.headers {
            if !headers.contains_key(name) {
                headers.insert(name.clone(), value.clone());
            }
        }
        if let Some(t) = shared.timeout {
            *request.timeout_mut() = Some(t);
        }
        Ok(())
    }

    async fn exec(
        &self,
        request: reqwest::Request,
        _info: &OperationInfo,
    ) -> reqwest::Result<reqwest::Response> {
        let context = self.inner();
        execute(context, self.client(), request).await
    }
}

/// Sends `request`, repeating it as the client's [`crate::RetryPolicy`] allows, and records
/// the status and headers of the response it returns.
async fn execute(
    context: &CallContext,
    http: &reqwest::Client,
    request: reqwest::Request,
) -> reqwest::Result<reqwest::Response> {
    let policy = &context.shared.retry;
    let safe = context.idempotent || policy.retry_non_idempotent;
    let started = Instant::now();
    let path = request.url().path().to_owned();
    let mut pending = request;
    let mut attempt = 1u32;
    loop {
        // JSON bodies are in memory, so the clone only fails for a streaming body.
        let spare = if attempt < policy.max_attempts {
            pending.try_clone()
        } else {
            None
        };
        let span = tracing::debug_span!("geopera.call", operation = %context.operation, attempt, path = %path, status = tracing::field::Empty, latency_ms = tracing::field::Empty, request_id = tracing::field::Empty);
        let sent = Instant::now();
        let result = http.execute(pending).instrument(span.clone()).await;
        span.record("latency_ms", sent.elapsed().as_millis() as u64);
        let verdict = match &result {
            Ok(response) => {
                span.record("status", response.status().as_u16());
                if let Some(id) = crate::response::request_id(response.headers()) {
                    span.record("request_id", id);
                }
                context.observe(response.status(), response.headers());
                retry::classify_status(response.status(), response.headers(), safe)
            }
            Err(e) => retry::classify_transport(e, safe),
        };
        let next = match (verdict, spare) {
            (Verdict::Retry { reason, after }, Some(spare)) => {
                let delay = after.unwrap_or_else(|| policy.backoff(attempt));
                (started.elapsed() + delay < policy.max_elapsed).then_some((spare, delay, reason))
            }
            _ => None,
        };
        let Some((spare, delay, reason)) = next else {
            span.in_scope(|| {
                tracing::debug!(
                    outcome = if result.is_ok() {
                        "response"
                    } else {
                        "transport error"
                    },
                    "call finished"
                )
            });
            return result;
        };
        span.in_scope(|| tracing::debug!(reason, delay_ms = delay.as_millis() as u64, "retrying"));
        drop(result);
        sleep(delay).await;
        pending = spare;
        attempt += 1;
    }
}

async fn sleep(delay: Duration) {
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
}
