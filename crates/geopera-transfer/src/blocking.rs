//! The blocking twins (feature `blocking`): [`upload_file`], [`upload_files`],
//! [`download_asset`], [`download_clip`] and [`download_descriptor`] for a plain `fn main`,
//! taking a [`geopera::blocking::Geopera`] client.
//!
//! Each runs its async namesake to completion on the blocking client's own runtime
//! ([`Geopera::block_on`]), so the transfers share its connection pool with its calls.
//! Inside an async runtime each returns [`Error::BlockingInRuntime`] (operation
//! `storage.put` or `storage.get`) and touches nothing: await the async function there.
//!
//! ```no_run
//! use geopera_transfer::{DownloadOptions, UploadOptions, blocking};
//!
//! fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     let client = geopera::blocking::Geopera::from_env()?;
//!     let up = blocking::upload_file(&client, "prj_1", "harbour.tif", UploadOptions::default())?;
//!     let file = &up.files[0];
//!     let item_id = file.item_id.as_deref().ok_or("no item")?;
//!     blocking::download_asset(&client, item_id, &file.asset_key, "copy.tif", DownloadOptions::default())?;
//!     Ok(())
//! }
//! ```

use std::path::Path;

use geopera::Error;
use geopera::blocking::Geopera;
use geopera::models::Descriptor;

use crate::storage::{GET, PUT};
use crate::{Download, DownloadOptions, UploadOptions, UploadResult};

/// [`crate::upload_file`], blocking.
pub fn upload_file(
    client: &Geopera,
    project_id: &str,
    path: impl AsRef<Path>,
    options: UploadOptions,
) -> Result<UploadResult, Error> {
    client.block_on(
        PUT,
        crate::upload_file(client.as_async(), project_id, path, options),
    )
}

/// [`crate::upload_files`], blocking.
pub fn upload_files<P: AsRef<Path>>(
    client: &Geopera,
    project_id: &str,
    paths: impl IntoIterator<Item = P>,
    options: UploadOptions,
) -> Result<UploadResult, Error> {
    client.block_on(
        PUT,
        crate::upload_files(client.as_async(), project_id, paths, options),
    )
}

/// [`crate::download_asset`], blocking.
pub fn download_asset(
    client: &Geopera,
    item_id: &str,
    asset_id: &str,
    dest: impl AsRef<Path>,
    options: DownloadOptions,
) -> Result<Download, Error> {
    client.block_on(
        GET,
        crate::download_asset(client.as_async(), item_id, asset_id, dest, options),
    )
}

/// [`crate::download_clip`], blocking.
pub fn download_clip(
    client: &Geopera,
    job_id: &str,
    mosaic_type: &str,
    dest: impl AsRef<Path>,
    options: DownloadOptions,
) -> Result<Download, Error> {
    client.block_on(
        GET,
        crate::download_clip(client.as_async(), job_id, mosaic_type, dest, options),
    )
}

/// [`crate::download_descriptor`], blocking.
pub fn download_descriptor(
    client: &Geopera,
    descriptor: &Descriptor,
    dest: impl AsRef<Path>,
    options: DownloadOptions,
) -> Result<Download, Error> {
    client.block_on(
        GET,
        crate::download_descriptor(client.as_async(), descriptor, dest, options),
    )
}
