//! `geopera download item ITEM ASSET [-o PATH]` and
//! `geopera download clip JOB (--mosaic TYPE | --all) [-o DIR]`, through
//! `geopera-transfer`: each file is streamed into a temporary file beside its
//! destination, resumed when the connection breaks, checked for length and renamed into
//! place, so a destination holds the whole object or is left as it was. An existing file
//! is replaced only with `--force`. Several mosaics download in parallel.

use std::path::{Path, PathBuf};

use geopera::Geopera;
use geopera_transfer::{Download, DownloadOptions};
use serde_json::{Value, json};

use crate::cli::{DownloadCommand, Global};
use crate::exit::{Exit, Failure};
use crate::output::Output;
use crate::progress::{Board, Verbs};
use crate::signal::interrupted;

const VERBS: Verbs = Verbs {
    started: "downloading",
    finished: "downloaded",
};

/// Runs `geopera download ...`.
pub async fn run(global: &Global, command: &DownloadCommand, out: &Output) -> Result<(), Failure> {
    let client = crate::connect::connect(&global.auth).await?;
    let downloads = match command {
        DownloadCommand::Item {
            item,
            asset,
            output,
            force,
            connections,
        } => {
            let dest = output.clone().unwrap_or_else(|| PathBuf::from(asset));
            refuse_existing(&dest, *force)?;
            let board = Board::new(vec![display_name(&dest)], VERBS);
            let options = DownloadOptions::default()
                .overwrite(*force)
                .connections(*connections)
                .progress(board.sink(0));
            let download = geopera_transfer::download_asset(&client, item, asset, &dest, options);
            let result = tokio::select! {
                biased;
                _ = interrupted() => None,
                result = download => Some(result),
            };
            board.close();
            match result {
                Some(result) => vec![result?],
                None => return Err(interrupted_failure()),
            }
        }
        DownloadCommand::Clip {
            job,
            mosaic,
            all,
            output,
            force,
            connections,
        } => {
            let options = DownloadOptions::default()
                .overwrite(*force)
                .connections(*connections);
            let wanted = Wanted {
                mosaic: mosaic.as_deref(),
                all: *all,
            };
            clip(&client, job, wanted, output, *force, options).await?
        }
    };
    report(&downloads, out);
    Ok(())
}

/// Downloads one mosaic or all of a clip job's into `dir`, each under the file name
/// `clip.job.downloads` gives it.
/// Which mosaics of a clip job to download.
struct Wanted<'a> {
    mosaic: Option<&'a str>,
    all: bool,
}

