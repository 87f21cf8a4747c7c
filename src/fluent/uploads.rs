//! `client.uploads()`: the five upload-session operations, and
//! [`Uploads::session`], the guard that pairs `initiate` with `complete` or `fail`.

use crate::fluent::request::{IntoInput, Request};
use crate::fluent::session::UploadSession;
use crate::models::{
    SignedUrlInput, UploadFailInput, UploadInitiate, UploadProgressInput, UploadsCompleteBody,
};
use crate::{Error, Geopera, ops};

/// `complete(())` sends `{}`, as the Python client does for `complete()` with no body.
impl IntoInput<UploadsCompleteBody> for () {
    fn into_input(self, _: &'static str) -> Result<UploadsCompleteBody, Error> {
        Ok(UploadsCompleteBody::default())
    }
}

/// `complete(upload_id)` sends `{"upload_id": upload_id}`.
impl IntoInput<UploadsCompleteBody> for &str {
    fn into_input(self, _: &'static str) -> Result<UploadsCompleteBody, Error> {
        Ok(UploadsCompleteBody::for_upload(self))
    }
}

/// The `uploads.*` namespace of a [`Geopera`] client.
#[derive(Debug, Clone, Copy)]
pub struct Uploads<'a> {
    pub(crate) geopera: &'a Geopera,
}

impl<'a> Uploads<'a> {
    /// `uploads.initiate`: reserves `total_bytes` of quota and returns the session id.
    pub fn initiate(
        self,
        body: impl IntoInput<UploadInitiate>,
    ) -> Request<'a, ops::UploadsInitiate> {
        Request::new(&self.geopera.client, body)
    }

    /// `uploads.signed_url`: a short-lived URL to PUT one file's bytes to.
    pub fn signed_url(
        self,
        body: impl IntoInput<SignedUrlInput>,
    ) -> Request<'a, ops::UploadsSignedUrl> {
        Request::new(&self.geopera.client, body)
    }

    /// `uploads.progress`: records transfer progress (informational only).
    pub fn progress(
        self,
        body: impl IntoInput<UploadProgressInput>,
    ) -> Request<'a, ops::UploadsProgress> {
        Request::new(&self.geopera.client, body)
    }

    /// `uploads.complete`: creates the items and returns decoded JSON
    /// (`{"id": ..., "item_ids": [...]}`). The body may be the model, JSON, an upload id
    /// (`&str`), or `()` for `{}`.
    ///
    /// `complete` is idempotent, so the retry policy repeats it after a 503, a timeout or
    /// a dropped connection. If the first answer was lost *after* the server completed the
    /// session, the repeat meets a session that is already complete, and a server that
    /// does not replay its first result answers it with `item_ids: []`: the items exist
    /// but their ids are not in this answer. `.detailed()` shows it:
    /// [`Response::attempts`](crate::Response::attempts) above 1 with an empty `item_ids`
    /// means the ids were in the lost answer, not that no item was created.
    pub fn complete(
        self,
        body: impl IntoInput<UploadsCompleteBody>,
    ) -> Request<'a, ops::UploadsComplete> {
        Request::new(&self.geopera.client, body)
    }

    /// `uploads.fail`: abandons the session and releases its reservation.
    pub fn fail(self, body: impl IntoInput<UploadFailInput>) -> Request<'a, ops::UploadsFail> {
        Request::new(&self.geopera.client, body)
    }

    /// Initiates a session and returns a guard that signs, reports progress, completes or
    /// fails it. Dropped without `complete` or `fail` (an early `?`, a panic, a cancelled
    /// task), the guard calls `uploads.fail` with `error_step` `"abandoned"` in the
    /// background, so the reservation never lingers.
    pub async fn session(
        self,
        body: impl IntoInput<UploadInitiate>,
    ) -> Result<UploadSession, Error> {
        let output = self.initiate(body).await?;
        Ok(UploadSession::new(self.geopera.clone(), output.id))
    }
}
