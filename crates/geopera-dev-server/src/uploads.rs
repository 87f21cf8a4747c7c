//! The upload-session handlers: `uploads.initiate`, `signed_url`, `progress`, `complete`, `fail`.
//!
//! Quota: initiate reserves `total_bytes`; fail releases it; complete releases it and adds the
//! bytes actually stored to used storage. Decisions where the API documents nothing:
//! - signed_url on an unknown, completed or failed upload → 404 Problem; signing more than
//!   `file_count` distinct names → 422 on `file_name`; re-signing a name gives a fresh URL.
//! - progress works on any existing session and never changes its lifecycle beyond
//!   `initiated` → `uploading`.
//! - complete: a signed file that was never PUT → 404 Problem naming it; stored bytes beyond
//!   `total_bytes` → 422 on `upload_id`. Both leave the session open (fix it, or fail it).
//!   A repeated complete (a retry whose first answer was lost) → 200 with the first
//!   complete's answer, replayed: same item ids, nothing created, quota unchanged.
//!   Complete after fail → 404 Problem.
//! - fail: failing a failed session is a 200 no-op (the first error is kept); failing a
//!   completed one → 404 Problem. Failing deletes the objects the session stored.
//! - upload URLs work only while their session is open: once it is completed or failed a
//!   PUT is refused (403, see `storage.rs`), so a completed item's bytes never change.

use super::error::ApiError;
use super::extract::OpContext;
use super::inputs::CompleteInput;
use super::mint::sign_url;
use super::records::{AssetSnapshot, ItemSnapshot, SessionSnapshot, SessionStatus, SignedFile};
use super::signing::SignedMethod;
use super::state::{DevState, upsert_asset};
use axum::http::StatusCode;
use geopera::models::{
    Completion, SignedUrl, SignedUrlInput, SignedUrlOutput, UploadFailInput, UploadInitiate,
    UploadOutput, UploadProgressInput,
};
use serde_json::{Map, Value, json};

/// The session model the upload operations answer with: `id` and the named members.
fn session_output<const N: usize>(id: &str, members: [(&str, Value); N]) -> UploadOutput {
    UploadOutput {
        id: id.to_owned(),
        extra: members
            .into_iter()
            .map(|(key, value)| (key.to_owned(), value))
            .collect::<Map<String, Value>>(),
    }
}

fn unknown_upload(upload_id: &str) -> ApiError {
    ApiError::not_found(format!(
        "Upload '{upload_id}' not found; start one with uploads.initiate"
    ))
}

/// `uploads.initiate`: checks the project, reserves `total_bytes` atomically, opens a session.
pub(super) fn initiate(
    state: &DevState,
    _ctx: &OpContext,
    input: UploadInitiate,
) -> Result<UploadOutput, ApiError> {
    let project_id = input.project_id.as_str();
    let total_bytes = input.total_bytes;
    let id = state.next_id("upl_");
    let quota = state.quota_bytes();
    let mut db = state.db();
    if !db.projects.contains(project_id) {
        return Err(ApiError::not_found(format!(
            "Project '{project_id}' not found; uploads can only target an existing project"
        )));
    }
    if let Some(item_id) = input.target_item_id.as_deref()
        && db
            .items
            .get(item_id)
            .is_none_or(|item| item.project_id != project_id)
    {
        return Err(ApiError::not_found(format!(
            "Item '{item_id}' (target_item_id) not found in project '{project_id}'"
        )));
    }
    let available = quota.saturating_sub(db.used.saturating_add(db.reserved));
    if total_bytes > available {
        return Err(ApiError::problem(
            StatusCode::PAYMENT_REQUIRED,
            format!(
                "Storage quota exceeded: requested {total_bytes} bytes, {available} available \
                 (quota {quota}, used {}, reserved {}); free space or raise the quota",
                db.used, db.reserved
            ),
        ));
    }
    db.reserved = db.reserved.saturating_add(total_bytes);
    db.sessions.insert(
        &id,
        SessionSnapshot {
            id: id.clone(),
            project_id: project_id.to_owned(),
            transfer_method: input.transfer_method.to_string(),
            file_count: input.file_count.get(),
            total_bytes,
            reserved_bytes: total_bytes,
            status: SessionStatus::Initiated,
            progress_status: None,
            bytes_uploaded: None,
            files: Vec::new(),
            error_message: None,
            error_step: None,
            item_ids: Vec::new(),
            target_collection_id: input.target_collection_id.clone(),
            target_item_id: input.target_item_id.clone(),
            asset_key: input.asset_key.clone(),
            is_categorical: input.is_categorical,
        },
    );
    Ok(session_output(
        &id,
        [
            ("status", json!(SessionStatus::Initiated.as_str())),
            ("project_id", json!(project_id)),
            ("reserved_bytes", json!(total_bytes)),
        ],
    ))
}

