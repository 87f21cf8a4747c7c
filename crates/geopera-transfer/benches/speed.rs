//! `geopera-transfer` against `curl`, side by side in one run, as ratios (BENCHMARKS.md,
//! "Transfers with geopera-transfer"):
//!
//! * download of a large object: parallel ranged (the defaults) and single-stream
//!   (`connections(1)`) vs one `curl -o`, uncapped and with the dev server capping each
//!   connection at `GEOPERA_BENCH_CAP` bytes/s (default 50 MB/s);
//! * single-stream upload (`upload_file`) vs `curl -T`;
//! * peak RSS of the library's process for each of those (VmHWM);
//! * resume: a download whose connection is cut at half way, and the bytes the server
//!   read for it against the object's size;
//! * many files: `GEOPERA_BENCH_FILES` files of 64 KiB in one session (`upload_files`,
//!   bounded concurrency) vs the seed's sequential pattern with the official Python
//!   package (`GEOPERA_BENCH_PYTHON`: a Python with `geopera` 2.1.0 installed; skipped
//!   without it).
//!
//! `cargo bench -p geopera-transfer --bench speed`. A dev server runs in this process on a
//! runtime of its own; every library transfer runs in a child process (this program,
//! re-run with `child …`), like `curl`, so both are timed the same way (wall time around
//! the process) and the library's peak memory is its own. Knobs: `GEOPERA_BENCH_BYTES`
//! (default 1 GiB), `GEOPERA_BENCH_CAPPED_BYTES` (default 256 MiB), `GEOPERA_BENCH_SPEED_ROUNDS`
//! (default 3), `GEOPERA_BENCH_DIR` (default /dev/shm when it exists, else the temp dir),
//! `GEOPERA_BENCH_SWEEP=1` (also every connection count and part size of the sweep in
//! BENCHMARKS.md), `GEOPERA_BENCH_SPEED_ONLY=uncapped` (only the uncapped upload and
//! downloads), `GEOPERA_BENCH_BASELINE=PATH` (this bench's binary built from another
//! commit: its library runs beside this one in every upload and uncapped download round,
//! so two versions compare in one run). Each "× curl" is the median over rounds of the
//! ratio within a round (the tools of a round run back to back), with its range, so a
//! machine whose speed drifts between rounds moves both sides of each ratio. Needs `curl`
//! on PATH. Only loopback addresses are contacted.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use geopera::Geopera;
use geopera::models::{AssetDownloadInput, UploadInitiate};
use geopera_dev_server::{DevConfig, DevServer, Fault, FaultKind, FaultTarget};
use geopera_transfer::{DownloadOptions, UploadOptions, download_asset, upload_file, upload_files};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const PROJECT: &str = "prj_bench";
const CONTENT_TYPE: &str = "image/tiff";

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("child") {
        child(&args[1..]);
        return;
    }
    parent();
}

// ------------------------------------------------------------------ the child process

/// `child download ITEM ASSET DEST CONNECTIONS` / `child upload FILE` / `child many DIR`,
/// against `GEOPERA_API_URL` with `GEOPERA_API_TOKEN`; prints one line of results
/// (`key=value` pairs) and its peak RSS.
fn child(args: &[String]) {
    // Named apart from the dev server's threads, for profilers.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .thread_name("geopera-child")
        .enable_all()
        .build()
        .expect("runtime");
    let url = std::env::var("GEOPERA_API_URL").expect("GEOPERA_API_URL");
    let token = std::env::var("GEOPERA_API_TOKEN").expect("GEOPERA_API_TOKEN");
    let client = Geopera::builder()
        .base_url(url)
        .token(token)
        .build()
        .expect("client");
    let arg = |i: usize| args.get(i).cloned().unwrap_or_default();
    let line = runtime.block_on(async {
        match arg(0).as_str() {
            "download" => {
                let connections: usize = arg(4).parse().expect("connections");
                let mut options = DownloadOptions::default().overwrite(true);
                if connections > 0 {
                    options = options.connections(connections);
                }
                if let Ok(part) = arg(5).parse::<u64>() {
                    options = options.part_size(part);
                }
                let got = download_asset(&client, &arg(1), &arg(2), arg(3), options)
                    .await
                    .expect("download");
                format!("bytes={} resumes={}", got.bytes, got.resumes)
            }
            "upload" => {
                let up = upload_file(&client, PROJECT, arg(1), UploadOptions::default())
                    .await
                    .expect("upload");
                let file = &up.files[0];
                format!(
                    "bytes={} item={} asset={}",
                    file.bytes,
                    file.item_id.clone().unwrap_or_default(),
                    file.asset_key
                )
            }
            "many" => {
                let mut paths: Vec<PathBuf> = std::fs::read_dir(arg(1))
                    .expect("dir")
                    .map(|e| e.expect("entry").path())
                    .collect();
                paths.sort();
                let started = Instant::now();
                let up = upload_files(&client, PROJECT, &paths, UploadOptions::default())
                    .await
                    .expect("upload_files");
                format!(
                    "files={} secs={:.4}",
                    up.files.len(),
                    started.elapsed().as_secs_f64()
                )
            }
            other => panic!("unknown child mode {other:?}"),
        }
    });
    println!("{line} hwm_kb={}", peak_rss_kb());
}

