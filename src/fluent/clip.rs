//! `client.clip().job().download(..)` and `.downloads(..)`: the clip-job download operations.

use crate::fluent::request::{IntoInput, Request};
use crate::models::{ClipDownloadInput, ClipJobInput};
use crate::{Geopera, ops};

/// The `clip.*` namespace of a [`Geopera`] client.
#[derive(Debug, Clone, Copy)]
pub struct Clip<'a> {
    pub(crate) geopera: &'a Geopera,
}

impl<'a> Clip<'a> {
    /// The `clip.job.*` namespace.
    pub fn job(self) -> ClipJob<'a> {
        ClipJob {
            geopera: self.geopera,
        }
    }
}

/// The `clip.job.*` namespace.
#[derive(Debug, Clone, Copy)]
pub struct ClipJob<'a> {
    geopera: &'a Geopera,
}

impl<'a> ClipJob<'a> {
    /// `clip.job.download`: resolves one mosaic output to a
    /// [`Descriptor`](crate::models::Descriptor) with a signed URL (read it with `url()`).
    pub fn download(
        self,
        body: impl IntoInput<ClipDownloadInput>,
    ) -> Request<'a, ops::ClipJobDownload> {
        Request::new(&self.geopera.client, body)
    }

    /// `clip.job.downloads`: lists every download a clip job offers, as a
    /// [`Descriptor`](crate::models::Descriptor) (decoded JSON that prints redacted).
    pub fn downloads(
        self,
        body: impl IntoInput<ClipJobInput>,
    ) -> Request<'a, ops::ClipJobDownloads> {
        Request::new(&self.geopera.client, body)
    }
}