/// `uploads.signed_url`: a PUT URL for one file of an open session.
pub(super) fn signed_url(
    state: &DevState,
    ctx: &OpContext,
    input: SignedUrlInput,
) -> Result<SignedUrlOutput, ApiError> {
    let upload_id = input.upload_id.as_str();
    let file_name = input.file_name.as_str();
    let content_type = input.content_type.as_str();
    let object_path = format!("uploads/{upload_id}/{file_name}");
    {
        let mut db = state.db();
        let session = db
            .sessions
            .get_mut(upload_id)
            .ok_or_else(|| unknown_upload(upload_id))?;
        if session.status.is_finished() {
            return Err(ApiError::not_found(format!(
                "Upload '{upload_id}' is already {}; start a new upload with uploads.initiate",
                session.status.as_str()
            )));
        }
        match session
            .files
            .iter()
            .position(|file| file.file_name == file_name)
        {
            Some(at) => session.files[at].content_type = content_type.to_owned(),
            None if session.files.len() as u64 >= session.file_count => {
                let signed: Vec<&str> =
                    session.files.iter().map(|f| f.file_name.as_str()).collect();
                let reason = format!(
                    "upload '{upload_id}' allows {} distinct file(s) (file_count) and has already signed: {}",
                    session.file_count,
                    signed.join(", ")
                );
                return Err(ApiError::value_error(
                    "file_name",
                    &reason,
                    json!(file_name),
                ));
            }
            None => session.files.push(SignedFile {
                file_name: file_name.to_owned(),
                object_path: object_path.clone(),
                content_type: content_type.to_owned(),
                uploaded_bytes: None,
            }),
        }
        session.status = SessionStatus::Uploading;
    }
    let signed = sign_url(
        state,
        ctx,
        SignedMethod::Put,
        &object_path,
        content_type,
        None,
    );
    // Exactly what openapi.json documents (the live document too): no undocumented
    // members for a client to come to rely on.
    Ok(SignedUrlOutput {
        upload_url: SignedUrl::new(signed.url),
        object_path,
    })
}

/// `uploads.progress`: records the reported status and byte count.
pub(super) fn progress(
    state: &DevState,
    _ctx: &OpContext,
    input: UploadProgressInput,
) -> Result<UploadOutput, ApiError> {
    let upload_id = input.upload_id.as_str();
    let mut db = state.db();
    let session = db
        .sessions
        .get_mut(upload_id)
        .ok_or_else(|| unknown_upload(upload_id))?;
    if let Some(status) = input.status {
        session.progress_status = Some(status);
    }
    if let Some(bytes) = input.bytes_uploaded {
        session.bytes_uploaded = Some(bytes);
    }
    if session.status == SessionStatus::Initiated {
        session.status = SessionStatus::Uploading;
    }
    Ok(session_output(
        upload_id,
        [
            ("status", json!(session.status.as_str())),
            ("progress_status", json!(session.progress_status)),
            ("bytes_uploaded", json!(session.bytes_uploaded)),
        ],
    ))
}

/// The file name without folders and final extension: `a/scene.b04.tif` → `scene.b04`.
fn stem(file_name: &str) -> &str {
    let base = file_name.rsplit('/').next().unwrap_or(file_name);
    match base.rsplit_once('.') {
        Some((stem, _)) if !stem.is_empty() => stem,
        _ => base,
    }
}

