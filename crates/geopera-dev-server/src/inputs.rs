//! The operations' request bodies, read into the SDK's input models ([`FromBody`]).
//!
//! Each body is checked as the API's FastAPI validation checks it (pydantic's lax coercions,
//! every error in field order, a 422 in FastAPI's shape: see `validate.rs`), and only then
//! built into the SDK's model for the operation, so a handler sees a value of the type the
//! SDK sends. `uploads.complete` is the exception: the SDK's body for it is an open JSON
//! object ([`UploadsCompleteBody`](geopera::models::UploadsCompleteBody)), from which the
//! dev server reads its one required member into [`CompleteInput`].

use super::error::ApiError;
use super::validate::{
    FieldError, Fields, content_type_problem, file_name_problem, require_object,
};
use geopera::models::{
    AssetDownloadInput, ClipDownloadInput, ClipJobInput, SignedUrlInput, UploadFailInput,
    UploadInitiate, UploadInitiateTransferMethod, UploadProgressInput,
};
use serde_json::{Map, Value, json};
use std::num::NonZeroU64;

/// The pattern the document gives `transfer_method`, quoted in its 422s. The SDK's
/// [`UploadInitiateTransferMethod`] decides what matches (a test keeps the two in step).
const TRANSFER_PATTERN: &str = "^(browser|cli|cloud_transfer|signed_url)$";

/// A request body model the dev server can read from a parsed JSON body (`None` when the
/// request had no body), or the 422 (or other error) the API answers instead.
pub(crate) trait FromBody: Sized + Send + 'static {
    /// Validates `body` and builds the model.
    fn from_body(body: Option<Value>) -> Result<Self, ApiError>;
}

/// The body of `uploads.complete` as the dev server reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CompleteInput {
    /// The session to complete.
    pub(crate) upload_id: String,
}

/// A lax integer as the unsigned count it stands for: negatives are 0, huge values saturate.
fn to_u64(value: i128) -> u64 {
    u64::try_from(value.max(0)).unwrap_or(u64::MAX)
}

fn owned(value: Option<&str>) -> Option<String> {
    value.map(str::to_owned)
}

impl FromBody for UploadInitiate {
    fn from_body(body: Option<Value>) -> Result<UploadInitiate, ApiError> {
        let body = require_object(body)?;
        let mut f = Fields::new(&body);
        let project_id = f.required_str("project_id");
        let transfer_method = if body.contains_key("transfer_method") {
            let text = f.str_or("transfer_method", "");
            let parsed = UploadInitiateTransferMethod::try_from(text).ok();
            f.pattern("transfer_method", text, TRANSFER_PATTERN, parsed.is_some());
            parsed.unwrap_or_default()
        } else {
            UploadInitiateTransferMethod::default()
        };
        let file_count = to_u64(f.int_or("file_count", 1, Some(1)));
        let total_bytes = to_u64(f.int_or("total_bytes", 0, Some(0)));
        let target_collection_id = f.optional_str("target_collection_id");
        let target_item_id = f.optional_str("target_item_id");
        let asset_key = f.optional_str("asset_key");
        let is_categorical = f.bool_or("is_categorical", false);
        f.finish()?;
        Ok(UploadInitiate {
            project_id: project_id.to_owned(),
            transfer_method,
            // At least 1 once validation passed.
            file_count: NonZeroU64::new(file_count).unwrap_or(NonZeroU64::MIN),
            total_bytes,
            target_collection_id: owned(target_collection_id),
            target_item_id: owned(target_item_id),
            asset_key: owned(asset_key),
            is_categorical,
        })
    }
}

impl FromBody for SignedUrlInput {
    fn from_body(body: Option<Value>) -> Result<SignedUrlInput, ApiError> {
        let body = require_object(body)?;
        let mut f = Fields::new(&body);
        let upload_id = f.required_str("upload_id");
        let file_name = f.required_str("file_name");
        f.min_length("file_name", file_name, 1);
        let content_type = f.str_or("content_type", "application/octet-stream");
        if let Some(reason) = file_name_problem(file_name).filter(|_| !f.has_error("file_name")) {
            f.push(FieldError::value_error(
                "file_name",
                reason,
                json!(file_name),
            ));
        }
        if let Some(reason) =
            content_type_problem(content_type).filter(|_| !f.has_error("content_type"))
        {
            f.push(FieldError::value_error(
                "content_type",
                reason,
                json!(content_type),
            ));
        }
        f.finish()?;
        Ok(SignedUrlInput {
            upload_id: upload_id.to_owned(),
            file_name: file_name.into(),
            content_type: content_type.to_owned(),
        })
    }
}

