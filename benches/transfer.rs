//! Transfer throughput: a file made on disk (1 GiB by default) uploaded with
//! geopera-transfer's streaming PUT (`put_file`) vs `curl -T` to a freshly signed URL of
//! the same session and file name with the same content type, then downloaded with
//! geopera-transfer's `download_descriptor` (a temporary file beside the destination,
//! length-checked, synced and renamed) vs `curl -o` from a freshly signed
//! `items.asset.download` URL. Rounds alternate which tool goes first.
//!
//! `cargo bench --bench transfer` (release). Against an external dev server with
//! `GEOPERA_API_URL` and `GEOPERA_API_TOKEN` (`benches/run.sh` starts a separate release
//! server, so both tools meet the same server), otherwise against one started in this
//! process. Knobs: `GEOPERA_BENCH_BYTES` (file size, default 1 GiB), `GEOPERA_BENCH_TRANSFER_ROUNDS`
//! (transfers per tool and direction, default 5), `GEOPERA_BENCH_DIR` (where the files go,
//! default the temp dir), `GEOPERA_BENCH_OUT` (JSON results file). Needs `curl` on PATH.
//!
//! Every transfer is checked (HTTP status, byte count) and the first download of each tool
//! is compared byte for byte with the original, outside the timed part.

mod support;

use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

use geopera::models::{AssetDownloadInput, UploadInitiate};
use geopera_transfer::DownloadOptions;
use support::{Results, Target, env_string, env_u64, median};

const FILE_NAME: &str = "bench.tif";
const ASSET_KEY: &str = "bench";
const CONTENT_TYPE: &str = "image/tiff";

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Tool {
    Sdk,
    Curl,
    /// Download experiments (`GEOPERA_BENCH_EXPERIMENTS=1`), to find where the time goes:
    /// the library's stream written in place under `block_in_place` (no writer thread),
    SdkInPlace,
    /// the same stream read and dropped (no file at all),
    SdkDiscard,
    /// and curl writing to /dev/null.
    CurlDiscard,
}

fn main() {
    let bytes = env_u64("GEOPERA_BENCH_BYTES", 1 << 30).max(1);
    let rounds = env_u64("GEOPERA_BENCH_TRANSFER_ROUNDS", 5).max(1) as usize;
    let curl_version = Command::new("curl")
        .arg("--version")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .next()
                .unwrap_or("")
                .to_owned()
        })
        .unwrap_or_else(|| panic!("curl is not on PATH; install it (benches/run.sh does)"));
    let target = Target::from_env((bytes * 4).max(10 << 30));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("bench runtime");
    let results = runtime.block_on(run(&target, bytes, rounds, &curl_version));
    drop(runtime);
    drop(target);
    results.write();
}

