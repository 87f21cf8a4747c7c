//! [`DevState`]: the server's shared state (projects, sessions, items, clip jobs, objects,
//! quota accounting, egress, faults), with the seeding, inspection and fault-injection API.
//!
//! All bookkeeping sits behind one mutex, so quota checks and reservations are atomic; it is
//! never held across an `.await`.

use super::config::DevConfig;
use super::data_dir::DataDir;
use super::entropy::{Ids, hex, random_bytes};
use super::faults::{Fault, FaultBook, FaultKind, FaultTarget};
use super::object_hash::ObjectHashes;
use super::realm::Realm;
use super::records::{
    AssetSnapshot, Attribution, ClipJob, EgressRecord, ItemSnapshot, Mosaic, ObjectMeta,
    SessionSnapshot, SessionStatus, Table,
};
use sha2::{Digest, Sha256};
use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

/// Shared server state; cheap to clone (an `Arc` inside).
#[derive(Clone)]
pub struct DevState {
    inner: Arc<Inner>,
}

struct Inner {
    config: DevConfig,
    key: [u8; 32],
    ids: Ids,
    db: Mutex<Db>,
    faults: Mutex<FaultBook>,
    /// Woken each time a download is filed in `Db::egress`.
    egress_filed: tokio::sync::Notify,
    /// Device logins and the tokens issued by the stand-in realm.
    realm: Realm,
    // Last field: dropped after everything else, removing an owned temp dir.
    dir: DataDir,
}

/// The bookkeeping behind the mutex.
#[derive(Debug, Default)]
pub(super) struct Db {
    pub(super) projects: BTreeSet<String>,
    pub(super) sessions: Table<SessionSnapshot>,
    pub(super) items: Table<ItemSnapshot>,
    pub(super) clip_jobs: HashMap<String, ClipJob>,
    pub(super) objects: HashMap<String, ObjectMeta>,
    pub(super) grants: HashMap<String, Attribution>,
    /// The answer each completed session's `uploads.complete` gave, replayed on a repeat.
    pub(super) completions: HashMap<String, serde_json::Value>,
    pub(super) egress: Vec<EgressRecord>,
    pub(super) calls: HashMap<String, u64>,
    pub(super) reserved: u64,
    pub(super) used: u64,
}

/// Why a signed upload URL no longer accepts bytes, although its signature is valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum UploadClosed {
    /// Its session was completed or failed: upload URLs live only while it is open.
    Finished(SessionStatus),
    /// No session lists the object among its signed files.
    NoSession,
}

/// What is recorded of an object as it is moved into place.
#[derive(Debug, Clone, Copy)]
pub(super) struct StoredObject<'a> {
    /// Its size in bytes.
    pub(super) size: u64,
    /// The content type it is served with.
    pub(super) content_type: &'a str,
    /// Its hashes, computed as it was written.
    pub(super) hashes: ObjectHashes,
}

/// Why a finished upload was not moved into place.
#[derive(Debug)]
pub(super) enum CommitError {
    /// The session left the open state while the body was arriving.
    Closed(UploadClosed),
    /// The rename failed.
    Io(io::Error),
}

impl Db {
    /// Whether `object_path` (`uploads/<upload_id>/<file_name>`) is a signed file of a
    /// session that is still open, i.e. whether a PUT may (still) store it.
    pub(super) fn upload_open(&self, object_path: &str) -> Result<(), UploadClosed> {
        let upload_id = object_path
            .strip_prefix("uploads/")
            .and_then(|rest| rest.split_once('/'))
            .map(|(upload_id, _)| upload_id)
            .ok_or(UploadClosed::NoSession)?;
        let session = self
            .sessions
            .get(upload_id)
            .ok_or(UploadClosed::NoSession)?;
        if session.status.is_finished() {
            return Err(UploadClosed::Finished(session.status));
        }
        if !session
            .files
            .iter()
            .any(|file| file.object_path == object_path)
        {
            return Err(UploadClosed::NoSession);
        }
        Ok(())
    }

