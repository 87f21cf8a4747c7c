//! Per-call overhead of the SDK: `uploads.progress` through `geopera::ops` and the fluent
//! client vs a hand-written minimal reqwest POST of the same JSON with the same headers on
//! the same connection pool (`client.client.http_client()`), sequential, interleaved in
//! rounds so drift hits every variant alike; then calls per second at 1, 16 and 128
//! concurrent tasks (the SDK's `ops` and fluent calls, and raw for reference).
//!
//! `cargo bench --bench calls` (release). Against an external dev server with
//! `GEOPERA_API_URL` and `GEOPERA_API_TOKEN` (`benches/run.sh` does that), otherwise against
//! one started in this process. Knobs:
//! - `GEOPERA_BENCH_CALLS`: sequential calls per variant (default 6000);
//! - `GEOPERA_BENCH_ROUNDS`: interleaved rounds they are split into (default 60);
//! - `GEOPERA_BENCH_SECS`: seconds per concurrency level (default 3; 0 skips that part);
//! - `GEOPERA_BENCH_CONC`: variants measured at each concurrency level (default
//!   `ops,fluent,raw`;
//!   any of `raw,raw_timeout,ops,ops_no_retry,ops_no_timeout,ops_boxed,fluent,fluent_json`);
//! - `GEOPERA_BENCH_ONLY`: `<variant>` runs `GEOPERA_BENCH_CALLS` sequential calls of one
//!   variant and nothing else, `<variant>@<tasks>` runs it at that concurrency for
//!   `GEOPERA_BENCH_SECS` (for `perf record`);
//! - `GEOPERA_BENCH_OUT`: the JSON results file.
//!
//! Before timing, one call of each kind goes to a local capture socket and the two request
//! heads are compared, so the comparison is known to be like for like. Besides wall time
//! the bench reports the client process's CPU time per call (`/proc/self/task/*/schedstat`),
//! which the server and the rest of the machine do not blur.

mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use geopera::models::{UploadFailInput, UploadInitiate, UploadOutput, UploadProgressInput};
use geopera::{Geopera, RetryPolicy};
use reqwest::header::{ACCEPT, AUTHORIZATION, HeaderName, HeaderValue, USER_AGENT};
use support::{Results, Target, env_string, env_u64, median, quantile};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The headers the SDK sends on every API call (besides `content-type`, from `.json`).
struct RawHeaders {
    authorization: HeaderValue,
    api_version: HeaderValue,
}

/// Everything one call of any variant needs.
struct Ctx {
    sdk: Geopera,
    sdk_no_retry: geopera::AuthenticatedClient,
    sdk_no_timeout: geopera::AuthenticatedClient,
    http: reqwest::Client,
    url: String,
    headers: RawHeaders,
    input: UploadProgressInput,
    json: serde_json::Value,
}

impl Ctx {
    /// A fresh client (its own pool, on the current runtime) and an upload session.
    async fn new(base_url: &str, token: &str, project_id: &str) -> Ctx {
        let sdk = Geopera::builder()
            .base_url(base_url)
            .token(token)
            .build()
            .expect("building the SDK client");
        let session = sdk
            .uploads()
            .initiate(UploadInitiate::for_files(project_id, [1]))
            .await
            .expect("uploads.initiate");
        let input = UploadProgressInput::new(&session.id, "uploading", 1 << 20);
        let mut authorization =
            HeaderValue::from_str(&format!("Bearer {token}")).expect("token as a header");
        authorization.set_sensitive(true);
        let sdk_no_timeout = geopera::AuthenticatedClient::builder()
            .base_url(base_url)
            .token(token)
            .http_client(sdk.client.http_client().clone())
            .timeout(None)
            .build()
            .expect("building the SDK client without a timeout");
        Ctx {
            sdk_no_retry: sdk.client.with_retry_policy(RetryPolicy::disabled()),
            sdk_no_timeout,
            http: sdk.client.http_client().clone(),
            url: format!("{base_url}/v1/op/uploads.progress"),
            headers: RawHeaders {
                authorization,
                api_version: HeaderValue::from_static("2.1.0"),
            },
            json: serde_json::to_value(&input).expect("input as JSON"),
            input,
            sdk,
        }
    }

