//! Request-body validation that answers in FastAPI / pydantic v2's 422 shape.
//!
//! `parse_body` mirrors how FastAPI reads a JSON body; [`Fields`] reads one object field at a
//! time with pydantic's lax coercions (`"5"` → 5, `1.0` → 1, `"yes"` → true), collecting every
//! error in field order. Unknown fields are ignored. Every string field is bounded by
//! [`max_string_bytes`], the one table of length limits. Also holds the dev server's own value
//! checks (file names, content types), reported as pydantic `value_error`s.

use serde_json::{Map, Value, json};

/// One entry of the `detail` list of an `HTTPValidationError`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct FieldError {
    /// e.g. `["body", "project_id"]`.
    pub(super) loc: Vec<Value>,
    /// Human-readable message, pydantic's wording.
    pub(super) msg: String,
    /// pydantic's error type, e.g. `missing`.
    pub(super) kind: &'static str,
    /// The offending input.
    pub(super) input: Value,
    /// Extra context, e.g. `{"ge": 1}`.
    pub(super) ctx: Option<Value>,
}

impl FieldError {
    fn at(field: &str, kind: &'static str, msg: impl Into<String>, input: Value) -> FieldError {
        FieldError {
            loc: vec![json!("body"), json!(field)],
            msg: msg.into(),
            kind,
            input,
            ctx: None,
        }
    }

    fn with_ctx(mut self, ctx: Value) -> FieldError {
        self.ctx = Some(ctx);
        self
    }

    /// A pydantic `value_error` on `field`: the message is prefixed with `Value error, `.
    pub(super) fn value_error(field: &str, reason: &str, input: Value) -> FieldError {
        FieldError::at(
            field,
            "value_error",
            format!("Value error, {reason}"),
            input,
        )
        .with_ctx(json!({ "error": reason }))
    }

    /// `missing` at `field`, with the whole body as input (as pydantic reports it).
    pub(super) fn missing(field: &str, body: Value) -> FieldError {
        FieldError::at(field, "missing", "Field required", body)
    }

    /// `dict_type` for a body that must be an object (or null) but is not.
    pub(super) fn dict_type(input: Value) -> FieldError {
        FieldError {
            loc: vec![json!("body")],
            msg: "Input should be a valid dictionary".into(),
            kind: "dict_type",
            input,
            ctx: None,
        }
    }

    /// This error as a JSON object.
    pub(super) fn to_json(&self) -> Value {
        let mut out = json!({
            "type": self.kind,
            "loc": self.loc,
            "msg": self.msg,
            "input": self.input,
        });
        if let (Some(ctx), Some(map)) = (&self.ctx, out.as_object_mut()) {
            map.insert("ctx".into(), ctx.clone());
        }
        out
    }
}

/// Reads a request body as FastAPI does: empty → `None`; JSON (no content type, `application/json`
/// or `application/*+json`) is decoded; any other content type is kept as a string, which then
/// fails model validation.
pub(crate) fn parse_body(
    content_type: Option<&str>,
    bytes: &[u8],
) -> Result<Option<Value>, Vec<FieldError>> {
    if bytes.is_empty() {
        return Ok(None);
    }
    if !is_json_content_type(content_type) {
        return Ok(Some(Value::String(
            String::from_utf8_lossy(bytes).into_owned(),
        )));
    }
    serde_json::from_slice(bytes).map(Some).map_err(|err| {
        let text = String::from_utf8_lossy(bytes);
        let pos = if err.is_eof() {
            text.chars().count()
        } else {
            char_offset(&text, err.line(), err.column())
        };
        let reason = err.to_string();
        let reason = reason
            .split(" at line ")
            .next()
            .unwrap_or("JSON decode error");
        vec![FieldError {
            loc: vec![json!("body"), json!(pos)],
            msg: "JSON decode error".into(),
            kind: "json_invalid",
            input: json!({}),
            ctx: Some(json!({ "error": reason })),
        }]
    })
}

