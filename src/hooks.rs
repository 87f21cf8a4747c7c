//! The progenitor client hooks: credentials, default headers and the per-attempt timeout
//! before sending (`pre`), and one traced attempt with its retry verdict (`exec`).
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
use crate::retry;

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
        attempt(self.inner(), self.client(), request).await
    }
}

/// Sends one attempt of a call inside its `geopera.call` span, moves the response's status
/// and headers into the call's context and tells the context whether the retry policy
/// repeats the attempt (the generated `send_detailed` then runs it again).
async fn attempt(
    context: &CallContext,
    http: &reqwest::Client,
    request: reqwest::Request,
) -> reqwest::Result<reqwest::Response> {
    let attempt = context.begin_attempt();
    // Field values are only evaluated when the span is enabled.
    let span = tracing::debug_span!(
        "geopera.call",
        operation = %context.operation,
        attempt,
        path = %request.url().path(),
        status = tracing::field::Empty,
        latency_ms = tracing::field::Empty,
        request_id = tracing::field::Empty,
    );
    let traced = !span.is_disabled();
    let sent = traced.then(Instant::now);
    let mut result = if traced {
        http.execute(request).instrument(span.clone()).await
    } else {
        http.execute(request).await
    };
    let latency = sent.map(|t| t.elapsed());
    let safe = context.safe_to_repeat();
    let verdict = match &mut result {
        Ok(response) => {
            let status = response.status();
            let headers = std::mem::take(response.headers_mut());
            if traced {
                span.record("status", status.as_u16());
                if let Some(id) = crate::response::request_id(&headers) {
                    span.record("request_id", id);
                }
            }
            let verdict = retry::classify_status(status, &headers, safe);
            context.observe(status, headers);
            verdict
        }
        Err(e) => retry::classify_transport(e, safe),
    };
    let reason = verdict.reason();
    let retry_in = context.decide(verdict);
    if traced {
        if let Some(latency) = latency {
            span.record("latency_ms", millis(latency));
        }
        span.in_scope(|| match (retry_in, reason) {
            (Some(delay), Some(reason)) => {
                tracing::debug!(reason, delay_ms = millis(delay), "retrying")
            }
            _ => tracing::debug!(
                outcome = if result.is_ok() {
                    "response"
                } else {
                    "transport error"
                },
                "call finished"
            ),
        });
    }
    result
}

/// Whole milliseconds for a trace field (saturating: a delay can be as long as the policy's
/// deadline, which the caller may set to `Duration::MAX`).
fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trace_millis_saturate() {
        assert_eq!(millis(Duration::from_micros(1_999)), 1);
        assert_eq!(
            millis(Duration::from_secs(u64::MAX / 1000)),
            u64::MAX / 1000 * 1000
        );
        assert_eq!(millis(Duration::from_secs(u64::MAX)), u64::MAX);
        assert_eq!(millis(Duration::MAX), u64::MAX);
    }
}
