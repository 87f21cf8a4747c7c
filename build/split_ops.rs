//! Pass 3 of code generation: one public module per operation under `geopera::ops`.
//!
//! Each module holds the operation's row of the operation table (`SPEC`), its `Input` and
//! `Output` types, a marker type implementing `geopera::Operation`, and the
//! `send`/`send_detailed` functions (plus blocking twins) that hand the progenitor client
//! method to the one call loop in `src/call.rs`. The method's signature, URL and HTTP
//! method are read from progenitor's own output by their syntax, so the types always agree.
//!
//! [`table`] emits `OPERATIONS`, the one list of operations everything else derives from.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use serde_json::Value;
use syn::visit_mut::VisitMut;

/// What the spec says about one operation.
#[derive(Debug, Clone, PartialEq)]
pub struct OperationSpec {
    /// The dotted operation id, e.g. `uploads.initiate`.
    pub id: String,
    /// Upper-case HTTP method.
    pub method: String,
    /// Path template.
    pub path: String,
    /// `x-required-scope`, when the operation declares one.
    pub scope: Option<String>,
    /// Summary and description, joined.
    pub doc: String,
    /// Whether the body may be left out (we send `{}`).
    pub optional_body: bool,
    /// `x-idempotent`: repeating the call has no further effect, so retries are safe.
    pub idempotent: bool,
    /// Declared status codes, for the docs.
    pub statuses: Vec<String>,
    /// The request body's top-level fields, for generated command-line flags.
    pub fields: Vec<Field>,
}

/// One top-level field of an operation's request body: what a command line needs to offer
/// it as a flag.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    /// The JSON member name (`project_id`).
    pub name: String,
    /// The variant of `geopera::ops::FieldKind` its value has (`String`, `Integer`,
    /// `StringList`, ..., `Json` for anything else).
    pub kind: &'static str,
    /// Whether the body model requires it.
    pub required: bool,
    /// The values it accepts, when the document lists them (`enum`, or a pattern of the
    /// form `^(a|b|c)$`).
    pub values: Vec<String>,
    /// The first sentence of its description.
    pub description: String,
}

/// Follows `$ref`s (and a single-entry `allOf`, the 3.0 spelling of a `$ref` with
/// siblings) to the schema they name, a bounded number of hops.
fn resolve<'a>(doc: &'a Value, mut schema: &'a Value) -> &'a Value {
    for _ in 0..8 {
        if let Some(name) = schema
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|r| r.strip_prefix("#/components/schemas/"))
        {
            match doc.pointer(&format!("/components/schemas/{name}")) {
                Some(target) => schema = target,
                None => return schema,
            }
        } else if let Some([one]) = schema
            .get("allOf")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
        {
            schema = one;
        } else {
            return schema;
        }
    }
    schema
}

/// The values a schema enumerates: `enum`, or a pattern that is an anchored alternation
/// of plain words (`^(browser|cli|signed_url)$`).
fn enum_values(schema: &Value) -> Vec<String> {
    if let Some(values) = schema.get("enum").and_then(Value::as_array) {
        return values
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect();
    }
    let Some(inner) = schema
        .get("pattern")
        .and_then(Value::as_str)
        .and_then(|p| p.strip_prefix("^("))
        .and_then(|p| p.strip_suffix(")$"))
    else {
        return Vec::new();
    };
    let words: Vec<&str> = inner.split('|').collect();
    let plain = |w: &&str| {
        !w.is_empty()
            && w.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    };
    if words.iter().all(plain) {
        words.into_iter().map(str::to_owned).collect()
    } else {
        Vec::new()
    }
}

/// The kind of a value schema, as a `geopera::ops::FieldKind` variant name.
fn kind(doc: &Value, schema: &Value) -> &'static str {
    let scalar = |s: &Value| match s.get("type").and_then(Value::as_str) {
        Some("string") => Some("String"),
        Some("integer") => Some("Integer"),
        Some("number") => Some("Number"),
        Some("boolean") => Some("Boolean"),
        _ => None,
    };
    if let Some(k) = scalar(schema) {
        return k;
    }
    if schema.get("type").and_then(Value::as_str) == Some("array") {
        let items = schema.get("items").map(|i| resolve(doc, i));
        return match items.and_then(scalar) {
            Some("String") => "StringList",
            Some("Integer") => "IntegerList",
            Some("Number") => "NumberList",
            _ => "Json",
        };
    }
    "Json"
}

