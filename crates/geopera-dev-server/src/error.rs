//! Errors rendered as the real API's bodies: RFC 7807 `application/problem+json` Problems,
//! FastAPI's 422 `HTTPValidationError`, and object-storage XML errors for signed URLs.

use super::validate::FieldError;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// An operation failure, rendered as the API renders it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ApiError {
    /// A Problem with this status and detail.
    Problem {
        /// The HTTP status.
        status: StatusCode,
        /// Actionable explanation.
        detail: String,
        /// Seconds for a `Retry-After` header.
        retry_after: Option<u32>,
    },
    /// A 422 `HTTPValidationError`.
    Validation(Vec<FieldError>),
}

impl ApiError {
    /// A Problem with `status`.
    pub(super) fn problem(status: StatusCode, detail: impl Into<String>) -> ApiError {
        ApiError::Problem {
            status,
            detail: detail.into(),
            retry_after: None,
        }
    }

    /// 404 Problem.
    pub(super) fn not_found(detail: impl Into<String>) -> ApiError {
        ApiError::problem(StatusCode::NOT_FOUND, detail)
    }

    /// 422 with one value error on `field`.
    pub(super) fn value_error(field: &str, reason: &str, input: Value) -> ApiError {
        ApiError::Validation(vec![FieldError::value_error(field, reason, input)])
    }
}

impl From<Vec<FieldError>> for ApiError {
    fn from(errors: Vec<FieldError>) -> ApiError {
        ApiError::Validation(errors)
    }
}

impl From<FieldError> for ApiError {
    fn from(error: FieldError) -> ApiError {
        ApiError::Validation(vec![error])
    }
}

/// The canonical reason phrase for `status`, e.g. `Payment Required`.
pub(super) fn reason(status: StatusCode) -> &'static str {
    status.canonical_reason().unwrap_or("Error")
}

/// A Problem body: `type` is derived from the title (`…/problems/payment-required`).
pub(super) fn problem_body(status: StatusCode, detail: &str) -> Value {
    let title = reason(status);
    let slug = title.to_ascii_lowercase().replace([' ', '\''], "-");
    json!({
        "type": format!("https://api.geopera.com/problems/{slug}"),
        "title": title,
        "status": status.as_u16(),
        "detail": detail,
    })
}

/// A `application/problem+json` response.
pub(super) fn problem_response(
    status: StatusCode,
    detail: &str,
    retry_after: Option<u32>,
) -> Response {
    let mut response = (
        status,
        [(header::CONTENT_TYPE, "application/problem+json")],
        problem_body(status, detail).to_string(),
    )
        .into_response();
    if let Some(secs) = retry_after {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    if status == StatusCode::UNAUTHORIZED {
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    response
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self {
            ApiError::Problem {
                status,
                detail,
                retry_after,
            } => problem_response(status, &detail, retry_after),
            ApiError::Validation(errors) => {
                let detail: Vec<Value> = errors.iter().map(FieldError::to_json).collect();
                (
                    StatusCode::UNPROCESSABLE_ENTITY,
                    [(header::CONTENT_TYPE, "application/json")],
                    json!({ "detail": detail }).to_string(),
                )
                    .into_response()
            }
        }
    }
}

/// An object-storage error, in Google Cloud Storage's XML shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StorageError {
    /// The HTTP status.
    pub(super) status: StatusCode,
    /// e.g. `SignatureDoesNotMatch`.
    pub(super) code: &'static str,
    /// Human-readable explanation (never contains the query string).
    pub(super) message: String,
    /// More about this request (never the query string); the resource path when unset.
    pub(super) details: Option<String>,
}

impl StorageError {
    /// A storage error.
    pub(super) fn new(
        status: StatusCode,
        code: &'static str,
        message: impl Into<String>,
    ) -> StorageError {
        StorageError {
            status,
            code,
            message: message.into(),
            details: None,
        }
    }

    /// The same error with `details` (what about this request went wrong).
    pub(super) fn with_details(mut self, details: impl Into<String>) -> StorageError {
        self.details = Some(details.into());
        self
    }

    /// The XML body, `<Error><Code/><Message/><Details/></Error>` as GCS writes it; the
    /// details name `resource` (a path, never with its query) unless set.
    pub(super) fn xml(&self, resource: &str) -> String {
        let details = match &self.details {
            Some(details) => details.clone(),
            None => format!("Resource: {resource}"),
        };
        format!(
            "<?xml version='1.0' encoding='UTF-8'?><Error><Code>{}</Code><Message>{}</Message><Details>{}</Details></Error>",
            self.code,
            xml_escape(&self.message),
            xml_escape(&details)
        )
    }

    /// The response for a request on `resource`.
    pub(super) fn into_response_for(self, resource: &str) -> Response {
        (
            self.status,
            [(header::CONTENT_TYPE, "application/xml")],
            self.xml(resource),
        )
            .into_response()
    }
}

/// Escapes the five XML special characters.
fn xml_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problem_bodies_use_the_canonical_reason_as_title() {
        assert_eq!(
            problem_body(StatusCode::PAYMENT_REQUIRED, "quota"),
            json!({"type": "https://api.geopera.com/problems/payment-required",
                   "title": "Payment Required", "status": 402, "detail": "quota"})
        );
        assert_eq!(
            problem_body(StatusCode::IM_A_TEAPOT, "x")["title"],
            "I'm a teapot"
        );
        let odd = StatusCode::from_u16(599).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(problem_body(odd, "x")["title"], "Error");
    }

    #[test]
    fn storage_errors_escape_their_text() {
        let err = StorageError::new(StatusCode::FORBIDDEN, "AccessDenied", "a <b> & 'c'");
        assert_eq!(
            err.xml("/storage/x&y"),
            "<?xml version='1.0' encoding='UTF-8'?><Error><Code>AccessDenied</Code><Message>a &lt;b&gt; &amp; &apos;c&apos;</Message><Details>Resource: /storage/x&amp;y</Details></Error>"
        );
        let detailed = err.with_details("sent <none>");
        assert!(
            detailed
                .xml("/storage/x")
                .ends_with("<Details>sent &lt;none&gt;</Details></Error>")
        );
    }
}
