//! One call's journey, in one loop: [`run`] sends an attempt through progenitor's client
//! method, turns its result into a [`Response`] or the one [`Error`] type
//! ([`Error::from_generated`]), asks the retry policy whether to go again
//! (`retry::classify`, then `RetryPolicy::next_delay`) and either waits or returns.
//!
//! Every typed operation (`ops::<op>::send_detailed`, and through it the fluent client's
//! calls) and [`invoke`] go through [`run`]; the progenitor hooks (`hooks.rs`) only add the
//! credential and headers and record what the attempt's trace span shows. Nothing passes
//! between the hooks and this loop but the request and the response.

use std::future::Future;
use std::pin::Pin;
use std::time::Instant;

use progenitor_client::{ClientInfo, Error as GenError, ResponseValue};
use tracing::Instrument;
use tracing::field::Empty;

use crate::client::Shared;
use crate::generated::Client;
use crate::ops::{Operation, OperationSpec, OperationVisitor};
use crate::retry::{self, Verdict};
use serde::de::DeserializeOwned;

use crate::{AuthenticatedClient, Error, Response};

/// Runs operation `spec`: `attempt` sends one attempt through the progenitor client, and
/// is called again while the client's retry policy says so.
///
/// `attempt` is a plain closure over one lifetime, not an async closure: a higher-ranked
/// `AsyncFn(&Client)` bound would make the call's future lose `Send` (a known limit of
/// the compiler's auto-trait inference). A plain `fn` returning an `async move` block, not
/// an `async fn`, which would keep each argument twice in the call's future.
#[expect(
    clippy::manual_async_fn,
    reason = "an `async fn` keeps each argument twice in its future"
)]
pub(crate) fn run<'a, T, F, Fut>(
    client: &'a AuthenticatedClient,
    spec: &'static OperationSpec,
    attempt: F,
) -> impl Future<Output = Result<Response<T>, Error>> + 'a
where
    T: 'a,
    F: Fn(&'a Client) -> Fut + 'a,
    Fut: Future<Output = Result<ResponseValue<T>, GenError>> + 'a,
{
    async move {
        let shared: &'a Shared = &client.shared;
        let started = Instant::now();
        let mut attempts: u32 = 0;
        loop {
            attempts = attempts.saturating_add(1);
            // Field values are only evaluated when the span is enabled.
            let span = tracing::debug_span!(
                "geopera.call",
                operation = %spec.id,
                attempt = attempts,
                status = Empty,
                request_id = Empty,
                latency_ms = Empty,
            );
            // The blocks end what lives in them before the next `.await`: a local that outlived
            // them would keep a slot of its own in every state of this future (every call's).
            let delay = {
                let outcome = {
                    let result = if span.is_disabled() {
                        attempt(&shared.api).await
                    } else {
                        let sent = Instant::now();
                        let result = attempt(&shared.api).instrument(span.clone()).await;
                        span.record("latency_ms", millis(sent.elapsed()));
                        result
                    };
                    match result {
                        Ok(value) => Ok(Response::from_generated(value, attempts)),
                        // Boxed: building an error may read the error body, and that future is
                        // bigger than the attempt's; inline, every call's future would be sized
                        // for it. A failed attempt pays one allocation more.
                        Err(e) => Err(Box::pin(Error::from_generated(spec, e))
                            .await
                            .without_credential(shared.api.inner().credential.secret())),
                    }
                };
                if !span.is_disabled() {
                    let (status, request_id) = match &outcome {
                        Ok(response) => (Some(response.status()), response.request_id()),
                        Err(error) => (error.status(), error.request_id()),
                    };
                    if let Some(status) = status {
                        span.record("status", status.as_u16());
                    }
                    if let Some(id) = request_id {
                        span.record("request_id", id);
                    }
                }
                let Err(error) = &outcome else {
                    return outcome;
                };
                let safe = spec.idempotent || shared.retry.retry_non_idempotent;
                let Verdict::Retry { reason, after } = retry::classify(error, safe) else {
                    return outcome;
                };
                let Some(delay) = shared.retry.next_delay(attempts, started.elapsed(), after)
                else {
                    return outcome;
                };
                span.in_scope(|| {
                    tracing::debug!(reason, delay_ms = millis(delay), "retrying");
                });
                delay
            };
            if !delay.is_zero() {
                tokio::time::sleep(delay).await;
            }
        }
    }
}

/// Whole milliseconds for a trace field, saturating instead of truncating.
fn millis(d: std::time::Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// A boxed, sendable future, as the fluent calls and `invoke` return.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Converts a JSON value into `I`, naming the offending field on failure.
pub(crate) fn from_json<I: DeserializeOwned>(
    value: serde_json::Value,
    operation: &'static str,
) -> Result<I, Error> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let message = e.into_inner().to_string();
        // serde reports a missing field at the object that lacks it, naming it only in
        // its message ("missing field `project_id`"): the field is that name.
        let missing = message
            .strip_prefix("missing field `")
            .and_then(|rest| rest.split_once('`'))
            .map(|(name, _)| name);
        let field = match (path.as_str(), missing) {
            (".", Some(name)) => Some(name.to_owned()),
            (_, Some(name)) => Some(format!("{path}.{name}")),
            (".", None) => None,
            (_, None) => Some(path),
        };
        Error::InvalidInput {
            operation: operation.into(),
            field,
            message,
        }
    })
}

/// The typed call of an operation with a JSON body, its result as JSON: what
/// [`crate::Geopera::invoke`] runs, through [`crate::ops::visit`], for a known operation
/// id. A body that does not fit the input model is an [`Error::InvalidInput`] naming the
/// field, and nothing is sent.
pub(crate) struct Invoke<'a> {
    pub(crate) client: &'a AuthenticatedClient,
    pub(crate) body: serde_json::Value,
}

impl<'a> OperationVisitor for Invoke<'a> {
    type Output = BoxFuture<'a, Result<Response<serde_json::Value>, Error>>;

    fn visit<O: Operation>(self) -> Self::Output {
        Box::pin(async move {
            let input: O::Input = from_json(self.body, O::SPEC.id)?;
            let response = O::send_detailed(self.client, &input).await?;
            let status = response.status();
            response.try_map(|output| {
                serde_json::to_value(output).map_err(|source| Error::Decode {
                    operation: O::SPEC.id.into(),
                    status,
                    headers: Box::default(),
                    body: crate::error::BodySnippet::new(b""),
                    source: crate::error::Redacted::new(source),
                })
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

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
