#!/usr/bin/env bash
# Peer check (issue 3, "Proof"): the official Python `geopera` package from PyPI, a client
# generated from the live API document, must work against our dev server unchanged.
#
# Installs the pinned package into a venv, builds and starts `geopera-dev-server` on a free
# loopback port with a small storage quota, and runs tests/peer/python_sdk_flow.py: the seed's
# worked examples (fluent upload and download, multi-file, progress, fail on the error path,
# the generated escape hatch, clip job downloads, the 402 branch, 401 on a wrong token).
# The server is always stopped on exit. Prints `python sdk peer: N checks OK` on success.
#
# Usage (from anywhere):  tests/peer/check_python_sdk.sh
# Env:   GEOPERA_VENV      venv to create/reuse (default: target/venv under the repo root;
#                          a relative value is taken relative to the current directory)
#        PYTHON            interpreter used to create the venv (default: python3, needs >= 3.11)
#        CARGO_TARGET_DIR  cargo's target dir (default: target under the repo root)
set -euo pipefail

GEOPERA_PY_VERSION=2.1.0           # the official Python SDK on PyPI
QUOTA_BYTES=$((100 * 1024 * 1024)) # server quota; the 402 and release checks depend on it

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"

say() { echo "check_python_sdk: $*" >&2; }

# 1. venv with the pinned package; install only when the pin is not already satisfied.
source "$root/tests/support/venv.sh"
geopera_venv "$root" "geopera==$GEOPERA_PY_VERSION"

# 2. Build the dev server binary (default target dir unless CARGO_TARGET_DIR says otherwise).
cd "$root"
cargo build --quiet --features dev-server --bin geopera-dev-server
bin="${CARGO_TARGET_DIR:-target}/debug/geopera-dev-server"
[[ "$bin" = /* ]] || bin="$root/$bin"

# 3. Start it on a free loopback port (port 0: the OS picks, the server prints its URL) and
#    always stop it on exit.
work="$(mktemp -d "${TMPDIR:-/tmp}/py-sdk-peer.XXXXXX")"
server_pid=""
cleanup() {
    local status=$?
    if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
        kill -TERM "$server_pid" 2>/dev/null || true
        for _ in $(seq 1 50); do
            kill -0 "$server_pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Created here, not by the background job's redirection, so the poll below never races it.
: >"$work/server.out"
: >"$work/server.err"
token="py-peer-$("$py" -c 'import secrets; print(secrets.token_hex(12))')"
"$bin" --quiet --addr 127.0.0.1:0 --data-dir "$work/data" --token "$token" --quota-bytes "$QUOTA_BYTES" \
    >"$work/server.out" 2>"$work/server.err" &
server_pid=$!

url=""
for _ in $(seq 1 300); do # up to ~30 s
    if ! kill -0 "$server_pid" 2>/dev/null; then
        say "the dev server exited during start-up:"
        cat "$work/server.out" "$work/server.err" >&2
        exit 1
    fi
    url="$(sed -n 's/^geopera dev server listening on \(http:\/\/127\.0\.0\.1:[0-9]*\)$/\1/p' "$work/server.out")"
    if [[ -n "$url" ]] && "$py" - "$url/healthz" <<'PY' 2>/dev/null; then break; fi
import sys, urllib.request
with urllib.request.urlopen(sys.argv[1], timeout=1) as r:
    sys.exit(r.status != 200)
PY
    url=""
    sleep 0.1
done
if [[ -z "$url" ]]; then
    say "the dev server did not answer GET /healthz within 30 s:"
    cat "$work/server.out" "$work/server.err" >&2
    exit 1
fi
say "dev server at $url (pid $server_pid)"

# 4. The seed's examples with the official package.
status=0
"$py" -I "$here/python_sdk_flow.py" --base-url "$url" --token "$token" --quota-bytes "$QUOTA_BYTES" || status=$?
if [[ $status -ne 0 ]]; then
    if [[ -s "$work/server.err" ]]; then
        say "dev server stderr:"
        tail -n 50 "$work/server.err" >&2
    fi
    exit "$status"
fi
