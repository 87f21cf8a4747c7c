#!/usr/bin/env bash
# Runs every benchmark of BENCHMARKS.md side by side against one release dev server on a
# free loopback port and prints the results table (markdown, with ratios).
#
# Usage (from anywhere in the repo):
#   benches/run.sh                      # calls, Python, transfer, peak RSS (~3-5 min + builds)
#   benches/run.sh --with-build-times   # also clean and incremental `cargo build` times
#                                       # (a clean build in a fresh target dir: minutes)
#   benches/run.sh --only-build-times   # just the build times
#   benches/run.sh --only-calls         # just the call benches: Rust (sequential and
#                                       # concurrent) and Python; no transfer, no peak RSS
#   benches/run.sh --only-speed         # just geopera-transfer vs curl (crates/geopera-transfer/
#                                       # benches/speed.rs: parallel and capped downloads,
#                                       # single-stream up/down with peak RSS, resume, many
#                                       # files vs Python); its own in-process dev server
# Env:
#   GEOPERA_BENCH_CONC    variants at each concurrency level (default ops,fluent,raw)
#   GEOPERA_BENCH_BYTES   transfer/RSS file size in bytes (default 1073741824 = 1 GiB)
#   GEOPERA_BENCH_CALLS   sequential calls per Rust variant (default 6000)
#   GEOPERA_BENCH_SECS    seconds per concurrency level (default 3)
#   GEOPERA_BENCH_ROUNDS  interleaved rounds of the sequential calls (default 60)
#   GEOPERA_BENCH_TRANSFER_ROUNDS  transfers per tool and direction (default 5)
#   GEOPERA_BENCH_EXPERIMENTS=1    adds the transfer bench's download experiment
#   GEOPERA_BENCH_SWEEP=1 the speed bench also sweeps connection counts and part sizes
#   GEOPERA_BENCH_CAPPED_BYTES  object size of the capped download (default 268435456)
#   GEOPERA_BENCH_SPEED_ROUNDS  rounds per tool of the speed bench (default 3)
#   GEOPERA_BENCH_DIR     where big files and the server's objects go (default: /dev/shm when
#                         it has room, so the disk does not blur SDK vs curl; else $TMPDIR)
#   GEOPERA_VENV          venv for the Python package (default: target/venv under the repo)
#   PYTHON                interpreter that creates the venv (default python3, >= 3.11)
#   CARGO_TARGET_DIR      respected; results land in "${CARGO_TARGET_DIR:-target}/bench-results"
# Installs what it lacks: curl and GNU time with apt-get, geopera==2.1.0 with pip.
# Sends traffic to 127.0.0.1 only. The dev server is always stopped on exit.
set -euo pipefail

GEOPERA_PY_VERSION=2.1.0

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export CARGO_TERM_COLOR=never

with_builds=0
run_benches=1
only_calls=0
only_speed=0
for arg in "$@"; do
    case "$arg" in
        --with-build-times) with_builds=1 ;;
        --only-build-times) with_builds=1; run_benches=0 ;;
        --only-calls) only_calls=1 ;;
        --only-speed) only_speed=1 ;;
        -h|--help) sed -n '2,33p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "run.sh: unknown argument $arg (see --help)" >&2; exit 2 ;;
    esac
done

