//! The dispatch table (operation → handler) and what handlers share: the request context
//! and signed-URL minting. The handlers live in `uploads.rs` and `downloads.rs`.
//!
//! What an operation *is* (its id, required scope, idempotency, declared statuses) comes
//! from the SDK's operation table, [`geopera::ops::OPERATIONS`], through the marker types:
//! this table only pairs each operation with its handler.

use super::clock::{expiry, now_unix, rfc3339};
use super::downloads;
use super::error::ApiError;
use super::records::Attribution;
use super::signing::{Grant, SignedMethod};
use super::state::DevState;
use super::uploads;
use super::url::encode_path;
use geopera::{Operation, OperationSpec, ops};
use serde_json::Value;

/// What a handler knows about the request besides its body.
#[derive(Debug, Clone, Default)]
pub(crate) struct OpContext {
    /// e.g. `http://127.0.0.1:8787`, the prefix of signed URLs.
    pub(crate) base_url: String,
    /// The request's `User-Agent`.
    pub(crate) user_agent: Option<String>,
    /// The peer's IP, when served over a socket.
    pub(crate) peer_ip: Option<String>,
}

/// A handler: the parsed JSON body (`None` when empty) in, the JSON result out.
pub(crate) type Handler = fn(&DevState, &OpContext, Option<Value>) -> Result<Value, ApiError>;

/// One operation the dev server serves: the SDK's row for it and its handler.
pub(crate) struct Route {
    /// The SDK's row: id, `x-required-scope`, idempotency, statuses.
    pub(crate) spec: &'static OperationSpec,
    /// Its handler.
    pub(crate) run: Handler,
}

impl Route {
    /// Pairs operation `O` of the SDK's table with `run`.
    const fn new<O: Operation>(run: Handler) -> Route {
        Route { spec: O::SPEC, run }
    }

    /// The operation id, e.g. `uploads.initiate`.
    pub(crate) fn id(&self) -> &'static str {
        self.spec.id
    }
}

/// Every operation the dev server implements.
pub(crate) const ROUTES: &[Route] = &[
    Route::new::<ops::UploadsInitiate>(uploads::initiate),
    Route::new::<ops::UploadsSignedUrl>(uploads::signed_url),
    Route::new::<ops::UploadsProgress>(uploads::progress),
    Route::new::<ops::UploadsComplete>(uploads::complete),
    Route::new::<ops::UploadsFail>(uploads::fail),
    Route::new::<ops::ItemsAssetDownload>(downloads::asset_download),
    Route::new::<ops::ClipJobDownload>(downloads::clip_download),
    Route::new::<ops::ClipJobDownloads>(downloads::clip_downloads),
];

/// The route of operation `id`.
pub(super) fn find(id: &str) -> Option<&'static Route> {
    ROUTES.iter().find(|route| route.id() == id)
}

/// A freshly signed storage URL.
pub(super) struct MintedUrl {
    /// The full URL (contains the signature: never log it).
    pub(super) url: String,
    /// RFC 3339 expiry.
    pub(super) expires_at: String,
}

/// Signs `method` on `object_path` for the configured TTL. For GET URLs, `attribution` is
/// filed under the grant id and attached to the egress record when the URL is fetched.
pub(super) fn sign_url(
    state: &DevState,
    ctx: &OpContext,
    method: SignedMethod,
    object_path: &str,
    content_type: &str,
    attribution: Option<Attribution>,
) -> MintedUrl {
    let expires = expiry(now_unix(), state.config().url_ttl);
    let grant = Grant {
        method,
        object_path: object_path.to_owned(),
        content_type: content_type.to_owned(),
        expires,
        grant_id: state.next_id(if method == SignedMethod::Put {
            "up_"
        } else {
            "dl_"
        }),
    };
    if let Some(attribution) = attribution {
        state
            .db()
            .grants
            .insert(grant.grant_id.clone(), attribution);
    }
    MintedUrl {
        url: format!(
            "{}/storage/{}?{}",
            ctx.base_url,
            encode_path(object_path),
            grant.to_query(state.key())
        ),
        expires_at: rfc3339(expires),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_serves_the_eight_operations_with_the_sdks_scopes() {
        assert_eq!(ROUTES.len(), 8);
        for route in ROUTES {
            let spec = geopera::ops::find(route.id()).expect("a row of the SDK's table");
            assert_eq!(route.spec, spec);
        }
        let scope = |id| find(id).and_then(|route| route.spec.required_scope);
        assert_eq!(scope("uploads.complete"), Some("uploads:write"));
        assert_eq!(scope("items.asset.download"), Some("items:read"));
        assert_eq!(scope("clip.job.downloads"), Some("clip:read"));
        assert!(find("uploads.nope").is_none());
    }
}