/// The first sentence (or line) of a description, for a one-line flag help.
fn first_sentence(text: &str) -> String {
    let line = text.trim().lines().next().unwrap_or_default().trim();
    match line.find(". ") {
        Some(end) => line[..=end].to_owned(),
        None => line.to_owned(),
    }
}

/// The top-level fields of an operation's JSON request body, required ones first, then
/// in name order. A body with no declared properties (a free-form object) has none.
fn body_fields(doc: &Value, op: &Value) -> Vec<Field> {
    let Some(schema) = op.pointer("/requestBody/content/application~1json/schema") else {
        return Vec::new();
    };
    let schema = resolve(doc, schema);
    let Some(properties) = schema.get("properties").and_then(Value::as_object) else {
        return Vec::new();
    };
    let required: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let mut fields: Vec<Field> = properties
        .iter()
        .map(|(name, prop)| {
            let prop = resolve(doc, prop);
            Field {
                name: name.clone(),
                kind: kind(doc, prop),
                required: required.contains(&name.as_str()),
                values: enum_values(prop),
                description: first_sentence(
                    prop.get("description")
                        .and_then(Value::as_str)
                        .unwrap_or_default(),
                ),
            }
        })
        .collect();
    fields.sort_by(|a, b| {
        b.required
            .cmp(&a.required)
            .then_with(|| a.name.cmp(&b.name))
    });
    fields
}

/// Lists the operations of a normalised document, in path order.
pub fn operations(doc: &Value) -> Vec<OperationSpec> {
    let mut out = Vec::new();
    let Some(paths) = doc.get("paths").and_then(Value::as_object) else {
        return out;
    };
    for (path, item) in paths {
        let Some(item) = item.as_object() else {
            continue;
        };
        for (method, op) in item {
            let Some(id) = op.get("operationId").and_then(Value::as_str) else {
                continue;
            };
            let text = |k: &str| {
                op.get(k)
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .trim()
                    .to_owned()
            };
            let summary = [text("summary"), text("description")]
                .into_iter()
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join("\n\n");
            out.push(OperationSpec {
                id: id.to_owned(),
                method: method.to_uppercase(),
                path: path.clone(),
                scope: op
                    .get("x-required-scope")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
                doc: summary,
                optional_body: op.get(super::normalize::OPTIONAL_BODY_EXT)
                    == Some(&Value::Bool(true)),
                idempotent: op.get("x-idempotent") == Some(&Value::Bool(true)),
                statuses: op
                    .get("responses")
                    .and_then(Value::as_object)
                    .map(|r| r.keys().cloned().collect())
                    .unwrap_or_default(),
                fields: body_fields(doc, op),
            });
        }
    }
    out
}

/// One async method of progenitor's `impl Client`.
struct Method {
    name: syn::Ident,
    args: Vec<(syn::Ident, syn::Type)>,
    output: syn::Type,
    /// The URL template of the method's `format!("{}/path", self.baseurl)`.
    url_literal: String,
    /// The upper-case HTTP method of its `self.client.<method>(url)` call.
    http_method: String,
}

/// Rewrites the generated signature types for use from `crate::ops::*`: `types::X` becomes
/// `crate::generated::types::X` and the `'a` lifetimes go.
struct Retarget;

impl VisitMut for Retarget {
    fn visit_type_path_mut(&mut self, p: &mut syn::TypePath) {
        if p.qself.is_none()
            && p.path.leading_colon.is_none()
            && p.path.segments.first().is_some_and(|s| s.ident == "types")
        {
            let mut segments: syn::punctuated::Punctuated<syn::PathSegment, syn::Token![::]> =
                syn::punctuated::Punctuated::new();
            segments.push(format_ident!("crate").into());
            segments.push(format_ident!("generated").into());
            segments.extend(p.path.segments.iter().cloned());
            p.path.segments = segments;
        }
        syn::visit_mut::visit_type_path_mut(self, p);
    }
    fn visit_type_reference_mut(&mut self, r: &mut syn::TypeReference) {
        r.lifetime = None;
        syn::visit_mut::visit_type_reference_mut(self, r);
    }
}

/// The HTTP methods reqwest's `Client` has a builder for.
const HTTP_METHODS: [&str; 6] = ["get", "put", "post", "delete", "patch", "head"];

