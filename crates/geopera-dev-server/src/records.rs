//! The dev server's records: public snapshots handed to tests, and a few internal ones.

use std::collections::HashMap;

/// Where an upload session is in its lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SessionStatus {
    /// Created by `uploads.initiate`; quota reserved.
    Initiated,
    /// A URL was signed or progress was reported.
    Uploading,
    /// `uploads.complete` succeeded; reservation turned into used storage.
    Completed,
    /// `uploads.fail` released the reservation.
    Failed,
}

impl SessionStatus {
    /// `initiated`, `uploading`, `completed` or `failed`.
    pub fn as_str(self) -> &'static str {
        match self {
            SessionStatus::Initiated => "initiated",
            SessionStatus::Uploading => "uploading",
            SessionStatus::Completed => "completed",
            SessionStatus::Failed => "failed",
        }
    }

    /// Completed or failed.
    pub fn is_finished(self) -> bool {
        matches!(self, SessionStatus::Completed | SessionStatus::Failed)
    }
}

/// A file signed into an upload session.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SignedFile {
    /// The name given to `uploads.signed_url`.
    pub file_name: String,
    /// `uploads/<upload_id>/<file_name>`.
    pub object_path: String,
    /// The content type the PUT must carry.
    pub content_type: String,
    /// Size of the stored object, `None` until a PUT landed.
    pub uploaded_bytes: Option<u64>,
}

/// An upload session as the server sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SessionSnapshot {
    /// `upl_…`.
    pub id: String,
    /// The target project.
    pub project_id: String,
    /// As given to `uploads.initiate`.
    pub transfer_method: String,
    /// Most distinct files the session may sign.
    pub file_count: u64,
    /// Declared size of all files.
    pub total_bytes: u64,
    /// Quota currently reserved by this session (0 once completed or failed).
    pub reserved_bytes: u64,
    /// Lifecycle status.
    pub status: SessionStatus,
    /// Last `status` reported through `uploads.progress`.
    pub progress_status: Option<String>,
    /// Last `bytes_uploaded` reported through `uploads.progress`.
    pub bytes_uploaded: Option<i64>,
    /// Signed files, in signing order.
    pub files: Vec<SignedFile>,
    /// From `uploads.fail`.
    pub error_message: Option<String>,
    /// From `uploads.fail`.
    pub error_step: Option<String>,
    /// Items created or extended by `uploads.complete`.
    pub item_ids: Vec<String>,
    /// As given to `uploads.initiate`.
    pub target_collection_id: Option<String>,
    /// As given to `uploads.initiate`.
    pub target_item_id: Option<String>,
    /// As given to `uploads.initiate`.
    pub asset_key: Option<String>,
    /// As given to `uploads.initiate`.
    pub is_categorical: bool,
}

/// A STAC item held by the server.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ItemSnapshot {
    /// `itm_…`.
    pub id: String,
    /// Owning project.
    pub project_id: String,
    /// From the upload's `target_collection_id`.
    pub collection_id: Option<String>,
    /// The upload that created it (`None` for seeded items).
    pub upload_id: Option<String>,
    /// Its assets, in insertion order.
    pub assets: Vec<AssetSnapshot>,
}

/// One asset of an item.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AssetSnapshot {
    /// The asset key, e.g. `visual`.
    pub key: String,
    /// Where its bytes are stored.
    pub object_path: String,
    /// Size when the asset was created.
    pub size: u64,
    /// Its content type.
    pub content_type: String,
    /// From the upload's `is_categorical`.
    pub is_categorical: bool,
}

/// Bytes served through a signed download URL.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct EgressRecord {
    /// The operation that issued the URL (`items.asset.download`, `clip.job.download`).
    pub operation: String,
    /// The object served.
    pub object_path: String,
    /// Bytes read from the object for the connection. The server and the socket buffer the
    /// last of them, so a client that went away may not have received them all.
    pub bytes: u64,
    /// Whether every requested byte was read for the connection; false when the client went
    /// away before that. Objects are read 512 KiB at a time, so a client that goes away
    /// within the last chunk (or while the buffers drain) is still recorded as complete.
    pub complete: bool,
    /// Attribution recorded when the URL was issued.
    pub user_agent: Option<String>,
    /// Attribution recorded when the URL was issued.
    pub requester_ip: Option<String>,
}

/// Ids of the demo data created by [`DevState::seed_demo`](super::DevState::seed_demo).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DemoIds {
    /// `prj_demo`.
    pub project_id: String,
    /// The demo item.
    pub item_id: String,
    /// Its asset key, `visual`.
    pub asset_key: String,
    /// The demo clip job.
    pub clip_job_id: String,
    /// Its mosaic type, `visual`.
    pub mosaic_type: String,
}

/// A seeded clip job.
#[derive(Debug, Clone)]
pub(super) struct ClipJob {
    pub(super) mosaics: Vec<Mosaic>,
}

/// One downloadable output of a clip job.
#[derive(Debug, Clone)]
pub(super) struct Mosaic {
    pub(super) mosaic_type: String,
    pub(super) file_name: String,
    pub(super) object_path: String,
    pub(super) size: u64,
    pub(super) content_type: String,
}

/// A stored object.
#[derive(Debug, Clone)]
pub(super) struct ObjectMeta {
    pub(super) size: u64,
    pub(super) content_type: String,
    /// Computed as the object was written.
    pub(super) hashes: super::object_hash::ObjectHashes,
}

/// Who a download URL was issued for, filed under its grant id.
#[derive(Debug, Clone)]
pub(super) struct Attribution {
    pub(super) operation: &'static str,
    pub(super) user_agent: Option<String>,
    pub(super) requester_ip: Option<String>,
}

/// Rows keyed by id that remember insertion order.
#[derive(Debug)]
pub(super) struct Table<T> {
    rows: Vec<T>,
    index: HashMap<String, usize>,
}

impl<T> Default for Table<T> {
    fn default() -> Table<T> {
        Table {
            rows: Vec::new(),
            index: HashMap::new(),
        }
    }
}

impl<T> Table<T> {
    /// Inserts or replaces the row for `id`.
    pub(super) fn insert(&mut self, id: &str, row: T) {
        match self.index.get(id) {
            Some(&at) => self.rows[at] = row,
            None => {
                self.index.insert(id.to_owned(), self.rows.len());
                self.rows.push(row);
            }
        }
    }

    /// The row for `id`.
    pub(super) fn get(&self, id: &str) -> Option<&T> {
        self.index.get(id).map(|&at| &self.rows[at])
    }

    /// The row for `id`, mutably.
    pub(super) fn get_mut(&mut self, id: &str) -> Option<&mut T> {
        self.index.get(id).map(|&at| &mut self.rows[at])
    }

    /// All rows in insertion order.
    pub(super) fn iter(&self) -> impl Iterator<Item = &T> {
        self.rows.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_keeps_insertion_order_and_replaces_in_place() {
        let mut table = Table::default();
        table.insert("b", 1);
        table.insert("a", 2);
        table.insert("b", 3);
        assert_eq!(table.iter().copied().collect::<Vec<_>>(), [3, 2]);
        if let Some(row) = table.get_mut("a") {
            *row = 4;
        }
        assert_eq!(table.get("a"), Some(&4));
        assert_eq!(table.get("c"), None);
    }

    #[test]
    fn finished_statuses() {
        assert!(SessionStatus::Completed.is_finished() && SessionStatus::Failed.is_finished());
        assert!(!SessionStatus::Uploading.is_finished());
        assert_eq!(SessionStatus::Initiated.as_str(), "initiated");
    }
}
