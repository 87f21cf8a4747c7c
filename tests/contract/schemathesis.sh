#!/usr/bin/env bash
# Contract run (issue 3, "Proof"): schemathesis against the running `geopera-dev-server` binary
# with our openapi.json. Every operation, positive and negative (schema-violating) inputs, and
# the checks
#   not_a_server_error, status_code_conformance, content_type_conformance,
#   response_schema_conformance
# i.e. no 5xx, and every response's status, media type and body as the document describes.
#
# So that generated requests reach the server's logic instead of bouncing off 404s, the run is
# given the demo data (prj_demo, itm_demo/visual, clip_demo/visual) and a few open upload
# sessions made just before it, as schemathesis dictionaries drawn with some probability
# (the rest of the values stay random). Bounded by --max-examples per operation
# (GEOPERA_SCHEMATHESIS_MAX_EXAMPLES, default 100; about a minute on 2 cores) and a fixed seed
# (GEOPERA_SCHEMATHESIS_SEED) so CI is reproducible. The server is always stopped on exit.
# Prints `schemathesis: N operations, M test cases, no failures` on success.
#
# Usage (from anywhere):  tests/contract/schemathesis.sh [path/to/openapi.json]
# Env:   GEOPERA_VENV      venv to create/reuse (default: target/venv under the repo root;
#                          a relative value is taken relative to the current directory)
#        PYTHON            interpreter used to create the venv (default: python3, needs >= 3.11)
#        CARGO_TARGET_DIR  cargo's target dir (default: target under the repo root)
#        GEOPERA_SCHEMATHESIS_MAX_EXAMPLES, GEOPERA_SCHEMATHESIS_SEED  see above
set -euo pipefail

SCHEMATHESIS_VERSION=4.32.5
MAX_EXAMPLES="${GEOPERA_SCHEMATHESIS_MAX_EXAMPLES:-100}"
SEED="${GEOPERA_SCHEMATHESIS_SEED:-20260611}"
CHECKS=not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"

say() { echo "schemathesis.sh: $*" >&2; }

spec="${1:-$root/openapi.json}"
if [[ ! -f "$spec" ]]; then
    say "spec not found: $spec"
    exit 1
fi
spec="$(cd "$(dirname "$spec")" && pwd)/$(basename "$spec")"

# 1. venv with pinned schemathesis; install only when the pin is not already satisfied.
source "$root/tests/support/venv.sh"
geopera_venv "$root" "schemathesis==$SCHEMATHESIS_VERSION"

# 2. The dev server binary on a free loopback port, stopped on exit.
source "$root/tests/support/dev_server.sh"
start_dev_server "$root" contract
say "dev server at $url (pid $server_pid)"

# 3. Test data: open upload sessions (many files allowed, so signing random names succeeds)
#    and the demo ids, as a schemathesis config with dictionaries. Caches and the example
#    database stay in the scratch dir.
"$py" - "$url" "$token" "$work/schemathesis.toml" <<'PY'
import json
import sys
import urllib.request

url, token, out = sys.argv[1:]


def call(op, body):
    req = urllib.request.Request(
        f"{url}/v1/op/{op}",
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.load(resp)


uploads = [
    call("uploads.initiate", {
        "project_id": "prj_demo", "transfer_method": "signed_url",
        "file_count": 10_000, "total_bytes": 1 << 20,
    })["id"]
    for _ in range(16)
]
dictionaries = {
    "project_id": ["prj_demo"],
    "item_id": ["itm_demo"],
    "asset_id": ["visual"],
    "job_id": ["clip_demo"],
    "mosaic_type": ["visual"],
    "upload_id": uploads,
    "file_name": ["scene.tif", "bands/b04.tif", "harbour_2024.tif"],
    "content_type": ["image/tiff", "application/octet-stream"],
}
lines = [
    "[generation]",
    'database = "none"',
    "[cache]",
    "enabled = false",
]
for name, values in dictionaries.items():
    lines += [f"[dictionaries.{name}]", f"values = {json.dumps(values)}"]
lines.append("[parameters]")
for name in dictionaries:
    lines.append(f'"body.{name}" = {{ dictionary = "{name}", probability = 0.7 }}')
with open(out, "w") as fh:
    fh.write("\n".join(lines) + "\n")
PY

# 4. The run. Exit status and counts come from schemathesis' JSON report.
status=0
(
    cd "$work"
    exec "$venv/bin/schemathesis" --config-file "$work/schemathesis.toml" --no-color run "$spec" \
        --url "$url" \
        --header "Authorization: Bearer $token" \
        --checks "$CHECKS" \
        --max-examples "$MAX_EXAMPLES" \
        --seed "$SEED" \
        --request-timeout 30 \
        --report json --report-json-path "$work/report.json"
) || status=$?

if [[ ! -s "$work/report.json" ]]; then
    say "schemathesis exited with status $status and wrote no report"
    exit 1
fi
summary_status=0
"$py" - "$work/report.json" "$status" <<'PY' || summary_status=$?
import json
import sys

report = json.load(open(sys.argv[1]))
exit_code = int(sys.argv[2])
ops = report["operations"]
cases = report["test_cases"]
failures = len(report.get("failures") or [])
errors = len(report.get("errors") or []) + int(ops.get("errored", 0)) + int(cases.get("errored", 0))
head = f"schemathesis: {ops['tested']} operations, {cases['generated']} test cases"
if exit_code == 0 and failures == 0 and errors == 0 and cases["with_failures"] == 0 \
        and ops["tested"] == ops["total"] and report.get("complete", True):
    print(f"{head}, no failures")
    sys.exit(0)
print(
    f"{head}, {cases['with_failures']} with failures ({cases.get('unique_failures', failures)} unique), "
    f"{errors} errors, "
    f"{ops['total'] - ops['tested']} operations untested; schemathesis exit status {exit_code}",
    file=sys.stderr,
)
sys.exit(1)
PY
if [[ $summary_status -ne 0 || $status -ne 0 ]]; then
    dev_server_stderr
    exit 1
fi