/// This process's peak resident set size (VmHWM), in KiB.
fn peak_rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

// ------------------------------------------------------------------ the parent

struct Bench {
    server: DevServer,
    runtime: tokio::runtime::Runtime,
    client: Geopera,
    dir: PathBuf,
    rounds: usize,
    /// Another build of this bench, whose library is compared with this one's.
    baseline: Option<PathBuf>,
}

/// One library variant of a download: its label, the connections (0: the default), the
/// part size, and the bench binary whose library runs it (`None`: this one).
type Variant = (String, usize, Option<u64>, Option<PathBuf>);

/// A tool's results: label, per round its wall seconds and CPU seconds, largest peak RSS
/// (MiB).
type Timed = (String, Vec<[f64; 2]>, f64);

/// The CPU seconds (user + system) of this process's waited-for children so far, from
/// `/proc/self/stat` (`cutime` + `cstime`, in clock ticks of 1/100 s).
fn children_cpu() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // The fields after the command name, which is in parentheses: `cutime` is the 16th
    // field of the line, the 14th after the name.
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(13) + ticks(14)) / 100.0
}

/// A measured run: wall seconds and the child's output.
struct Run {
    secs: f64,
    /// CPU seconds the child used.
    cpu: f64,
    out: String,
}

impl Run {
    fn field(&self, key: &str) -> Option<&str> {
        self.out
            .split_whitespace()
            .find_map(|kv| kv.strip_prefix(key)?.strip_prefix('='))
    }
    fn hwm_mib(&self) -> f64 {
        self.field("hwm_kb")
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
            / 1024.0
    }
}

fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

