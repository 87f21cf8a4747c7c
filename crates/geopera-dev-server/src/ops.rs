//! The operation table (id → scope → handler) and what handlers share: the request context
//! and signed-URL minting. The handlers live in `uploads.rs` and `downloads.rs`.

use super::clock::{expiry, now_unix, rfc3339};
use super::downloads;
use super::error::ApiError;
use super::model::Attribution;
use super::signing::{Grant, SignedMethod};
use super::state::DevState;
use super::uploads;
use super::url::encode_path;
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

/// One operation of the API.
pub(crate) struct Operation {
    /// e.g. `uploads.initiate`.
    pub(crate) id: &'static str,
    /// The `x-required-scope`.
    pub(super) scope: &'static str,
    /// Its handler.
    pub(crate) run: Handler,
}

/// Every operation the dev server implements.
pub(crate) const OPERATIONS: &[Operation] = &[
    Operation {
        id: "uploads.initiate",
        scope: "uploads:write",
        run: uploads::initiate,
    },
    Operation {
        id: "uploads.signed_url",
        scope: "uploads:write",
        run: uploads::signed_url,
    },
    Operation {
        id: "uploads.progress",
        scope: "uploads:write",
        run: uploads::progress,
    },
    Operation {
        id: "uploads.complete",
        scope: "uploads:write",
        run: uploads::complete,
    },
    Operation {
        id: "uploads.fail",
        scope: "uploads:write",
        run: uploads::fail,
    },
    Operation {
        id: "items.asset.download",
        scope: "items:read",
        run: downloads::asset_download,
    },
    Operation {
        id: "clip.job.download",
        scope: "clip:read",
        run: downloads::clip_download,
    },
    Operation {
        id: "clip.job.downloads",
        scope: "clip:read",
        run: downloads::clip_downloads,
    },
];

/// The operation called `id`.
pub(super) fn find(id: &str) -> Option<&'static Operation> {
    OPERATIONS.iter().find(|op| op.id == id)
}

/// A freshly signed storage URL.
pub(super) struct SignedUrl {
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
) -> SignedUrl {
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
    SignedUrl {
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
    fn the_table_covers_the_eight_operations_with_their_scopes() {
        assert_eq!(OPERATIONS.len(), 8);
        assert_eq!(
            find("uploads.complete").map(|op| op.scope),
            Some("uploads:write")
        );
        assert_eq!(
            find("items.asset.download").map(|op| op.scope),
            Some("items:read")
        );
        assert_eq!(
            find("clip.job.downloads").map(|op| op.scope),
            Some("clip:read")
        );
        assert!(find("uploads.nope").is_none());
    }
}
