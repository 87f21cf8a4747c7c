//! `client.uploads()`: the five upload-session operations, and
//! [`Uploads::session`], the guard that pairs `initiate` with `complete` or `fail`.

use std::borrow::Cow;
use std::sync::Arc;

use crate::fluent::request::{IntoInput, Request};
use crate::fluent::session::UploadSession;
use crate::models::{
    SignedUrlInput, UploadFailInput, UploadInitiate, UploadOutput, UploadProgressInput,
    UploadsCompleteBody,
};
use crate::{Error, Geopera, ops};

/// `complete(())` sends `{}`, as the Python client does for `complete()` with no body.
impl IntoInput<UploadsCompleteBody> for () {
    fn into_input(self, _: &'static str) -> Result<UploadsCompleteBody, Error> {
        Ok(UploadsCompleteBody::default())
    }
}

/// `complete(upload_id)` sends `{"upload_id": upload_id}`, for every ordinary way to hold
/// the id: `&str`, `String`, `&String`, `Cow<str>`, `Box<str>`, `Arc<str>`, and the
/// [`UploadOutput`] that `initiate` returned (by value or by reference).
macro_rules! complete_with_id {
    ($($(#[$doc:meta])* $ty:ty => |$id:ident| $as_str:expr;)*) => {$(
        $(#[$doc])*
        impl IntoInput<UploadsCompleteBody> for $ty {
            fn into_input(self, _: &'static str) -> Result<UploadsCompleteBody, Error> {
                let $id = self;
                Ok(UploadsCompleteBody::for_upload($as_str))
            }
        }
    )*};
}

complete_with_id! {
    /// `complete("upl_1")`.
    &str => |id| id;
    /// `complete(upload_id)` with an owned `String`.
    String => |id| id;
    /// `complete(&upload_id)`.
    &String => |id| id.as_str();
    /// `complete(&&str)`, as a loop over ids gives.
    &&str => |id| *id;
    /// `complete(Cow::from(..))`.
    Cow<'_, str> => |id| id.into_owned();
    /// `complete(&Cow::from(..))`.
    &Cow<'_, str> => |id| id.as_ref();
    /// `complete(Box<str>)`.
    Box<str> => |id| String::from(id);
    /// `complete(Arc<str>)`.
    Arc<str> => |id| id.as_ref();
    /// `complete(&Arc<str>)`.
    &Arc<str> => |id| id.as_ref();
    /// `complete(session)` with the [`UploadOutput`] `initiate` returned.
    UploadOutput => |out| out.id;
    /// `complete(&session)` with the [`UploadOutput`] `initiate` returned.
    &UploadOutput => |out| out.id.as_str();
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

    /// `uploads.complete`: creates the items and returns a
    /// [`Completion`](crate::models::Completion): the decoded JSON
    /// (`{"id": ..., "item_ids": [...]}`, every key kept) with `id()`, `item_ids()` and the
    /// asset key rule. The body may be the model, JSON, an upload id held any ordinary way
    /// (`&str`, `String`, `&String`, `Cow<str>`, `Arc<str>`, ...), the [`UploadOutput`]
    /// that `initiate` returned, or `()` for `{}`.
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