fn is_json_content_type(content_type: Option<&str>) -> bool {
    let Some(value) = content_type else {
        return true;
    };
    let essence = value
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    match essence.split_once('/') {
        Some(("application", sub)) => sub == "json" || sub.ends_with("+json"),
        _ => false,
    }
}

/// 0-based character offset of 1-based (line, byte column) as serde_json reports it.
fn char_offset(text: &str, line: usize, column: usize) -> usize {
    let line_start: usize = text
        .split_inclusive('\n')
        .take(line.saturating_sub(1))
        .map(str::len)
        .sum();
    let byte = (line_start + column.saturating_sub(1)).min(text.len());
    text.char_indices().take_while(|(i, _)| *i < byte).count()
}

/// The body as a JSON object, or pydantic's error for a model body that is not one.
pub(super) fn require_object(body: Option<Value>) -> Result<Map<String, Value>, Vec<FieldError>> {
    match body {
        Some(Value::Object(map)) => Ok(map),
        None | Some(Value::Null) => Err(vec![FieldError {
            loc: vec![json!("body")],
            msg: "Field required".into(),
            kind: "missing",
            input: Value::Null,
            ctx: None,
        }]),
        Some(other) => Err(vec![FieldError {
            loc: vec![json!("body")],
            msg: "Input should be a valid dictionary or object to extract fields from".into(),
            kind: "model_attributes_type",
            input: other,
            ctx: None,
        }]),
    }
}

/// Reads fields of one JSON object, collecting pydantic-style errors.
///
/// Accessors return a placeholder (`""`, `0`, `false`, `None`) when a field is invalid; call
/// [`Fields::finish`] before using any value.
pub(super) struct Fields<'a> {
    body: &'a Map<String, Value>,
    errors: Vec<FieldError>,
}

