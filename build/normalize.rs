//! Pass 1 of code generation: pure, spec-to-spec rewrites that turn the live API's
//! OpenAPI 3.1 (FastAPI dialect) into the OpenAPI 3.0 shape progenitor reads.
//!
//! Each rewrite is a small named function over `serde_json::Value`, unit-tested below.
//! Schema rewrites visit schema objects only (never the keys of a `properties` map or the
//! inside of a `default`), so a property called `type` or `const` survives untouched.
//! A shape that no rewrite handles fails with a [`NormalizeError`] naming the operation and
//! the JSON pointer, instead of a progenitor panic later on.

use serde_json::{Map, Value, json};
use std::fmt;

/// Name of the component schema that every operation's error responses are folded into.
/// Operation extension recording that the request body may be omitted (we send `{}`).
pub const OPTIONAL_BODY_EXT: &str = "x-geopera-optional-body";
/// Operation extension of `openapi.json` marking a success body that is a download
/// descriptor: JSON of any shape that carries signed URLs.
pub const DESCRIPTOR_EXT: &str = "x-download-descriptor";
/// Name of the component the success body of every operation marked [`DESCRIPTOR_EXT`]
/// refers to; `build/generate.rs` replaces its type with one whose `Debug` hides the URLs.
pub const DESCRIPTOR: &str = "Descriptor";
/// Operation extension of `openapi.json` marking the success body of `uploads.complete`:
/// plain JSON whose documented keys (`id`, `item_ids`) get typed accessors in Rust.
pub const COMPLETION_EXT: &str = "x-upload-completion";
/// Name of the component the success body of every operation marked [`COMPLETION_EXT`]
/// refers to; `build/generate.rs` replaces its type with a JSON newtype with accessors.
pub const COMPLETION: &str = "Completion";

/// A shape of the input document the normaliser cannot turn into something progenitor reads.
#[derive(Debug, Clone, PartialEq)]
pub struct NormalizeError {
    /// The operation id the shape belongs to, when it is inside an operation.
    pub operation: Option<String>,
    /// RFC 6901 pointer to the offending value.
    pub pointer: String,
    /// What is wrong, and what would fix it.
    pub message: String,
}

impl fmt::Display for NormalizeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.operation {
            Some(op) => write!(f, "operation `{op}` at {}: {}", self.pointer, self.message),
            None => write!(f, "at {}: {}", self.pointer, self.message),
        }
    }
}

type Result<T = ()> = std::result::Result<T, NormalizeError>;

fn err(operation: Option<&str>, pointer: &str, message: impl Into<String>) -> NormalizeError {
    NormalizeError {
        operation: operation.map(str::to_owned),
        pointer: pointer.to_owned(),
        message: message.into(),
    }
}

/// Escapes one JSON pointer segment (RFC 6901).
pub fn escape(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

/// Runs every rewrite in order. The result declares OpenAPI 3.0.3.
pub fn normalize(mut doc: Value) -> Result<Value> {
    check_version(&doc)?;
    reject_unsupported(&doc)?;
    for_each_schema(&mut doc, &mut |s, _| {
        type_arrays(s);
        nullable_any_of(s);
        const_to_enum(s);
        examples_to_example(s);
        exclusive_bounds(s);
        prefix_items(s);
        additional_properties_true(s);
        Ok(())
    })?;
    drop_inline_titles(&mut doc);
    problem_json_as_json(&mut doc);
    check_error_responses(&mut doc)?;
    optional_request_bodies(&mut doc)?;
    name_inline_bodies(&mut doc)?;
    seed_marks(&mut doc);
    download_descriptors(&mut doc)?;
    upload_completions(&mut doc)?;
    name_replaced_properties(&mut doc);
    non_nullable_parameters(&mut doc);
    check_single_success(&doc)?;
    doc["openapi"] = json!("3.0.3");
    Ok(doc)
}

/// Accepts 3.0.x and 3.1.x documents; anything else is named in the error.
pub fn check_version(doc: &Value) -> Result {
    match doc.get("openapi").and_then(Value::as_str) {
        Some(v) if v.starts_with("3.0.") || v.starts_with("3.1.") => Ok(()),
        Some(v) => Err(err(
            None,
            "/openapi",
            format!("unsupported OpenAPI version {v}; expected 3.0.x or 3.1.x"),
        )),
        None => Err(err(None, "/openapi", "missing `openapi` version string")),
    }
}

/// Keywords with no OpenAPI 3.0 equivalent that would silently change meaning if dropped.
const UNSUPPORTED: &[&str] = &[
    "if",
    "then",
    "else",
    "dependentSchemas",
    "unevaluatedProperties",
    "unevaluatedItems",
    "$dynamicRef",
];

/// Fails on 3.1-only schema keywords that no rewrite handles.
pub fn reject_unsupported(doc: &Value) -> Result {
    let mut copy = doc.clone();
    for_each_schema(&mut copy, &mut |s, at| {
        for k in UNSUPPORTED {
            if s.contains_key(*k) {
                return Err(err(
                    at.operation,
                    &format!("{}/{}", at.pointer, escape(k)),
                    format!(
                        "schema keyword `{k}` has no OpenAPI 3.0 form; rewrite the schema without it"
                    ),
                ));
            }
        }
        Ok(())
    })
}

/// Where a schema stands: its pointer and, when inside one, its operation id.
pub struct At<'a> {
    /// RFC 6901 pointer to the schema.
    pub pointer: &'a str,
    /// The operation the schema belongs to, if any.
    pub operation: Option<&'a str>,
}

