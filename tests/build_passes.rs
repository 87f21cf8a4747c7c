//! Runs the unit tests of the build script's passes (`build/normalize.rs`,
//! `build/split_ops.rs`, `build/streamline.rs`), which `cargo test` would not otherwise
//! compile as tests.

#[allow(dead_code)]
#[path = "../build/normalize.rs"]
mod normalize;
#[allow(dead_code)]
#[path = "../build/split_ops.rs"]
mod split_ops;
#[allow(dead_code)]
#[path = "../build/streamline.rs"]
mod streamline;