impl<'a> Fields<'a> {
    /// Starts reading `body`.
    pub(super) fn new(body: &'a Map<String, Value>) -> Fields<'a> {
        Fields {
            body,
            errors: Vec::new(),
        }
    }

    /// Records an extra error (e.g. from a value check).
    pub(super) fn push(&mut self, error: FieldError) {
        self.errors.push(error);
    }

    /// Whether `field` already has an error.
    pub(super) fn has_error(&self, field: &str) -> bool {
        self.errors
            .iter()
            .any(|e| e.loc.get(1) == Some(&json!(field)))
    }

    /// All collected errors, or `Ok` when there are none.
    pub(super) fn finish(self) -> Result<(), Vec<FieldError>> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(self.errors)
        }
    }

    fn get(&self, field: &str) -> Option<&'a Value> {
        self.body.get(field)
    }

    fn string(&mut self, field: &str, value: &'a Value) -> &'a str {
        match value {
            Value::String(text) if text.len() > max_string_bytes(field) => {
                let max = max_string_bytes(field);
                self.push(
                    FieldError::at(
                        field,
                        "string_too_long",
                        format!("String should have at most {max} bytes (UTF-8)"),
                        value.clone(),
                    )
                    .with_ctx(json!({ "max_length": max })),
                );
                ""
            }
            Value::String(text) => text,
            other => {
                self.push(FieldError::at(
                    field,
                    "string_type",
                    "Input should be a valid string",
                    other.clone(),
                ));
                ""
            }
        }
    }

    /// A required string.
    pub(super) fn required_str(&mut self, field: &str) -> &'a str {
        match self.get(field) {
            Some(value) => self.string(field, value),
            None => {
                self.push(FieldError::missing(field, Value::Object(self.body.clone())));
                ""
            }
        }
    }

    /// A string with a default (absent → default; `null` is an error, the field is not nullable).
    pub(super) fn str_or(&mut self, field: &str, default: &'a str) -> &'a str {
        match self.get(field) {
            Some(value) => self.string(field, value),
            None => default,
        }
    }

    /// A nullable string defaulting to `None`.
    pub(super) fn optional_str(&mut self, field: &str) -> Option<&'a str> {
        match self.get(field) {
            None | Some(Value::Null) => None,
            Some(value) => Some(self.string(field, value)),
        }
    }

    /// A string that must have at least `min` characters.
    pub(super) fn min_length(&mut self, field: &str, value: &str, min: usize) {
        if !self.has_error(field) && value.chars().count() < min {
            let unit = if min == 1 { "character" } else { "characters" };
            self.push(
                FieldError::at(
                    field,
                    "string_too_short",
                    format!("String should have at least {min} {unit}"),
                    json!(value),
                )
                .with_ctx(json!({ "min_length": min })),
            );
        }
    }

    /// A string that must match `pattern`: `matches` says whether `value` does. Reported
    /// as pydantic reports a pattern mismatch, unless `field` already has an error.
    pub(super) fn pattern(&mut self, field: &str, value: &str, pattern: &str, matches: bool) {
        if !self.has_error(field) && !matches {
            self.push(
                FieldError::at(
                    field,
                    "string_pattern_mismatch",
                    format!("String should match pattern '{pattern}'"),
                    json!(value),
                )
                .with_ctx(json!({ "pattern": pattern })),
            );
        }
    }

    fn int(&mut self, field: &str, value: &Value) -> Option<i128> {
        let error = |kind, msg: &str| FieldError::at(field, kind, msg, value.clone());
        let parsed = match value {
            Value::Bool(flag) => Ok(i128::from(*flag)),
            Value::Number(number) => {
                if let Some(int) = number.as_i64() {
                    Ok(i128::from(int))
                } else if let Some(int) = number.as_u64() {
                    Ok(i128::from(int))
                } else {
                    match number.as_f64() {
                        // `as` saturates, which is what a quota check wants for huge integers.
                        Some(float) if float.fract() == 0.0 => Ok(float as i128),
                        _ => Err(error(
                            "int_from_float",
                            "Input should be a valid integer, got a number with a fractional part",
                        )),
                    }
                }
            }
            Value::String(text) => parse_int_text(text.trim()).ok_or_else(|| {
                error(
                    "int_parsing",
                    "Input should be a valid integer, unable to parse string as an integer",
                )
            }),
            _ => Err(error("int_type", "Input should be a valid integer")),
        };
        parsed.map_err(|err| self.push(err)).ok()
    }

    /// An integer with a default and an optional lower bound (`ge`).
    pub(super) fn int_or(&mut self, field: &str, default: i128, ge: Option<i128>) -> i128 {
        let Some(value) = self.get(field) else {
            return default;
        };
        let Some(int) = self.int(field, value) else {
            return default;
        };
        if let Some(min) = ge.filter(|min| int < *min) {
            self.push(
                FieldError::at(
                    field,
                    "greater_than_equal",
                    format!("Input should be greater than or equal to {min}"),
                    value.clone(),
                )
                .with_ctx(json!({ "ge": min })),
            );
        }
        int
    }

    /// A nullable integer defaulting to `None`.
    pub(super) fn optional_int(&mut self, field: &str) -> Option<i128> {
        match self.get(field) {
            None | Some(Value::Null) => None,
            Some(value) => self.int(field, value),
        }
    }

    /// A boolean with a default.
    pub(super) fn bool_or(&mut self, field: &str, default: bool) -> bool {
        let Some(value) = self.get(field) else {
            return default;
        };
        let parsing = || {
            FieldError::at(
                field,
                "bool_parsing",
                "Input should be a valid boolean, unable to interpret input",
                value.clone(),
            )
        };
        let parsed = match value {
            Value::Bool(flag) => Ok(*flag),
            Value::Number(number) => match number.as_f64() {
                Some(0.0) => Ok(false),
                Some(1.0) => Ok(true),
                _ => Err(parsing()),
            },
            Value::String(text) => match text.to_ascii_lowercase().as_str() {
                "0" | "off" | "f" | "false" | "n" | "no" => Ok(false),
                "1" | "on" | "t" | "true" | "y" | "yes" => Ok(true),
                _ => Err(parsing()),
            },
            other => Err(FieldError::at(
                field,
                "bool_type",
                "Input should be a valid boolean",
                other.clone(),
            )),
        };
        parsed.map_err(|err| self.push(err)).unwrap_or(default)
    }
}

