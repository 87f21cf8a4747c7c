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

# 2. The dev server binary on a free loopback port, stopped on exit.
source "$root/tests/support/dev_server.sh"
start_dev_server "$root" py-sdk-peer --quota-bytes "$QUOTA_BYTES"
say "dev server at $url (pid $server_pid)"

# 3. The seed's examples with the official package.
status=0
"$py" -I "$here/python_sdk_flow.py" --base-url "$url" --token "$token" --quota-bytes "$QUOTA_BYTES" || status=$?
if [[ $status -ne 0 ]]; then
    dev_server_stderr
    exit "$status"
fi