    /// The content type `object_path` was signed for, if a session signed it.
    pub(super) fn signed_content_type(&self, object_path: &str) -> Option<String> {
        let upload_id = object_path.strip_prefix("uploads/")?.split_once('/')?.0;
        self.sessions
            .get(upload_id)?
            .files
            .iter()
            .find(|file| file.object_path == object_path)
            .map(|file| file.content_type.clone())
    }

    /// A session with `uploaded_bytes` filled in from the stored objects.
    fn snapshot(&self, session: &SessionSnapshot) -> SessionSnapshot {
        let mut out = session.clone();
        for file in &mut out.files {
            file.uploaded_bytes = self.objects.get(&file.object_path).map(|o| o.size);
        }
        out
    }
}

impl DevState {
    /// State for `config`: opens (or creates) the data dir, draws a fresh signing key, and
    /// seeds the demo data when `config.seed_demo(true)`.
    pub fn new(config: DevConfig) -> io::Result<DevState> {
        let dir = DataDir::open(config.data_dir.as_deref())?;
        let seed = config.seed_demo;
        let state = DevState {
            inner: Arc::new(Inner {
                config,
                key: random_bytes()?,
                ids: Ids::new()?,
                db: Mutex::new(Db::default()),
                faults: Mutex::new(FaultBook::default()),
                egress_filed: tokio::sync::Notify::new(),
                realm: Realm::default(),
                dir,
            }),
        };
        if seed {
            state.seed_demo()?;
        }
        Ok(state)
    }

    pub(super) fn config(&self) -> &DevConfig {
        &self.inner.config
    }

    pub(super) fn realm(&self) -> &Realm {
        &self.inner.realm
    }

    pub(super) fn key(&self) -> &[u8] {
        &self.inner.key
    }

    pub(super) fn next_id(&self, prefix: &str) -> String {
        self.inner.ids.next(prefix)
    }

    /// Locks the bookkeeping (a poisoned lock is still usable: every update is one step).
    pub(super) fn db(&self) -> MutexGuard<'_, Db> {
        self.inner.db.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn faults(&self) -> MutexGuard<'_, FaultBook> {
        self.inner
            .faults
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// The file holding `object_path` (named by its hash, so no path can escape the dir).
    pub(super) fn object_file(&self, object_path: &str) -> PathBuf {
        let digest = Sha256::digest(object_path.as_bytes());
        self.inner.dir.objects().join(hex(&digest))
    }

    /// A fresh file name for an in-flight upload.
    pub(super) fn temp_file(&self) -> PathBuf {
        self.inner
            .dir
            .tmp()
            .join(format!("{}.part", self.next_id("put_")))
    }

    /// Consumes one application of the next fault for `target`.
    pub(super) fn take_fault(&self, target: &FaultTarget) -> Option<FaultKind> {
        self.faults().take(target)
    }

    /// Counts a request that reached `operation_id` (after faults).
    pub(super) fn count_call(&self, operation_id: &str) {
        let mut db = self.db();
        let calls = db.calls.entry(operation_id.to_owned()).or_default();
        *calls = calls.saturating_add(1);
    }

    /// Moves a finished temp file into place as `object_path` and records it.
    ///
    /// The rename happens under the lock so the file on disk and its recorded size and type
    /// always agree, even when two PUTs to one path race; it is a single metadata syscall.
    pub(super) fn commit_object(
        &self,
        temp: &Path,
        object_path: &str,
        stored: StoredObject<'_>,
    ) -> io::Result<()> {
        let mut db = self.db();
        self.place_object(&mut db, temp, object_path, stored)
    }