fn mb_s(bytes: u64, secs: f64) -> f64 {
    bytes as f64 / 1e6 / secs
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

impl Bench {
    /// Runs this program as a child against `base_url` (the server's unless given).
    fn child(&self, base_url: Option<&str>, args: &[&str]) -> Run {
        self.child_of(None, base_url, args)
    }

    /// Runs `exe` (this program unless given) as a child against `base_url`.
    fn child_of(&self, exe: Option<&Path>, base_url: Option<&str>, args: &[&str]) -> Run {
        let exe = exe.map_or_else(
            || std::env::current_exe().expect("current exe"),
            Path::to_path_buf,
        );
        let cpu = children_cpu();
        let started = Instant::now();
        let out = Command::new(exe)
            .arg("child")
            .args(args)
            .env(
                "GEOPERA_API_URL",
                base_url.unwrap_or(self.server.base_url()),
            )
            .env("GEOPERA_API_TOKEN", self.server.token())
            .output()
            .expect("child runs");
        let secs = started.elapsed().as_secs_f64();
        let cpu = children_cpu() - cpu;
        assert!(
            out.status.success(),
            "child {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Run {
            secs,
            cpu,
            out: String::from_utf8_lossy(&out.stdout).trim().to_owned(),
        }
    }

    /// Runs curl; its wall and CPU seconds.
    fn curl(&self, args: &[&str]) -> [f64; 2] {
        let cpu = children_cpu();
        let started = Instant::now();
        let status = Command::new("curl")
            .args(["-sS", "-f"])
            .args(args)
            .status()
            .expect("curl runs");
        let secs = started.elapsed().as_secs_f64();
        assert!(status.success(), "curl {args:?} failed");
        [secs, children_cpu() - cpu]
    }

    fn signed_get(&self, item: &str, asset: &str) -> String {
        let descriptor = self
            .runtime
            .block_on(async {
                self.client
                    .items()
                    .asset()
                    .download(AssetDownloadInput::new(item, asset))
                    .await
            })
            .expect("items.asset.download");
        descriptor.url().expect("url").expose().to_owned()
    }

    /// Uploads `file` with the library (untimed set-up); returns (item, asset).
    fn upload(&self, file: &Path) -> (String, String) {
        let run = self.child(None, &["upload", &file.display().to_string()]);
        (
            run.field("item").expect("item").to_owned(),
            run.field("asset").expect("asset").to_owned(),
        )
    }

    /// Downloads of `(item, asset)` of `bytes`: curl and each variant of the library,
    /// rounds rotating the order. Returns per label the seconds of each round and the
    /// largest peak RSS (MiB).
    fn downloads(
        &self,
        item: &str,
        asset: &str,
        bytes: u64,
        variants: &[Variant],
        rounds: usize,
    ) -> Vec<Timed> {
        let dest = self.dir.join("download.tif");
        let mut labels: Vec<String> = vec!["curl -o".into()];
        labels.extend(variants.iter().map(|v| v.0.clone()));
        let mut secs: Vec<Vec<[f64; 2]>> = vec![Vec::new(); labels.len()];
        let mut rss = vec![0f64; labels.len()];
        for round in 0..rounds {
            for k in 0..labels.len() {
                let i = (k + round) % labels.len();
                let _ = std::fs::remove_file(&dest);
                if i == 0 {
                    let url = self.signed_get(item, asset);
                    secs[0].push(self.curl(&["-o", &dest.display().to_string(), &url]));
                } else {
                    let (_, connections, part, exe) = &variants[i - 1];
                    let part = part.map(|p| p.to_string()).unwrap_or_default();
                    let run = self.child_of(
                        exe.as_deref(),
                        None,
                        &[
                            "download",
                            item,
                            asset,
                            &dest.display().to_string(),
                            &connections.to_string(),
                            &part,
                        ],
                    );
                    assert_eq!(run.field("bytes"), Some(bytes.to_string().as_str()));
                    rss[i] = rss[i].max(run.hwm_mib());
                    secs[i].push([run.secs, run.cpu]);
                }
                let got = std::fs::metadata(&dest).map(|m| m.len()).unwrap_or(0);
                assert_eq!(got, bytes, "{} wrote the whole object", labels[i]);
            }
        }
        let _ = std::fs::remove_file(&dest);
        labels
            .into_iter()
            .zip(secs)
            .zip(rss)
            .map(|((label, s), r)| (label, s, r))
            .collect()
    }
}

/// The table of one measure: per tool the median MB/s, the median (and range) over
/// rounds of curl's wall seconds over the tool's in the same round, and the same for CPU
/// seconds (what the tool costs the machine per byte: on two cores the server and the
/// client share them); `results[0]` is curl.
fn print_downloads(title: &str, bytes: u64, results: &[Timed]) {
    let curl = &results[0].1;
    println!("\n### {title} (load {})\n", load());
    println!(
        "| tool | MB/s (median) | × curl (median of rounds) | range | CPU s (median) | CPU: curl's / the tool's | peak RSS |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for (label, runs, rss) in results {
        let rss = if *rss > 0.0 {
            format!("{rss:.1} MiB")
        } else {
            "—".into()
        };
        let ratio = |k: usize| -> Vec<f64> {
            curl.iter()
                .zip(runs)
                .map(|(c, t)| c[k] / t[k].max(0.01))
                .collect()
        };
        let wall = ratio(0);
        let low = wall.iter().copied().fold(f64::INFINITY, f64::min);
        let high = wall.iter().copied().fold(0.0, f64::max);
        let column = |k: usize| median(runs.iter().map(|r| r[k]).collect());
        println!(
            "| {label} | {:.0} | {:.2} | {low:.2}–{high:.2} | {:.2} | {:.2} | {rss} |",
            mb_s(bytes, column(0)),
            median(wall),
            column(1),
            median(ratio(1)),
        );
    }
}

/// A file of `len` bytes that do not repeat.
fn make_file(path: &Path, len: u64) {
    use std::io::Write;
    let mut out =
        std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(path).expect("create"));
    let mut x = 0x9E37_79B9_7F4A_7C15u64 ^ len;
    let mut left = len;
    let mut block = vec![0u8; 1 << 20];
    while left > 0 {
        for word in block.chunks_exact_mut(8) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            word.copy_from_slice(&x.to_le_bytes());
        }
        let n = left.min(block.len() as u64) as usize;
        out.write_all(&block[..n]).expect("write");
        left -= n as u64;
    }
    out.flush().expect("flush");
}