    /// Fails the session, releasing its (one-byte) reservation.
    async fn close(&self) {
        let fail = UploadFailInput::new(&self.input.upload_id, "benchmark done").step("bench");
        let _ = self.sdk.uploads().fail(fail).await;
    }
}

const API_VERSION: HeaderName = HeaderName::from_static("api-version");

/// The hand-written call: serialize, POST with the SDK's headers, check the status, read
/// and decode the body into the same model the SDK returns.
async fn raw_call(
    http: &reqwest::Client,
    url: &str,
    h: &RawHeaders,
    input: &UploadProgressInput,
    timeout: Option<Duration>,
) -> UploadOutput {
    let mut request = http.post(url);
    if let Some(t) = timeout {
        request = request.timeout(t);
    }
    let response = request
        .header(ACCEPT, HeaderValue::from_static("application/json"))
        .header(USER_AGENT, HeaderValue::from_static(geopera::USER_AGENT))
        .header(API_VERSION, h.api_version.clone())
        .header(AUTHORIZATION, h.authorization.clone())
        .json(input)
        .send()
        .await
        .expect("raw POST");
    assert!(
        response.status().is_success(),
        "raw POST: {}",
        response.status()
    );
    let bytes = response.bytes().await.expect("raw body");
    serde_json::from_slice(&bytes).expect("raw decode")
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Variant {
    Raw,
    RawTimeout,
    Ops,
    OpsNoRetry,
    Fluent,
    FluentJson,
    OpsBoxed,
    OpsNoTimeout,
}

impl Variant {
    /// Every variant, in table order.
    const ALL: [Variant; 8] = [
        Variant::Raw,
        Variant::Ops,
        Variant::Fluent,
        Variant::FluentJson,
        Variant::OpsNoRetry,
        Variant::RawTimeout,
        Variant::OpsBoxed,
        Variant::OpsNoTimeout,
    ];

    fn key(self) -> &'static str {
        match self {
            Variant::Raw => "raw",
            Variant::RawTimeout => "raw_timeout",
            Variant::Ops => "ops",
            Variant::OpsNoRetry => "ops_no_retry",
            Variant::Fluent => "fluent",
            Variant::FluentJson => "fluent_json",
            Variant::OpsBoxed => "ops_boxed",
            Variant::OpsNoTimeout => "ops_no_timeout",
        }
    }

    fn parse(key: &str) -> Variant {
        *Variant::ALL
            .iter()
            .find(|v| v.key() == key.trim())
            .unwrap_or_else(|| panic!("no bench variant {key:?}"))
    }

    fn label(self) -> &'static str {
        match self {
            Variant::Raw => "raw reqwest POST (same pool, same headers, typed decode)",
            Variant::RawTimeout => "raw reqwest POST + 60 s per-request timeout (as the SDK sets)",
            Variant::Ops => "SDK `ops::uploads_progress::send`",
            Variant::OpsNoRetry => "SDK `ops` with `RetryPolicy::disabled()` (one attempt)",
            Variant::Fluent => "SDK fluent `client.uploads().progress(model)`",
            Variant::FluentJson => "SDK fluent `client.uploads().progress(json!)`",
            Variant::OpsBoxed => "SDK `ops` future, boxed as the fluent call boxes it",
            Variant::OpsNoTimeout => "SDK `ops` on a client with `timeout(None)` (same pool)",
        }
    }

    async fn call(self, ctx: &Ctx) {
        let id = match self {
            Variant::Raw => {
                raw_call(&ctx.http, &ctx.url, &ctx.headers, &ctx.input, None)
                    .await
                    .id
            }
            Variant::RawTimeout => {
                raw_call(
                    &ctx.http,
                    &ctx.url,
                    &ctx.headers,
                    &ctx.input,
                    Some(Duration::from_secs(60)),
                )
                .await
                .id
            }
            Variant::Ops => {
                geopera::ops::uploads_progress::send(&ctx.sdk.client, &ctx.input)
                    .await
                    .expect("ops call")
                    .id
            }
            Variant::OpsNoRetry => {
                geopera::ops::uploads_progress::send(&ctx.sdk_no_retry, &ctx.input)
                    .await
                    .expect("ops call, retries off")
                    .id
            }
            Variant::Fluent => {
                ctx.sdk
                    .uploads()
                    .progress(ctx.input.clone())
                    .await
                    .expect("fluent call")
                    .id
            }
            Variant::OpsNoTimeout => {
                geopera::ops::uploads_progress::send(&ctx.sdk_no_timeout, &ctx.input)
                    .await
                    .expect("ops call, no timeout")
                    .id
            }
            Variant::OpsBoxed => {
                let call: geopera::fluent::BoxFuture<'_, _> = Box::pin(
                    geopera::ops::uploads_progress::send_detailed(&ctx.sdk.client, &ctx.input),
                );
                call.await.expect("boxed ops call").into_body().id
            }
            Variant::FluentJson => {
                ctx.sdk
                    .uploads()
                    .progress(ctx.json.clone())
                    .await
                    .expect("fluent json call")
                    .id
            }
        };
        std::hint::black_box(id);
    }
}