    /// [`commit_object`](Self::commit_object) for a signed upload: only while the session
    /// that signed `object_path` is open. The check and the rename happen under one lock,
    /// the same lock `uploads.complete` and `uploads.fail` close the session under, so a
    /// PUT whose body was still arriving when its session closed can never replace (or
    /// leave behind) an object: it lands before the session closes, or not at all.
    pub(super) fn commit_upload(
        &self,
        temp: &Path,
        object_path: &str,
        stored: StoredObject<'_>,
    ) -> Result<(), CommitError> {
        let mut db = self.db();
        db.upload_open(object_path).map_err(CommitError::Closed)?;
        self.place_object(&mut db, temp, object_path, stored)
            .map_err(CommitError::Io)
    }

    fn place_object(
        &self,
        db: &mut Db,
        temp: &Path,
        object_path: &str,
        stored: StoredObject<'_>,
    ) -> io::Result<()> {
        std::fs::rename(temp, self.object_file(object_path))?;
        db.objects.insert(
            object_path.to_owned(),
            ObjectMeta {
                size: stored.size,
                content_type: stored.content_type.to_owned(),
                hashes: stored.hashes,
            },
        );
        Ok(())
    }

    /// Forgets `object_path` and deletes its file (best effort: a file that cannot be
    /// removed is no longer served, since only recorded objects are).
    pub(super) fn delete_object(&self, db: &mut Db, object_path: &str) {
        if db.objects.remove(object_path).is_some() {
            let _ = std::fs::remove_file(self.object_file(object_path));
        }
    }

    /// Stores `bytes` as `object_path` synchronously (used for seeding).
    pub(crate) fn put_object_bytes(
        &self,
        object_path: &str,
        bytes: &[u8],
        content_type: &str,
    ) -> io::Result<u64> {
        let temp = self.temp_file();
        std::fs::write(&temp, bytes)?;
        let size = bytes.len() as u64;
        let stored = StoredObject {
            size,
            content_type,
            hashes: ObjectHashes::of(bytes),
        };
        let committed = self.commit_object(&temp, object_path, stored);
        if committed.is_err() {
            let _ = std::fs::remove_file(&temp);
        }
        committed.map(|()| size)
    }

    // ----- seeding -----

    /// Creates a project (idempotent). Uploads can only target existing projects.
    pub fn add_project(&self, project_id: &str) {
        self.db().projects.insert(project_id.to_owned());
    }

    /// Stores `bytes` as asset `asset_key` of item `item_id` in `project_id` (both created if
    /// missing), so `items.asset.download` can serve it. Seeded bytes do not count as used quota.
    pub fn add_item(
        &self,
        item_id: &str,
        project_id: &str,
        asset_key: &str,
        bytes: &[u8],
        content_type: &str,
    ) -> io::Result<()> {
        let object_path = format!("items/{item_id}/{asset_key}");
        let size = self.put_object_bytes(&object_path, bytes, content_type)?;
        let asset = AssetSnapshot {
            key: asset_key.to_owned(),
            object_path,
            size,
            content_type: content_type.to_owned(),
            is_categorical: false,
        };
        let mut db = self.db();
        db.projects.insert(project_id.to_owned());
        match db.items.get_mut(item_id) {
            Some(item) => upsert_asset(item, asset),
            None => db.items.insert(
                item_id,
                ItemSnapshot {
                    id: item_id.to_owned(),
                    project_id: project_id.to_owned(),
                    collection_id: None,
                    upload_id: None,
                    assets: vec![asset],
                },
            ),
        }
        Ok(())
    }

    /// Creates (or replaces) clip job `job_id` with its mosaics, each given as
    /// `(mosaic_type, file_name, bytes, content_type)`.
    pub fn add_clip_job(
        &self,
        job_id: &str,
        mosaics: &[(&str, &str, &[u8], &str)],
    ) -> io::Result<()> {
        let mut stored = Vec::with_capacity(mosaics.len());
        for &(mosaic_type, file_name, bytes, content_type) in mosaics {
            let object_path = format!("clips/{job_id}/{file_name}");
            let size = self.put_object_bytes(&object_path, bytes, content_type)?;
            stored.push(Mosaic {
                mosaic_type: mosaic_type.to_owned(),
                file_name: file_name.to_owned(),
                object_path,
                size,
                content_type: content_type.to_owned(),
            });
        }
        self.db()
            .clip_jobs
            .insert(job_id.to_owned(), ClipJob { mosaics: stored });
        Ok(())
    }

