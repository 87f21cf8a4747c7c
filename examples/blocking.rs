//! The `blocking` feature: the same calls from a plain `fn main`, no async runtime of ours:
//! `geopera::blocking::Geopera` (the fluent client, as Python's) and the `send_blocking`
//! twins of the `ops` modules. (The dev server itself needs a runtime, so
//! `common::connect_blocking` starts one on a background thread only to host it.)

mod common;

use common::BoxError;
use geopera::models::{UploadFailInput, UploadInitiate};
use geopera::ops;

fn main() -> Result<(), BoxError> {
    let env = common::connect_blocking()?;
    let client = &env.client;
    // The fluent client: Python's `client.uploads.initiate({...})`, ended by `.send()`.
    let session = client
        .uploads()
        .initiate(
            UploadInitiate::new(&env.project_id)
                .signed_url()
                .total_bytes(1024),
        )
        .send()?;
    // The generated layer's blocking twin: Python's `uploads_fail.sync_detailed(...)`.
    let released = ops::uploads_fail::send_detailed_blocking(
        &client.client,
        &UploadFailInput::new(&session.id, "blocking example").step("demo"),
    )?;
    println!(
        "initiated {} and released it (status {}) without writing any async code",
        session.id,
        released.status()
    );
    Ok(())
}
