//! Pass 2b of code generation: three rewrites of progenitor's client methods that take
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
//! - The statements that build the request go into a closure that `crate::hooks::send`
//!   calls, and `send` runs the same `pre`, `exec` and `post` hooks that the statements it
//!   replaces ran inline:
//!
//!   ```text
//!   let url = ..;                              let info = OperationInfo { .. };
//!   let mut header_map = ..;                   let response = crate::hooks::send(
//!   let mut request = ...build()?;         →       self,
//!   let info = OperationInfo { .. };               &info,
//!   self.pre(&mut request, &info).await?;          || { let url = ..; ..; Ok(...build()?) },
//!   let result = self.exec(request, &info).await;  )
//!   self.post(&result, &info).await?;              .await?;
//!   let response = result?;
//!   ```
//!
//!   Same hooks, same order, same errors, the request built at the same moment (the
//!   first poll). What changes is the size of the method's future: a local that lives
//!   across more than one `.await` keeps its own slot in every state of it, so inline, the
//!   request (264 bytes), the result (136) and the header map (96) stayed reserved while
//!   the body was read. Every call's future is that much smaller, and the fluent call,
//!   which boxes it, allocates that much less.
//!
//! Every async method of `impl Client` must have the `api-version` append and the four
//! hook statements, or the pass fails naming the method: a progenitor that generates
//! something else is noticed here, not by a server.

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
            send_through_hooks(&mut f.block)
                .map_err(|e| format!("method `{}`: {e}", f.sig.ident))?;
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

/// Replaces the request's `let`, the four hook statements and `let response = result?;`
/// with one `let response = crate::hooks::send(self, &info, || { .. }).await?;`, the
/// statements that built the request moving into the closure.
fn send_through_hooks(block: &mut syn::Block) -> Result<(), String> {
    let stmts = std::mem::take(&mut block.stmts);
    let text: Vec<String> = stmts
        .iter()
        .map(|s| quote::quote!(#s).to_string())
        .collect();
    let find = |want: &str| text.iter().position(|t| t == want);
    let pre = find("self . pre (& mut request , & info) . await ? ;");
    let hooks = [
        "let result = self . exec (request , & info) . await ;",
        "self . post (& result , & info) . await ? ;",
        "let response = result ? ;",
    ];
    let Some(pre) = pre.filter(|&p| {
        hooks
            .iter()
            .enumerate()
            .all(|(k, want)| text.get(p + 1 + k).is_some_and(|t| t == want))
    }) else {
        block.stmts = stmts;
        return Err("the pre/exec/post statements are not where progenitor put them".into());
    };
    let is_let = |s: &syn::Stmt, name: &str| match s {
        syn::Stmt::Local(l) => matches!(&l.pat, syn::Pat::Ident(i) if i.ident == name),
        _ => false,
    };
    let (Some(request), Some(info)) = (
        stmts[..pre].iter().position(|s| is_let(s, "request")),
        stmts[..pre].iter().position(|s| is_let(s, "info")),
    ) else {
        block.stmts = stmts;
        return Err("no `let request` or `let info` before the pre hook".into());
    };
    if info != request + 1 || info + 1 != pre {
        block.stmts = stmts;
        return Err("statements between `let request`, `let info` and the pre hook".into());
    }
    let mut stmts = stmts.into_iter();
    let building: Vec<syn::Stmt> = stmts.by_ref().take(request).collect();
    let Some(syn::Stmt::Local(syn::Local {
        init: Some(init), ..
    })) = stmts.next()
    else {
        return Err("`let request` has no initializer".into());
    };
    let request_expr = init.expr;
    let Some(info_stmt) = stmts.next() else {
        return Err("no `let info`".into());
    };
    let rest: Vec<syn::Stmt> = stmts.skip(1 + hooks.len()).collect();
    block.stmts = syn::parse_quote! {
        #info_stmt
        let response = crate::hooks::send(self, &info, || {
            #(#building)*
            Ok(#request_expr)
        })
        .await?;
        #(#rest)*
    };
    Ok(())
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
    let is_api_version = |e: &syn::Expr| match e {
        syn::Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Str(s),
            ..
        }) => s.value() == "api-version",
        _ => false,
    };
    let names_api_version = match call.args.first() {
        Some(syn::Expr::Call(c)) => c.args.len() == 1 && c.args.first().is_some_and(is_api_version),
        _ => false,
    };
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
            #[allow(unused_mut)]
            let mut request = self.client.post(url).headers(header_map).build()?;
            let info = OperationInfo { operation_id: "op" };
            self.pre(&mut request, &info).await?;
            let result = self.exec(request, &info).await;
            self.post(&result, &info).await?;
            let response = result?;
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
        let body = out.split_once("-> Result").unwrap().1;
        let info = body
            .find("let info = OperationInfo")
            .unwrap_or_else(|| panic!("{out}"));
        let send = body
            .find("let response = crate :: hooks :: send (self , & info , | | { let url = format !")
            .unwrap_or_else(|| panic!("{out}"));
        assert!(info < send, "{out}");
        assert!(
            body.contains(
                "Ok (self . client . post (url) . headers (header_map) . build () ?) }) . await ? ;"
            ),
            "the closure returns the request: {out}"
        );
        for gone in [
            "self . pre",
            "self . exec",
            "self . post",
            "let mut request",
        ] {
            assert!(!body.contains(gone), "{gone}: {out}");
        }
    }

    #[test]
    fn a_method_without_the_hook_statements_is_named() {
        let mut file = method(quote! {
            let mut header_map = ::reqwest::header::HeaderMap::with_capacity(2usize);
            header_map.append(
                ::reqwest::header::HeaderName::from_static("api-version"),
                ::reqwest::header::HeaderValue::from_static(Self::api_version()),
            );
            let mut request = self.client.post(url).headers(header_map).build()?;
            let response = self.exec(request, &info).await?;
            match response.status().as_u16() {
                200u16 => ResponseValue::from_response(response).await,
                _ => Err(Error::UnexpectedResponse(response)),
            }
        });
        let e = streamline(&mut file).unwrap_err();
        assert!(e.contains("`op`") && e.contains("pre/exec/post"), "{e}");
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
