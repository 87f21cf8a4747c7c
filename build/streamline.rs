//! Pass 2b of code generation: two rewrites of progenitor's client methods that take
//! per-call work out of every request without changing what is sent or returned.
//!
//! - `ResponseValue::from_response(response)` becomes `crate::response::decode(response)`:
//!   progenitor's version clones the response headers (two allocations and a reference
//!   count per header) and drops the originals with the response; `decode` moves them.
//! - The `api-version` header moves to the `pre` hook (`src/hooks.rs`). progenitor builds a
//!   separate `HeaderMap` for it in every call (`HeaderMap::with_capacity(2)`: two
//!   allocations) and merges it into the request; the `append` of `api-version` is
//!   removed and the map starts empty (`HeaderMap::new()`, which allocates only if an
//!   `x-api-key` is added to it).
//!
//! Every async method of `impl Client` must contain the `api-version` append, or the pass
//! fails naming the method: a progenitor that generates something else is noticed here,
//! not by a server.

use syn::visit_mut::VisitMut;

/// Applies both rewrites to every async method of progenitor's `impl Client`.
pub fn streamline(file: &mut syn::File) -> Result<(), String> {
    for item in &mut file.items {
        let syn::Item::Impl(imp) = item else { continue };
        if imp.trait_.is_some()
            || !matches!(&*imp.self_ty, syn::Type::Path(p) if p.path.is_ident("Client"))
        {
            continue;
        }
        for item in &mut imp.items {
            let syn::ImplItem::Fn(f) = item else { continue };
            if f.sig.asyncness.is_none() {
                continue;
            }
            let mut pass = Rewrite::default();
            pass.visit_block_mut(&mut f.block);
            if pass.api_version_appends != 1 {
                return Err(format!(
                    "method `{}`: expected one `header_map.append(..\"api-version\"..)`, found {}",
                    f.sig.ident, pass.api_version_appends
                ));
            }
        }
    }
    Ok(())
}

#[derive(Default)]
struct Rewrite {
    api_version_appends: usize,
}

impl VisitMut for Rewrite {
    fn visit_block_mut(&mut self, block: &mut syn::Block) {
        let before = block.stmts.len();
        block.stmts.retain(|s| !is_api_version_append(s));
        self.api_version_appends += before - block.stmts.len();
        syn::visit_mut::visit_block_mut(self, block);
    }

    fn visit_expr_call_mut(&mut self, call: &mut syn::ExprCall) {
        if let syn::Expr::Path(p) = &mut *call.func {
            if path_ends_with(&p.path, "ResponseValue", "from_response") {
                p.path = syn::parse_quote!(crate::response::decode);
            } else if path_ends_with(&p.path, "HeaderMap", "with_capacity") {
                p.path = syn::parse_quote!(::reqwest::header::HeaderMap::new);
                call.args.clear();
            }
        }
        syn::visit_mut::visit_expr_call_mut(self, call);
    }
}

fn path_ends_with(path: &syn::Path, ty: &str, function: &str) -> bool {
    let n = path.segments.len();
    n >= 2 && path.segments[n - 2].ident == ty && path.segments[n - 1].ident == function
}

/// `header_map.append(<...>::from_static("api-version"), <...>);`
fn is_api_version_append(stmt: &syn::Stmt) -> bool {
    let syn::Stmt::Expr(syn::Expr::MethodCall(call), Some(_)) = stmt else {
        return false;
    };
    let on_header_map =
        matches!(&*call.receiver, syn::Expr::Path(p) if p.path.is_ident("header_map"));
    let names_api_version = call.args.first().is_some_and(|name| {
        matches!(name, syn::Expr::Call(c) if c.args.len() == 1
            && matches!(c.args.first(), Some(syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Str(s), .. })) if s.value() == "api-version"))
    });
    on_header_map && call.method == "append" && names_api_version
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    fn method(body: proc_macro2::TokenStream) -> syn::File {
        syn::parse2(quote! {
            impl Client {
                pub async fn op<'a>(&'a self, x_api_key: Option<&'a str>) -> Result<ResponseValue<types::Out>, Error<()>> {
                    #body
                }
            }
        })
        .unwrap()
    }

    #[test]
    fn rewrites_progenitors_method() {
        let mut file = method(quote! {
            let url = format!("{}/v1/op/a.b", self.baseurl,);
            let mut header_map = ::reqwest::header::HeaderMap::with_capacity(2usize);
            header_map
                .append(
                    ::reqwest::header::HeaderName::from_static("api-version"),
                    ::reqwest::header::HeaderValue::from_static(Self::api_version()),
                );
            if let Some(value) = x_api_key {
                header_map.append("x-api-key", value.to_string().try_into()?);
            }
            let mut request = self.client.post(url).headers(header_map).build()?;
            let response = self.exec(request, &info).await?;
            match response.status().as_u16() {
                200u16 => ResponseValue::from_response(response).await,
                _ => Err(Error::UnexpectedResponse(response)),
            }
        });
        streamline(&mut file).unwrap();
        let out = quote!(#file).to_string();
        assert!(!out.contains("\"api-version\""), "{out}");
        assert!(!out.contains("with_capacity"), "{out}");
        assert!(
            out.contains(":: reqwest :: header :: HeaderMap :: new ()"),
            "{out}"
        );
        assert!(
            out.contains("header_map . append (\"x-api-key\""),
            "the x-api-key append stays: {out}"
        );
        assert!(!out.contains("from_response"), "{out}");
        assert!(
            out.contains("crate :: response :: decode (response) . await"),
            "{out}"
        );
    }

    #[test]
    fn a_method_without_the_api_version_append_is_named() {
        let mut file = method(quote! {
            let mut header_map = ::reqwest::header::HeaderMap::with_capacity(1usize);
            Err(Error::Custom(String::new()))
        });
        let e = streamline(&mut file).unwrap_err();
        assert!(e.contains("`op`") && e.contains("found 0"), "{e}");
    }
}