/// `uploads.complete`: one item per stored file (or assets on `target_item_id`), quota settled.
pub(super) fn complete(
    state: &DevState,
    _ctx: &OpContext,
    input: CompleteInput,
) -> Result<Completion, ApiError> {
    let upload_id = input.upload_id.as_str();
    let mut guard = state.db();
    let db = &mut *guard;
    let session = db
        .sessions
        .get(upload_id)
        .cloned()
        .ok_or_else(|| unknown_upload(upload_id))?;
    match session.status {
        SessionStatus::Completed => {
            let replay = db.completions.get(upload_id).cloned().unwrap_or_else(
                || json!({ "id": upload_id, "item_ids": session.item_ids, "status": "completed" }),
            );
            return Ok(Completion::new(replay));
        }
        SessionStatus::Failed => {
            return Err(ApiError::not_found(format!(
                "Upload '{upload_id}' has failed (uploads.fail) and cannot be completed; start a new upload"
            )));
        }
        SessionStatus::Initiated | SessionStatus::Uploading => {}
    }

    let mut stored = Vec::with_capacity(session.files.len());
    for file in &session.files {
        let Some(meta) = db.objects.get(&file.object_path) else {
            return Err(ApiError::not_found(format!(
                "Object not uploaded: '{}' was signed but never PUT; upload it before completing, or call uploads.fail",
                file.file_name
            )));
        };
        stored.push((file, meta.clone()));
    }
    let actual = stored
        .iter()
        .fold(0u64, |sum, (_, meta)| sum.saturating_add(meta.size));
    if actual > session.total_bytes {
        let reason = format!(
            "upload '{upload_id}' stored {actual} bytes but total_bytes reserved only {}; \
             call uploads.fail and initiate again with total_bytes >= {actual}",
            session.total_bytes
        );
        return Err(ApiError::value_error(
            "upload_id",
            &reason,
            json!(upload_id),
        ));
    }

    let asset = |file: &SignedFile, meta: &super::records::ObjectMeta, key: &str| AssetSnapshot {
        key: key.to_owned(),
        object_path: file.object_path.clone(),
        size: meta.size,
        content_type: meta.content_type.clone(),
        is_categorical: session.is_categorical,
    };
    let mut item_ids = Vec::new();
    if let Some(target) = &session.target_item_id {
        let item = db.items.get_mut(target).ok_or_else(|| {
            ApiError::not_found(format!("Item '{target}' (target_item_id) no longer exists"))
        })?;
        let single = stored.len() == 1;
        for (file, meta) in &stored {
            let key = session
                .asset_key
                .as_deref()
                .filter(|_| single)
                .unwrap_or(stem(&file.file_name));
            upsert_asset(item, asset(file, meta, key));
        }
        if !stored.is_empty() {
            item_ids.push(target.clone());
        }
    } else {
        for (file, meta) in &stored {
            let item_id = state.next_id("itm_");
            let key = session
                .asset_key
                .as_deref()
                .unwrap_or(stem(&file.file_name));
            db.items.insert(
                &item_id,
                ItemSnapshot {
                    id: item_id.clone(),
                    project_id: session.project_id.clone(),
                    collection_id: session.target_collection_id.clone(),
                    upload_id: Some(upload_id.to_owned()),
                    assets: vec![asset(file, meta, key)],
                },
            );
            item_ids.push(item_id);
        }
    }

    db.used = db.used.saturating_add(actual);
    db.reserved = db.reserved.saturating_sub(session.reserved_bytes);
    if let Some(open) = db.sessions.get_mut(upload_id) {
        open.status = SessionStatus::Completed;
        open.reserved_bytes = 0;
        open.item_ids = item_ids.clone();
    }
    let answer =
        json!({ "id": upload_id, "item_ids": item_ids, "status": "completed", "bytes": actual });
    db.completions.insert(upload_id.to_owned(), answer.clone());
    Ok(Completion::new(answer))
}

/// `uploads.fail`: releases the reservation and records the error.
pub(super) fn fail(
    state: &DevState,
    _ctx: &OpContext,
    input: UploadFailInput,
) -> Result<UploadOutput, ApiError> {
    let upload_id = input.upload_id.as_str();
    let mut guard = state.db();
    let db = &mut *guard;
    let session = db
        .sessions
        .get_mut(upload_id)
        .ok_or_else(|| unknown_upload(upload_id))?;
    match session.status {
        SessionStatus::Failed => {}
        SessionStatus::Completed => {
            return Err(ApiError::not_found(format!(
                "Upload '{upload_id}' is already completed and cannot be failed"
            )));
        }
        SessionStatus::Initiated | SessionStatus::Uploading => {
            db.reserved = db.reserved.saturating_sub(session.reserved_bytes);
            session.reserved_bytes = 0;
            session.status = SessionStatus::Failed;
            session.error_message = Some(input.error_message);
            session.error_step = input.error_step;
            // An abandoned upload keeps nothing: its objects would never be served.
            let stored: Vec<String> = session
                .files
                .iter()
                .map(|file| file.object_path.clone())
                .collect();
            for object_path in stored {
                state.delete_object(db, &object_path);
            }
        }
    }
    Ok(session_output(upload_id, [("status", json!("failed"))]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stems_drop_folders_and_the_last_extension() {
        assert_eq!(stem("harbour_2024.tif"), "harbour_2024");
        assert_eq!(stem("a/scene.b04.tif"), "scene.b04");
        assert_eq!(stem(".hidden"), ".hidden");
        assert_eq!(stem("noext"), "noext");
    }
}