fn parent() {
    let bytes = env_u64("GEOPERA_BENCH_BYTES", 1 << 30).max(1 << 20);
    let capped_bytes = env_u64("GEOPERA_BENCH_CAPPED_BYTES", 256 << 20).max(1 << 20);
    let cap = env_u64("GEOPERA_BENCH_CAP", 50_000_000);
    let rounds = env_u64("GEOPERA_BENCH_SPEED_ROUNDS", 3).max(1) as usize;
    let files = env_u64("GEOPERA_BENCH_FILES", 1000).max(1) as usize;
    let base = std::env::var("GEOPERA_BENCH_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| {
            let shm = PathBuf::from("/dev/shm");
            if shm.is_dir() {
                shm
            } else {
                std::env::temp_dir()
            }
        });
    let dir = base.join(format!("geopera-bench-speed-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("data")).expect("bench dir");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("server runtime");
    let server = runtime
        .block_on(DevServer::start_with(
            DevConfig::default()
                .quota_bytes(1 << 50)
                .max_object_bytes(1 << 40)
                .data_dir(dir.join("data")),
        ))
        .expect("dev server");
    server.state().add_project(PROJECT);
    let client = server.client_builder().build().expect("client");
    let bench = Bench {
        server,
        runtime,
        client,
        dir: dir.clone(),
        rounds,
        baseline: std::env::var_os("GEOPERA_BENCH_BASELINE").map(PathBuf::from),
    };
    let curl_version = Command::new("curl")
        .arg("--version")
        .output()
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .next()
                .unwrap_or("")
                .to_owned()
        })
        .expect("curl is not on PATH; install it (benches/run.sh does)");
    println!(
        "## geopera-transfer vs curl: {bytes} bytes, {rounds} rounds, files in {}\n{curl_version}\nload at start: {}",
        dir.display(),
        load()
    );

    let big = dir.join("big.tif");
    make_file(&big, bytes);
    upload_bench(&bench, &big, bytes);
    // Every round stored another copy of the file; the objects stay in memory (tmpfs)
    // and would press on the page allocation every later transfer needs.
    let objects = bench.server.state().data_dir().join("objects");
    let _ = std::fs::remove_dir_all(&objects);
    std::fs::create_dir_all(&objects).expect("objects dir");
    let (item, asset) = bench.upload(&big);

    // Uncapped: parallel (defaults) and one stream vs curl.
    let mut variants: Vec<Variant> = vec![
        ("geopera-transfer (defaults)".to_owned(), 0, None, None),
        ("geopera-transfer, connections(1)".to_owned(), 1, None, None),
    ];
    if let Some(old) = &bench.baseline {
        variants.push(("baseline (defaults)".to_owned(), 0, None, Some(old.clone())));
        variants.push((
            "baseline, connections(1)".to_owned(),
            1,
            None,
            Some(old.clone()),
        ));
    }
    let uncapped = bench.downloads(&item, &asset, bytes, &variants, bench.rounds);
    print_downloads(
        &format!("download, {bytes} bytes, no cap"),
        bytes,
        &uncapped,
    );
    if std::env::var("GEOPERA_BENCH_SPEED_ONLY").is_ok_and(|v| v == "uncapped") {
        drop(bench);
        let _ = std::fs::remove_dir_all(&dir);
        return;
    }

    // Capped: every storage GET at `cap` bytes/s, as an object store caps a connection.
    let small = dir.join("capped.tif");
    make_file(&small, capped_bytes);
    let (capped_item, capped_asset) = bench.upload(&small);
    let _ = std::fs::remove_file(&small);
    let state = bench.server.state();
    state.inject(
        FaultTarget::ObjectGet,
        Fault::new(u32::MAX, FaultKind::Bandwidth { bytes_per_sec: cap }),
    );
    let capped = bench.downloads(
        &capped_item,
        &capped_asset,
        capped_bytes,
        &variants[..1],
        bench.rounds,
    );
    print_downloads(
        &format!("download, {capped_bytes} bytes, each connection capped at {cap} B/s"),
        capped_bytes,
        &capped,
    );
    if std::env::var("GEOPERA_BENCH_SWEEP").is_ok_and(|v| v == "1") {
        sweep(&bench, &capped_item, &capped_asset, capped_bytes, "capped");
        state.clear_faults();
        sweep(&bench, &item, &asset, bytes, "uncapped");
    }
    state.clear_faults();

    resume_bench(&bench, &item, &asset, bytes);
    many_files_bench(&bench, files);

    drop(bench);
    let _ = std::fs::remove_dir_all(&dir);
}