fn main() {
    let target = Target::from_env(10 << 30);
    let (base_url, token, project_id) = (
        target.base_url.clone(),
        target.token.clone(),
        target.project_id.clone(),
    );
    let mut results = Results::default();
    results.set("in_process_server", target.in_process);
    let calls = env_u64("GEOPERA_BENCH_CALLS", 6000).max(1) as usize;
    let rounds = env_u64("GEOPERA_BENCH_ROUNDS", 60).clamp(1, calls as u64) as usize;

    // 1. The multi-thread runtime `#[tokio::main]` gives, the bench running as a spawned
    //    task (on `block_on`'s own thread every call would add a cross-thread wake-up, as
    //    the I/O driver runs on the workers, and blur the comparison).
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("bench runtime");
    let (b, t, p) = (base_url.clone(), token.clone(), project_id.clone());
    let part = runtime
        .block_on(runtime.spawn(async move {
            let ctx = Arc::new(Ctx::new(&b, &t, &p).await);
            let mut results = Results::default();
            compare_request_heads(&ctx).await;
            print_future_sizes(&ctx);
            if let Some(only) = env_string("GEOPERA_BENCH_ONLY") {
                match only.split_once('@') {
                    Some((v, tasks)) => {
                        let tasks = tasks.parse().expect("GEOPERA_BENCH_ONLY=<variant>@<tasks>");
                        let secs = env_u64("GEOPERA_BENCH_SECS", 3);
                        let m =
                            run_tasks(&ctx, Variant::parse(v), tasks, Duration::from_secs(secs))
                                .await;
                        println!(
                            "{v} at {tasks} tasks: {:.0} calls/s, {:.1} µs/call client CPU",
                            m.per_s(),
                            m.cpu_us()
                        );
                    }
                    None => only_one(&ctx, Variant::parse(&only), calls).await,
                }
                ctx.close().await;
                return None;
            }
            sequential(
                &ctx,
                &Variant::ALL,
                calls,
                rounds,
                "seq",
                "multi-thread runtime (2 workers), calls from a spawned task",
                &mut results,
            )
            .await;
            concurrency(&ctx, &mut results).await;
            ctx.close().await;
            Some(results)
        }))
        .expect("bench task");
    drop(runtime);
    let Some(part) = part else {
        return;
    };
    results.extend(part);

    // 2. A current-thread runtime: the leanest loop (no thread hops), where the SDK's fixed
    //    per-call cost weighs the most.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("current-thread runtime");
    let part = runtime.block_on(async {
        let ctx = Ctx::new(&base_url, &token, &project_id).await;
        let mut results = Results::default();
        sequential(
            &ctx,
            &[Variant::Raw, Variant::Ops, Variant::Fluent],
            calls,
            rounds,
            "seq_ct",
            "current-thread runtime",
            &mut results,
        )
        .await;
        ctx.close().await;
        results
    });
    drop(runtime);
    results.extend(part);
    drop(target);
    results.write();
}

