//! The request and response models, generated from `openapi.json` with the seed's defaults
//! applied by serde, plus short constructors for the common cases so a caller never spells
//! out every field.
//!
//! One convention for every constructor and setter: it takes the plain types a caller
//! holds (`impl Into<String>` for ids and names, `u64` for counts and byte sizes, `bool`)
//! and returns the model itself, never a `Result`. What the document allows is checked
//! where the value can break it: a JSON body that does not fit fails locally
//! ([`crate::Error::InvalidInput`] naming the field) and a constructed model is checked by
//! the server, as in Python (an empty `file_name` is a 422). A count below the document's
//! minimum is raised to it (`file_count(0)` is one file).
//!
//! ```
//! use geopera::models::{SignedUrlInput, UploadInitiate, UploadProgressInput};
//!
//! let initiate = UploadInitiate::new("prj_1").signed_url().file_count(2).total_bytes(1 << 20);
//! assert_eq!(initiate.transfer_method.as_str(), "signed_url");
//! assert_eq!(initiate.file_count.get(), 2);
//! let sign = SignedUrlInput::new("upl_1", "scene.tif").content_type("image/tiff");
//! assert_eq!(sign.content_type, "image/tiff");
//! let bytes: u64 = 131072;
//! let progress = UploadProgressInput::new("upl_1", "uploading", bytes);
//! assert_eq!(progress.bytes_uploaded, Some(131072));
//! ```

use std::fmt;
use std::num::NonZeroU64;

use serde::{Deserialize, Deserializer, Serialize};

pub use crate::completion::Completion;
pub use crate::generated::types::*;
pub use crate::signed_url::{Descriptor, SignedUrl, SignedUrlOutput};

/// The seed's name for the 422 body (openapi-python-client spells it `HTTPValidationError`;
/// Rust's naming convention makes it [`HttpValidationError`]).
pub type HTTPValidationError = HttpValidationError;

/// The `file_name` of [`SignedUrlInput`]: any string converts to it, so
/// [`SignedUrlInput::new`] cannot fail; decoding one from JSON refuses an empty name (the
/// document's `minLength: 1`), so a JSON body with `"file_name": ""` fails locally.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct FileName(String);

impl FileName {
    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<'de> Deserialize<'de> for FileName {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<FileName, D::Error> {
        let name = String::deserialize(deserializer)?;
        if name.is_empty() {
            return Err(serde::de::Error::custom(
                "must not be empty (the document's minLength is 1)",
            ));
        }
        Ok(FileName(name))
    }
}

impl From<String> for FileName {
    fn from(name: String) -> FileName {
        FileName(name)
    }
}

impl From<&str> for FileName {
    fn from(name: &str) -> FileName {
        FileName(name.to_owned())
    }
}

impl From<FileName> for String {
    fn from(name: FileName) -> String {
        name.0
    }
}

impl std::ops::Deref for FileName {
    type Target = String;
    fn deref(&self) -> &String {
        &self.0
    }
}

impl PartialEq<str> for FileName {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for FileName {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

impl fmt::Display for FileName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The seed's name for the body of `uploads.complete` (openapi-python-client calls the
/// object branch of the optional body `UploadsCompleteBodyType0`).
pub type UploadsCompleteBodyType0 = UploadsCompleteBody;

impl UploadInitiate {
    /// A session for `project_id` with every other field at its default
    /// (`transfer_method` `"browser"`, one file, zero bytes).
    pub fn new(project_id: impl Into<String>) -> UploadInitiate {
        UploadInitiate {
            project_id: project_id.into(),
            transfer_method: UploadInitiateTransferMethod::default(),
            file_count: NonZeroU64::MIN,
            total_bytes: 0,
            target_collection_id: None,
            target_item_id: None,
            asset_key: None,
            is_categorical: false,
        }
    }

    /// A session for `project_id` covering files of the given sizes: `transfer_method`
    /// `"signed_url"`, `file_count` the number of sizes (at least 1), `total_bytes` their sum.
    pub fn for_files(
        project_id: impl Into<String>,
        sizes: impl IntoIterator<Item = u64>,
    ) -> UploadInitiate {
        let (count, total) = sizes
            .into_iter()
            .fold((0u64, 0u64), |(n, t), s| (n + 1, t.saturating_add(s)));
        UploadInitiate::new(project_id)
            .signed_url()
            .file_count(count)
            .total_bytes(total)
    }