fn sweep(bench: &Bench, item: &str, asset: &str, bytes: u64, what: &str) {
    let mut variants = Vec::new();
    for connections in [2usize, 4, 8, 16] {
        for part in [8u64 << 20, 16 << 20, 32 << 20] {
            variants.push((
                format!("connections({connections}), part_size({} MiB)", part >> 20),
                connections,
                Some(part),
                None,
            ));
        }
    }
    let results = bench.downloads(item, asset, bytes, &variants, 1);
    print_downloads(&format!("sweep, {what}, {bytes} bytes"), bytes, &results);
}

/// Single-stream uploads of `file`: the library (`upload_file`: initiate, sign, PUT,
/// complete) vs `curl -T` to a freshly signed URL of one session (sign and PUT only).
fn upload_bench(bench: &Bench, file: &Path, bytes: u64) {
    let session = bench
        .runtime
        .block_on(async {
            bench
                .client
                .uploads()
                .session(UploadInitiate::for_files(PROJECT, [bytes]))
                .await
        })
        .expect("uploads.initiate");
    let mut tools: Vec<(String, Option<PathBuf>)> =
        vec![("geopera-transfer upload_file".into(), None)];
    if let Some(old) = &bench.baseline {
        tools.push(("baseline upload_file".into(), Some(old.clone())));
    }
    let mut results: Vec<Timed> = vec![("curl -T".into(), Vec::new(), 0.0)];
    results.extend(
        tools
            .iter()
            .map(|(label, _)| (label.clone(), Vec::new(), 0.0)),
    );
    for round in 0..bench.rounds {
        for k in 0..results.len() {
            let i = (k + round) % results.len();
            if i == 0 {
                let signed = bench
                    .runtime
                    .block_on(async { session.sign("curl.tif", CONTENT_TYPE).await })
                    .expect("uploads.signed_url");
                let url = signed.upload_url.expose().to_owned();
                let secs = bench.curl(&[
                    "-T",
                    &file.display().to_string(),
                    "-H",
                    "Content-Type: image/tiff",
                    "-H",
                    "Expect:",
                    "-o",
                    "/dev/null",
                    &url,
                ]);
                results[0].1.push(secs);
            } else {
                let run = bench.child_of(
                    tools[i - 1].1.as_deref(),
                    None,
                    &["upload", &file.display().to_string()],
                );
                assert_eq!(run.field("bytes"), Some(bytes.to_string().as_str()));
                results[i].2 = results[i].2.max(run.hwm_mib());
                results[i].1.push([run.secs, run.cpu]);
            }
        }
    }
    // Released (uploads.fail) in the background, on the runtime.
    bench.runtime.block_on(async { drop(session) });
    print_downloads(
        &format!("upload, {bytes} bytes, one stream"),
        bytes,
        &results,
    );
}

/// A TCP proxy to `upstream` that cuts the connection carrying the `cut_at`-th byte sent
/// towards the client, once, right after that byte.
async fn cut_proxy(upstream: SocketAddr, cut_at: u64) -> (SocketAddr, Arc<AtomicBool>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let sent = Arc::new(AtomicU64::new(0));
    let cut = Arc::new(AtomicBool::new(false));
    let done = cut.clone();
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let (sent, cut) = (sent.clone(), cut.clone());
            tokio::spawn(async move {
                let Ok(server) = TcpStream::connect(upstream).await else {
                    return;
                };
                let (mut client_read, mut client_write) = client.into_split();
                let (mut server_read, mut server_write) = server.into_split();
                let upward = tokio::io::copy(&mut client_read, &mut server_write);
                let downward = async {
                    let mut buf = vec![0u8; 64 * 1024];
                    loop {
                        let n = match server_read.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => n,
                        };
                        let before = sent.fetch_add(n as u64, Ordering::SeqCst);
                        if before < cut_at
                            && before + n as u64 >= cut_at
                            && !cut.swap(true, Ordering::SeqCst)
                        {
                            let keep = (cut_at - before) as usize;
                            let _ = client_write.write_all(&buf[..keep]).await;
                            return;
                        }
                        if client_write.write_all(&buf[..n]).await.is_err() {
                            return;
                        }
                    }
                };
                tokio::select! {
                    _ = upward => {}
                    () = downward => {}
                }
            });
        }
    });
    (addr, done)
}

