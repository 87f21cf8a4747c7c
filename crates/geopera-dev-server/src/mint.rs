//! Signed storage URLs for the operation handlers: a grant for the configured lifetime in
//! Google Cloud Storage's V4 form, signed with the server's key (`signing.rs`), and its
//! RFC 3339 expiry.

use super::clock::{now_unix, rfc3339};
use super::extract::OpContext;
use super::records::Attribution;
use super::signing::{Grant, MAX_EXPIRES, SignedMethod};
use super::state::DevState;
use super::url::encode_path;

/// A freshly signed storage URL.
pub(super) struct MintedUrl {
    /// The full URL (contains the signature: never log it).
    pub(super) url: String,
    /// RFC 3339 expiry.
    pub(super) expires_at: String,
}

/// Signs `method` on `object_path` for the configured TTL (at most the seven days GCS
/// allows). For GET URLs, `attribution` is filed under the grant id and attached to the
/// egress record when the URL is fetched.
pub(super) fn sign_url(
    state: &DevState,
    ctx: &OpContext,
    method: SignedMethod,
    object_path: &str,
    content_type: &str,
    attribution: Option<Attribution>,
) -> MintedUrl {
    let authority = ctx
        .base_url
        .split_once("://")
        .map_or(ctx.base_url.as_str(), |(_, rest)| rest);
    let host = authority.split('/').next().unwrap_or_default();
    let grant = Grant {
        method,
        object_path: object_path.to_owned(),
        host: host.to_owned(),
        content_type: (method == SignedMethod::Put).then(|| content_type.to_owned()),
        signed_at: now_unix(),
        expires_in: state.config().url_ttl.as_secs().min(MAX_EXPIRES),
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
        expires_at: rfc3339(grant.expires()),
    }
}