/// A scratch directory under `GEOPERA_BENCH_DIR` (or the temp dir), removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> Scratch {
        let base = env_string("GEOPERA_BENCH_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(std::env::temp_dir);
        let dir = base.join(format!("geopera-bench-transfer-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("scratch dir");
        Scratch(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn mb_per_s(bytes: u64, secs: f64) -> f64 {
    bytes as f64 / 1e6 / secs
}

async fn run(target: &Target, bytes: u64, rounds: usize, curl_version: &str) -> Results {
    let mut results = Results::default();
    let scratch = Scratch::new();
    let source = scratch.0.join(FILE_NAME);
    let made = Instant::now();
    make_test_file(&source, bytes).expect("making the test file");
    println!(
        "## transfer: {bytes} bytes ({:.2} GiB), {rounds} rounds per tool and direction, files in {}{}\n{curl_version}\n(test file made in {:.1}s)",
        bytes as f64 / (1u64 << 30) as f64,
        scratch.0.display(),
        if target.in_process {
            ", in-process dev server"
        } else {
            ""
        },
        made.elapsed().as_secs_f64()
    );

    let client = target.client();
    let session = client
        .uploads()
        .session(UploadInitiate::for_files(&target.project_id, [bytes]))
        .await
        .expect("uploads.initiate");

    // Uploads: every PUT replaces the same object of the same session.
    let mut up: Vec<(Tool, f64)> = Vec::new();
    for round in 0..rounds {
        for tool in rotate(&[Tool::Sdk, Tool::Curl], round) {
            let signed = session
                .sign(FILE_NAME, CONTENT_TYPE)
                .await
                .expect("uploads.signed_url");
            let url = signed.upload_url.expose().to_owned();
            let started = Instant::now();
            match tool {
                Tool::SdkInPlace | Tool::SdkDiscard | Tool::CurlDiscard => {
                    unreachable!("a download experiment")
                }
                Tool::Sdk => {
                    let sent = geopera_transfer::put_file(
                        &client,
                        &signed.upload_url,
                        &source,
                        CONTENT_TYPE,
                    )
                    .await
                    .unwrap_or_else(|e| panic!("SDK PUT: {e}"));
                    assert_eq!(sent, bytes);
                }
                Tool::Curl => {
                    let args = vec![
                        "-sS".into(),
                        "-f".into(),
                        "-T".into(),
                        source.display().to_string(),
                        "-H".into(),
                        format!("Content-Type: {CONTENT_TYPE}"),
                        // No `Expect: 100-continue` round trip (geopera-transfer sends none).
                        "-H".into(),
                        "Expect:".into(),
                        "-o".into(),
                        "/dev/null".into(),
                        url,
                    ];
                    curl(args).await;
                }
            }
            let secs = started.elapsed().as_secs_f64();
            println!(
                "upload   round {} {:<8} {:8.1} MB/s ({secs:.2}s)",
                round + 1,
                name(tool),
                mb_per_s(bytes, secs)
            );
            up.push((tool, secs));
        }
    }
    let done = session.complete().await.expect("uploads.complete");
    assert_eq!(done["bytes"].as_u64(), Some(bytes), "stored size");
    let item_id = done["item_ids"][0]
        .as_str()
        .expect("an item id from uploads.complete")
        .to_owned();

    // Downloads of the new item's asset, each through a freshly signed URL.
    let mut down: Vec<(Tool, f64)> = Vec::new();
    let target_file = scratch.0.join("download.tif");
    let mut verified = Vec::new();
    let mut tools = vec![Tool::Sdk, Tool::Curl];
    if env_string("GEOPERA_BENCH_EXPERIMENTS").is_some_and(|v| v != "0") {
        tools.extend([Tool::SdkInPlace, Tool::SdkDiscard, Tool::CurlDiscard]);
    }
    for round in 0..rounds {
        for tool in rotate(&tools, round) {
            let descriptor = client
                .items()
                .asset()
                .download(AssetDownloadInput::new(&item_id, ASSET_KEY))
                .await
                .expect("items.asset.download");
            let url = descriptor
                .url()
                .expect("a signed URL in the descriptor")
                .expose()
                .to_owned();
            let _ = std::fs::remove_file(&target_file);
            let started = Instant::now();
            match tool {
                Tool::Sdk => {
                    geopera_transfer::download_descriptor(
                        &client,
                        &descriptor,
                        &target_file,
                        DownloadOptions::default(),
                    )
                    .await
                    .unwrap_or_else(|e| panic!("SDK GET: {e}"));
                }
                Tool::SdkInPlace | Tool::SdkDiscard => {
                    let http = client.client.http_client();
                    let (chunks, largest) = get_experiment(tool, http, &url, &target_file).await;
                    if tool == Tool::SdkDiscard {
                        println!(
                            "         ({chunks} body chunks, mean {:.1} KiB, largest {:.1} KiB)",
                            bytes as f64 / chunks as f64 / 1024.0,
                            largest as f64 / 1024.0
                        );
                    }
                }
                Tool::CurlDiscard => {
                    let args = vec![
                        "-sS".into(),
                        "-f".into(),
                        "-o".into(),
                        "/dev/null".into(),
                        url,
                    ];
                    curl(args).await;
                }
                Tool::Curl => {
                    let args = vec![
                        "-sS".into(),
                        "-f".into(),
                        "-o".into(),
                        target_file.display().to_string(),
                        url,
                    ];
                    curl(args).await;
                }
            }
            let secs = started.elapsed().as_secs_f64();
            let discarded = matches!(tool, Tool::SdkDiscard | Tool::CurlDiscard);
            if !discarded {
                let got = std::fs::metadata(&target_file)
                    .expect("downloaded file")
                    .len();
                assert_eq!(got, bytes, "{} download size", name(tool));
            }
            if !discarded && !verified.contains(&tool) {
                assert!(
                    same_bytes(&source, &target_file).expect("comparing files"),
                    "{} download differs from the original",
                    name(tool)
                );
                verified.push(tool);
            }
            println!(
                "download round {} {:<8} {:8.1} MB/s ({secs:.2}s)",
                round + 1,
                name(tool),
                mb_per_s(bytes, secs)
            );
            down.push((tool, secs));
        }
    }
    let _ = std::fs::remove_file(&target_file);

    println!(
        "\n| direction | geopera-transfer MB/s (median) | curl MB/s (median) | SDK/curl | target ≥ 0.80 |\n|---|---:|---:|---:|---|"
    );
    for (dir, runs) in [("upload", &up), ("download", &down)] {
        let rate = |t: Tool| {
            let v: Vec<f64> = runs
                .iter()
                .filter(|(tool, _)| *tool == t)
                .map(|(_, s)| mb_per_s(bytes, *s))
                .collect();
            (median(&v), v)
        };
        let (sdk, sdk_all) = rate(Tool::Sdk);
        let (curl, curl_all) = rate(Tool::Curl);
        let ratio = sdk / curl;
        println!(
            "| {dir} | {sdk:.0} | {curl:.0} | {ratio:.3} | {} |",
            if ratio >= 0.8 { "met" } else { "MISSED" }
        );
        let r = |v: &[f64]| v.iter().map(|x| x.round()).collect::<Vec<_>>();
        results.set(&format!("{dir}.sdk_mb_s"), sdk.round());
        results.set(&format!("{dir}.curl_mb_s"), curl.round());
        results.set(
            &format!("{dir}.sdk_to_curl"),
            (ratio * 1000.0).round() / 1000.0,
        );
        results.set(&format!("{dir}.sdk_runs_mb_s"), r(&sdk_all));
        results.set(&format!("{dir}.curl_runs_mb_s"), r(&curl_all));
    }
    let curl_down = results_curl_download(&down, bytes);
    for (tool, key, what) in [
        (
            Tool::SdkInPlace,
            "in_place",
            "the library's stream written in place under block_in_place",
        ),
        (
            Tool::SdkDiscard,
            "discard",
            "SDK pool GET, body dropped (no file)",
        ),
        (Tool::CurlDiscard, "curl_discard", "curl -o /dev/null"),
    ] {
        let v: Vec<f64> = down
            .iter()
            .filter(|(t, _)| *t == tool)
            .map(|(_, s)| mb_per_s(bytes, *s))
            .collect();
        if v.is_empty() {
            continue;
        }
        println!(
            "experiment: {what}: {:.0} MB/s median, {:.3} of curl -o file",
            median(&v),
            median(&v) / curl_down
        );
        results.set(
            &format!("download.experiment_{key}_mb_s"),
            median(&v).round(),
        );
    }
    results.set("bytes", bytes);
    results.set("rounds", rounds as u64);
    results.set("curl", curl_version);
    results.set("in_process_server", target.in_process);
    results.set("item_id", item_id);
    results
}

fn results_curl_download(down: &[(Tool, f64)], bytes: u64) -> f64 {
    let v: Vec<f64> = down
        .iter()
        .filter(|(t, _)| *t == Tool::Curl)
        .map(|(_, s)| mb_per_s(bytes, *s))
        .collect();
    median(&v)
}

/// `tools` rotated by `round`, so none always goes first.
fn rotate(tools: &[Tool], round: usize) -> Vec<Tool> {
    (0..tools.len())
        .map(|k| tools[(k + round) % tools.len()])
        .collect()
}

/// The download experiments: the stream `download_descriptor` reads, written with
/// `std::fs` in place under `block_in_place` (no writer thread), or dropped. Returns the
/// number of body chunks and the largest one.
async fn get_experiment(
    tool: Tool,
    http: &reqwest::Client,
    url: &str,
    path: &std::path::Path,
) -> (u64, usize) {
    use futures_util::StreamExt;
    let response = http
        .get(url)
        .send()
        .await
        .and_then(reqwest::Response::error_for_status)
        .unwrap_or_else(|e| panic!("experiment GET: {}", e.without_url()));
    let mut file = (tool == Tool::SdkInPlace).then(|| std::fs::File::create(path).expect("create"));
    let mut body = response.bytes_stream();
    let (mut chunks, mut largest) = (0u64, 0usize);
    while let Some(chunk) = body.next().await {
        let chunk = chunk.unwrap_or_else(|e| panic!("experiment body: {}", e.without_url()));
        chunks += 1;
        largest = largest.max(chunk.len());
        if let Some(f) = file.as_mut() {
            use std::io::Write;
            tokio::task::block_in_place(|| f.write_all(&chunk)).expect("write");
        }
    }
    (chunks, largest)
}

fn name(tool: Tool) -> &'static str {
    match tool {
        Tool::Sdk => "SDK",
        Tool::Curl => "curl",
        Tool::SdkInPlace => "SDK+inpl",
        Tool::SdkDiscard => "SDK-nul",
        Tool::CurlDiscard => "curl-nul",
    }
}

/// Runs curl off the runtime's worker threads; panics (without printing the signed URL) on
/// failure.
async fn curl(args: Vec<String>) {
    let status = tokio::task::spawn_blocking(move || Command::new("curl").args(&args).status())
        .await
        .expect("curl task")
        .expect("running curl");
    assert!(status.success(), "curl failed: {status}");
}

/// Writes a deterministic test file of `len` bytes that starts like a little-endian TIFF.
fn make_test_file(path: &std::path::Path, len: u64) -> std::io::Result<()> {
    use std::io::Write;
    let mut file = std::io::BufWriter::new(std::fs::File::create(path)?);
    let mut block = vec![0u8; 256 * 1024];
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut written = 0u64;
    while written < len {
        for b in block.iter_mut() {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            *b = seed as u8;
        }
        if written == 0 {
            block[..4].copy_from_slice(b"II*\0");
        }
        let n = (len - written).min(block.len() as u64) as usize;
        file.write_all(&block[..n])?;
        written += n as u64;
    }
    file.flush()
}

/// Whether two files hold the same bytes (compared in chunks).
fn same_bytes(a: &std::path::Path, b: &std::path::Path) -> std::io::Result<bool> {
    use std::io::Read;
    let (mut fa, mut fb) = (std::fs::File::open(a)?, std::fs::File::open(b)?);
    if fa.metadata()?.len() != fb.metadata()?.len() {
        return Ok(false);
    }
    let (mut ba, mut bb) = (vec![0u8; 1 << 20], vec![0u8; 1 << 20]);
    loop {
        let n = fa.read(&mut ba)?;
        if n == 0 {
            return Ok(true);
        }
        fb.read_exact(&mut bb[..n])?;
        if ba[..n] != bb[..n] {
            return Ok(false);
        }
    }
}
