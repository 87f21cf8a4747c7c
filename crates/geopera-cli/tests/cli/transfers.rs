//! `upload` and `download` on a pipe: one plain line per event, results as JSON, no
//! overwriting without `--force`, and Ctrl-C releasing an upload's reservation.

use std::process::Stdio;
use std::time::Duration;

use geopera_dev_server::{Fault, FaultKind, FaultTarget, SessionStatus};
use tokio::io::{AsyncBufReadExt, BufReader};

use crate::support::{TempDir, geopera, run_in, server};

fn bytes(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn upload_then_download_as_plain_lines() {
    let server = server().await;
    let dir = TempDir::new();
    let a = bytes(700_000, 1);
    let b = bytes(3_000, 2);
    std::fs::write(dir.path().join("scene.tif"), &a).unwrap();
    std::fs::write(dir.path().join("mask.bin"), &b).unwrap();

    let up = run_in(
        &server,
        dir.path(),
        &["upload", "scene.tif", "mask.bin", "--project", "prj_demo"],
        None,
    )
    .await;
    assert_eq!(up.code, Some(0), "{up:?}");
    let result = up.json();
    let item_ids: Vec<String> = result["item_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(item_ids.len(), 2, "{result}");
    let upload_id = result["upload_id"].as_str().unwrap();
    let session = server.state().session(upload_id).unwrap();
    assert_eq!(session.status, SessionStatus::Completed);
    assert_eq!(session.item_ids, item_ids);
    // Plain lines, no bar drawing and no colour on a pipe.
    assert!(
        !up.stderr.contains('\r') && !up.stderr.contains('\u{1b}'),
        "{up:?}"
    );
    let lines: Vec<&str> = up.stderr.lines().collect();
    assert!(
        lines.iter().any(|l| l.starts_with("uploaded scene.tif")),
        "{up:?}"
    );
    assert!(
        lines.iter().any(|l| l.starts_with("uploaded mask.bin")),
        "{up:?}"
    );

    let scene = result["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["file_name"] == "scene.tif")
        .unwrap()
        .clone();
    let item = scene["item_id"].as_str().unwrap();
    let asset = scene["asset_key"].as_str().unwrap();
    assert_eq!(asset, "scene");
    let down = run_in(
        &server,
        dir.path(),
        &["download", "item", item, asset, "-o", "copy.tif"],
        None,
    )
    .await;
    assert_eq!(down.code, Some(0), "{down:?}");
    assert_eq!(std::fs::read(dir.path().join("copy.tif")).unwrap(), a);
    assert_eq!(down.json()["files"][0]["bytes"], 700_000);
    assert!(
        down.stderr
            .lines()
            .any(|l| l.starts_with("downloaded copy.tif")),
        "{down:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_download_never_replaces_a_file_without_force() {
    let server = server().await;
    let dir = TempDir::new();
    let dest = dir.path().join("visual.tif");
    std::fs::write(&dest, b"keep me").unwrap();

    let refused = run_in(
        &server,
        dir.path(),
        &["download", "item", "itm_demo", "visual", "-o", "visual.tif"],
        None,
    )
    .await;
    assert_eq!(refused.code, Some(9), "{refused:?}");
    assert!(refused.stderr.contains("--force"), "{refused:?}");
    assert_eq!(std::fs::read(&dest).unwrap(), b"keep me");
    assert_eq!(
        server.state().calls("items.asset.download"),
        0,
        "refused before asking"
    );

    let forced = run_in(
        &server,
        dir.path(),
        &[
            "download",
            "item",
            "itm_demo",
            "visual",
            "-o",
            "visual.tif",
            "--force",
            "--connections",
            "1",
        ],
        None,
    )
    .await;
    assert_eq!(forced.code, Some(0), "{forced:?}");
    let got = std::fs::read(&dest).unwrap();
    let no_connection = run_in(
        &server,
        dir.path(),
        &[
            "download",
            "item",
            "itm_demo",
            "visual",
            "--connections",
            "0",
        ],
        None,
    )
    .await;
    assert_eq!(no_connection.code, Some(2), "{no_connection:?}");
    assert!(got.starts_with(b"II*\0"), "the demo TIFF replaced the file");

    // A clip mosaic lands in the directory under the job's file name, once.
    let clip = run_in(
        &server,
        dir.path(),
        &["download", "clip", "clip_demo", "--all", "-o", "."],
        None,
    )
    .await;
    assert_eq!(clip.code, Some(0), "{clip:?}");
    assert_eq!(
        std::fs::read(dir.path().join("clip_demo_visual.tif")).unwrap(),
        got
    );
    let nested = run_in(
        &server,
        dir.path(),
        &[
            "download",
            "clip",
            "clip_demo",
            "--mosaic",
            "visual",
            "-o",
            "clips/2026",
        ],
        None,
    )
    .await;
    assert_eq!(nested.code, Some(0), "the directory is created: {nested:?}");
    assert_eq!(
        std::fs::read(dir.path().join("clips/2026/clip_demo_visual.tif")).unwrap(),
        got
    );
    let again = run_in(
        &server,
        dir.path(),
        &["download", "clip", "clip_demo", "--mosaic", "visual"],
        None,
    )
    .await;
    assert_eq!(again.code, Some(9), "{again:?}");
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread")]
async fn ctrl_c_during_an_upload_releases_its_reservation() {
    let server = server().await;
    let dir = TempDir::new();
    std::fs::write(dir.path().join("big.tif"), bytes(2_000_000, 3)).unwrap();
    // The PUT hangs, so the upload is surely in flight when the signal arrives.
    server.state().inject(
        FaultTarget::ObjectPut,
        Fault::new(1, FaultKind::Delay(Duration::from_secs(120))),
    );
    let mut child = geopera(&server)
        .args(["upload", "big.tif", "--project", "prj_demo"])
        .current_dir(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap()).lines();
    // The first progress line comes once the session is reserved and bytes are moving.
    loop {
        let line = stderr
            .next_line()
            .await
            .unwrap()
            .expect("the upload ended before it started");
        if line.starts_with("uploading big.tif") {
            break;
        }
    }
    assert_eq!(server.state().reserved_bytes(), 2_000_000);
    let pid = child.id().unwrap().to_string();
    let kill = std::process::Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .unwrap();
    assert!(kill.success());
    let status = child.wait().await.unwrap();
    let mut rest = Vec::new();
    while let Some(line) = stderr.next_line().await.unwrap() {
        rest.push(line);
    }
    assert_eq!(status.code(), Some(130), "{rest:?}");
    // The process waited for uploads.fail before exiting: nothing is reserved any more.
    assert_eq!(server.state().reserved_bytes(), 0, "{rest:?}");
    let sessions = server.state().sessions();
    assert_eq!(sessions.len(), 1);
    assert_eq!(sessions[0].status, SessionStatus::Failed);
    assert!(rest.iter().any(|l| l.contains("interrupted")), "{rest:?}");
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread")]
async fn ctrl_c_during_a_download_leaves_no_partial_file() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    // Storage that sends the first kilobyte of a megabyte, then holds the connection:
    // the download is surely mid-way when the signal arrives.
    let storage = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let storage_url = format!("http://{}", storage.local_addr().unwrap());
    let (hold, held) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        let (mut socket, _) = storage.accept().await.unwrap();
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            socket.read_exact(&mut byte).await.unwrap();
            head.push(byte[0]);
        }
        socket
            .write_all(
                b"HTTP/1.1 200 OK\r\ncontent-type: image/tiff\r\ncontent-length: 1048576\r\n\r\n",
            )
            .await
            .unwrap();
        socket.write_all(&[1u8; 1024]).await.unwrap();
        let _ = held.await;
    });
    let server = geopera_dev_server::DevServer::start_with(
        geopera_dev_server::DevConfig::default().public_url(storage_url),
    )
    .await
    .unwrap();
    server.state().seed_demo().unwrap();
    let dir = TempDir::new();
    let mut child = geopera(&server)
        .args(["download", "item", "itm_demo", "visual", "-o", "visual.tif"])
        .current_dir(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap()).lines();
    loop {
        let line = stderr
            .next_line()
            .await
            .unwrap()
            .expect("the download ended before it started");
        if line.starts_with("downloading visual.tif") {
            break;
        }
    }
    // Mid-way, the bytes so far sit in a temporary file beside the destination.
    let during: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(during.len(), 1, "{during:?}");
    let pid = child.id().unwrap().to_string();
    assert!(
        std::process::Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .unwrap()
            .success()
    );
    let status = child.wait().await.unwrap();
    let mut rest = Vec::new();
    while let Some(line) = stderr.next_line().await.unwrap() {
        rest.push(line);
    }
    assert_eq!(status.code(), Some(130), "{rest:?}");
    let after: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert!(
        after.is_empty(),
        "nothing is left behind: {after:?} {rest:?}"
    );
    drop(hold);
}

#[tokio::test(flavor = "multi_thread")]
async fn upload_adds_a_file_to_an_existing_item_under_the_asset_key_given() {
    let server = server().await;
    let dir = TempDir::new();
    std::fs::write(dir.path().join("ndvi_2026.tif"), bytes(5_000, 4)).unwrap();
    let up = run_in(
        &server,
        dir.path(),
        &[
            "upload",
            "ndvi_2026.tif",
            "--project",
            "prj_demo",
            "--item",
            "itm_demo",
            "--asset-key",
            "ndvi",
            "--concurrency",
            "1",
        ],
        None,
    )
    .await;
    assert_eq!(up.code, Some(0), "{up:?}");
    let result = up.json();
    assert_eq!(
        result["item_ids"],
        serde_json::json!(["itm_demo"]),
        "{result}"
    );
    assert_eq!(result["files"][0]["asset_key"], "ndvi");
    let item = server.state().item("itm_demo").unwrap();
    let asset = item.assets.iter().find(|a| a.key == "ndvi").unwrap();
    assert_eq!(asset.size, 5_000);

    let refused = run_in(
        &server,
        dir.path(),
        &[
            "upload",
            "ndvi_2026.tif",
            "--project",
            "prj_demo",
            "--asset-key",
            "x",
        ],
        None,
    )
    .await;
    assert_eq!(
        refused.code,
        Some(2),
        "--asset-key needs --item: {refused:?}"
    );
    let zero = run_in(
        &server,
        dir.path(),
        &[
            "upload",
            "ndvi_2026.tif",
            "--project",
            "prj_demo",
            "--concurrency",
            "0",
        ],
        None,
    )
    .await;
    assert_eq!(zero.code, Some(2), "{zero:?}");
    let missing = run_in(
        &server,
        dir.path(),
        &["upload", "nope.tif", "--project", "prj_demo"],
        None,
    )
    .await;
    assert_eq!(missing.code, Some(9), "{missing:?}");
    assert_eq!(server.state().reserved_bytes(), 0);
}
