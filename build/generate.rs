//! Pass 2 of code generation: progenitor settings, token generation and pretty-printing.
//!
//! progenitor can still panic on a shape [`super::normalize`] does not know; that panic is
//! caught here and reported as an error naming the spec, never as a raw build panic.

use progenitor::{GenerationSettings, Generator, InterfaceStyle, TagStyle};
use quote::quote;

/// The generated client and models as a parsed syntax tree, ready for splitting and printing.
pub fn generate(spec: serde_json::Value) -> Result<syn::File, String> {
    let spec: openapiv3::OpenAPI = serde_json::from_value(spec)
        .map_err(|e| format!("the normalised document is not OpenAPI 3.0: {e}"))?;
    let outcome = std::panic::catch_unwind(move || {
        let mut settings = GenerationSettings::new();
        settings
            .with_interface(InterfaceStyle::Positional)
            .with_tag(TagStyle::Merged)
            .with_inner_type(quote!(crate::client::Settings))
            .with_derive("PartialEq")
            // Signed URLs must not print their signature: a hand-written type with a
            // redacting Debug replaces the generated one.
            .with_replacement(
                "SignedUrlOutput",
                "crate::signed_url::SignedUrlOutput",
                std::iter::empty(),
            )
            // Nor must a download descriptor, which `normalize` names for this purpose.
            .with_replacement(
                super::normalize::DESCRIPTOR,
                "crate::signed_url::Descriptor",
                std::iter::empty(),
            )
            // The outcome of `uploads.complete`: JSON with typed accessors for its keys.
            .with_replacement(
                super::normalize::COMPLETION,
                "crate::completion::Completion",
                std::iter::empty(),
            )
            // A file name that fits any string, checked when decoded from JSON, so the
            // model's constructor needs no `Result` (see `crate::models::FileName`).
            .with_replacement(
                "SignedUrlInputFileName",
                "crate::models::FileName",
                std::iter::empty(),
            );
        let mut generator = Generator::new(&settings);
        generator.generate_tokens(&spec).map_err(|e| e.to_string())
    });
    let tokens = match outcome {
        Ok(result) => result.map_err(|e| format!("progenitor rejected the document: {e}"))?,
        Err(panic) => {
            let what = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "unknown panic".into());
            return Err(format!(
                "progenitor panicked on a shape build/normalize.rs does not rewrite: {what}"
            ));
        }
    };
    syn::parse2(tokens).map_err(|e| format!("progenitor produced tokens that do not parse: {e}"))
}
