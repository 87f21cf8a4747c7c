//! The `geopera-dev-server` binary, started as a process: flags with absurd values must
//! not be able to panic it.

use crate::common::raw::WAIT;
use crate::common::{Reply, send};
use serde_json::json;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

/// A running `geopera-dev-server`, killed on drop.
struct Process {
    child: Child,
    url: String,
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts the binary with `args` (plus a free port and a quiet log) and waits, at most
/// [`WAIT`], for the line that gives its URL.
fn start(args: &[&str]) -> Process {
    let mut child = Command::new(env!("CARGO_BIN_EXE_geopera-dev-server"))
        .args(["--addr", "127.0.0.1:0", "--quiet", "--token", "bin-token"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let stdout = child.stdout.take().expect("stdout");
    let (found, url) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(url) = line.strip_prefix("geopera dev server listening on ") {
                let _ = found.send(url.to_owned());
            }
        }
    });
    let url = match url.recv_timeout(WAIT) {
        Ok(url) => url,
        Err(_) => {
            let _ = child.kill();
            let output = child.wait_with_output().expect("output");
            panic!(
                "the server printed no URL; status {:?}, stderr: {}",
                output.status,
                String::from_utf8_lossy(&output.stderr)
            );
        }
    };
    Process { child, url }
}

async fn op(http: &reqwest::Client, server: &Process, op: &str, body: serde_json::Value) -> Reply {
    send(
        http.post(format!("{}/v1/op/{op}", server.url))
            .bearer_auth("bin-token")
            .json(&body),
    )
    .await
}

#[tokio::test]
async fn absurd_flag_values_neither_panic_nor_break_signed_urls() {
    let max = u64::MAX.to_string();
    let server = start(&[
        "--url-ttl-secs",
        &max,
        "--body-timeout-secs",
        &max,
        "--max-connections",
        &max,
    ]);
    let http = crate::common::http_client();
    let initiated = op(
        &http,
        &server,
        "uploads.initiate",
        json!({"project_id": "prj_demo", "total_bytes": 3}),
    )
    .await;
    assert_eq!(initiated.status, 200, "{}", initiated.text);
    let upload_id = initiated.json()["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let signed = op(
        &http,
        &server,
        "uploads.signed_url",
        json!({"upload_id": upload_id, "file_name": "a.tif", "content_type": "image/tiff"}),
    )
    .await;
    assert_eq!(signed.status, 200, "{}", signed.text);
    let signed = signed.json();
    let url = signed["upload_url"].as_str().unwrap_or_default();
    assert!(
        url.contains("&X-Goog-Expires=604800&"),
        "an absurd TTL is capped at the seven days GCS allows: {url}"
    );
    let put = send(
        http.put(signed["upload_url"].as_str().unwrap_or_default())
            .header("content-type", "image/tiff")
            .body("abc"),
    )
    .await;
    assert_eq!(put.status, 200, "{}", put.text);
    let done = op(
        &http,
        &server,
        "uploads.complete",
        json!({"upload_id": upload_id}),
    )
    .await;
    assert_eq!(done.status, 200, "{}", done.text);
}