/// The size of each variant's call future: what every in-flight call keeps (and moves)
/// in memory, a cost that grows with concurrency.
fn print_future_sizes(ctx: &Ctx) {
    let raw = std::mem::size_of_val(&raw_call(
        &ctx.http,
        &ctx.url,
        &ctx.headers,
        &ctx.input,
        None,
    ));
    let ops = std::mem::size_of_val(&geopera::ops::uploads_progress::send(
        &ctx.sdk.client,
        &ctx.input,
    ));
    let ops_detailed = std::mem::size_of_val(&geopera::ops::uploads_progress::send_detailed(
        &ctx.sdk.client,
        &ctx.input,
    ));
    // The fluent call's future is boxed: its size is the allocation every call makes
    // (glibc serves up to 1,032 bytes from a per-thread cache, bigger ones from the arena).
    let fluent =
        std::future::IntoFuture::into_future(ctx.sdk.uploads().progress(ctx.input.clone()));
    let fluent_box = std::mem::size_of_val(&*fluent);
    drop(fluent);
    println!(
        "\n## call future sizes: raw reqwest {raw} bytes, `ops::uploads_progress::send` {ops} bytes, \
         `send_detailed` {ops_detailed} bytes, the fluent call's boxed future {fluent_box} bytes"
    );
}

/// Profiling aid (e.g. under `perf record`): one variant, sequential, nothing else.
async fn only_one(ctx: &Ctx, v: Variant, calls: usize) {
    let (cpu, t) = (process_cpu_ns(), Instant::now());
    for _ in 0..calls {
        v.call(ctx).await;
    }
    let cpu = process_cpu_ns().saturating_sub(cpu);
    println!(
        "{}: {calls} calls, {:.1} µs/call wall, {:.1} µs/call client CPU",
        v.label(),
        t.elapsed().as_secs_f64() * 1e6 / calls as f64,
        cpu as f64 / calls as f64 / 1000.0
    );
}

/// `calls` sequential calls of each variant, interleaved in `rounds` rounds whose order
/// rotates, so drift and background load hit every variant alike. The first variant is the
/// baseline of the ratios.
async fn sequential(
    ctx: &Ctx,
    variants: &[Variant],
    calls: usize,
    rounds: usize,
    prefix: &str,
    setting: &str,
    results: &mut Results,
) {
    let n = variants.len();
    let batch = calls.div_ceil(rounds);
    println!(
        "\n## sequential uploads.progress, {setting}: {} calls per variant, {rounds} interleaved rounds of {batch}",
        batch * rounds
    );
    // Warm-up: connections, allocator, branch predictors, the server's caches.
    for v in variants {
        for _ in 0..200 {
            v.call(ctx).await;
        }
    }
    let mut samples: Vec<Vec<f64>> = vec![Vec::with_capacity(batch * rounds); n];
    // CPU time of this process (all threads) per variant: what the client side costs,
    // whatever the server and the rest of the machine are doing.
    let mut cpu_ns = vec![0u64; n];
    for round in 0..rounds {
        for k in 0..n {
            let i = (k + round) % n;
            let v = variants[i];
            let cpu = process_cpu_ns();
            for _ in 0..batch {
                let t = Instant::now();
                v.call(ctx).await;
                samples[i].push(t.elapsed().as_nanos() as f64 / 1000.0);
            }
            cpu_ns[i] += process_cpu_ns().saturating_sub(cpu);
        }
    }

    println!(
        "| variant | median µs | p90 µs | p99 µs | calls/s | median vs {} | client CPU µs/call | CPU vs {} |\n|---|---:|---:|---:|---:|---:|---:|---:|",
        variants[0].key(),
        variants[0].key()
    );
    let (mut base_p50, mut base_cpu) = (f64::NAN, f64::NAN);
    for (i, v) in variants.iter().enumerate() {
        let s = &mut samples[i];
        s.sort_by(f64::total_cmp);
        let total: f64 = s.iter().sum();
        let per_s = s.len() as f64 / (total / 1e6);
        let (p50, p90, p99) = (quantile(s, 0.5), quantile(s, 0.9), quantile(s, 0.99));
        let cpu = cpu_ns[i] as f64 / s.len() as f64 / 1000.0;
        if i == 0 {
            (base_p50, base_cpu) = (p50, cpu);
        }
        println!(
            "| {} | {p50:.1} | {p90:.1} | {p99:.1} | {per_s:.0} | {:.3} | {cpu:.1} | {:.2} |",
            v.label(),
            p50 / base_p50,
            cpu / base_cpu
        );
        let key = format!("{prefix}.{}", v.key());
        results.set(&format!("{key}.median_us"), round2(p50));
        results.set(&format!("{key}.p90_us"), round2(p90));
        results.set(&format!("{key}.p99_us"), round2(p99));
        results.set(&format!("{key}.calls_per_s"), per_s.round());
        results.set(&format!("{key}.ratio_to_raw"), round3(p50 / base_p50));
        results.set(&format!("{key}.cpu_us"), round2(cpu));
        results.set(&format!("{key}.cpu_ratio_to_raw"), round3(cpu / base_cpu));
    }
    results.set(
        &format!("{prefix}.calls_per_variant"),
        (batch * rounds) as u64,
    );
    results.set(&format!("{prefix}.rounds"), rounds as u64);
}

