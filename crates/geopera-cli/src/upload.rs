//! `geopera upload PATH... --project ID`: every file in one upload session through
//! `geopera_transfer::upload_files`, with progress, and the item ids at the end.
//!
//! Ctrl-C drops the upload; the session's guard then fails the session in the
//! background, and this command waits for that (`Geopera::settle_abandoned`) before it
//! exits with 130, so the quota reservation is released, not left to expire.

use geopera_transfer::{UploadOptions, UploadResult};
use serde_json::json;

use crate::cli::{Global, UploadArgs};
use crate::exit::{Exit, Failure};
use crate::output::{self, Output};
use crate::progress::{Board, Verbs};
use crate::signal::interrupted;

/// Runs `geopera upload`.
pub async fn run(global: &Global, args: &UploadArgs, out: &Output) -> Result<(), Failure> {
    let client = crate::connect::connect(&global.auth).await?;
    let names = args
        .paths
        .iter()
        .map(|p| {
            p.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default()
        })
        .collect();
    let board = Board::new(
        names,
        Verbs {
            started: "uploading",
            finished: "uploaded",
        },
    );
    let mut options = UploadOptions::default()
        .concurrency(args.concurrency)
        .progress(board.sink(0));
    if let Some(item) = &args.item {
        options = options.target_item(item, args.asset_key.clone());
    }
    let upload = geopera_transfer::upload_files(&client, &args.project, &args.paths, options);
    let result = tokio::select! {
        biased;
        _ = interrupted() => None,
        result = upload => Some(result),
    };
    board.close();
    let Some(result) = result else {
        output::note("interrupted: failing the upload session to release its reservation");
        tokio::select! {
            biased;
            _ = interrupted() => {
                return Err(Failure::new(Exit::Interrupted, "interrupted again: the session may keep its reservation until it expires"));
            }
            () = client.settle_abandoned() => {}
        }
        return Err(Failure::new(
            Exit::Interrupted,
            "interrupted; the upload session was failed and its reservation released",
        ));
    };
    let result = result?;
    report(&result, out);
    Ok(())
}

/// Prints what the upload became: JSON, or a line per file and the item ids.
fn report(result: &UploadResult, out: &Output) {
    let mut item_ids: Vec<&str> = result
        .files
        .iter()
        .filter_map(|f| f.item_id.as_deref())
        .collect();
    item_ids.dedup();
    if item_ids.is_empty() {
        item_ids = result.completion.item_ids();
    }
    if out.json {
        let files: Vec<_> = result
            .files
            .iter()
            .map(|f| {
                json!({
                    "path": f.path.display().to_string(),
                    "file_name": f.file_name,
                    "bytes": f.bytes,
                    "content_type": f.content_type,
                    "item_id": f.item_id,
                    "asset_key": f.asset_key,
                })
            })
            .collect();
        out.value(&json!({
            "upload_id": result.upload_id,
            "item_ids": item_ids,
            "files": files,
        }));
        return;
    }
    let rows: Vec<[String; 3]> = result
        .files
        .iter()
        .map(|f| {
            [
                f.file_name.clone(),
                f.item_id.clone().unwrap_or_else(|| "-".into()),
                f.asset_key.clone(),
            ]
        })
        .collect();
    let rows: Vec<[&str; 3]> = rows
        .iter()
        .map(|[a, b, c]| [a.as_str(), b.as_str(), c.as_str()])
        .collect();
    out.table(["FILE", "ITEM", "ASSET"], &rows);
    output::good(&format!("upload {} complete", result.upload_id));
    output::out(&format!("{}\n", item_ids.join("\n")));
}