/// Finds, in one generated method's body, the URL template (the string literal that opens
/// `format!(..)`) and the HTTP method (`self.client.post(url)`), by their syntax.
#[derive(Default)]
struct Route {
    url_literal: Option<String>,
    http_method: Option<String>,
}

impl<'ast> syn::visit::Visit<'ast> for Route {
    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        if self.url_literal.is_none() && mac.path.is_ident("format") {
            let args = mac.parse_body_with(
                syn::punctuated::Punctuated::<syn::Expr, syn::Token![,]>::parse_terminated,
            );
            if let Ok(args) = args
                && let Some(syn::Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Str(s),
                    ..
                })) = args.first()
            {
                self.url_literal = Some(s.value());
            }
        }
        syn::visit::visit_macro(self, mac);
    }

    fn visit_expr_method_call(&mut self, call: &'ast syn::ExprMethodCall) {
        let on_http_client = matches!(
            &*call.receiver,
            syn::Expr::Field(f) if matches!(&f.member, syn::Member::Named(n) if n == "client")
        );
        let name = call.method.to_string();
        if on_http_client && self.http_method.is_none() && HTTP_METHODS.contains(&name.as_str()) {
            self.http_method = Some(name.to_uppercase());
        }
        syn::visit::visit_expr_method_call(self, call);
    }
}

fn methods(file: &syn::File) -> Result<Vec<Method>, String> {
    let mut out = Vec::new();
    for item in &file.items {
        let syn::Item::Impl(imp) = item else { continue };
        if imp.trait_.is_some()
            || !matches!(&*imp.self_ty, syn::Type::Path(p) if p.path.is_ident("Client"))
        {
            continue;
        }
        for item in &imp.items {
            let syn::ImplItem::Fn(f) = item else { continue };
            if f.sig.asyncness.is_none() {
                continue;
            }
            let mut args = Vec::new();
            for input in f.sig.inputs.iter().skip(1) {
                let syn::FnArg::Typed(pt) = input else {
                    continue;
                };
                let syn::Pat::Ident(id) = &*pt.pat else {
                    return Err(format!("method `{}` has a pattern argument", f.sig.ident));
                };
                let mut ty = (*pt.ty).clone();
                Retarget.visit_type_mut(&mut ty);
                args.push((id.ident.clone(), ty));
            }
            let output = success_type(&f.sig.output).ok_or_else(|| {
                format!(
                    "method `{}` does not return Result<ResponseValue<T>, _>",
                    f.sig.ident
                )
            })?;
            let mut route = Route::default();
            syn::visit::Visit::visit_block(&mut route, &f.block);
            let (Some(url_literal), Some(http_method)) = (route.url_literal, route.http_method)
            else {
                return Err(format!(
                    "method `{}`: no `format!(\"{{}}/...\", ..)` URL or `self.client.<method>(url)` call found",
                    f.sig.ident
                ));
            };
            out.push(Method {
                name: f.sig.ident.clone(),
                args,
                output,
                url_literal,
                http_method,
            });
        }
    }
    Ok(out)
}

/// `Result<ResponseValue<T>, Error<E>>` -> `T`, retargeted.
fn success_type(output: &syn::ReturnType) -> Option<syn::Type> {
    let syn::ReturnType::Type(_, ty) = output else {
        return None;
    };
    let first_generic = |ty: &syn::Type| -> Option<syn::Type> {
        let syn::Type::Path(p) = ty else { return None };
        let syn::PathArguments::AngleBracketed(a) = &p.path.segments.last()?.arguments else {
            return None;
        };
        a.args.iter().find_map(|g| match g {
            syn::GenericArgument::Type(t) => Some(t.clone()),
            _ => None,
        })
    };
    let mut inner = first_generic(&first_generic(ty)?)?;
    Retarget.visit_type_mut(&mut inner);
    Some(inner)
}

/// `/things/{id}` -> `{}/things/{}`: the literal progenitor formats the URL with.
fn url_literal_for(path: &str) -> String {
    let mut out = String::from("{}");
    let mut in_param = false;
    for c in path.chars() {
        match (c, in_param) {
            ('{', _) => {
                in_param = true;
                out.push_str("{}");
            }
            ('}', true) => in_param = false,
            (_, true) => {}
            (c, false) => out.push(c),
        }
    }
    out
}