/// The most bytes of UTF-8 the string field `field` accepts; longer values are a 422
/// `string_too_long` on that field. Every operation's string fields are bounded here:
/// - `file_name`: 1,024, the object-key limit of S3 and GCS;
/// - ids and keys (`*_id`, `asset_key`, `mosaic_type`): 256, far above any real id;
/// - `error_message`: 4,096, room for a client's exception text;
/// - any other free text (`status`, `error_step`, `content_type`, `user_agent`, …): 1,024.
pub(super) fn max_string_bytes(field: &str) -> usize {
    match field {
        "error_message" => 4096,
        "file_name" => 1024,
        "asset_key" | "mosaic_type" => 256,
        id if id.ends_with("_id") => 256,
        _ => 1024,
    }
}

/// The longest prefix of `text` of at most `max` bytes that ends on a character boundary.
pub(super) fn truncate_utf8(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// An optionally signed run of digits (underscores between digits allowed, as in Python).
fn parse_int_text(text: &str) -> Option<i128> {
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let valid = !digits.is_empty()
        && !digits.starts_with('_')
        && !digits.ends_with('_')
        && !digits.contains("__")
        && digits.bytes().all(|b| b.is_ascii_digit() || b == b'_');
    if !valid {
        return None;
    }
    let magnitude = digits
        .bytes()
        .filter(u8::is_ascii_digit)
        .fold(0i128, |acc, b| {
            acc.saturating_mul(10).saturating_add(i128::from(b - b'0'))
        });
    Some(if negative { -magnitude } else { magnitude })
}

/// Why `name` is not a safe file name inside an upload folder, if it is not.
///
/// Refused: empty names, NUL and other control characters, backslashes, absolute paths (`/x`,
/// a drive root such as `C:/x`), and empty, `.` or `..` segments. Forward slashes between
/// normal segments are allowed (sub-folders inside the upload's folder), and so are colons
/// (`a:b`, `12:30.tif`), as in object keys. The length limit is [`max_string_bytes`].
pub(super) fn file_name_problem(name: &str) -> Option<&'static str> {
    if name.is_empty() {
        return Some("file_name must not be empty");
    }
    if name.contains('\0') {
        return Some("file_name must not contain NUL bytes");
    }
    if name.chars().any(char::is_control) {
        return Some("file_name must not contain control characters");
    }
    if name.contains('\\') {
        return Some("file_name must not contain backslashes; use '/' between folders");
    }
    let drive_root =
        matches!(name.as_bytes(), [drive, b':', b'/', ..] if drive.is_ascii_alphabetic());
    if name.starts_with('/') || drive_root {
        return Some("file_name must be relative to the upload folder, not an absolute path");
    }
    if name
        .split('/')
        .any(|segment| matches!(segment, "" | "." | ".."))
    {
        return Some(
            "file_name must stay inside its upload folder: empty, '.' and '..' segments are not allowed",
        );
    }
    None
}