    /// `transfer_method: "signed_url"`, the value the seed tells SDK and server uploaders to
    /// use. (Built against a document whose pattern rejects it, the method is left as is.)
    pub fn signed_url(mut self) -> UploadInitiate {
        if let Ok(method) = "signed_url".parse() {
            self.transfer_method = method;
        }
        self
    }

    /// The number of files in the session (at least 1: `0` is taken as one file).
    pub fn file_count(mut self, count: u64) -> UploadInitiate {
        self.file_count = NonZeroU64::new(count).unwrap_or(NonZeroU64::MIN);
        self
    }

    /// The bytes to reserve, summed across every file.
    pub fn total_bytes(mut self, bytes: u64) -> UploadInitiate {
        self.total_bytes = bytes;
        self
    }

    /// Adds the upload to an existing item under `asset_key` instead of creating items.
    pub fn target_item(
        mut self,
        item_id: impl Into<String>,
        asset_key: impl Into<String>,
    ) -> UploadInitiate {
        self.target_item_id = Some(item_id.into());
        self.asset_key = Some(asset_key.into());
        self
    }

    /// Files the new items into a collection.
    pub fn target_collection(mut self, collection_id: impl Into<String>) -> UploadInitiate {
        self.target_collection_id = Some(collection_id.into());
        self
    }

    /// Marks the rasters as categorical (class) data.
    pub fn categorical(mut self, yes: bool) -> UploadInitiate {
        self.is_categorical = yes;
        self
    }
}

impl SignedUrlInput {
    /// Signs `file_name` in session `upload_id`, as `application/octet-stream`. (An empty
    /// file name is the server's 422, as in Python; in a JSON body it fails locally.)
    pub fn new(upload_id: impl Into<String>, file_name: impl Into<String>) -> SignedUrlInput {
        SignedUrlInput {
            upload_id: upload_id.into(),
            file_name: FileName::from(file_name.into()),
            content_type: "application/octet-stream".into(),
        }
    }

    /// The content type the PUT will send (it is part of the signature).
    pub fn content_type(mut self, content_type: impl Into<String>) -> SignedUrlInput {
        self.content_type = content_type.into();
        self
    }
}

impl UploadProgressInput {
    /// A progress report: cumulative `bytes_uploaded` with a free-form `status`. (The
    /// document's integer is signed; a count above `i64::MAX` is sent as `i64::MAX`.)
    pub fn new(
        upload_id: impl Into<String>,
        status: impl Into<String>,
        bytes_uploaded: u64,
    ) -> UploadProgressInput {
        UploadProgressInput {
            upload_id: upload_id.into(),
            status: Some(status.into()),
            bytes_uploaded: Some(i64::try_from(bytes_uploaded).unwrap_or(i64::MAX)),
        }
    }
}

impl UploadFailInput {
    /// Abandons session `upload_id`, releasing its reservation.
    pub fn new(upload_id: impl Into<String>, error_message: impl Into<String>) -> UploadFailInput {
        UploadFailInput {
            upload_id: upload_id.into(),
            error_message: error_message.into(),
            error_step: None,
        }
    }

    /// The step that failed, e.g. `"transfer"`, `"sign"`, `"complete"`.
    pub fn step(mut self, step: impl Into<String>) -> UploadFailInput {
        self.error_step = Some(step.into());
        self
    }
}

/// `{}`: the body `uploads.complete` sends when the caller gives none.
impl Default for UploadsCompleteBody {
    fn default() -> UploadsCompleteBody {
        UploadsCompleteBody(serde_json::Map::new())
    }
}

impl UploadsCompleteBody {
    /// `{"upload_id": upload_id}`, the body every completion should send.
    pub fn for_upload(upload_id: impl Into<String>) -> UploadsCompleteBody {
        let mut map = serde_json::Map::new();
        map.insert(
            "upload_id".into(),
            serde_json::Value::String(upload_id.into()),
        );
        UploadsCompleteBody::from(map)
    }
}

impl AssetDownloadInput {
    /// The asset `asset_id` of item `item_id`.
    pub fn new(item_id: impl Into<String>, asset_id: impl Into<String>) -> AssetDownloadInput {
        AssetDownloadInput {
            item_id: item_id.into(),
            asset_id: asset_id.into(),
        }
    }
}

impl ClipDownloadInput {
    /// The `mosaic_type` output of clip job `job_id`.
    pub fn new(job_id: impl Into<String>, mosaic_type: impl Into<String>) -> ClipDownloadInput {
        ClipDownloadInput {
            job_id: job_id.into(),
            mosaic_type: mosaic_type.into(),
            user_agent: None,
            requester_ip: None,
        }
    }

