//! The 402 branch: quota is enforced at `uploads.initiate`. `.detailed()` gives the full
//! response on success; on failure the error carries the status to branch on.
//!
//! On the dev server we ask for more than its quota to see the 402.

mod common;

use common::BoxError;
use geopera::models::UploadInitiate;

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let env = common::connect().await?;
    let too_much = match &env.server {
        Some(server) => server.state().quota_bytes() + 1,
        None => u64::MAX / 2,
    };
    let request = UploadInitiate::new(&env.project_id)
        .signed_url()
        .total_bytes(too_much);
    match env.client.uploads().initiate(request).detailed().await {
        Ok(response) => {
            println!(
                "reserved {too_much} bytes (status {}): session {}",
                response.status_code(),
                response.id
            );
            env.client
                .uploads()
                .fail(
                    geopera::models::UploadFailInput::new(&response.id, "demo only")
                        .step("initiate"),
                )
                .await?;
        }
        Err(e) if e.status_code() == Some(402) => {
            println!("storage quota exceeded, top up before uploading: {e}");
        }
        Err(e) => return Err(e.into()),
    }
    Ok(())
}
