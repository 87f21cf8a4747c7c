//! Pass 3 of code generation: one public module per operation under `geopera::ops`.
//!
//! Each module holds the operation's constants (`OPERATION_ID`, `PATH`, `REQUIRED_SCOPE`,
//! ...), its `Input`/`Output` types and the `send`/`send_detailed` functions (plus blocking
//! twins) that call the progenitor client method and map its result into `geopera::Error`.
//! The method's signature is read from progenitor's own output, so the types always agree.

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
            let doc = [text("summary"), text("description")]
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
                doc,
                optional_body: op.get(super::normalize::OPTIONAL_BODY_EXT)
                    == Some(&Value::Bool(true)),
                idempotent: op.get("x-idempotent") == Some(&Value::Bool(true)),
                statuses: op
                    .get("responses")
                    .and_then(Value::as_object)
                    .map(|r| r.keys().cloned().collect())
                    .unwrap_or_default(),
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
    url_literal: String,
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
            let body = quote!(#f).to_string();
            let url_literal = body
                .split("format ! (\"")
                .nth(1)
                .and_then(|rest| rest.split('"').next())
                .unwrap_or_default()
                .to_owned();
            let http_method = [
                "get", "put", "post", "delete", "patch", "head", "options", "trace",
            ]
            .into_iter()
            .find(|m| body.contains(&format!("client . {m} (url)")))
            .unwrap_or_default()
            .to_uppercase();
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

/// A `#[doc = "..."]` attribute.
fn doc_attr(text: &str) -> TokenStream {
    quote!(#[doc = #text])
}

/// Emits `pub mod <op> { ... }` for every operation; fails naming any operation progenitor
/// produced no method for, or any method no operation claims.
pub fn split(doc: &Value, file: &syn::File) -> Result<TokenStream, String> {
    let ops = operations(doc);
    let mut methods = methods(file)?;
    let mut modules = Vec::new();
    for op in &ops {
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
        let m = methods.remove(pos);
        modules.push(module(op, &m)?);
    }
    if let Some(m) = methods.first() {
        return Err(format!(
            "progenitor method `{}` matches no operation of the document",
            m.name
        ));
    }
    Ok(quote!(#(#modules)*))
}

fn module(op: &OperationSpec, m: &Method) -> Result<TokenStream, String> {
    let name = &m.name;
    let id = &op.id;
    let path = &op.path;
    let method = &op.method;
    let idempotent = op.idempotent;
    let scope = match &op.scope {
        Some(s) => quote!(Some(#s)),
        None => quote!(None),
    };
    let output = &m.output;
    let mut params = Vec::new();
    let mut call_args = Vec::new();
    let mut input = None;
    for (arg, ty) in &m.args {
        if arg == "x_api_key" {
            call_args.push(quote!(call.api_key()));
        } else if arg == "body" {
            let syn::Type::Reference(r) = ty else {
                return Err(format!(
                    "operation `{id}`: body argument is not a reference"
                ));
            };
            input = Some((*r.elem).clone());
            params.push(quote!(body: &Input));
            call_args.push(quote!(body));
        } else {
            params.push(quote!(#arg: #ty));
            call_args.push(quote!(#arg));
        }
    }
    let arg_names: Vec<TokenStream> = m
        .args
        .iter()
        .filter(|(a, _)| a != "x_api_key")
        .map(|(a, _)| quote!(#a))
        .collect();
    let input_alias = match &input {
        Some(ty) => {
            let text = if op.optional_body {
                "The request body model. The API accepts this body left out; `Input::default()` sends `{}`."
            } else {
                "The request body model."
            };
            let d = doc_attr(text);
            quote!(#d pub type Input = #ty;)
        }
        None => quote!(),
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
         | Python (`geopera.api.operations.{name}`) | Rust (`geopera::ops::{name}`) |\n|---|---|\n\
         | `asyncio(client=client, body=...)` | [`send`]`(&client, &body).await` |\n\
         | `asyncio_detailed(...)` | [`send_detailed`]`(&client, &body).await` |\n\
         | `sync(...)` | `send_blocking(&client, &body)` (feature `blocking`) |\n\
         | `sync_detailed(...)` | `send_detailed_blocking(&client, &body)` (feature `blocking`) |\n",
        op.statuses.join(", ")
    ));
    let module_doc = quote!(#![doc = #module_doc]);
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

            /// The operation id, as the API and the Python SDK spell it.
            pub const OPERATION_ID: &str = #id;
            /// The HTTP method.
            pub const METHOD: &str = #method;
            /// The path, relative to the client's base URL.
            pub const PATH: &str = #path;
            /// The token scope the operation requires (`x-required-scope`).
            pub const REQUIRED_SCOPE: Option<&str> = #scope;
            /// Whether repeating the call is safe (`x-idempotent`); the retry policy only
            /// retries error responses of idempotent operations.
            pub const IDEMPOTENT: bool = #idempotent;
            #input_alias
            /// The success body model.
            pub type Output = #output;

            pub(crate) const META: crate::call::OperationMeta = crate::call::OperationMeta {
                id: OPERATION_ID,
                idempotent: IDEMPOTENT,
            };

            #[doc = #op_doc]
            pub async fn send(client: &AuthenticatedClient, #(#params),*) -> Result<Output, Error> {
                send_detailed(client, #(#arg_names),*).await.map(Response::into_body)
            }

            #[doc = #detailed_doc]
            pub async fn send_detailed(client: &AuthenticatedClient, #(#params),*) -> Result<Response<Output>, Error> {
                let call = client.call(&META);
                loop {
                    let result = call.client().#name(#(#call_args),*).await;
                    if let Some(outcome) = call.settle(result).await {
                        return outcome;
                    }
                }
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
    })
}

/// The operation table the dynamic `invoke` uses: id, method, path, idempotent.
pub fn table(doc: &Value) -> TokenStream {
    let rows = operations(doc).into_iter().map(|op| {
        let (id, method, path, idem) = (op.id, op.method, op.path, op.idempotent);
        quote!((#id, #method, #path, #idem))
    });
    quote! {
        /// Every operation of the document: (operation id, method, path, idempotent).
        pub(crate) const OPERATIONS: &[(&str, &str, &str, bool)] = &[#(#rows),*];
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
    fn unmatched_operation_is_named() {
        let doc = serde_json::json!({"paths": {"/v1/op/a.b": {"post": {"operationId": "a.b", "responses": {}}}}});
        let file: syn::File = syn::parse_quote!(impl Client {});
        let e = split(&doc, &file).unwrap_err();
        assert!(e.contains("`a.b`"), "{e}");
    }
}