target_dir="${CARGO_TARGET_DIR:-$root/target}"
[[ "$target_dir" = /* ]] || target_dir="$root/$target_dir"
out="$target_dir/bench-results"
mkdir -p "$out"
if [[ $run_benches -eq 1 ]]; then
    rm -f "$out"/*.json "$out"/*.log "$out"/*.time "$out"/results.md "$out"/speed.md
else
    rm -f "$out"/build.json "$out"/build-times.log
fi
bytes="${GEOPERA_BENCH_BYTES:-1073741824}"
log() { printf '\n=== %s\n' "$*" >&2; }

server_pid=""
work=""
cleanup() {
    if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
        kill "$server_pid" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$server_pid" 2>/dev/null || true
    fi
    if [[ -n "$work" ]]; then rm -rf "$work"; fi
    return 0
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------- build times (optional)
build_times() {
    log "build times: clean and incremental \`cargo build -p geopera\` (the SDK; dev profile, default features)"
    cargo fetch --quiet   # downloads are not part of the timing
    local copy tgt
    copy="$(mktemp -d "${TMPDIR:-/tmp}/geopera-buildtime.XXXXXX")"
    # A copy of the work tree (tracked and untracked, not ignored), so touching files does
    # not make anyone else's target dir rebuild.
    git ls-files -z --cached --others --exclude-standard | xargs -0 cp --parents -t "$copy" 2>/dev/null || true
    cp Cargo.lock "$copy/" 2>/dev/null || true
    tgt="$copy/target"
    timed() { # runs a command in the copy; prints its wall-clock seconds
        local t0 t1
        t0=$(date +%s.%N)
        if ! (cd "$copy" && CARGO_TARGET_DIR="$tgt" "$@" >>"$out/build-times.log" 2>&1); then
            echo "run.sh: \`$*\` failed in $copy; see $out/build-times.log" >&2
            return 1
        fi
        t1=$(date +%s.%N)
        python3 -c "print(f'{$t1 - $t0:.1f}')"
    }
    local clean noop t_openapi e_openapi t_fluent e_fluent
    clean=$(timed cargo build -p geopera)
    noop=$(timed cargo build -p geopera)
    # `touch`: a new mtime, same bytes (rustc's incremental cache sees no change).
    touch "$copy/openapi.json"
    t_openapi=$(timed cargo build -p geopera)
    touch "$copy/src/fluent/mod.rs"
    t_fluent=$(timed cargo build -p geopera)
    # A real edit: one operation's description in openapi.json (build.rs regenerates the
    # code; doc comments and line numbers move), and a blank line at the top of a
    # hand-written file (every span after it moves).
    python3 - "$copy/openapi.json" <<'PY'
import json, sys
path = sys.argv[1]
with open(path, encoding="utf-8") as f:
    doc = json.load(f)
op = doc["paths"]["/v1/op/uploads.progress"]["post"]
op["description"] = op.get("description", "") + " Edited for the build-time benchmark."
with open(path, "w", encoding="utf-8") as f:
    json.dump(doc, f, indent=2, ensure_ascii=False)
PY
    e_openapi=$(timed cargo build -p geopera)
    { printf '\n'; cat "$copy/src/fluent/mod.rs"; } >"$copy/mod.rs.tmp"
    mv "$copy/mod.rs.tmp" "$copy/src/fluent/mod.rs"
    e_fluent=$(timed cargo build -p geopera)
    cat >"$out/build.json" <<EOF
{"build.clean_s": $clean, "build.noop_s": $noop,
 "build.touch_openapi_s": $t_openapi, "build.touch_fluent_s": $t_fluent,
 "build.edit_openapi_s": $e_openapi, "build.edit_fluent_s": $e_fluent,
 "build.rustc": "$(rustc --version)", "build.jobs": $(nproc)}
EOF
    echo "clean ${clean}s, no-op ${noop}s; touch openapi.json ${t_openapi}s, src/fluent/mod.rs ${t_fluent}s; edit openapi.json ${e_openapi}s, src/fluent/mod.rs ${e_fluent}s" >&2
    rm -rf "$copy"
}

if [[ $run_benches -eq 0 ]]; then
    build_times
    python3 "$root/benches/report.py" "$out" "$bytes" | tee "$out/results.md"
if [[ -f "$out/speed.md" ]]; then
    cat "$out/speed.md" | tee -a "$out/results.md"
fi
    exit 0
fi

# ---------------------------------------------------------------- tools
need=()
command -v curl >/dev/null || need+=(curl)
[[ -x /usr/bin/time ]] || need+=(time)
if [[ ${#need[@]} -gt 0 ]]; then
    log "installing ${need[*]}"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

source "$root/tests/support/venv.sh"
geopera_venv "$root" "geopera==$GEOPERA_PY_VERSION"

# geopera-transfer vs curl: its own in-process dev server (caps set per phase), every
# library transfer in a child process beside curl's.
speed() {
    log "speed: geopera-transfer vs curl, $bytes bytes"
    local speed_exe
    speed_exe="$(cargo bench -p geopera-transfer --bench speed --no-run --message-format=json |
        python3 -c '
import json, sys
for line in sys.stdin:
    try: m = json.loads(line)
    except ValueError: continue
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "speed" \
            and m.get("executable"):
        print(m["executable"])')"
    [[ -x "$speed_exe" ]] || { echo "run.sh: missing the speed bench" >&2; exit 1; }
    local dir="${GEOPERA_BENCH_DIR:-}"
    if [[ -z "$dir" ]]; then
        if [[ -d /dev/shm ]] && (( $(df -Pk /dev/shm | awk 'NR==2 {print $4}') > bytes / 1024 * 8 )); then
            dir=/dev/shm
        else
            dir="${TMPDIR:-/tmp}"
        fi
    fi
    GEOPERA_BENCH_PYTHON="$py" GEOPERA_BENCH_DIR="$dir" GEOPERA_BENCH_BYTES="$bytes" \
        "$speed_exe" | tee "$out/speed.md"
}
if [[ $only_speed -eq 1 ]]; then
    speed
    exit 0
fi

# ---------------------------------------------------------------- release builds
log "building (release): dev server, geopera-transfer's examples large_file and download, benches"
# One invocation for the server and the examples, so the library is compiled once with the
# features the dev-dependencies turn on.
cargo build --release -p geopera-dev-server -p geopera-transfer --bin geopera-dev-server \
    --features geopera-transfer/indicatif --example large_file --example download
bench_targets=(--bench calls)
[[ $only_calls -eq 1 ]] || bench_targets+=(--bench transfer)
artifacts="$(cargo bench --no-run "${bench_targets[@]}" --message-format=json)"
bench_exe() {
    printf '%s\n' "$artifacts" | python3 -c '
import json, sys
for line in sys.stdin:
    try: m = json.loads(line)
    except ValueError: continue
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == sys.argv[1] \
            and "bench" in m["target"]["kind"] and m.get("executable"):
        print(m["executable"])' "$1"
}
calls_exe="$(bench_exe calls)"
server_exe="$target_dir/release/geopera-dev-server"
large_exe="$target_dir/release/examples/large_file"
download_exe="$target_dir/release/examples/download"
exes=("$calls_exe" "$server_exe")
if [[ $only_calls -eq 0 ]]; then
    transfer_exe="$(bench_exe transfer)"
    exes+=("$transfer_exe" "$large_exe" "$download_exe")
fi
for f in "${exes[@]}"; do
    [[ -x "$f" ]] || { echo "run.sh: missing executable ${f:-(bench)}" >&2; exit 1; }
done

# ---------------------------------------------------------------- the dev server
# Room for: the test file, the stored object plus its temp copy during an atomic replace,
# a downloaded copy, and the RSS run's file and object: ~6x the size, plus slack.
need_kb=$(( bytes / 1024 * 6 + 1048576 ))
[[ $only_calls -eq 0 ]] || need_kb=65536   # the call benches store nothing big
if [[ -n "${GEOPERA_BENCH_DIR:-}" ]]; then
    base="$GEOPERA_BENCH_DIR"
elif [[ -d /dev/shm ]] && (( $(df -Pk /dev/shm | awk 'NR==2 {print $4}') > need_kb )); then
    base=/dev/shm
else
    base="${TMPDIR:-/tmp}"
fi
mkdir -p "$base"
work="$(mktemp -d "$base/geopera-bench.XXXXXX")"
avail_kb=$(df -Pk "$work" | awk 'NR==2 {print $4}')
(( avail_kb > need_kb )) || { echo "run.sh: $work has ${avail_kb} KiB free, needs ${need_kb}" >&2; exit 1; }
mkdir -p "$work/data" "$work/tmp"

# Quota: the transfer session and the RSS upload reserve and keep `bytes` each; the
# default 10 GiB would not do for a bigger GEOPERA_BENCH_BYTES.
quota=$(( bytes * 8 + (1 << 30) ))
(( quota > 10737418240 )) || quota=10737418240
max_object=$(( bytes > 5368709120 ? bytes : 5368709120 ))
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
token="bench-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
log "starting the release dev server on 127.0.0.1:$port (quota $quota bytes, data in $work/data)"
"$server_exe" --addr "127.0.0.1:$port" --token "$token" --quiet \
    --quota-bytes "$quota" --max-object-bytes "$max_object" --data-dir "$work/data" \
    >"$out/server.log" 2>&1 &
server_pid=$!
export GEOPERA_API_URL="http://127.0.0.1:$port"
export GEOPERA_API_TOKEN="$token"
export GEOPERA_PROJECT_ID=prj_demo
for _ in $(seq 100); do
    grep -q "listening on" "$out/server.log" 2>/dev/null && break
    kill -0 "$server_pid" 2>/dev/null || { cat "$out/server.log" >&2; exit 1; }
    sleep 0.1
done
grep -q "listening on" "$out/server.log" || { echo "run.sh: the dev server did not start" >&2; exit 1; }

# ---------------------------------------------------------------- the benches
# Other work on the machine blurs every number: record the load.
printf '{"loadavg_start": "%s"}\n' "$(cut -d' ' -f1-3 /proc/loadavg)" >"$out/run.json"
log "calls: SDK vs raw reqwest, sequential and concurrent"
GEOPERA_BENCH_OUT="$out/calls.json" "$calls_exe" | tee "$out/calls.log"

log "Python geopera $GEOPERA_PY_VERSION: the same sequential calls"
"$py" "$root/benches/python_calls.py" --out "$out/python.json" | tee "$out/python.log"

if [[ $only_calls -eq 0 ]]; then
    log "transfer: geopera-transfer vs curl, $bytes bytes"
    GEOPERA_BENCH_OUT="$out/transfer.json" GEOPERA_BENCH_BYTES="$bytes" GEOPERA_BENCH_DIR="$work/tmp" \
        "$transfer_exe" | tee "$out/transfer.log"

    log "peak RSS: geopera-transfer's large_file example uploading $bytes bytes, then its download example fetching it"
    peak_kb() { sed -n 's/.*Maximum resident set size (kbytes): *\([0-9]*\).*/\1/p' "$1"; }
    TMPDIR="$work/tmp" GEOPERA_EXAMPLE_BYTES="$bytes" \
        /usr/bin/time -v -o "$out/rss-upload.time" "$large_exe" | tee "$out/rss-upload.log"
    item_id="$(grep -o 'itm_[A-Za-z0-9_-]*' "$out/rss-upload.log" | head -1)"
    [[ -n "$item_id" ]] || { echo "run.sh: large_file printed no item id" >&2; exit 1; }
    # large_file makes large.tif, so the item's asset key is its stem.
    TMPDIR="$work/tmp" GEOPERA_ITEM_ID="$item_id" GEOPERA_ASSET_ID=large \
        /usr/bin/time -v -o "$out/rss-download.time" "$download_exe" | tee "$out/rss-download.log"
    grep -q "downloaded $bytes bytes of" "$out/rss-download.log" || {
        echo "run.sh: the download example did not fetch $bytes bytes" >&2; exit 1; }
    cat >"$out/rss.json" <<EOF
{"rss.upload_kb": $(peak_kb "$out/rss-upload.time"), "rss.download_kb": $(peak_kb "$out/rss-download.time"), "rss.bytes": $bytes}
EOF
fi

kill "$server_pid" 2>/dev/null || true
wait "$server_pid" 2>/dev/null || true
server_pid=""

if [[ $only_calls -eq 0 ]]; then
    speed
fi

if [[ $with_builds -eq 1 ]]; then
    build_times
fi

log "results"
python3 "$root/benches/report.py" "$out" "$bytes" | tee "$out/results.md"
if [[ -f "$out/speed.md" ]]; then
    cat "$out/speed.md" | tee -a "$out/results.md"
fi