    // ----- inspection -----

    /// Bytes reserved by open upload sessions.
    pub fn reserved_bytes(&self) -> u64 {
        self.db().reserved
    }

    /// Bytes turned into used storage by completed uploads.
    pub fn used_bytes(&self) -> u64 {
        self.db().used
    }

    /// The configured quota.
    pub fn quota_bytes(&self) -> u64 {
        self.config().quota_bytes
    }

    /// One upload session.
    pub fn session(&self, upload_id: &str) -> Option<SessionSnapshot> {
        let db = self.db();
        db.sessions.get(upload_id).map(|s| db.snapshot(s))
    }

    /// All upload sessions, oldest first.
    pub fn sessions(&self) -> Vec<SessionSnapshot> {
        let db = self.db();
        db.sessions.iter().map(|s| db.snapshot(s)).collect()
    }

    /// All items, oldest first.
    pub fn items(&self) -> Vec<ItemSnapshot> {
        self.db().items.iter().cloned().collect()
    }

    /// One item.
    pub fn item(&self, item_id: &str) -> Option<ItemSnapshot> {
        self.db().items.get(item_id).cloned()
    }

    /// Every download served through a signed URL, in the order they finished.
    pub fn egress(&self) -> Vec<EgressRecord> {
        self.db().egress.clone()
    }

    /// Waits until at least `count` downloads are in [`egress`](Self::egress), then returns
    /// them all. A download the client abandons is filed only when the server notices (its
    /// next write to the connection fails), so a test waits here rather than sleeping.
    pub async fn wait_for_egress(&self, count: usize) -> Vec<EgressRecord> {
        loop {
            let filed = self.inner.egress_filed.notified();
            let mut filed = std::pin::pin!(filed);
            filed.as_mut().enable();
            let egress = self.egress();
            if egress.len() >= count {
                return egress;
            }
            filed.await;
        }
    }

    /// Files one download's egress record and wakes [`wait_for_egress`](Self::wait_for_egress).
    pub(super) fn file_egress(&self, record: EgressRecord) {
        self.db().egress.push(record);
        self.inner.egress_filed.notify_waiters();
    }

    /// How many requests reached `operation_id` after fault injection (faulted requests are not
    /// counted; requests refused by auth or validation are). Storage requests count under
    /// `storage.put` and `storage.get`.
    pub fn calls(&self, operation_id: &str) -> u64 {
        self.db().calls.get(operation_id).copied().unwrap_or(0)
    }

    /// The data directory objects are stored in.
    pub fn data_dir(&self) -> &Path {
        self.inner.dir.root()
    }

    // ----- faults -----

    /// Queues `fault` for the next requests to `target`, behind faults already queued there.
    pub fn inject(&self, target: FaultTarget, fault: Fault) {
        self.faults().push(target, fault);
    }

    /// How many requests to `target` are still going to be faulted.
    pub fn pending_faults(&self, target: &FaultTarget) -> u32 {
        self.faults().pending(target)
    }

    /// Drops every queued fault.
    pub fn clear_faults(&self) {
        self.faults().clear();
    }
}

/// Adds `asset` to `item`, replacing an asset with the same key.
pub(super) fn upsert_asset(item: &mut ItemSnapshot, asset: AssetSnapshot) {
    match item.assets.iter_mut().find(|a| a.key == asset.key) {
        Some(existing) => *existing = asset,
        None => item.assets.push(asset),
    }
}

impl fmt::Debug for DevState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let db = self.db();
        f.debug_struct("DevState")
            .field("data_dir", &self.data_dir())
            .field("projects", &db.projects.len())
            .field("sessions", &db.sessions.iter().count())
            .field("reserved", &db.reserved)
            .field("used", &db.used)
            .finish_non_exhaustive()
    }
}