    /// Attributes the egress to a user agent and requester IP.
    pub fn attribute(
        mut self,
        user_agent: impl Into<String>,
        requester_ip: impl Into<String>,
    ) -> ClipDownloadInput {
        self.user_agent = Some(user_agent.into());
        self.requester_ip = Some(requester_ip.into());
        self
    }
}

impl ClipJobInput {
    /// Clip job `job_id`.
    pub fn new(job_id: impl Into<String>) -> ClipJobInput {
        ClipJobInput {
            job_id: job_id.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_the_seed() {
        let v = serde_json::to_value(UploadInitiate::new("p")).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"project_id": "p", "transfer_method": "browser", "file_count": 1, "total_bytes": 0, "is_categorical": false})
        );
        let parsed: UploadInitiate =
            serde_json::from_value(serde_json::json!({"project_id": "p"})).unwrap();
        assert_eq!(parsed, UploadInitiate::new("p"));
        let s: SignedUrlInput =
            serde_json::from_value(serde_json::json!({"upload_id": "u", "file_name": "f"}))
                .unwrap();
        assert_eq!(s.content_type, "application/octet-stream");
    }

    #[test]
    fn for_files_sums_and_counts() {
        let i = UploadInitiate::for_files("p", [10, 20, 30]);
        assert_eq!(
            (
                i.file_count.get(),
                i.total_bytes,
                i.transfer_method.as_str()
            ),
            (3, 60, "signed_url")
        );
        assert_eq!(UploadInitiate::for_files("p", []).file_count.get(), 1);
    }

    #[test]
    fn transfer_method_pattern_is_enforced() {
        assert!("signed_url".parse::<UploadInitiateTransferMethod>().is_ok());
        assert!(
            "carrier_pigeon"
                .parse::<UploadInitiateTransferMethod>()
                .is_err()
        );
        assert!(
            serde_json::from_value::<UploadInitiate>(
                serde_json::json!({"project_id": "p", "file_count": 0})
            )
            .is_err()
        );
    }

    #[test]
    fn unknown_fields_are_kept_where_allowed() {
        let out: UploadOutput =
            serde_json::from_value(serde_json::json!({"id": "u", "status": "initiated"})).unwrap();
        assert_eq!(out.id, "u");
        assert_eq!(serde_json::to_value(&out).unwrap()["status"], "initiated");
        let p: Problem = serde_json::from_value(
            serde_json::json!({"title": "T", "status": 402, "detail": "d", "balance": 3}),
        )
        .unwrap();
        assert_eq!(serde_json::to_value(&p).unwrap()["balance"], 3);
    }

    #[test]
    fn constructors_take_plain_values_and_json_still_checks() {
        let s = SignedUrlInput::new("u", "");
        assert_eq!(s.file_name, "");
        let e = crate::call::from_json::<SignedUrlInput>(
            serde_json::json!({"upload_id": "u", "file_name": ""}),
            "uploads.signed_url",
        )
        .unwrap_err();
        assert!(
            matches!(&e, crate::Error::InvalidInput { field: Some(f), .. } if f == "file_name"),
            "{e:?}"
        );
        assert_eq!(UploadInitiate::new("p").file_count(0).file_count.get(), 1);
        assert_eq!(UploadInitiate::new("p").file_count(3).file_count.get(), 3);
        let p = UploadProgressInput::new("u", "x", u64::MAX);
        assert_eq!(p.bytes_uploaded, Some(i64::MAX));
    }

    #[test]
    fn complete_body_carries_the_upload_id() {
        assert_eq!(
            serde_json::to_value(UploadsCompleteBody::for_upload("u")).unwrap(),
            serde_json::json!({"upload_id": "u"})
        );
    }
}
