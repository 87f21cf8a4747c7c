//! [`UploadSession`]: an initiated upload that is always either completed or failed.
//!
//! The seed's rule "always pair initiate with fail" is kept even when the caller forgets:
//! a session dropped while still open (an early `?`, a panic, a cancelled task) calls
//! `uploads.fail` with `error_step` `"abandoned"` in the background. That release is best
//! effort (it needs the process to live long enough);
//! [`Geopera::settle_abandoned`](crate::Geopera::settle_abandoned) waits for every such
//! release, e.g. before shutdown or in a test.

use crate::models::{
    Completion, SignedUrlInput, SignedUrlOutput, UploadFailInput, UploadOutput,
    UploadProgressInput, UploadsCompleteBody,
};
use crate::{Error, Geopera};

/// The `error_step` sent when an open session is dropped.
pub const ABANDONED_STEP: &str = "abandoned";

/// An open upload session, from [`Uploads::session`](crate::fluent::Uploads::session).
///
/// It is always either completed or failed: dropped while still open (an early `?`, a
/// panic, a cancelled task), it calls `uploads.fail` with `error_step` `"abandoned"` in the
/// background. That release is best effort (the process must live long enough);
/// [`Geopera::settle_abandoned`](crate::Geopera::settle_abandoned) waits for every such
/// release, e.g. before shutdown or in a test.
#[derive(Debug)]
#[must_use = "a dropped session is failed in the background; call complete() or fail()"]
pub struct UploadSession {
    geopera: Geopera,
    id: String,
    open: bool,
}

impl UploadSession {
    pub(crate) fn new(geopera: Geopera, id: String) -> UploadSession {
        UploadSession {
            geopera,
            id,
            open: true,
        }
    }

    /// The upload id every step carries.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Signs one file of the session for a PUT with `content_type`.
    pub async fn sign(
        &self,
        file_name: &str,
        content_type: &str,
    ) -> Result<SignedUrlOutput, Error> {
        let input = SignedUrlInput::new(&self.id, file_name).content_type(content_type);
        self.geopera.uploads().signed_url(input).await
    }

    /// Reports progress (`bytes_uploaded` is cumulative).
    pub async fn progress(&self, status: &str, bytes_uploaded: u64) -> Result<UploadOutput, Error> {
        self.geopera
            .uploads()
            .progress(UploadProgressInput::new(&self.id, status, bytes_uploaded))
            .await
    }

    /// Completes the session, returning its [`Completion`] (`id()`, `item_ids()`, every
    /// key of the decoded JSON). If the
    /// completion fails, the session is failed with `error_step` `"complete"` (releasing
    /// the reservation) and the completion's error is returned.
    ///
    /// The completion is retried like any idempotent call. If its first answer was lost
    /// after the server completed the session, a server that does not replay its first
    /// result answers the repeat with `item_ids: []`: then the items exist, but this
    /// returns no ids for them, and nothing here tells that apart from a first answer.
    /// Where that difference matters, drive the session with the plain calls instead of
    /// this guard (a guard dropped open fails its session) and complete it with
    /// [`Uploads::complete`](crate::fluent::Uploads::complete)`(id).detailed()`, whose
    /// [`Response::attempts`](crate::Response::attempts) says whether it was repeated.
    pub async fn complete(mut self) -> Result<Completion, Error> {
        self.open = false;
        match self
            .geopera
            .uploads()
            .complete(UploadsCompleteBody::for_upload(&self.id))
            .await
        {
            Ok(v) => Ok(v),
            Err(e) => {
                let fail = UploadFailInput::new(&self.id, e.to_string()).step("complete");
                if let Err(release) = self.geopera.uploads().fail(fail).await {
                    tracing::warn!(operation = "uploads.fail", error = %release, "releasing a session whose completion failed");
                }
                Err(e)
            }
        }
    }

    /// Fails the session with a message and the step that failed, releasing its reservation.
    pub async fn fail(
        mut self,
        error_message: &str,
        error_step: &str,
    ) -> Result<UploadOutput, Error> {
        self.open = false;
        self.geopera
            .uploads()
            .fail(UploadFailInput::new(&self.id, error_message).step(error_step))
            .await
    }

    /// Whether the session is still open (neither completed nor failed through the guard).
    pub fn is_open(&self) -> bool {
        self.open
    }
}

impl Drop for UploadSession {
    fn drop(&mut self) {
        if !self.open {
            return;
        }
        let message = if std::thread::panicking() {
            "the upload task panicked"
        } else {
            "the upload session was dropped before complete or fail"
        };
        tracing::warn!(upload_id = %self.id, "{message}; releasing its reservation with uploads.fail");
        let body = UploadFailInput::new(&self.id, message).step(ABANDONED_STEP);
        self.geopera.release_in_background(body);
    }
}
