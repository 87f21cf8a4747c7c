//! The `geopera` binary, run as a user runs it, against an in-process dev server: its
//! output on a pipe, its exit codes, uploads and downloads, a cancelled upload.

mod commands;
mod support;
#[cfg(unix)]
mod terminal;
mod transfers;