/// A download whose connection is cut at half way (by a proxy in front of the server):
/// the bytes the server read for it, over the object's size.
fn resume_bench(bench: &Bench, item: &str, asset: &str, bytes: u64) {
    let upstream: SocketAddr = bench
        .server
        .base_url()
        .trim_start_matches("http://")
        .parse()
        .expect("server address");
    let state = bench.server.state();
    println!(
        "\n### resume: {bytes} bytes, the connection cut at half way (load {})\n",
        load()
    );
    println!("| variant | resumes | bytes the server read | extra over the size |");
    println!("|---|---:|---:|---:|");
    for (label, connections) in [("defaults (parallel)", "0"), ("connections(1)", "1")] {
        let before = state.egress().len();
        let (proxy, cut) = bench.runtime.block_on(cut_proxy(upstream, bytes / 2));
        let dest = bench.dir.join("resumed.tif");
        let run = bench.child(
            Some(&format!("http://{proxy}")),
            &[
                "download",
                item,
                asset,
                &dest.display().to_string(),
                connections,
                "",
            ],
        );
        assert!(cut.load(Ordering::SeqCst), "the proxy cut a connection");
        assert_eq!(std::fs::metadata(&dest).map(|m| m.len()).ok(), Some(bytes));
        let _ = std::fs::remove_file(&dest);
        // The cut response is filed when the server notices the closed connection.
        let mut read = 0u64;
        for _ in 0..50 {
            let now: u64 = state.egress()[before..].iter().map(|e| e.bytes).sum();
            if now == read && now >= bytes {
                break;
            }
            read = now;
            std::thread::sleep(Duration::from_millis(100));
        }
        println!(
            "| {label} | {} | {read} | {:.2}% |",
            run.field("resumes").unwrap_or("?"),
            (read as f64 - bytes as f64) / bytes as f64 * 100.0
        );
    }
}

/// `files` files of 64 KiB in one session: the library's `upload_files` vs the seed's
/// sequential pattern with the official Python package.
fn many_files_bench(bench: &Bench, files: usize) {
    let dir = bench.dir.join("many");
    std::fs::create_dir_all(&dir).expect("dir");
    for i in 0..files {
        make_file(&dir.join(format!("tile_{i:05}.tif")), 64 * 1024);
    }
    let python = std::env::var("GEOPERA_BENCH_PYTHON").ok();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../benches/python_many_files.py");
    let mut rust = Vec::new();
    let mut py = Vec::new();
    for round in 0..bench.rounds {
        for k in 0..2 {
            if (k + round) % 2 == 0 {
                let run = bench.child(None, &["many", &dir.display().to_string()]);
                assert_eq!(run.field("files"), Some(files.to_string().as_str()));
                rust.push(
                    run.field("secs")
                        .and_then(|s| s.parse::<f64>().ok())
                        .expect("secs"),
                );
            } else if let Some(python) = &python {
                let out = Command::new(python)
                    .arg(&script)
                    .args([
                        "--url",
                        bench.server.base_url(),
                        "--token",
                        bench.server.token(),
                    ])
                    .args(["--project", PROJECT, "--dir", &dir.display().to_string()])
                    .output()
                    .expect("python runs");
                assert!(
                    out.status.success(),
                    "{}",
                    String::from_utf8_lossy(&out.stderr)
                );
                let text = String::from_utf8_lossy(&out.stdout);
                let secs = text
                    .split_whitespace()
                    .find_map(|kv| kv.strip_prefix("secs="))
                    .and_then(|s| s.parse::<f64>().ok())
                    .expect("secs from the Python script");
                py.push(secs);
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    let rust = files as f64 / median(rust);
    println!(
        "\n### many files: {files} × 64 KiB in one session (load {})\n",
        load()
    );
    println!("| tool | files/s (median) | × Python |");
    println!("|---|---:|---:|");
    if py.is_empty() {
        println!(
            "| geopera-transfer upload_files (concurrency {}) | {rust:.0} | — |",
            geopera_transfer::DEFAULT_CONCURRENCY
        );
        println!("\n(GEOPERA_BENCH_PYTHON unset: no Python comparison)");
    } else {
        let py = files as f64 / median(py);
        println!("| Python geopera 2.1.0, the seed's sequential loop | {py:.0} | 1.00 |");
        println!(
            "| geopera-transfer upload_files (concurrency {}) | {rust:.0} | {:.2} |",
            geopera_transfer::DEFAULT_CONCURRENCY,
            rust / py
        );
    }
}
