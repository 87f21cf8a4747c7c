# Sourced by the scripts that test against a running `geopera-dev-server` binary
# (tests/peer, tests/contract). Needs `py` from tests/support/venv.sh.
#
# `start_dev_server ROOT NAME [SERVER ARGS...]` builds the binary (debug, in
# "${CARGO_TARGET_DIR:-ROOT/target}"), makes a scratch dir, starts the server there on a free
# loopback port (port 0: the OS picks, the server prints its URL) with a random token, and
# waits until GET /healthz answers 200 (up to ~30 s). It sets `url`, `token`, `work` and
# `server_pid`, and installs an EXIT trap that stops the server and removes the scratch dir,
# keeping the script's exit status.
# `dev_server_stderr` prints the tail of the server's stderr, for a failing run.

start_dev_server() {
    local root=$1 name=$2
    shift 2
    (cd "$root" && cargo build --quiet -p geopera-dev-server)
    local bin="${CARGO_TARGET_DIR:-target}/debug/geopera-dev-server"
    [[ "$bin" = /* ]] || bin="$root/$bin"

    work="$(mktemp -d "${TMPDIR:-/tmp}/$name.XXXXXX")"
    server_pid=""
    trap _stop_dev_server EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM

    # Created here, not by the background job's redirection, so the poll never races it.
    : >"$work/server.out"
    : >"$work/server.err"
    token="$name-$("$py" -c 'import secrets; print(secrets.token_hex(12))')"
    "$bin" --quiet --addr 127.0.0.1:0 --data-dir "$work/data" --token "$token" "$@" \
        >"$work/server.out" 2>"$work/server.err" &
    server_pid=$!

    url=""
    for _ in $(seq 1 300); do
        if ! kill -0 "$server_pid" 2>/dev/null; then
            echo "$name: the dev server exited during start-up:" >&2
            cat "$work/server.out" "$work/server.err" >&2
            return 1
        fi
        url="$(sed -n 's/^geopera dev server listening on \(http:\/\/127\.0\.0\.1:[0-9]*\)$/\1/p' "$work/server.out")"
        if [[ -n "$url" ]] && "$py" - "$url/healthz" <<'PY' 2>/dev/null; then return 0; fi
import sys, urllib.request
with urllib.request.urlopen(sys.argv[1], timeout=1) as r:
    sys.exit(r.status != 200)
PY
        url=""
        sleep 0.1
    done
    echo "$name: the dev server did not answer GET /healthz within 30 s:" >&2
    cat "$work/server.out" "$work/server.err" >&2
    return 1
}

dev_server_stderr() {
    if [[ -s "$work/server.err" ]]; then
        echo "dev server stderr:" >&2
        tail -n 50 "$work/server.err" >&2
    fi
}

_stop_dev_server() {
    local status=$?
    if [[ -n "${server_pid:-}" ]] && kill -0 "$server_pid" 2>/dev/null; then
        kill -TERM "$server_pid" 2>/dev/null || true
        for _ in $(seq 1 50); do
            kill -0 "$server_pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    [[ -n "${work:-}" ]] && rm -rf "$work"
    exit "$status"
}