/// Visits every schema object of the document, children before parents.
pub fn for_each_schema(
    doc: &mut Value,
    f: &mut dyn FnMut(&mut Map<String, Value>, At<'_>) -> Result,
) -> Result {
    if let Some(schemas) = doc
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    {
        for (name, s) in schemas.iter_mut() {
            walk_schema(s, &format!("/components/schemas/{}", escape(name)), None, f)?;
        }
    }
    for section in ["parameters", "requestBodies", "responses", "headers"] {
        let base = format!("/components/{section}");
        if let Some(items) = doc.pointer_mut(&base).and_then(Value::as_object_mut) {
            for (name, item) in items.iter_mut() {
                walk_container(item, &format!("{base}/{}", escape(name)), None, f)?;
            }
        }
    }
    if let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) {
        for (path, item) in paths.iter_mut() {
            let Some(item) = item.as_object_mut() else {
                continue;
            };
            for (method, op) in item.iter_mut() {
                let at = format!("/paths/{}/{}", escape(path), escape(method));
                let id = op
                    .get("operationId")
                    .and_then(Value::as_str)
                    .map(str::to_owned);
                walk_container(op, &at, id.as_deref(), f)?;
            }
        }
    }
    Ok(())
}

/// Walks the non-schema structure of an operation, parameter, body or response, finding
/// the `schema` values inside it.
fn walk_container(
    v: &mut Value,
    at: &str,
    op: Option<&str>,
    f: &mut dyn FnMut(&mut Map<String, Value>, At<'_>) -> Result,
) -> Result {
    match v {
        Value::Object(map) => {
            for (k, child) in map.iter_mut() {
                let p = format!("{at}/{}", escape(k));
                // `examples`/`example` at this level hold data, never schemas.
                if k == "example" || k == "examples" {
                    continue;
                }
                if k == "schema" {
                    walk_schema(child, &p, op, f)?;
                } else {
                    walk_container(child, &p, op, f)?;
                }
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter_mut().enumerate() {
                walk_container(child, &format!("{at}/{i}"), op, f)?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// Keywords whose value is one schema.
const ONE_SCHEMA: &[&str] = &[
    "items",
    "not",
    "additionalProperties",
    "contains",
    "propertyNames",
];
/// Keywords whose value is a list of schemas.
const SCHEMA_LIST: &[&str] = &["allOf", "anyOf", "oneOf", "prefixItems"];
/// Keywords whose value maps names to schemas.
const SCHEMA_MAP: &[&str] = &["properties", "patternProperties", "$defs", "definitions"];

fn walk_schema(
    v: &mut Value,
    at: &str,
    op: Option<&str>,
    f: &mut dyn FnMut(&mut Map<String, Value>, At<'_>) -> Result,
) -> Result {
    let Some(map) = v.as_object_mut() else {
        return Ok(());
    };
    for (k, child) in map.iter_mut() {
        let p = format!("{at}/{}", escape(k));
        if ONE_SCHEMA.contains(&k.as_str()) {
            walk_schema(child, &p, op, f)?;
        } else if SCHEMA_LIST.contains(&k.as_str())
            && let Some(list) = child.as_array_mut()
        {
            for (i, s) in list.iter_mut().enumerate() {
                walk_schema(s, &format!("{p}/{i}"), op, f)?;
            }
        } else if SCHEMA_MAP.contains(&k.as_str())
            && let Some(m) = child.as_object_mut()
        {
            for (name, s) in m.iter_mut() {
                walk_schema(s, &format!("{p}/{}", escape(name)), op, f)?;
            }
        }
    }
    f(
        map,
        At {
            pointer: at,
            operation: op,
        },
    )
}

fn is_null_schema(v: &Value) -> bool {
    v.get("type").and_then(Value::as_str) == Some("null")
        && v.as_object().is_some_and(|m| m.len() <= 2)
}

/// `anyOf`/`oneOf` `[X, {type: null}]` becomes X with `nullable: true`; a `$ref` X becomes
/// `allOf: [X]` because 3.0 ignores siblings of `$ref`.
pub fn nullable_any_of(s: &mut Map<String, Value>) {
    for key in ["anyOf", "oneOf"] {
        let Some(list) = s.get(key).and_then(Value::as_array) else {
            continue;
        };
        if !list.iter().any(is_null_schema) {
            continue;
        }
        let rest: Vec<Value> = list
            .iter()
            .filter(|b| !is_null_schema(b))
            .cloned()
            .collect();
        s.remove(key);
        s.insert("nullable".into(), Value::Bool(true));
        match rest.as_slice() {
            [] => {}
            [one] if one.get("$ref").is_some() => {
                s.insert("allOf".into(), json!([one]));
            }
            [Value::Object(one)] => {
                for (k, v) in one {
                    if k == "nullable" {
                        continue;
                    }
                    s.entry(k.clone()).or_insert_with(|| v.clone());
                }
            }
            _ => {
                s.insert(key.into(), Value::Array(rest));
            }
        }
    }
}

/// `type: [X, "null"]` becomes `type: X, nullable: true`; several non-null types become an
/// `anyOf` of single-typed schemas.
pub fn type_arrays(s: &mut Map<String, Value>) {
    let Some(types) = s.get("type").and_then(Value::as_array).cloned() else {
        return;
    };
    let nullable = types.iter().any(|t| t == "null");
    let rest: Vec<Value> = types.into_iter().filter(|t| t != "null").collect();
    s.remove("type");
    if nullable {
        s.insert("nullable".into(), Value::Bool(true));
    }
    match rest.as_slice() {
        [] => {}
        [one] => {
            s.insert("type".into(), one.clone());
        }
        many => {
            s.insert(
                "anyOf".into(),
                Value::Array(many.iter().map(|t| json!({ "type": t })).collect()),
            );
        }
    }
}

/// `const: v` becomes `enum: [v]`.
pub fn const_to_enum(s: &mut Map<String, Value>) {
    if let Some(v) = s.remove("const") {
        s.insert("enum".into(), json!([v]));
    }
}

/// 3.1 `examples: [..]` on a schema becomes the 3.0 singular `example` (the first one).
pub fn examples_to_example(s: &mut Map<String, Value>) {
    if let Some(Value::Array(list)) = s.remove("examples")
        && let Some(first) = list.into_iter().next()
    {
        s.entry("example").or_insert(first);
    }
}

/// Numeric `exclusiveMinimum: n` (3.1) becomes `minimum: n, exclusiveMinimum: true` (3.0).
pub fn exclusive_bounds(s: &mut Map<String, Value>) {
    for (excl, bound) in [
        ("exclusiveMinimum", "minimum"),
        ("exclusiveMaximum", "maximum"),
    ] {
        if let Some(n) = s.get(excl).filter(|v| v.is_number()).cloned() {
            s.insert(bound.into(), n);
            s.insert(excl.into(), Value::Bool(true));
        }
    }
}

/// `prefixItems` becomes `items` (one schema when they agree, else an `anyOf`) with the
/// tuple length as `minItems`/`maxItems`.
pub fn prefix_items(s: &mut Map<String, Value>) {
    let Some(Value::Array(list)) = s.remove("prefixItems") else {
        return;
    };
    let n = list.len();
    let first = list.first().cloned().unwrap_or_else(|| json!({}));
    let items = if list.iter().all(|x| *x == first) {
        first
    } else {
        json!({ "anyOf": list })
    };
    s.insert("items".into(), items);
    s.entry("minItems").or_insert(json!(n));
    s.entry("maxItems").or_insert(json!(n));
}

/// `additionalProperties: true` becomes `{}` so generated structs keep unknown members in a map.
pub fn additional_properties_true(s: &mut Map<String, Value>) {
    if s.get("additionalProperties") == Some(&Value::Bool(true)) {
        s.insert("additionalProperties".into(), json!({}));
    }
}

/// Removes `title` from every schema except the top of a component, so inline types are
/// named from their place rather than sharing one type per title.
pub fn drop_inline_titles(doc: &mut Value) {
    let components: Vec<String> = doc
        .pointer("/components/schemas")
        .and_then(Value::as_object)
        .map(|m| {
            m.keys()
                .map(|k| format!("/components/schemas/{}", escape(k)))
                .collect()
        })
        .unwrap_or_default();
    let _ = for_each_schema(doc, &mut |s, at| {
        if !components.iter().any(|c| c == at.pointer) {
            s.remove("title");
        }
        Ok(())
    });
}

fn operations_mut(doc: &mut Value) -> Vec<(String, Option<String>, &mut Map<String, Value>)> {
    let mut out = Vec::new();
    if let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) {
        for (path, item) in paths.iter_mut() {
            let Some(item) = item.as_object_mut() else {
                continue;
            };
            for (method, op) in item.iter_mut() {
                if ![
                    "get", "put", "post", "delete", "options", "head", "patch", "trace",
                ]
                .contains(&method.as_str())
                {
                    continue;
                }
                let Some(op) = op.as_object_mut() else {
                    continue;
                };
                let id = op
                    .get("operationId")
                    .and_then(Value::as_str)
                    .map(str::to_owned);
                out.push((format!("/paths/{}/{}", escape(path), method), id, op));
            }
        }
    }
    out
}

/// `application/problem+json` (and any other `+json`) responses are read as `application/json`.
pub fn problem_json_as_json(doc: &mut Value) {
    for (_, _, op) in operations_mut(doc) {
        let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut) else {
            continue;
        };
        for response in responses.values_mut() {
            let Some(content) = response.get_mut("content").and_then(Value::as_object_mut) else {
                continue;
            };
            let plus: Vec<String> = content
                .keys()
                .filter(|k| k.ends_with("+json"))
                .cloned()
                .collect();
            for key in plus {
                if let Some(media) = content.remove(&key) {
                    content.entry("application/json").or_insert(media);
                }
            }
        }
    }
}

fn is_success(code: &str) -> bool {
    code.starts_with('2')
}

/// Error responses must be JSON (after [`problem_json_as_json`]): the SDK decodes them by
/// status (a Problem, or on 422 an HTTPValidationError), so another media type is named here.
pub fn check_error_responses(doc: &mut Value) -> Result {
    for (at, id, op) in operations_mut(doc) {
        let Some(responses) = op.get("responses").and_then(Value::as_object) else {
            continue;
        };
        for (code, response) in responses {
            if is_success(code) {
                continue;
            }
            if let Some(content) = response.get("content").and_then(Value::as_object)
                && content.keys().any(|k| k != "application/json")
            {
                let p = format!("{at}/responses/{}/content", escape(code));
                return Err(err(
                    id.as_deref(),
                    &p,
                    "error responses must be JSON; found another media type",
                ));
            }
        }
    }
    Ok(())
}

/// progenitor's view of the document: only the success responses. Every other status then
/// reaches the SDK as progenitor's "unexpected response" with its status, headers and body
/// intact, and the SDK builds the error in one place (`Error::from_response`): progenitor
/// would otherwise drop the status of a declared error whose body does not parse (an HTML
/// 500 from a proxy), and want one error type per operation. The operation table keeps
/// every declared status; this view is only handed to progenitor.
pub fn success_responses_only(mut doc: Value) -> Value {
    for (_, _, op) in operations_mut(&mut doc) {
        if let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut) {
            responses.retain(|code, _| is_success(code));
        }
    }
    doc
}

/// An optional or nullable request body becomes a required, non-nullable one and the
/// operation is marked with [`OPTIONAL_BODY_EXT`]: progenitor would otherwise send JSON
/// `null` for "no body", where the API expects `{}`.
pub fn optional_request_bodies(doc: &mut Value) -> Result {
    for (at, id, op) in operations_mut(doc) {
        let Some(body) = op.get_mut("requestBody").and_then(Value::as_object_mut) else {
            continue;
        };
        let optional = body.get("required") != Some(&Value::Bool(true));
        let mut nullable = false;
        if let Some(content) = body.get_mut("content").and_then(Value::as_object_mut) {
            for media in content.values_mut() {
                if let Some(schema) = media.get_mut("schema").and_then(Value::as_object_mut) {
                    if schema.remove("nullable") == Some(Value::Bool(true)) {
                        nullable = true;
                        if let Some(Value::Array(all)) = schema.get("allOf")
                            && let [single] = all.as_slice()
                        {
                            let single = single.clone();
                            schema.clear();
                            if let Some(m) = single.as_object() {
                                schema.extend(m.clone());
                            }
                        }
                    }
                    if schema.is_empty() {
                        return Err(err(
                            id.as_deref(),
                            &format!("{at}/requestBody"),
                            "an optional body needs a schema (e.g. an object)",
                        ));
                    }
                }
            }
        }
        body.insert("required".into(), Value::Bool(true));
        if optional || nullable {
            op.insert(OPTIONAL_BODY_EXT.into(), Value::Bool(true));
        }
    }
    Ok(())
}

/// `uploads.complete` -> `UploadsComplete`: the PascalCase name an operation id gives its types.
pub fn pascal(operation_id: &str) -> String {
    operation_id
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

/// An inline request-body schema moves to `components.schemas.<OperationId>Body`, so the
/// body gets a named model (progenitor would otherwise use a bare JSON map).
pub fn name_inline_bodies(doc: &mut Value) -> Result {
    let mut hoisted = Vec::new();
    for (at, id, op) in operations_mut(doc) {
        let Some(content) = op
            .get_mut("requestBody")
            .and_then(|b| b.get_mut("content"))
            .and_then(Value::as_object_mut)
        else {
            continue;
        };
        for media in content.values_mut() {
            let Some(schema) = media.get_mut("schema") else {
                continue;
            };
            if schema.get("$ref").is_some() {
                continue;
            }
            let Some(id) = id.as_deref() else {
                return Err(err(
                    None,
                    &format!("{at}/requestBody"),
                    "an inline body needs an operationId to be named",
                ));
            };
            let name = format!("{}Body", pascal(id));
            hoisted.push((
                name.clone(),
                std::mem::replace(
                    schema,
                    json!({ "$ref": format!("#/components/schemas/{name}") }),
                ),
            ));
        }
    }
    let Some(Value::Object(schemas)) = doc
        .pointer_mut("/components")
        .and_then(Value::as_object_mut)
        .map(|c| c.entry("schemas").or_insert_with(|| json!({})))
    else {
        return Err(err(None, "/components", "components must be an object"));
    };
    for (name, mut schema) in hoisted {
        if schemas.contains_key(&name) {
            return Err(err(
                None,
                &format!("/components/schemas/{name}"),
                "name for an inline request body is already taken",
            ));
        }
        if let Some(s) = schema.as_object_mut() {
            s.entry("description")
                .or_insert_with(|| json!("The request body."));
        }
        schemas.insert(name, schema);
    }
    Ok(())
}

/// The seed's operations whose results it documents as decoded JSON with known meaning:
/// the download descriptors and the upload completion.
const SEED_MARKS: [(&str, &str); 4] = [
    ("items.asset.download", DESCRIPTOR_EXT),
    ("clip.job.download", DESCRIPTOR_EXT),
    ("clip.job.downloads", DESCRIPTOR_EXT),
    ("uploads.complete", COMPLETION_EXT),
];

/// Marks the seed's operations ([`SEED_MARKS`]) in a document that does not mark them
/// itself (the live API's document), so the SDK gives them the same types whichever
/// document it is built from. A mark the document sets, true or false, is kept.
pub fn seed_marks(doc: &mut Value) {
    for (_, id, op) in operations_mut(doc) {
        for (seed_id, ext) in SEED_MARKS {
            if id.as_deref() == Some(seed_id) && !op.contains_key(ext) {
                op.insert(ext.into(), Value::Bool(true));
            }
        }
    }
}

/// The success body of an operation marked [`DESCRIPTOR_EXT`] becomes a reference to the
/// [`DESCRIPTOR`] component (any JSON), so it gets a named type instead of a bare JSON value.
/// A marked operation whose success body has a schema of its own fails: the mark would
/// throw that schema away.
pub fn download_descriptors(doc: &mut Value) -> Result {
    any_json_component(
        doc,
        DESCRIPTOR_EXT,
        DESCRIPTOR,
        "A download descriptor: JSON of any shape, carrying signed URLs.",
    )
}

/// The success body of an operation marked [`COMPLETION_EXT`] becomes a reference to the
/// [`COMPLETION`] component (any JSON), as [`download_descriptors`] does for descriptors.
pub fn upload_completions(doc: &mut Value) -> Result {
    any_json_component(
        doc,
        COMPLETION_EXT,
        COMPLETION,
        "The outcome of an upload completion: a JSON object, typically `id` and `item_ids`.",
    )
}

/// The success bodies of every operation marked `ext` (each must be `{}`, any JSON) refer
/// to one component `name`, added when at least one operation is marked.
fn any_json_component(doc: &mut Value, ext: &str, name: &str, description: &str) -> Result {
    let mut marked = false;
    for (at, id, op) in operations_mut(doc) {
        if op.get(ext) != Some(&Value::Bool(true)) {
            continue;
        }
        marked = true;
        let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut) else {
            continue;
        };
        for (code, response) in responses.iter_mut().filter(|(c, _)| is_success(c)) {
            let Some(schema) = response.pointer_mut("/content/application~1json/schema") else {
                continue;
            };
            if schema
                .as_object()
                .is_none_or(|s| s.keys().any(|k| k != "description"))
            {
                return Err(err(
                    id.as_deref(),
                    &format!(
                        "{at}/responses/{}/content/application~1json/schema",
                        escape(code)
                    ),
                    format!("`{ext}` marks a body of any JSON; the schema must be `{{}}`"),
                ));
            }
            *schema = json!({ "$ref": format!("#/components/schemas/{name}") });
        }
    }
    if !marked {
        return Ok(());
    }
    let Some(Value::Object(schemas)) = doc
        .pointer_mut("/components")
        .and_then(Value::as_object_mut)
        .map(|c| c.entry("schemas").or_insert_with(|| json!({})))
    else {
        return Err(err(None, "/components", "components must be an object"));
    };
    if schemas.contains_key(name) {
        return Err(err(
            None,
            &format!("/components/schemas/{name}"),
            format!("name reserved for `{ext}` bodies is already taken"),
        ));
    }
    schemas.insert(name.into(), json!({ "description": description }));
    Ok(())
}

/// Inline property schemas that `build/generate.rs` replaces with a hand-written type:
/// `(model, property, component name)`. The name is the one progenitor would give the
/// inline type anyway, so moving it to a component changes no Rust name.
pub const REPLACED_PROPERTIES: &[(&str, &str, &str)] =
    &[("SignedUrlInput", "file_name", "SignedUrlInputFileName")];

/// Each of [`REPLACED_PROPERTIES`] present in the document moves to a component of its own
/// (progenitor replaces component types only). A document without the model, or whose
/// component name is taken, is left as it is.
pub fn name_replaced_properties(doc: &mut Value) {
    for (model, property, name) in REPLACED_PROPERTIES {
        let Some(schemas) = doc
            .pointer_mut("/components/schemas")
            .and_then(Value::as_object_mut)
        else {
            return;
        };
        if schemas.contains_key(*name) {
            continue;
        }
        let pointer = format!("/properties/{}", escape(property));
        let Some(slot) = schemas
            .get_mut(*model)
            .and_then(|m| m.pointer_mut(&pointer))
        else {
            continue;
        };
        if slot.get("$ref").is_some() {
            continue;
        }
        let schema = std::mem::replace(
            slot,
            json!({ "$ref": format!("#/components/schemas/{name}") }),
        );
        schemas.insert((*name).into(), schema);
    }
}

/// Parameter schemas lose `nullable`: an optional parameter is already an `Option`, and
/// progenitor would otherwise emit `Option<Option<&str>>`.
pub fn non_nullable_parameters(doc: &mut Value) {
    for (_, _, op) in operations_mut(doc) {
        let Some(params) = op.get_mut("parameters").and_then(Value::as_array_mut) else {
            continue;
        };
        for p in params {
            if let Some(schema) = p.get_mut("schema").and_then(Value::as_object_mut) {
                schema.remove("nullable");
            }
        }
    }
}

/// progenitor needs one success type per operation; two different 2xx bodies fail here with
/// the operation named.
pub fn check_single_success(doc: &Value) -> Result {
    let mut copy = doc.clone();
    for (at, id, op) in operations_mut(&mut copy) {
        let Some(responses) = op.get("responses").and_then(Value::as_object) else {
            return Err(err(id.as_deref(), &at, "operation has no responses"));
        };
        let mut seen: Vec<&Value> = Vec::new();
        for (code, r) in responses.iter().filter(|(c, _)| is_success(c)) {
            let schema = r
                .pointer("/content/application~1json/schema")
                .unwrap_or(&Value::Null);
            if !seen.is_empty() && !seen.contains(&schema) {
                return Err(err(
                    id.as_deref(),
                    &format!("{at}/responses/{code}"),
                    "success responses disagree on their body type",
                ));
            }
            seen.push(schema);
        }
        if id.is_none() {
            return Err(err(None, &at, "operation has no operationId"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap()
    }

    #[test]
    fn nullable_string_becomes_nullable() {
        let mut s =
            obj(json!({"anyOf": [{"type": "string"}, {"type": "null"}], "title": "Status"}));
        nullable_any_of(&mut s);
        assert_eq!(
            Value::Object(s),
            json!({"type": "string", "nullable": true, "title": "Status"})
        );
    }

    #[test]
    fn nullable_ref_becomes_all_of() {
        let mut s = obj(json!({"anyOf": [{"$ref": "#/components/schemas/A"}, {"type": "null"}]}));
        nullable_any_of(&mut s);
        assert_eq!(
            Value::Object(s),
            json!({"allOf": [{"$ref": "#/components/schemas/A"}], "nullable": true})
        );
    }

    #[test]
    fn nullable_union_keeps_the_other_branches() {
        let mut s =
            obj(json!({"oneOf": [{"type": "string"}, {"type": "integer"}, {"type": "null"}]}));
        nullable_any_of(&mut s);
        assert_eq!(
            Value::Object(s),
            json!({"oneOf": [{"type": "string"}, {"type": "integer"}], "nullable": true})
        );
    }

    #[test]
    fn any_of_without_null_is_left_alone() {
        let before = json!({"anyOf": [{"type": "string"}, {"type": "integer"}]});
        let mut s = obj(before.clone());
        nullable_any_of(&mut s);
        assert_eq!(Value::Object(s), before);
    }

    #[test]
    fn type_arrays_split() {
        let mut s = obj(json!({"type": ["integer", "null"]}));
        type_arrays(&mut s);
        assert_eq!(
            Value::Object(s),
            json!({"type": "integer", "nullable": true})
        );
        let mut s = obj(json!({"type": ["integer", "string"]}));
        type_arrays(&mut s);
        assert_eq!(
            Value::Object(s),
            json!({"anyOf": [{"type": "integer"}, {"type": "string"}]})
        );
    }

    #[test]
    fn const_examples_bounds_prefix_items() {
        let mut s = obj(
            json!({"const": "x", "examples": [1, 2], "exclusiveMinimum": 0, "prefixItems": [{"type": "number"}, {"type": "number"}]}),
        );
        const_to_enum(&mut s);
        examples_to_example(&mut s);
        exclusive_bounds(&mut s);
        prefix_items(&mut s);
        assert_eq!(
            Value::Object(s),
            json!({"enum": ["x"], "example": 1, "minimum": 0, "exclusiveMinimum": true, "items": {"type": "number"}, "minItems": 2, "maxItems": 2})
        );
    }

    #[test]
    fn additional_properties_true_becomes_empty_schema() {
        let mut s = obj(json!({"type": "object", "additionalProperties": true}));
        additional_properties_true(&mut s);
        assert_eq!(s["additionalProperties"], json!({}));
    }

    #[test]
    fn walker_leaves_property_names_and_defaults_alone() {
        let mut doc = json!({"openapi": "3.1.0", "components": {"schemas": {"A": {
            "type": "object",
            "properties": {"type": {"type": "string"}, "const": {"type": "string", "default": {"const": 1, "anyOf": [{"type": "null"}]}}}
        }}}});
        let mut visited = Vec::new();
        for_each_schema(&mut doc, &mut |s, at| {
            visited.push(at.pointer.to_owned());
            const_to_enum(s);
            nullable_any_of(s);
            Ok(())
        })
        .unwrap();
        assert_eq!(
            visited.last().map(String::as_str),
            Some("/components/schemas/A"),
            "children first"
        );
        visited.sort();
        assert_eq!(
            visited,
            [
                "/components/schemas/A",
                "/components/schemas/A/properties/const",
                "/components/schemas/A/properties/type"
            ]
        );
        assert_eq!(
            doc.pointer("/components/schemas/A/properties/const/default"),
            Some(&json!({"const": 1, "anyOf": [{"type": "null"}]}))
        );
    }

    fn op_doc(responses: Value) -> Value {
        json!({"openapi": "3.1.0", "paths": {"/v1/op/a.b": {"post": {"operationId": "a.b", "responses": responses,
        "requestBody": {"content": {"application/json": {"schema": {"anyOf": [{"type": "object"}, {"type": "null"}], "title": "Body"}}}}}}},
        "components": {"schemas": {
            "Problem": {"type": "object", "required": ["title", "status", "detail"], "properties": {}},
            "HTTPValidationError": {"type": "object", "properties": {}}
        }}})
    }

    fn errors() -> Value {
        json!({
            "200": {"content": {"application/json": {"schema": {}}}},
            "422": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/HTTPValidationError"}}}},
            "404": {"content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}}
        })
    }

    #[test]
    fn errors_stay_in_the_document_and_leave_progenitors_view() {
        let doc = normalize(op_doc(errors())).unwrap();
        assert_eq!(doc["openapi"], "3.0.3");
        let op = doc.pointer("/paths/~1v1~1op~1a.b/post").unwrap();
        assert_eq!(
            op["responses"]["404"]["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/Problem"
        );
        assert!(
            op["responses"]["404"]["content"]
                .get("application/problem+json")
                .is_none()
        );
        let view = success_responses_only(doc.clone());
        let responses = view
            .pointer("/paths/~1v1~1op~1a.b/post/responses")
            .and_then(Value::as_object)
            .unwrap();
        assert_eq!(responses.keys().collect::<Vec<_>>(), ["200"]);
        assert_eq!(view["components"], doc["components"]);
    }

    #[test]
    fn a_non_json_error_body_is_named() {
        let mut responses = errors();
        responses["404"] = json!({"content": {"text/html": {"schema": {"type": "string"}}}});
        let e = normalize(op_doc(responses)).unwrap_err().to_string();
        assert!(e.contains("a.b") && e.contains("404"), "{e}");
    }

    #[test]
    fn optional_body_is_marked_required_and_named() {
        let doc = normalize(op_doc(errors())).unwrap();
        let op = doc.pointer("/paths/~1v1~1op~1a.b/post").unwrap();
        assert_eq!(op[OPTIONAL_BODY_EXT], true);
        assert_eq!(op["requestBody"]["required"], true);
        assert_eq!(
            op["requestBody"]["content"]["application/json"]["schema"],
            json!({"$ref": "#/components/schemas/ABBody"})
        );
        assert_eq!(
            doc.pointer("/components/schemas/ABBody/type"),
            Some(&json!("object"))
        );
    }

    #[test]
    fn pascal_names_from_operation_ids() {
        assert_eq!(pascal("uploads.complete"), "UploadsComplete");
        assert_eq!(pascal("clip.job.downloads"), "ClipJobDownloads");
        assert_eq!(pascal("api_keys.create"), "ApiKeysCreate");
    }

    #[test]
    fn two_success_bodies_fail_with_the_operation_named() {
        let mut responses = errors();
        responses["201"] = json!({"content": {"application/json": {"schema": {"type": "string"}}}});
        let e = normalize(op_doc(responses)).unwrap_err();
        assert_eq!(e.operation.as_deref(), Some("a.b"));
        assert!(
            e.pointer
                .starts_with("/paths/~1v1~1op~1a.b/post/responses/"),
            "{}",
            e.pointer
        );
    }

    #[test]
    fn unsupported_keyword_names_the_pointer() {
        let mut doc = op_doc(errors());
        doc["components"]["schemas"]["Problem"]["if"] = json!({});
        let e = normalize(doc).unwrap_err();
        assert_eq!(e.pointer, "/components/schemas/Problem/if");
        assert!(e.to_string().contains("`if`"));
    }

    #[test]
    fn wrong_version_is_rejected() {
        assert!(check_version(&json!({"openapi": "2.0"})).is_err());
        assert!(check_version(&json!({"swagger": "2.0"})).is_err());
        assert!(check_version(&json!({"openapi": "3.1.0"})).is_ok());
    }

    #[test]
    fn descriptor_bodies_refer_to_one_component() {
        let mut doc = op_doc(errors());
        doc["paths"]["/v1/op/a.b"]["post"][DESCRIPTOR_EXT] = json!(true);
        let normalized = normalize(doc.clone()).unwrap();
        assert_eq!(
            normalized.pointer(
                "/paths/~1v1~1op~1a.b/post/responses/200/content/application~1json/schema"
            ),
            Some(&json!({"$ref": "#/components/schemas/Descriptor"}))
        );
        assert!(
            normalized
                .pointer("/components/schemas/Descriptor")
                .is_some()
        );
        // Unmarked, the body stays any JSON and no component appears.
        let plain = normalize(op_doc(errors())).unwrap();
        assert!(plain.pointer("/components/schemas/Descriptor").is_none());
        // A marked body with a schema of its own is refused, naming the operation.
        doc["paths"]["/v1/op/a.b"]["post"]["responses"]["200"]["content"]["application/json"]["schema"] =
            json!({"type": "string"});
        let e = normalize(doc).unwrap_err();
        assert_eq!(e.operation.as_deref(), Some("a.b"));
        assert!(e.message.contains(DESCRIPTOR_EXT), "{e}");
    }

    #[test]
    fn replaced_properties_move_to_a_component_of_the_same_name() {
        let mut doc = op_doc(errors());
        doc["components"]["schemas"]["SignedUrlInput"] = json!({"type": "object",
            "properties": {"file_name": {"type": "string", "minLength": 1}}});
        let normalized = normalize(doc).unwrap();
        assert_eq!(
            normalized.pointer("/components/schemas/SignedUrlInput/properties/file_name"),
            Some(&json!({"$ref": "#/components/schemas/SignedUrlInputFileName"}))
        );
        assert_eq!(
            normalized.pointer("/components/schemas/SignedUrlInputFileName/minLength"),
            Some(&json!(1))
        );
        // Absent from a document, nothing happens.
        let plain = normalize(op_doc(errors())).unwrap();
        assert!(
            plain
                .pointer("/components/schemas/SignedUrlInputFileName")
                .is_none()
        );
    }

    #[test]
    fn the_seeds_operations_are_marked_in_any_document() {
        let mut doc = json!({"openapi": "3.1.0", "paths": {
            "/v1/op/uploads.complete": {"post": {"operationId": "uploads.complete",
                "responses": {"200": {"content": {"application/json": {"schema": {}}}}}}},
            "/v1/op/items.asset.download": {"post": {"operationId": "items.asset.download",
                DESCRIPTOR_EXT: false,
                "responses": {"200": {"content": {"application/json": {"schema": {}}}}}}}
        }});
        seed_marks(&mut doc);
        let op = |id: &str| {
            doc.pointer(&format!("/paths/~1v1~1op~1{id}/post"))
                .cloned()
                .unwrap()
        };
        assert_eq!(op("uploads.complete")[COMPLETION_EXT], true);
        // A mark the document sets itself is kept, even false.
        assert_eq!(op("items.asset.download")[DESCRIPTOR_EXT], false);
        assert!(op("uploads.complete").get(DESCRIPTOR_EXT).is_none());
    }

    #[test]
    fn completion_bodies_refer_to_their_own_component() {
        let mut doc = op_doc(errors());
        doc["paths"]["/v1/op/a.b"]["post"][COMPLETION_EXT] = json!(true);
        let normalized = normalize(doc).unwrap();
        assert_eq!(
            normalized.pointer(
                "/paths/~1v1~1op~1a.b/post/responses/200/content/application~1json/schema"
            ),
            Some(&json!({"$ref": "#/components/schemas/Completion"}))
        );
        assert!(
            normalized
                .pointer("/components/schemas/Descriptor")
                .is_none()
        );
        let plain = normalize(op_doc(errors())).unwrap();
        assert!(plain.pointer("/components/schemas/Completion").is_none());
    }

    #[test]
    fn nullable_parameters_lose_nullable() {
        let mut doc = op_doc(errors());
        doc["paths"]["/v1/op/a.b"]["post"]["parameters"] = json!([{"name": "x-api-key", "in": "header", "schema": {"anyOf": [{"type": "string"}, {"type": "null"}]}}]);
        let doc = normalize(doc).unwrap();
        assert_eq!(
            doc.pointer("/paths/~1v1~1op~1a.b/post/parameters/0/schema")
                .unwrap(),
            &json!({"type": "string"})
        );
    }

    #[test]
    fn inline_titles_dropped_component_titles_kept() {
        let mut doc = op_doc(errors());
        doc["components"]["schemas"]["Problem"]["title"] = json!("Problem");
        doc["components"]["schemas"]["Problem"]["properties"] =
            json!({"title": {"type": "string", "title": "Title"}});
        let doc = normalize(doc).unwrap();
        assert_eq!(
            doc.pointer("/components/schemas/Problem/title"),
            Some(&json!("Problem"))
        );
        assert_eq!(
            doc.pointer("/components/schemas/Problem/properties/title"),
            Some(&json!({"type": "string"}))
        );
    }
}
