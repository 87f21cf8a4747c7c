//! Signed storage URLs for the operation handlers: a grant for the configured lifetime,
//! signed with the server's key (`signing.rs`), and its RFC 3339 expiry.

use super::clock::{expiry, now_unix, rfc3339};
use super::extract::OpContext;
use super::records::Attribution;
use super::signing::{Grant, SignedMethod};
use super::state::DevState;
use super::url::encode_path;

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
