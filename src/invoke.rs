//! The dynamic call behind [`crate::Geopera::invoke`]: any operation id, a JSON body,
//! decoded JSON back. It goes through the same progenitor hooks (credential, retries,
//! tracing) and the same error mapping as the typed operations.

use std::borrow::Cow;

use progenitor_client::{ClientHooks, ClientInfo, OperationInfo};
use reqwest::StatusCode;
use reqwest::header::{ACCEPT, HeaderMap, HeaderValue};

use crate::call::{Call, error_body};
use crate::error::{BodySnippet, Redacted, TransportKind};
use crate::generated::types::ErrorBody;
use crate::{AuthenticatedClient, Error, Response};

/// The path and retry class of a known operation; unknown ids use `POST /v1/op/<id>`.
fn route(operation: &str) -> (String, bool) {
    match crate::ops::OPERATIONS
        .iter()
        .find(|(id, method, _, _)| *id == operation && *method == "POST")
    {
        Some((_, _, path, idempotent)) => ((*path).to_owned(), *idempotent),
        None => (format!("/v1/op/{operation}"), false),
    }
}

fn valid_id(operation: &str) -> bool {
    !operation.is_empty()
        && operation
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

pub(crate) async fn invoke(
    client: &AuthenticatedClient,
    operation: &str,
    body: &serde_json::Value,
) -> Result<Response<serde_json::Value>, Error> {
    let name: Cow<'static, str> = Cow::Owned(operation.to_owned());
    if !valid_id(operation) {
        return Err(Error::InvalidInput {
            operation: name,
            field: None,
            message: "an operation id has only letters, digits, '.', '_' and '-'".into(),
        });
    }
    let (path, idempotent) = route(operation);
    let call = client.call_named(name.clone(), idempotent);
    let url = format!("{}{}", call.client().baseurl(), path);
    loop {
        let Some(attempt) = call
            .unless_retried(send_once(&call, &url, body).await)
            .await
        else {
            continue;
        };
        let response = attempt?;
        let status = response.status();
        // The exec hook moved the headers into the call's context.
        let headers = call.take_headers();
        let bytes = response.bytes().await.map_err(|e| Error::Transport {
            operation: name.clone(),
            kind: TransportKind::of(&e),
            status: Some(status),
            source: Redacted::new(e),
        })?;
        return decode(name, status, headers, &bytes)
            .map(|response| response.with_attempts(call.attempts()));
    }
}

/// One attempt: builds the request, runs the `pre` and `exec` hooks like a generated
/// method does.
async fn send_once(
    call: &Call,
    url: &str,
    body: &serde_json::Value,
) -> Result<reqwest::Response, Error> {
    let generated = call.client();
    let mut builder = generated
        .client()
        .post(url)
        .header(ACCEPT, HeaderValue::from_static("application/json"))
        .header(
            "api-version",
            <crate::generated::Client as ClientInfo<crate::CallContext>>::api_version(),
        )
        .json(body);
    if let Some(key) = call.api_key() {
        builder = builder.header("x-api-key", key);
    }
    let mut request = builder.build().map_err(|e| Error::InvalidInput {
        operation: call.operation(),
        field: None,
        message: crate::redact::error_chain(&e),
    })?;
    let info = OperationInfo {
        operation_id: "invoke",
    };
    generated
        .pre::<()>(&mut request, &info)
        .await
        .map_err(|_| Error::InvalidInput {
            operation: call.operation(),
            field: None,
            message: "request preparation failed".into(),
        })?;
    generated
        .exec(request, &info)
        .await
        .map_err(|e| Error::Transport {
            operation: call.operation(),
            kind: TransportKind::of(&e),
            status: None,
            source: Redacted::new(e),
        })
}

/// Decodes a whole response of `operation`: any 2xx is JSON, any other status an error (a
/// declared error body, else [`Error::UnexpectedStatus`] with the body kept).
pub(crate) fn decode(
    operation: Cow<'static, str>,
    status: StatusCode,
    headers: HeaderMap,
    bytes: &[u8],
) -> Result<Response<serde_json::Value>, Error> {
    if status.is_success() {
        return match serde_json::from_slice(bytes) {
            Ok(value) => Ok(Response::new(status, headers, value)),
            Err(source) => Err(Error::Decode {
                operation,
                status,
                headers: Box::new(headers),
                body: BodySnippet::new(bytes),
                source: Redacted::new(source),
            }),
        };
    }
    match serde_json::from_slice::<ErrorBody>(bytes) {
        Ok(body) => Err(error_body(operation, status, headers, body)),
        Err(_) => Err(Error::UnexpectedStatus {
            operation,
            status,
            headers: Box::new(headers),
            body: BodySnippet::new(bytes),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_operations_use_their_declared_route() {
        assert_eq!(
            route("uploads.complete"),
            ("/v1/op/uploads.complete".to_owned(), true)
        );
        assert_eq!(
            route("uploads.initiate"),
            ("/v1/op/uploads.initiate".to_owned(), false)
        );
        assert_eq!(
            route("projects.list"),
            ("/v1/op/projects.list".to_owned(), false)
        );
    }

    #[test]
    fn operation_ids_are_checked() {
        assert!(valid_id("items.asset.download"));
        assert!(!valid_id("../admin"));
        assert!(!valid_id(""));
        assert!(!valid_id("a b"));
    }
}
