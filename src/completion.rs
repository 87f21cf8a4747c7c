//! [`Completion`]: what `uploads.complete` returns. The seed documents it as a dict,
//! `{"id": ..., "item_ids": [...]}`, and servers add keys of their own (`status`, `bytes`):
//! it stays the decoded JSON value, with typed accessors for the documented keys.
//! `build.rs` puts it in place of the plain JSON value progenitor would use, for the
//! operation `openapi.json` marks `x-upload-completion`; Python still sees plain JSON.

use std::fmt;
use std::ops::Deref;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The outcome of `uploads.complete`: the decoded JSON object, every key kept, with typed
/// accessors for the keys the seed documents.
///
/// | Python | Rust |
/// |---|---|
/// | `result["id"]` | [`Completion::id`] → `Option<&str>` |
/// | `result["item_ids"]` | [`Completion::item_ids`] → `Vec<&str>` |
/// | `result["status"]` (any other key) | `result["status"]` (it derefs to the JSON value) |
/// | `print(result)` | `println!("{result}")` |
///
/// A new upload creates one item per file, and the file's asset on that item is keyed by
/// the file's stem: [`Completion::asset_key`] (`"harbour_2024.tif"` → `"harbour_2024"`).
/// Only when `uploads.initiate` set `asset_key` (with `target_item_id` for an existing
/// item) is the key the one given there.
///
/// ```
/// use geopera::models::Completion;
///
/// let result = Completion::from(serde_json::json!({
///     "id": "upl_1", "item_ids": ["itm_1"], "status": "completed",
/// }));
/// assert_eq!(result.id(), Some("upl_1"));
/// assert_eq!(result.item_ids(), ["itm_1"]);
/// assert_eq!(result["status"], "completed"); // every other key survives
/// assert_eq!(Completion::asset_key("harbour_2024.tif"), "harbour_2024");
/// assert_eq!(result.to_string(), r#"{"id":"upl_1","item_ids":["itm_1"],"status":"completed"}"#);
/// ```
#[derive(Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Completion(Value);

impl Completion {
    /// Wraps a decoded completion.
    pub fn new(value: Value) -> Completion {
        Completion(value)
    }

    /// The upload session id (`id`), when the server sent one.
    pub fn id(&self) -> Option<&str> {
        self.0.get("id").and_then(Value::as_str)
    }

    /// The ids of the items the completion created or changed (`item_ids`), in the
    /// server's order; empty when it sent none (a no-op completion, or a repeat whose
    /// first answer was lost: see [`crate::fluent::Uploads::complete`]).
    pub fn item_ids(&self) -> Vec<&str> {
        self.0
            .get("item_ids")
            .and_then(Value::as_array)
            .map(|ids| ids.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default()
    }

    /// The asset key a file of a new upload gets on its item: the file name without its
    /// folders and its last extension (`"a/scene.b04.tif"` → `"scene.b04"`; a name with
    /// no extension, or a dot file, is kept whole). Use it with `items.asset.download`'s
    /// `asset_id`.
    pub fn asset_key(file_name: &str) -> &str {
        let base = file_name.rsplit('/').next().unwrap_or(file_name);
        match base.rsplit_once('.') {
            Some((stem, _)) if !stem.is_empty() => stem,
            _ => base,
        }
    }

    /// The decoded JSON value, every key included.
    pub fn as_json(&self) -> &Value {
        &self.0
    }

    /// Unwraps the decoded JSON value.
    pub fn into_json(self) -> Value {
        self.0
    }
}

/// Reads like the JSON value it is: `result["item_ids"]`, `result.get("status")`.
impl Deref for Completion {
    type Target = Value;
    fn deref(&self) -> &Value {
        &self.0
    }
}

impl From<Value> for Completion {
    fn from(value: Value) -> Completion {
        Completion(value)
    }
}

impl From<Completion> for Value {
    fn from(completion: Completion) -> Value {
        completion.0
    }
}

impl PartialEq<Value> for Completion {
    fn eq(&self, other: &Value) -> bool {
        &self.0 == other
    }
}

/// The JSON, as Python's `print(result)` shows the dict; `{:#}` pretty-prints it.
impl fmt::Display for Completion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

/// `Completion(<the JSON>)`.
impl fmt::Debug for Completion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if f.alternate() {
            write!(f, "Completion({:#})", self.0)
        } else {
            write!(f, "Completion({})", self.0)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn documented_keys_are_typed_and_extra_keys_survive() {
        let raw = json!({"id": "u", "item_ids": ["a", "b"], "status": "completed", "bytes": 3});
        let c: Completion = serde_json::from_value(raw.clone()).unwrap();
        assert_eq!((c.id(), c.item_ids()), (Some("u"), vec!["a", "b"]));
        assert_eq!(c["bytes"], 3);
        assert_eq!(serde_json::to_value(&c).unwrap(), raw);
        assert_eq!(c, raw);
        assert_eq!(c.clone().into_json(), raw);
        assert_eq!(c.as_json(), &raw);
    }

    #[test]
    fn missing_keys_are_none_and_empty() {
        let c = Completion::from(json!({}));
        assert_eq!(c.id(), None);
        assert!(c.item_ids().is_empty());
        let odd = Completion::from(json!({"id": 7, "item_ids": "x"}));
        assert_eq!((odd.id(), odd.item_ids().len()), (None, 0));
    }

    #[test]
    fn asset_keys_are_file_stems() {
        assert_eq!(Completion::asset_key("harbour_2024.tif"), "harbour_2024");
        assert_eq!(Completion::asset_key("a/scene.b04.tif"), "scene.b04");
        assert_eq!(Completion::asset_key(".hidden"), ".hidden");
        assert_eq!(Completion::asset_key("noext"), "noext");
    }
}
