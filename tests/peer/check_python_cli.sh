#!/usr/bin/env bash
# Peer check (issue 15): the platform's own Python command line (`geopera-cli` on PyPI) runs
# against our dev server, and it and our `geopera` binary share logins: a profile either one
# writes in ~/.config/geopera/credentials.json is read by the other.
#
# Installs the pinned package into its own venv, builds our `geopera` binary, starts
# `geopera-dev-server` on a free loopback port (device logins polled every second, approved
# at once), and with HOME pointed at scratch dirs runs:
#   - the Python tool: `op` (generic dispatch), a typed command, `login --api-key -`, `whoami`;
#   - our `whoami` on the Python-written API-key profile, and the Python `whoami` on ours;
#   - the same both ways for device logins (oauth profiles with tokens and expiry), each
#     tool refreshing (and rotating) the tokens the other stored.
# The server is always stopped on exit. Prints `python cli peer: N checks OK` on success.
#
# Usage (from anywhere):  tests/peer/check_python_cli.sh
# Env:   GEOPERA_CLI_VENV  venv to create/reuse (default: target/venv-python-cli under the
#                          repo root; the Python SDK's venv stays apart, since this package
#                          pulls its own dependencies)
#        PYTHON            interpreter used to create the venv (default: python3, needs >= 3.11)
#        CARGO_TARGET_DIR  cargo's target dir (default: target under the repo root)
set -euo pipefail

GEOPERA_CLI_PY_VERSION=0.2.0 # the official Python command line on PyPI
GEOPERA_PY_VERSION=2.1.0     # the SDK it runs on, pinned as in check_python_sdk.sh

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"

say() { echo "check_python_cli: $*" >&2; }

# 1. venv with the pinned packages; install only when a pin is not already satisfied.
source "$root/tests/support/venv.sh"
GEOPERA_VENV="${GEOPERA_CLI_VENV:-$root/target/venv-python-cli}" \
    geopera_venv "$root" "geopera-cli==$GEOPERA_CLI_PY_VERSION" "geopera==$GEOPERA_PY_VERSION"
pycli="$venv/bin/geopera"