impl FromBody for UploadProgressInput {
    fn from_body(body: Option<Value>) -> Result<UploadProgressInput, ApiError> {
        let body = require_object(body)?;
        let mut f = Fields::new(&body);
        let upload_id = f.required_str("upload_id");
        let status = f.optional_str("status");
        let bytes_uploaded = f.optional_int("bytes_uploaded");
        f.finish()?;
        Ok(UploadProgressInput {
            upload_id: upload_id.to_owned(),
            status: owned(status),
            // Out-of-range reports saturate: the count is informational.
            bytes_uploaded: bytes_uploaded.map(|bytes| {
                i64::try_from(bytes).unwrap_or(if bytes < 0 { i64::MIN } else { i64::MAX })
            }),
        })
    }
}

impl FromBody for CompleteInput {
    fn from_body(body: Option<Value>) -> Result<CompleteInput, ApiError> {
        // The body is optional in the document: none (or null) is an empty object.
        let body = match body {
            None | Some(Value::Null) => Map::new(),
            Some(Value::Object(map)) => map,
            Some(other) => return Err(FieldError::dict_type(other).into()),
        };
        let mut f = Fields::new(&body);
        let upload_id = f.required_str("upload_id");
        f.finish()?;
        Ok(CompleteInput {
            upload_id: upload_id.to_owned(),
        })
    }
}

impl FromBody for UploadFailInput {
    fn from_body(body: Option<Value>) -> Result<UploadFailInput, ApiError> {
        let body = require_object(body)?;
        let mut f = Fields::new(&body);
        let upload_id = f.required_str("upload_id");
        let error_message = f.required_str("error_message");
        let error_step = f.optional_str("error_step");
        f.finish()?;
        Ok(UploadFailInput {
            upload_id: upload_id.to_owned(),
            error_message: error_message.to_owned(),
            error_step: owned(error_step),
        })
    }
}

impl FromBody for AssetDownloadInput {
    fn from_body(body: Option<Value>) -> Result<AssetDownloadInput, ApiError> {
        let body = require_object(body)?;
        let mut f = Fields::new(&body);
        let item_id = f.required_str("item_id");
        let asset_id = f.required_str("asset_id");
        f.finish()?;
        Ok(AssetDownloadInput {
            item_id: item_id.to_owned(),
            asset_id: asset_id.to_owned(),
        })
    }
}

impl FromBody for ClipJobInput {
    fn from_body(body: Option<Value>) -> Result<ClipJobInput, ApiError> {
        let body = require_object(body)?;
        let mut f = Fields::new(&body);
        let job_id = f.required_str("job_id");
        f.finish()?;
        Ok(ClipJobInput {
            job_id: job_id.to_owned(),
        })
    }
}

