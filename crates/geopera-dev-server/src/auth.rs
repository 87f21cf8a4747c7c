//! Authentication and scopes: `Authorization: Bearer <token>` or `x-api-key: <token>`.
//!
//! Missing or unknown credentials are a 401 Problem, a known token without the operation's
//! scope a 403 Problem. Tokens never appear in error details.

use super::error::ApiError;
use axum::http::{HeaderMap, StatusCode, header};
use std::collections::{BTreeMap, BTreeSet};

/// Checks the request's credentials against `tokens` for `operation_id`'s `scope` (from
/// the SDK's operation table; an operation that declares none needs a known token only).
pub(super) fn authorize(
    headers: &HeaderMap,
    tokens: &BTreeMap<String, BTreeSet<String>>,
    operation_id: &str,
    scope: Option<&str>,
) -> Result<(), ApiError> {
    let candidates: Vec<&str> = [bearer(headers), api_key(headers)]
        .into_iter()
        .flatten()
        .collect();
    if candidates.is_empty() {
        return Err(ApiError::problem(
            StatusCode::UNAUTHORIZED,
            "Missing credentials: send `Authorization: Bearer <token>` or `x-api-key: <token>`",
        ));
    }
    let Some(scopes) = candidates.iter().find_map(|token| tokens.get(*token)) else {
        return Err(ApiError::problem(
            StatusCode::UNAUTHORIZED,
            "Invalid or unknown API token",
        ));
    };
    match scope {
        None => Ok(()),
        Some(scope) if scopes.contains(scope) => Ok(()),
        Some(scope) => Err(ApiError::problem(
            StatusCode::FORBIDDEN,
            format!("This token lacks the `{scope}` scope required by {operation_id}"),
        )),
    }
}

/// The token of an `Authorization: Bearer …` header (scheme matched case-insensitively).
pub(super) fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// The token of an `x-api-key` header.
pub(super) fn api_key(headers: &HeaderMap) -> Option<&str> {
    let token = headers.get("x-api-key")?.to_str().ok()?.trim();
    (!token.is_empty()).then_some(token)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn tokens() -> BTreeMap<String, BTreeSet<String>> {
        BTreeMap::from([
            (
                "all".to_owned(),
                BTreeSet::from(["uploads:write".to_owned()]),
            ),
            ("ro".to_owned(), BTreeSet::from(["items:read".to_owned()])),
        ])
    }

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_static(value));
        }
        map
    }

    fn status(pairs: &[(&'static str, &'static str)]) -> Option<u16> {
        match authorize(
            &headers(pairs),
            &tokens(),
            "uploads.initiate",
            Some("uploads:write"),
        ) {
            Ok(()) => None,
            Err(ApiError::Problem { status, .. }) => Some(status.as_u16()),
            Err(ApiError::Validation(_)) => Some(422),
        }
    }

    #[test]
    fn bearer_and_api_key_are_both_accepted() {
        assert_eq!(status(&[("authorization", "Bearer all")]), None);
        assert_eq!(status(&[("authorization", "bearer  all ")]), None);
        assert_eq!(status(&[("x-api-key", "all")]), None);
        assert_eq!(
            status(&[("authorization", "Bearer nope"), ("x-api-key", "all")]),
            None
        );
    }

    #[test]
    fn missing_unknown_and_underscoped_tokens() {
        assert_eq!(status(&[]), Some(401));
        assert_eq!(status(&[("authorization", "Basic all")]), Some(401));
        assert_eq!(status(&[("authorization", "Bearer ")]), Some(401));
        assert_eq!(status(&[("authorization", "Bearer nope")]), Some(401));
        assert_eq!(status(&[("x-api-key", "ro")]), Some(403));
    }

    #[test]
    fn an_operation_without_a_scope_needs_a_known_token_only() {
        let check = |pairs| authorize(&headers(pairs), &tokens(), "op", None);
        assert!(check(&[("x-api-key", "ro")]).is_ok());
        assert!(check(&[("x-api-key", "nope")]).is_err());
    }

    #[test]
    fn details_never_echo_the_token() {
        let err = authorize(
            &headers(&[("x-api-key", "secret-123")]),
            &tokens(),
            "op",
            Some("s"),
        );
        assert!(!format!("{err:?}").contains("secret-123"));
    }
}
