//! Docs only: the Python SDK's *Uploads & downloads* page ported to Rust, example by
//! example, each one compiled and run against the dev server by `cargo test`.
#![doc = include_str!("porting.md")]