/// Calls per second at 1, 16 and 128 concurrent tasks, for each variant of
/// `GEOPERA_BENCH_CONC` (default: the SDK's `ops` and fluent calls and raw reqwest, the
/// baseline of the ratios when it is among them, else the first). Each level runs in
/// slices of half a second that alternate between the variants (order rotating), so load
/// from elsewhere on the machine hits them alike.
async fn concurrency(ctx: &Arc<Ctx>, results: &mut Results) {
    let secs = env_u64("GEOPERA_BENCH_SECS", 3);
    if secs == 0 {
        return;
    }
    let variants: Vec<Variant> = env_string("GEOPERA_BENCH_CONC")
        .unwrap_or_else(|| "ops,fluent,raw".into())
        .split(',')
        .map(Variant::parse)
        .collect();
    let base = variants
        .iter()
        .position(|v| *v == Variant::Raw)
        .unwrap_or(0);
    let slice = Duration::from_millis(500);
    // Rounds rotate the order, so a whole number of rotations gives every variant every
    // place in a round equally often (the first slice of a level, say): the count is
    // rounded up to a multiple of the number of variants.
    let slices = (secs * 2).max(1).div_ceil(variants.len() as u64) as usize * variants.len();
    println!(
        "\n## concurrency: {:.1} s per level and variant in {slices} interleaved slices of 0.5 s, multi-thread runtime with {} workers\n\
         (paired: the median over rounds of the ratio to {base_key}'s slice of the same round)\n\
         | tasks | variant | calls/s | p50 µs | p99 µs | client CPU µs/call | calls/s vs {base_key} | CPU vs {base_key} | paired calls/s | paired CPU |\n\
         |---:|---|---:|---:|---:|---:|---:|---:|---:|---:|",
        slices as f64 / 2.0,
        std::thread::available_parallelism().map_or(1, |n| n.get()),
        base_key = variants[base].key()
    );
    for tasks in [1usize, 16, 128] {
        let mut acc: Vec<Throughput> = variants.iter().map(|_| Throughput::default()).collect();
        // Untimed warm-up: opens the connections this level needs.
        for v in &variants {
            run_tasks(ctx, *v, tasks, Duration::from_millis(300)).await;
        }
        // Per round (one slice of each variant, next to each other in time): each
        // variant's calls/s and CPU per call as ratios to the baseline's slice of the same
        // round. Their median is a paired figure that a burst of load from elsewhere in one
        // slice moves less than the ratio of the totals.
        let mut round_ratios: Vec<(Vec<f64>, Vec<f64>)> =
            variants.iter().map(|_| (Vec::new(), Vec::new())).collect();
        for round in 0..slices {
            let mut this_round: Vec<(f64, f64)> = vec![(f64::NAN, f64::NAN); variants.len()];
            for k in 0..variants.len() {
                let i = (k + round) % variants.len();
                let t = run_tasks(ctx, variants[i], tasks, slice).await;
                this_round[i] = (t.per_s(), t.cpu_us());
                acc[i].add(t);
            }
            let (b_per_s, b_cpu) = this_round[base];
            for (i, (per_s, cpu)) in this_round.into_iter().enumerate() {
                round_ratios[i].0.push(per_s / b_per_s);
                round_ratios[i].1.push(cpu / b_cpu);
            }
        }
        let (base_per_s, base_cpu) = (acc[base].per_s(), acc[base].cpu_us());
        for ((v, m), (per_s_ratios, cpu_ratios)) in
            variants.iter().zip(acc.iter_mut()).zip(round_ratios.iter())
        {
            m.latencies.sort_by(f64::total_cmp);
            let (p50, p99) = (quantile(&m.latencies, 0.5), quantile(&m.latencies, 0.99));
            let (paired_per_s, paired_cpu) = (median(per_s_ratios), median(cpu_ratios));
            println!(
                "| {tasks} | {} | {:.0} | {p50:.1} | {p99:.1} | {:.1} | {:.3} | {:.2} | {paired_per_s:.3} | {paired_cpu:.2} |",
                v.key(),
                m.per_s(),
                m.cpu_us(),
                m.per_s() / base_per_s,
                m.cpu_us() / base_cpu
            );
            let key = format!("conc.{tasks}.{}", v.key());
            results.set(&format!("{key}.calls_per_s"), m.per_s().round());
            results.set(&format!("{key}.p50_us"), round2(p50));
            results.set(&format!("{key}.p99_us"), round2(p99));
            results.set(&format!("{key}.cpu_us"), round2(m.cpu_us()));
            results.set(&format!("{key}.paired_calls_ratio"), round3(paired_per_s));
            results.set(&format!("{key}.paired_cpu_ratio"), round3(paired_cpu));
        }
    }
    results.set("conc.secs", secs);
    results.set("conc.slices", slices as u64);
}