async fn clip(
    client: &Geopera,
    job: &str,
    Wanted { mosaic, all }: Wanted<'_>,
    dir: &Path,
    force: bool,
    options: DownloadOptions,
) -> Result<Vec<Download>, Failure> {
    let listing = client
        .clip()
        .job()
        .downloads(json!({ "job_id": job }))
        .await?;
    let available: Vec<(String, Option<String>)> = listing
        .expose_json()
        .get("downloads")
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(|d| {
                    let kind = d.get("mosaic_type")?.as_str()?.to_owned();
                    let file = d
                        .get("file_name")
                        .and_then(Value::as_str)
                        .map(str::to_owned);
                    Some((kind, file))
                })
                .collect()
        })
        .unwrap_or_default();
    let wanted: Vec<(String, PathBuf)> = match (all, mosaic) {
        (true, _) => available
            .iter()
            .map(|(kind, file)| {
                (
                    kind.clone(),
                    dir.join(file_name(job, kind, file.as_deref())),
                )
            })
            .collect(),
        (false, Some(kind)) => {
            let file = available
                .iter()
                .find(|(k, _)| k == kind)
                .and_then(|(_, f)| f.as_deref());
            vec![(kind.to_owned(), dir.join(file_name(job, kind, file)))]
        }
        (false, None) => return Err(Failure::usage("give --mosaic TYPE or --all")),
    };
    if wanted.is_empty() {
        return Err(Failure::new(
            Exit::NotFound,
            format!("clip.job.downloads: clip job {job} has no downloads"),
        ));
    }
    for (_, dest) in &wanted {
        refuse_existing(dest, force)?;
    }
    std::fs::create_dir_all(dir)
        .map_err(|e| Failure::new(Exit::LocalFile, format!("creating {}: {e}", dir.display())))?;
    let board = Board::new(wanted.iter().map(|(_, d)| display_name(d)).collect(), VERBS);
    let mut tasks = tokio::task::JoinSet::new();
    for (index, (kind, dest)) in wanted.into_iter().enumerate() {
        let client = client.clone();
        let job = job.to_owned();
        let options = options.clone().progress(board.sink(index));
        tasks.spawn(async move {
            let result =
                geopera_transfer::download_clip(&client, &job, &kind, &dest, options).await;
            (index, result)
        });
    }
    let mut done = Vec::new();
    let mut first_error = None;
    let mut stopped = false;
    loop {
        let joined = tokio::select! {
            biased;
            _ = interrupted(), if !stopped => {
                // Aborted tasks drop their downloads, which remove their temporary files;
                // the loop goes on until every task is gone.
                tasks.abort_all();
                stopped = true;
                continue;
            }
            joined = tasks.join_next() => joined,
        };
        let Some(joined) = joined else { break };
        match joined {
            Ok((index, Ok(download))) => done.push((index, download)),
            Ok((_, Err(e))) => {
                first_error.get_or_insert(Failure::from(e));
            }
            Err(e) if e.is_cancelled() => {}
            Err(e) => {
                first_error.get_or_insert(Failure::new(
                    Exit::Failure,
                    format!("a download task failed: {e}"),
                ));
            }
        }
    }
    board.close();
    if stopped {
        return Err(interrupted_failure());
    }
    if let Some(failure) = first_error {
        return Err(failure);
    }
    done.sort_by_key(|(index, _)| *index);
    Ok(done.into_iter().map(|(_, d)| d).collect())
}

fn interrupted_failure() -> Failure {
    Failure::new(
        Exit::Interrupted,
        "interrupted; no partial file was left at the destination",
    )
}

/// The file a mosaic is saved as: the server's file name when it is a plain name (no
/// directory part that could write elsewhere), else `JOB_TYPE`.
fn file_name(job: &str, kind: &str, server: Option<&str>) -> String {
    match server {
        Some(name)
            if !name.is_empty()
                && name != "."
                && name != ".."
                && Path::new(name).file_name() == Some(std::ffi::OsStr::new(name))
                && !name.contains(['/', '\\']) =>
        {
            name.to_owned()
        }
        _ => format!("{job}_{kind}"),
    }
}

fn display_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

/// Refuses, before anything is fetched, a destination that exists without `--force`. (The
/// transfer checks again, so a file created meanwhile is not replaced either.)
fn refuse_existing(dest: &Path, force: bool) -> Result<(), Failure> {
    if !force && dest.exists() {
        return Err(Failure::new(
            Exit::LocalFile,
            format!("{} exists; pass --force to replace it", dest.display()),
        ));
    }
    Ok(())
}

fn report(downloads: &[Download], out: &Output) {
    if out.json {
        let files: Vec<Value> = downloads
            .iter()
            .map(|d| {
                json!({
                    "path": d.path.display().to_string(),
                    "bytes": d.bytes,
                    "resumes": d.resumes,
                    "restarts": d.restarts,
                })
            })
            .collect();
        out.value(&json!({ "files": files }));
        return;
    }
    let rows: Vec<[String; 2]> = downloads
        .iter()
        .map(|d| [d.path.display().to_string(), d.bytes.to_string()])
        .collect();
    let rows: Vec<[&str; 2]> = rows.iter().map(|[a, b]| [a.as_str(), b.as_str()]).collect();
    out.table(["FILE", "BYTES"], &rows);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_file_names_cannot_leave_the_directory() {
        assert_eq!(file_name("j", "visual", Some("clip.tif")), "clip.tif");
        for bad in ["../x.tif", "/etc/passwd", "a/b.tif", "..", "", "a\\b"] {
            assert_eq!(file_name("j", "visual", Some(bad)), "j_visual", "{bad}");
        }
        assert_eq!(file_name("j", "ndvi", None), "j_ndvi");
    }
}