/// Emits `pub mod <op> { ... }` for every operation and the table derived from the same
/// pairs; fails naming any operation progenitor produced no method for, or any method no
/// operation claims.
pub fn split(doc: &Value, file: &syn::File) -> Result<TokenStream, String> {
    let ops = operations(doc);
    let mut methods = methods(file)?;
    let mut pairs = Vec::new();
    for op in ops {
        let want = url_literal_for(&op.path);
        let Some(pos) = methods
            .iter()
            .position(|m| m.url_literal == want && m.http_method == op.method)
        else {
            return Err(format!(
                "operation `{}` ({} {}): progenitor generated no method for it",
                op.id, op.method, op.path
            ));
        };
        pairs.push((op, methods.remove(pos)));
    }
    if let Some(m) = methods.first() {
        return Err(format!(
            "progenitor method `{}` matches no operation of the document",
            m.name
        ));
    }
    let modules = pairs
        .iter()
        .map(|(op, m)| module(op, m))
        .collect::<Result<Vec<_>, _>>()?;
    let table = table(&pairs);
    Ok(quote!(#(#modules)* #table))
}

/// The marker type of an operation: `uploads_initiate` -> `UploadsInitiate`.
fn marker(module: &syn::Ident) -> syn::Ident {
    format_ident!("{}", super::normalize::pascal(&module.to_string()))
}

fn module(op: &OperationSpec, m: &Method) -> Result<TokenStream, String> {
    let name = &m.name;
    let marker = marker(name);
    let id = &op.id;
    let path = &op.path;
    let method = &op.method;
    let idempotent = op.idempotent;
    let scope = match &op.scope {
        Some(s) => quote!(Some(#s)),
        None => quote!(None),
    };
    let statuses = op
        .statuses
        .iter()
        .map(|s| {
            s.parse::<u16>()
                .map_err(|_| format!("operation `{id}`: status `{s}` is not a number"))
        })
        .collect::<Result<Vec<u16>, String>>()?;
    let summary = op.doc.lines().next().unwrap_or_default().trim().to_owned();
    let module_name = name.to_string();
    let output = &m.output;
    let fields = op.fields.iter().map(|f| {
        let name = &f.name;
        let kind = format_ident!("{}", f.kind);
        let required = f.required;
        let values = &f.values;
        let description = &f.description;
        quote!(crate::ops::FieldSpec {
            name: #name,
            kind: crate::ops::FieldKind::#kind,
            required: #required,
            values: &[#(#values),*],
            description: #description,
        })
    });
    // The module's functions take the body and any parameter besides the credential;
    // the trait's generic path takes only the body and leaves other parameters unset.
    let mut params = Vec::new();
    let mut call_args = Vec::new();
    let mut arg_names = Vec::new();
    let mut defaults = Vec::new();
    let mut input = None;
    for (arg, ty) in &m.args {
        if arg == "x_api_key" {
            call_args.push(quote!(client.api_key()));
            continue;
        }
        if arg == "body" {
            let syn::Type::Reference(r) = ty else {
                return Err(format!(
                    "operation `{id}`: body argument is not a reference"
                ));
            };
            input = Some((*r.elem).clone());
            params.push(quote!(body: &Input));
            defaults.push(quote!(body));
        } else {
            let is_option = matches!(ty, syn::Type::Path(p) if p.path.segments.last().is_some_and(|s| s.ident == "Option"));
            if !is_option {
                return Err(format!(
                    "operation `{id}`: required parameter `{arg}` besides the body is not supported by the generic path"
                ));
            }
            params.push(quote!(#arg: #ty));
            defaults.push(quote!(None));
        }
        call_args.push(quote!(#arg));
        arg_names.push(quote!(#arg));
    }
    let Some(input) = input else {
        return Err(format!("operation `{id}` has no request body"));
    };
    let input_doc = if op.optional_body {
        "The request body model. The API accepts this body left out; `Input::default()` sends `{}`."
    } else {
        "The request body model."
    };

    let mut module_doc = format!("`{id}`: `{method} {path}`");
    if let Some(s) = &op.scope {
        module_doc.push_str(&format!(", scope `{s}`"));
    }
    module_doc.push_str(".\n\n");
    if !op.doc.is_empty() {
        module_doc.push_str(&op.doc);
        module_doc.push_str("\n\n");
    }
    module_doc.push_str(&format!(
        "Declared statuses: {}. A documented error arrives as [`crate::Error::Problem`] or \
         [`crate::Error::Validation`]; anything else maps to another [`crate::Error`] variant.\n\n\
         From the fluent client: `geopera.call({marker}, body)` (the generic path, [`{marker}`]).\n\n\
         | Python (`geopera.api.operations.{name}`) | Rust (`geopera::ops::{name}`) |\n|---|---|\n\
         | `asyncio(client=client, body=...)` | [`send`]`(&client, &body).await` |\n\
         | `asyncio_detailed(...)` | [`send_detailed`]`(&client, &body).await` |\n\
         | `sync(...)` | `send_blocking(&client, &body)` (feature `blocking`) |\n\
         | `sync_detailed(...)` | `send_detailed_blocking(&client, &body)` (feature `blocking`) |\n",
        op.statuses.join(", ")
    ));
    let module_doc = quote!(#![doc = #module_doc]);
    let marker_doc = format!(
        "`{id}` as a type: the [`crate::Operation`] that the fluent client's generic path \
         (`geopera.call({marker}, body)`) and `invoke` send."
    );
    let op_doc = format!("`{id}`, returning the body of a successful response.");
    let detailed_doc = format!(
        "`{id}`, returning the status, headers and body of a successful response, and the \
         number of attempts it took ([`Response::attempts`])."
    );
    let blocking_doc = "[`send`] for synchronous code: runs the call on the crate's own runtime.\n\n\
         Returns [`crate::Error::BlockingInRuntime`] instead of blocking when called inside an async runtime.";
    let blocking_detailed_doc = "[`send_detailed`] for synchronous code; see [`send_blocking`].";
    Ok(quote! {
        pub mod #name {
            #module_doc
            use crate::{AuthenticatedClient, Error, Response};

            /// This operation's row of [`crate::ops::OPERATIONS`].
            pub const SPEC: crate::ops::OperationSpec = crate::ops::OperationSpec {
                id: #id,
                method: #method,
                path: #path,
                required_scope: #scope,
                idempotent: #idempotent,
                statuses: &[#(#statuses),*],
                summary: #summary,
                module: #module_name,
                fields: &[#(#fields),*],
            };
            /// The operation id, as the API and the Python SDK spell it ([`SPEC`]`.id`).
            pub const OPERATION_ID: &str = SPEC.id;
            /// The HTTP method ([`SPEC`]`.method`).
            pub const METHOD: &str = SPEC.method;
            /// The path, relative to the client's base URL ([`SPEC`]`.path`).
            pub const PATH: &str = SPEC.path;
            /// The token scope the operation requires ([`SPEC`]`.required_scope`).
            pub const REQUIRED_SCOPE: Option<&str> = SPEC.required_scope;
            /// Whether repeating the call is safe ([`SPEC`]`.idempotent`).
            pub const IDEMPOTENT: bool = SPEC.idempotent;
            #[doc = #input_doc]
            pub type Input = #input;
            /// The success body model.
            pub type Output = #output;

            #[doc = #marker_doc]
            #[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
            pub struct #marker;

            impl crate::Operation for #marker {
                const SPEC: &'static crate::ops::OperationSpec = &SPEC;
                type Input = Input;
                type Output = Output;
                fn send_detailed<'a>(
                    client: &'a AuthenticatedClient,
                    body: &'a Input,
                ) -> impl std::future::Future<Output = Result<Response<Output>, Error>> + Send + 'a {
                    send_detailed(client, #(#defaults),*)
                }
            }

            #[doc = #op_doc]
            pub async fn send(client: &AuthenticatedClient, #(#params),*) -> Result<Output, Error> {
                send_detailed(client, #(#arg_names),*).await.map(Response::into_body)
            }

            #[doc = #detailed_doc]
            pub async fn send_detailed(client: &AuthenticatedClient, #(#params),*) -> Result<Response<Output>, Error> {
                crate::call::run(client, &SPEC, |api| api.#name(#(#call_args),*)).await
            }

            #[doc = #blocking_doc]
            #[cfg(feature = "blocking")]
            pub fn send_blocking(client: &AuthenticatedClient, #(#params),*) -> Result<Output, Error> {
                crate::blocking::block_on(OPERATION_ID, send(client, #(#arg_names),*))
            }

            #[doc = #blocking_detailed_doc]
            #[cfg(feature = "blocking")]
            pub fn send_detailed_blocking(client: &AuthenticatedClient, #(#params),*) -> Result<Response<Output>, Error> {
                crate::blocking::block_on(OPERATION_ID, send_detailed(client, #(#arg_names),*))
            }
        }
        pub use #name::#marker;
    })
}

/// The operation table and what derives from it: `OPERATIONS` (one row per operation, in
/// document order), the `InputModel` marks on every body model, and `visit`, the dispatch
/// from an operation id to its marker type.
fn table(pairs: &[(OperationSpec, Method)]) -> TokenStream {
    let mut rows = Vec::new();
    let mut arms = Vec::new();
    let mut inputs: Vec<String> = Vec::new();
    let mut input_impls = Vec::new();
    for (op, m) in pairs {
        let name = &m.name;
        let marker = marker(name);
        let id = &op.id;
        rows.push(quote!(#name::SPEC));
        arms.push(quote!(#id => Some(visitor.visit::<#name::#marker>())));
        if let Some((_, syn::Type::Reference(r))) = m.args.iter().find(|(a, _)| a == "body") {
            let ty = &*r.elem;
            let key = quote!(#ty).to_string();
            if !inputs.contains(&key) {
                inputs.push(key);
                input_impls.push(quote!(impl crate::ops::InputModel for #ty {}));
            }
        }
    }
    quote! {
        /// Every operation of the document, in document order: the one list the typed
        /// modules, `invoke`, the retry policy and the tests derive from.
        pub const OPERATIONS: &[OperationSpec] = &[#(#rows),*];

        #(#input_impls)*

        /// Runs `visitor` with the [`Operation`] whose id is `id`: how code that learns an
        /// operation id at run time (`invoke`, a command line, a test double) reaches its
        /// typed call and models. `None` for an id the document does not have.
        pub fn visit<V: OperationVisitor>(id: &str, visitor: V) -> Option<V::Output> {
            match id {
                #(#arms,)*
                _ => None,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_literals_match_progenitor() {
        assert_eq!(
            url_literal_for("/v1/op/uploads.initiate"),
            "{}/v1/op/uploads.initiate"
        );
        assert_eq!(
            url_literal_for("/things/{id}/parts/{part}"),
            "{}/things/{}/parts/{}"
        );
    }

    #[test]
    fn success_type_is_retargeted() {
        let sig: syn::ReturnType = syn::parse_quote!(-> Result<ResponseValue<types::UploadOutput>, Error<types::ErrorBody>>);
        let ty = success_type(&sig).unwrap();
        assert_eq!(
            quote!(#ty).to_string(),
            "crate :: generated :: types :: UploadOutput"
        );
    }

    #[test]
    fn body_fields_follow_refs_and_list_enums() {
        let doc = serde_json::json!({
            "components": {"schemas": {
                "Body": {"type": "object", "required": ["id"], "properties": {
                    "id": {"type": "string", "description": "The id. More text."},
                    "mode": {"type": "string", "pattern": "^(fast|slow_down)$"},
                    "level": {"allOf": [{"$ref": "#/components/schemas/Level"}], "nullable": true},
                    "tags": {"type": "array", "items": {"type": "string"}},
                    "shape": {"type": "object"},
                    "odd": {"type": "string", "pattern": "^(a|b.*)$"}
                }},
                "Level": {"type": "string", "enum": ["low", "high"]}
            }},
        });
        let op = serde_json::json!({"requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Body"}}}}});
        let fields = body_fields(&doc, &op);
        let names: Vec<&str> = fields.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["id", "level", "mode", "odd", "shape", "tags"]);
        assert!(fields[0].required && !fields[1].required);
        assert_eq!(fields[0].description, "The id.");
        assert_eq!(fields[1].values, ["low", "high"]);
        assert_eq!(fields[2].values, ["fast", "slow_down"]);
        assert!(
            fields[3].values.is_empty(),
            "a pattern that is not plain words lists nothing"
        );
        assert_eq!(
            fields.iter().map(|f| f.kind).collect::<Vec<_>>(),
            ["String", "String", "String", "String", "Json", "StringList"]
        );
        let free = serde_json::json!({"requestBody": {"content": {"application/json": {"schema": {"type": "object", "additionalProperties": {}}}}}});
        assert!(body_fields(&doc, &free).is_empty());
    }

    #[test]
    fn unmatched_operation_is_named() {
        let doc = serde_json::json!({"paths": {"/v1/op/a.b": {"post": {"operationId": "a.b", "responses": {}}}}});
        let file: syn::File = syn::parse_quote!(impl Client {});
        let e = split(&doc, &file).unwrap_err();
        assert!(e.contains("`a.b`"), "{e}");
    }
}