/// What the slices of one variant at one level add up to.
#[derive(Default)]
struct Throughput {
    latencies: Vec<f64>,
    elapsed: Duration,
    /// Client CPU time (all threads of this process).
    cpu_ns: u64,
}

impl Throughput {
    fn add(&mut self, other: Throughput) {
        self.latencies.extend(other.latencies);
        self.elapsed += other.elapsed;
        self.cpu_ns += other.cpu_ns;
    }
    fn per_s(&self) -> f64 {
        self.latencies.len() as f64 / self.elapsed.as_secs_f64()
    }
    fn cpu_us(&self) -> f64 {
        self.cpu_ns as f64 / self.latencies.len() as f64 / 1000.0
    }
}

/// `tasks` tasks each calling in a loop until `dur` has passed.
async fn run_tasks(ctx: &Arc<Ctx>, v: Variant, tasks: usize, dur: Duration) -> Throughput {
    let cpu = process_cpu_ns();
    let started = Instant::now();
    let deadline = started + dur;
    let handles: Vec<_> = (0..tasks)
        .map(|_| {
            let ctx = ctx.clone();
            tokio::spawn(async move {
                let mut lat = Vec::with_capacity(1024);
                while Instant::now() < deadline {
                    let t = Instant::now();
                    v.call(&ctx).await;
                    lat.push(t.elapsed().as_nanos() as f64 / 1000.0);
                }
                lat
            })
        })
        .collect();
    let mut latencies = Vec::new();
    for h in handles {
        latencies.extend(h.await.expect("bench task"));
    }
    Throughput {
        latencies,
        elapsed: started.elapsed(),
        cpu_ns: process_cpu_ns().saturating_sub(cpu),
    }
}