# 2. Our binary, and the dev server on a free loopback port (stopped on exit).
(cd "$root" && cargo build --quiet -p geopera-cli)
rscli="${CARGO_TARGET_DIR:-target}/debug/geopera"
[[ "$rscli" = /* ]] || rscli="$root/$rscli"
source "$root/tests/support/dev_server.sh"
# Access tokens live 10 s, inside both tools' 30 s leeway: every use of a device login
# refreshes it first, so the refresh each tool does is exercised on the other's file.
start_dev_server "$root" py-cli-peer --auto-approve-device --device-poll-interval-secs 1 \
    --access-token-ttl-secs 10
say "dev server at $url (pid $server_pid)"

checks=0
fail() {
    say "FAILED: $*"
    dev_server_stderr
    exit 1
}
pass() {
    checks=$((checks + 1))
    echo "ok: $*"
}

# Runs a command line with HOME at a scratch home and none of the caller's GEOPERA_* settings
# except those given; stdout to "$out", stderr to "$err". Usage: run_in HOME_DIR CMD ARGS...
out="$work/out" err="$work/err"
run_in() {
    local home=$1
    shift
    mkdir -p "$home"
    env -u GEOPERA_API_URL -u GEOPERA_API_TOKEN -u GEOPERA_PROFILE -u XDG_CONFIG_HOME \
        HOME="$home" NO_COLOR=1 "$@" >"$out" 2>"$err" </dev/null
}
# A JSON field of "$out" (dotted path), or of a file.
field() { "$py" -c 'import json,sys
v=json.load(open(sys.argv[1]))
for k in sys.argv[2].split("."): v=v[k]
print(v)' "${2:-$out}" "$1"; }
# The value of a `whoami` line (`name:   value`) in "$out".
line() { sed -n "s/^$1: *//p" "$out"; }
expect() { [[ "$2" == "$3" ]] || fail "$1: expected '$3', got '$2' (stdout: $(cat "$out"); stderr: $(cat "$err"))"; }
no_secret() { ! grep -qF -- "$token" "$out" "$err" || fail "$1 printed the token"; }

# 3. The Python tool against the dev server, authenticated by the environment.
anon="$work/home-anon"
run_in "$anon" env GEOPERA_API_URL="$url" GEOPERA_API_TOKEN="$token" \
    "$pycli" op uploads.initiate '{"project_id": "prj_demo", "total_bytes": 5}' ||
    fail "python op uploads.initiate: $(cat "$err")"
expect "python op: reserved bytes" "$(field reserved_bytes)" 5
expect "python op: status" "$(field status)" initiated
pass "python geopera op uploads.initiate"

run_in "$anon" env GEOPERA_API_URL="$url" GEOPERA_API_TOKEN="$token" \
    "$pycli" clip job downloads --job-id clip_demo ||
    fail "python clip job downloads: $(cat "$err")"
expect "python typed command: job id" "$(field job_id)" clip_demo
pass "python geopera clip job downloads --job-id clip_demo (typed command)"

# 4. API keys: the Python tool writes the profile, ours reads it, and the other way round.
pyhome="$work/home-python"
printf '%s\n' "$token" | env -u GEOPERA_API_URL -u GEOPERA_API_TOKEN -u GEOPERA_PROFILE \
    HOME="$pyhome" NO_COLOR=1 "$pycli" login --api-key - --api-url "$url" >"$out" 2>"$err" ||
    fail "python login --api-key: $(cat "$out" "$err")"
no_secret "python login --api-key"
expect "python-written profile: auth type" "$(field default.auth.type "$pyhome/.config/geopera/credentials.json")" api_key
expect "python-written file mode" "$(stat -c %a "$pyhome/.config/geopera/credentials.json")" 600
pass "python geopera login --api-key - (stdin)"

run_in "$pyhome" "$pycli" whoami || fail "python whoami: $(cat "$err")"
expect "python whoami: principal type" "$(line principal_type)" api_key
expect "python whoami: org" "$(line org_id)" org_dev
python_sub="$(line sub)"
pass "python geopera whoami"

run_in "$pyhome" "$rscli" whoami || fail "our whoami on the python profile: $(cat "$err")"
no_secret "our whoami"
expect "our whoami on the python profile: sub" "$(line sub)" "$python_sub"
expect "our whoami on the python profile: api_url" "$(line api_url)" "$url"
pass "our geopera whoami reads the python-written API-key profile"

rshome="$work/home-rust"
printf '%s\n' "$token" | env -u GEOPERA_API_URL -u GEOPERA_API_TOKEN -u GEOPERA_PROFILE \
    HOME="$rshome" "$rscli" login --api-key - --api-url "$url" --profile ours >"$out" 2>"$err" ||
    fail "our login --api-key: $(cat "$err")"
no_secret "our login --api-key"
run_in "$rshome" "$pycli" whoami --profile ours || fail "python whoami on our profile: $(cat "$err")"
expect "python whoami on our profile: sub" "$(line sub)" "$python_sub"
expect "python whoami on our profile: api_url" "$(line api_url)" "$url"
pass "python geopera whoami reads our API-key profile"

# 5. Device logins (approved by the server at once): oauth profiles, both ways.
run_in "$pyhome" "$pycli" login --no-browser --api-url "$url" --profile device ||
    fail "python device login: $(cat "$out" "$err")"
pyfile="$pyhome/.config/geopera/credentials.json"
before="$(field device.auth.refresh_token "$pyfile")"
run_in "$pyhome" "$rscli" whoami --profile device || fail "our whoami on the python device login: $(cat "$err")"
expect "our whoami on the python device login" "$(line principal_type)" user
[[ "$(field device.auth.refresh_token "$pyfile")" != "$before" ]] ||
    fail "our whoami did not refresh the python-written device login"
pass "our geopera whoami reads (and refreshes) the python-written device-login profile"

run_in "$rshome" "$rscli" login --api-url "$url" --profile device ||
    fail "our device login: $(cat "$err")"
rsfile="$rshome/.config/geopera/credentials.json"
before="$(field device.auth.refresh_token "$rsfile")"
run_in "$rshome" "$pycli" whoami --profile device || fail "python whoami on our device login: $(cat "$err")"
expect "python whoami on our device login" "$(line principal_type)" user
[[ "$(field device.auth.refresh_token "$rsfile")" != "$before" ]] ||
    fail "the python whoami did not refresh our device login"
expect "file mode after the python refresh" "$(stat -c %a "$rsfile")" 600
pass "python geopera whoami reads (and refreshes) our device-login profile"

# 6. Logout by one tool is seen by the other.
run_in "$rshome" "$pycli" logout --profile ours || fail "python logout: $(cat "$err")"
if run_in "$rshome" "$rscli" whoami --profile ours; then fail "our whoami after python logout succeeded"; fi
grep -q "not logged in" "$err" || fail "our whoami after python logout: $(cat "$err")"
pass "a python logout is seen by our whoami"

echo "python cli peer: $checks checks OK"
