//! The download handlers: `items.asset.download`, `clip.job.downloads`, `clip.job.download`.
//!
//! Descriptors carry a short-lived signed GET URL; nothing is metered until that URL is
//! fetched. Attribution for the egress record is fixed when the descriptor is issued: the
//! body's `user_agent` / `requester_ip` (clip downloads), else the caller's `User-Agent`
//! header and socket address.

use super::error::ApiError;
use super::extract::OpContext;
use super::mint::sign_url;
use super::records::Attribution;
use super::signing::SignedMethod;
use super::state::DevState;
use geopera::models::{AssetDownloadInput, ClipDownloadInput, ClipJobInput, Descriptor};
use serde_json::{Value, json};

fn unknown_clip_job(job_id: &str) -> ApiError {
    ApiError::not_found(format!("Clip job '{job_id}' not found"))
}

/// `items.asset.download`: a signed GET URL for one asset of an item.
pub(super) fn asset_download(
    state: &DevState,
    ctx: &OpContext,
    input: AssetDownloadInput,
) -> Result<Descriptor, ApiError> {
    let item_id = input.item_id.as_str();
    let asset_id = input.asset_id.as_str();

    let (object_path, size, content_type) = {
        let db = state.db();
        let item = db
            .items
            .get(item_id)
            .ok_or_else(|| ApiError::not_found(format!("Item '{item_id}' not found")))?;
        let Some(asset) = item.assets.iter().find(|a| a.key == asset_id) else {
            let keys: Vec<&str> = item.assets.iter().map(|a| a.key.as_str()).collect();
            return Err(ApiError::not_found(format!(
                "Item '{item_id}' has no asset '{asset_id}' (available: {})",
                keys.join(", ")
            )));
        };
        let meta = db.objects.get(&asset.object_path).ok_or_else(|| {
            ApiError::not_found(format!(
                "The bytes of asset '{asset_id}' of item '{item_id}' are missing"
            ))
        })?;
        (
            asset.object_path.clone(),
            meta.size,
            meta.content_type.clone(),
        )
    };
    let attribution = Attribution {
        operation: "items.asset.download",
        user_agent: ctx.user_agent.clone(),
        requester_ip: ctx.peer_ip.clone(),
    };
    let signed = sign_url(
        state,
        ctx,
        SignedMethod::Get,
        &object_path,
        &content_type,
        Some(attribution),
    );
    Ok(Descriptor::new(json!({
        "url": signed.url,
        "href": signed.url,
        "item_id": item_id,
        "asset_id": asset_id,
        "size": size,
        "content_type": content_type,
        "expires_at": signed.expires_at,
        "method": "GET",
    })))
}

/// `clip.job.downloads`: every mosaic of a clip job.
pub(super) fn clip_downloads(
    state: &DevState,
    _ctx: &OpContext,
    input: ClipJobInput,
) -> Result<Descriptor, ApiError> {
    let job_id = input.job_id.as_str();

    let db = state.db();
    let job = db
        .clip_jobs
        .get(job_id)
        .ok_or_else(|| unknown_clip_job(job_id))?;
    let downloads: Vec<Value> = job
        .mosaics
        .iter()
        .map(|m| {
            json!({
                "mosaic_type": m.mosaic_type,
                "file_name": m.file_name,
                "size": m.size,
                "content_type": m.content_type,
            })
        })
        .collect();
    Ok(Descriptor::new(
        json!({ "job_id": job_id, "downloads": downloads }),
    ))
}

/// `clip.job.download`: a signed GET URL for one mosaic of a clip job.
pub(super) fn clip_download(
    state: &DevState,
    ctx: &OpContext,
    input: ClipDownloadInput,
) -> Result<Descriptor, ApiError> {
    let job_id = input.job_id.as_str();
    let mosaic_type = input.mosaic_type.as_str();

    let mosaic = {
        let db = state.db();
        let job = db
            .clip_jobs
            .get(job_id)
            .ok_or_else(|| unknown_clip_job(job_id))?;
        let Some(mosaic) = job.mosaics.iter().find(|m| m.mosaic_type == mosaic_type) else {
            let types: Vec<&str> = job.mosaics.iter().map(|m| m.mosaic_type.as_str()).collect();
            return Err(ApiError::not_found(format!(
                "Clip job '{job_id}' has no '{mosaic_type}' mosaic (available: {})",
                types.join(", ")
            )));
        };
        mosaic.clone()
    };
    let attribution = Attribution {
        operation: "clip.job.download",
        user_agent: input.user_agent.or_else(|| ctx.user_agent.clone()),
        requester_ip: input.requester_ip.or_else(|| ctx.peer_ip.clone()),
    };
    let signed = sign_url(
        state,
        ctx,
        SignedMethod::Get,
        &mosaic.object_path,
        &mosaic.content_type,
        Some(attribution),
    );
    Ok(Descriptor::new(json!({
        "url": signed.url,
        "href": signed.url,
        "job_id": job_id,
        "mosaic_type": mosaic.mosaic_type,
        "file_name": mosaic.file_name,
        "size": mosaic.size,
        "content_type": mosaic.content_type,
        "expires_at": signed.expires_at,
        "method": "GET",
    })))
}