impl FromBody for ClipDownloadInput {
    fn from_body(body: Option<Value>) -> Result<ClipDownloadInput, ApiError> {
        let body = require_object(body)?;
        let mut f = Fields::new(&body);
        let job_id = f.required_str("job_id");
        let mosaic_type = f.required_str("mosaic_type");
        let user_agent = f.optional_str("user_agent");
        let requester_ip = f.optional_str("requester_ip");
        f.finish()?;
        Ok(ClipDownloadInput {
            job_id: job_id.to_owned(),
            mosaic_type: mosaic_type.to_owned(),
            user_agent: owned(user_agent),
            requester_ip: owned(requester_ip),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use geopera::models::UploadsCompleteBody;
    use geopera::ops::InputModel;
    use std::fmt::Debug;

    /// What the SDK sends for `model` reads back as the same model.
    fn round_trip<T: FromBody + InputModel + PartialEq + Debug>(model: T) {
        let json = serde_json::to_value(&model).expect("an SDK model serializes");
        match T::from_body(Some(json.clone())) {
            Ok(read) => assert_eq!(read, model, "{json}"),
            Err(err) => panic!("{json}: {err:?}"),
        }
    }

    #[test]
    fn every_input_the_sdk_sends_reads_back_as_the_same_model() {
        round_trip(UploadInitiate::new("prj_1"));
        round_trip(
            UploadInitiate::for_files("prj_1", [3, 4])
                .target_item("itm_1", "visual")
                .target_collection("col_1")
                .categorical(true),
        );
        round_trip(SignedUrlInput::new("upl_1", "a/b.tif"));
        round_trip(SignedUrlInput::new("upl_1", "a.tif").content_type("image/tiff"));
        round_trip(UploadProgressInput::new("upl_1", "uploading", 7_u64));
        round_trip(UploadFailInput::new("upl_1", "disk full"));
        round_trip(UploadFailInput::new("upl_1", "disk full").step("transfer"));
        round_trip(AssetDownloadInput::new("itm_1", "visual"));
        round_trip(ClipJobInput::new("clip_1"));
        round_trip(ClipDownloadInput::new("clip_1", "visual"));
        round_trip(ClipDownloadInput::new("clip_1", "visual").attribute("agent/1", "192.0.2.1"));
        let complete = serde_json::to_value(UploadsCompleteBody::for_upload("upl_1"))
            .expect("an SDK model serializes");
        assert_eq!(
            CompleteInput::from_body(Some(complete)),
            Ok(CompleteInput {
                upload_id: "upl_1".into()
            })
        );
    }

    #[test]
    fn lax_values_are_coerced_into_the_models_types() {
        let read = UploadInitiate::from_body(Some(json!({
            "project_id": "p", "file_count": "2", "total_bytes": 1e30,
            "is_categorical": "yes", "transfer_method": "cli"
        })))
        .expect("valid after coercion");
        assert_eq!(read.file_count.get(), 2);
        assert_eq!(read.total_bytes, u64::MAX);
        assert!(read.is_categorical);
        assert_eq!(read.transfer_method.as_str(), "cli");
        let progress = UploadProgressInput::from_body(Some(
            json!({"upload_id": "u", "bytes_uploaded": -1e30}),
        ))
        .expect("valid");
        assert_eq!(progress.bytes_uploaded, Some(i64::MIN));
    }

    #[test]
    fn a_transfer_method_outside_the_sdks_enum_is_a_pattern_mismatch() {
        let Err(ApiError::Validation(errors)) = UploadInitiate::from_body(Some(json!({
            "project_id": "p", "transfer_method": "ftp"
        }))) else {
            panic!("ftp is refused")
        };
        assert_eq!(errors.len(), 1);
        assert_eq!(
            errors[0].to_json(),
            json!({"type": "string_pattern_mismatch", "loc": ["body", "transfer_method"],
                   "msg": format!("String should match pattern '{TRANSFER_PATTERN}'"),
                   "input": "ftp", "ctx": {"pattern": TRANSFER_PATTERN}})
        );
        // The pattern quoted is the one the SDK's type enforces.
        let sdk = UploadInitiateTransferMethod::try_from("ftp").expect_err("refused");
        assert!(sdk.to_string().contains(TRANSFER_PATTERN), "{sdk}");
        // A non-string gets its type error only.
        let Err(ApiError::Validation(errors)) = UploadInitiate::from_body(Some(json!({
            "project_id": "p", "transfer_method": 5
        }))) else {
            panic!("5 is refused")
        };
        let kinds: Vec<_> = errors.iter().map(|e| e.kind).collect();
        assert_eq!(kinds, ["string_type"]);
    }

    #[test]
    fn complete_takes_no_body_but_needs_an_upload_id() {
        for body in [None, Some(Value::Null), Some(json!({}))] {
            let Err(ApiError::Validation(errors)) = CompleteInput::from_body(body.clone()) else {
                panic!("{body:?} has no upload_id")
            };
            assert_eq!(errors[0].kind, "missing", "{body:?}");
        }
        let Err(ApiError::Validation(errors)) = CompleteInput::from_body(Some(json!([1]))) else {
            panic!("a list is refused")
        };
        assert_eq!(errors[0].kind, "dict_type");
    }
}