/// Why `value` cannot be sent as a `Content-Type` header, if it cannot.
pub(super) fn content_type_problem(value: &str) -> Option<&'static str> {
    if value.trim().is_empty() {
        return Some("content_type must not be empty");
    }
    if !value
        .bytes()
        .all(|b| b == b'\t' || (b' '..=b'~').contains(&b))
    {
        return Some("content_type must be a valid HTTP header value (visible ASCII only)");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            _ => Map::new(),
        }
    }

    #[test]
    fn missing_and_mistyped_fields_use_pydantic_wording_in_field_order() {
        let body = obj(json!({"file_count": "x", "extra": 1}));
        let mut f = Fields::new(&body);
        f.required_str("project_id");
        f.int_or("file_count", 1, Some(1));
        let errors = f.finish().unwrap_err();
        assert_eq!(errors.len(), 2);
        assert_eq!(
            errors[0].to_json(),
            json!({"type": "missing", "loc": ["body", "project_id"], "msg": "Field required",
                   "input": {"file_count": "x", "extra": 1}})
        );
        assert_eq!(errors[1].kind, "int_parsing");
        assert_eq!(errors[1].loc, vec![json!("body"), json!("file_count")]);
    }

    #[test]
    fn lax_integer_coercions() {
        let body = obj(
            json!({"a": "12", "b": 3.0, "c": true, "d": 2.5, "e": null, "f": [1], "g": " 1_000 "}),
        );
        let mut f = Fields::new(&body);
        assert_eq!(f.int_or("a", 0, None), 12);
        assert_eq!(f.int_or("b", 0, None), 3);
        assert_eq!(f.int_or("c", 0, None), 1);
        assert_eq!(f.int_or("g", 0, None), 1000);
        assert_eq!(f.optional_int("e"), None);
        f.int_or("d", 0, None);
        f.int_or("e", 0, None);
        f.int_or("f", 0, None);
        let kinds: Vec<_> = f.finish().unwrap_err().iter().map(|e| e.kind).collect();
        assert_eq!(kinds, ["int_from_float", "int_type", "int_type"]);
    }

    #[test]
    fn minimum_is_reported_with_ctx() {
        let body = obj(json!({"file_count": 0}));
        let mut f = Fields::new(&body);
        f.int_or("file_count", 1, Some(1));
        let error = &f.finish().unwrap_err()[0];
        assert_eq!(
            error.to_json(),
            json!({"type": "greater_than_equal", "loc": ["body", "file_count"],
                   "msg": "Input should be greater than or equal to 1", "input": 0, "ctx": {"ge": 1}})
        );
    }

    #[test]
    fn huge_integers_saturate_instead_of_failing() {
        let body = obj(json!({"n": 1e30, "s": "99999999999999999999999999999999999999999999"}));
        let mut f = Fields::new(&body);
        assert!(f.int_or("n", 0, Some(0)) > i128::from(u64::MAX));
        assert_eq!(f.int_or("s", 0, Some(0)), i128::MAX);
        assert!(f.finish().is_ok());
    }

    #[test]
    fn strings_booleans_and_nullables() {
        let body = obj(
            json!({"s": 5, "n": null, "b1": "yes", "b2": 0, "b3": "maybe", "b4": [], "t": null}),
        );
        let mut f = Fields::new(&body);
        assert_eq!(f.optional_str("n"), None);
        assert!(f.bool_or("b1", false));
        assert!(!f.bool_or("b2", true));
        assert_eq!(f.str_or("absent", "dflt"), "dflt");
        f.optional_str("s");
        f.bool_or("b3", false);
        f.bool_or("b4", false);
        f.str_or("t", "x");
        let kinds: Vec<_> = f.finish().unwrap_err().iter().map(|e| e.kind).collect();
        assert_eq!(
            kinds,
            ["string_type", "bool_parsing", "bool_type", "string_type"]
        );
    }

    #[test]
    fn pattern_and_min_length() {
        let body = obj(json!({"t": 7}));
        let mut f = Fields::new(&body);
        f.pattern("m", "ftp", "^(cli)$", false);
        f.min_length("n", "", 1);
        f.pattern("ok", "cli", "^(cli)$", true);
        f.str_or("t", "x");
        f.pattern("t", "", "^(cli)$", false);
        let errors = f.finish().unwrap_err();
        assert_eq!(errors[0].msg, "String should match pattern '^(cli)$'");
        assert_eq!(errors[0].ctx, Some(json!({"pattern": "^(cli)$"})));
        assert_eq!(errors[1].msg, "String should have at least 1 character");
        let kinds: Vec<_> = errors.iter().map(|e| e.kind).collect();
        assert_eq!(
            kinds,
            ["string_pattern_mismatch", "string_too_short", "string_type"],
            "a field with an error gets no pattern error"
        );
    }

    #[test]
    fn body_parsing_follows_fastapi() {
        assert_eq!(parse_body(Some("application/json"), b""), Ok(None));
        assert_eq!(parse_body(None, b"{\"a\":1}"), Ok(Some(json!({"a": 1}))));
        assert_eq!(
            parse_body(Some("application/merge-patch+json; charset=utf-8"), b"[]"),
            Ok(Some(json!([])))
        );
        assert_eq!(parse_body(Some("text/plain"), b"{}"), Ok(Some(json!("{}"))));
        let err = parse_body(Some("application/json"), b"{\"a\": }")
            .unwrap_err()
            .remove(0);
        assert_eq!(
            (err.kind, err.loc.clone()),
            ("json_invalid", vec![json!("body"), json!(6)])
        );
        let eof = parse_body(None, b"{\"a\":").unwrap_err().remove(0);
        assert_eq!(eof.loc, vec![json!("body"), json!(5)]);
    }

    #[test]
    fn non_objects_fail_model_validation() {
        assert_eq!(require_object(None).unwrap_err()[0].kind, "missing");
        assert_eq!(
            require_object(Some(Value::Null)).unwrap_err()[0].loc,
            vec![json!("body")]
        );
        assert_eq!(
            require_object(Some(json!([1]))).unwrap_err()[0].kind,
            "model_attributes_type"
        );
        assert!(require_object(Some(json!({}))).is_ok());
    }

    #[test]
    fn file_names_that_escape_their_folder_are_refused() {
        for bad in [
            "",
            "..",
            "../x",
            "a/../b",
            "a/..",
            "/etc/passwd",
            "C:/evil",
            "c:/",
            "a\\b",
            "a\0b",
            "a\nb",
            "a//b",
            "./a",
            "a/",
        ] {
            assert!(
                file_name_problem(bad).is_some(),
                "{bad:?} should be refused"
            );
        }
        for good in [
            "scene.tif",
            "a/b/c.tif",
            "..hidden",
            "a..b",
            "harbour 2024 (v2).tif",
            "é.tif",
            "a:b",
            "C:evil",
            "C:",
            "dir/12:30.tif",
        ] {
            assert_eq!(file_name_problem(good), None, "{good:?} should be allowed");
        }
    }

    #[test]
    fn strings_over_their_fields_limit_are_too_long() {
        let long_name = "é".repeat(513);
        let body = obj(
            json!({"file_name": long_name, "project_id": "p".repeat(256),
                              "error_message": "m".repeat(4097)}),
        );
        let mut f = Fields::new(&body);
        assert_eq!(f.required_str("file_name"), "");
        assert_eq!(f.required_str("project_id").len(), 256);
        f.required_str("error_message");
        let errors = f.finish().unwrap_err();
        assert_eq!(errors.len(), 2);
        assert_eq!(
            errors[0].to_json(),
            json!({"type": "string_too_long", "loc": ["body", "file_name"],
                   "msg": "String should have at most 1024 bytes (UTF-8)",
                   "input": long_name, "ctx": {"max_length": 1024}})
        );
        assert_eq!(errors[1].ctx, Some(json!({"max_length": 4096})));
    }

    #[test]
    fn truncation_keeps_whole_characters() {
        assert_eq!(truncate_utf8("abc", 5), "abc");
        assert_eq!(truncate_utf8("abcdef", 3), "abc");
        assert_eq!(truncate_utf8("aé", 2), "a");
        assert_eq!(truncate_utf8("é", 0), "");
    }

    #[test]
    fn content_types_must_be_header_values() {
        assert_eq!(
            content_type_problem("image/tiff; application=geotiff"),
            None
        );
        assert!(content_type_problem("").is_some());
        assert!(content_type_problem("a\r\nb").is_some());
        assert!(content_type_problem("ü").is_some());
    }
}