/// CPU time used so far by every thread of this process, in nanoseconds
/// (`/proc/self/task/*/schedstat`, first field).
fn process_cpu_ns() -> u64 {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return 0;
    };
    tasks
        .flatten()
        .filter_map(|t| std::fs::read_to_string(t.path().join("schedstat")).ok())
        .filter_map(|s| s.split_whitespace().next()?.parse::<u64>().ok())
        .sum()
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// Sends one SDK call and one raw call to a local capture socket, through the same pool, and
/// prints whether their request heads and bodies match (header order aside).
async fn compare_request_heads(ctx: &Ctx) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("capture socket");
    let base = format!("http://{}", listener.local_addr().expect("capture addr"));
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<String>();
    let server = tokio::spawn(async move {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else {
                return;
            };
            let tx = tx.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                loop {
                    // One request: head up to CRLFCRLF, then content-length bytes.
                    let head_end = loop {
                        if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                            break p + 4;
                        }
                        let mut chunk = [0u8; 4096];
                        match stream.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buf.extend_from_slice(&chunk[..n]),
                        }
                    };
                    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
                    let len = head
                        .lines()
                        .find_map(|l| {
                            let (n, v) = l.split_once(':')?;
                            n.eq_ignore_ascii_case("content-length")
                                .then(|| v.trim().parse::<usize>().ok())?
                        })
                        .unwrap_or(0);
                    while buf.len() < head_end + len {
                        let mut chunk = [0u8; 4096];
                        match stream.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buf.extend_from_slice(&chunk[..n]),
                        }
                    }
                    let body = String::from_utf8_lossy(&buf[head_end..head_end + len]).into_owned();
                    buf.drain(..head_end + len);
                    let _ = tx.send(format!("{head}{body}"));
                    let reply = br#"{"id":"upl_capture","status":"uploading"}"#;
                    let response = format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
                        reply.len()
                    );
                    if stream.write_all(response.as_bytes()).await.is_err()
                        || stream.write_all(reply).await.is_err()
                    {
                        return;
                    }
                }
            });
        }
    });
    let sdk = geopera::AuthenticatedClient::builder()
        .base_url(&base)
        .token("capture-token")
        .http_client(ctx.http.clone())
        .build()
        .expect("capture client");
    geopera::ops::uploads_progress::send(&sdk, &ctx.input)
        .await
        .expect("SDK call to the capture socket");
    let headers = RawHeaders {
        authorization: HeaderValue::from_static("Bearer capture-token"),
        api_version: ctx.headers.api_version.clone(),
    };
    raw_call(
        &ctx.http,
        &format!("{base}/v1/op/uploads.progress"),
        &headers,
        &ctx.input,
        None,
    )
    .await;
    let sdk_request = rx.recv().await.expect("captured SDK request");
    let raw_request = rx.recv().await.expect("captured raw request");
    server.abort();
    let normalize = |r: &str| {
        let (head, body) = r.split_once("\r\n\r\n").unwrap_or((r, ""));
        let mut lines: Vec<String> = head
            .lines()
            .map(|l| match l.split_once(':') {
                Some((n, v)) => format!("{}: {}", n.to_ascii_lowercase(), v.trim()),
                None => l.to_owned(),
            })
            .collect();
        lines[1..].sort();
        (lines, body.to_owned())
    };
    let (sdk_norm, raw_norm) = (normalize(&sdk_request), normalize(&raw_request));
    println!("## request heads (SDK vs raw, captured on a local socket)");
    println!("SDK request:");
    for l in &sdk_norm.0 {
        println!("    {l}");
    }
    println!("    body: {}", sdk_norm.1);
    if sdk_norm == raw_norm {
        println!("raw request: identical (same request line, headers and body)");
    } else {
        println!("raw request DIFFERS:");
        for l in &raw_norm.0 {
            println!("    {l}");
        }
        println!("    body: {}", raw_norm.1);
    }
}
