#!/usr/bin/env bash
# Name-fidelity check for openapi.json (issue 2).
#
# Generates a Python client from the spec with openapi-python-client (the tool
# the official Geopera Python SDK is generated with) and checks that it yields
# exactly the operation modules and model classes the Python SDK documents.
# The spec must also pass openapi-spec-validator.
#
# Usage (from the repo root):  tests/spec/check_python_names.sh [path/to/openapi.json]
# Env:   GEOPERA_VENV  venv to create/reuse (default: target/venv under the repo root;
#                      a relative value is taken relative to the current directory)
#        PYTHON        interpreter used to create the venv (default: python3, needs >= 3.11)
set -euo pipefail

OPENAPI_PYTHON_CLIENT_VERSION=0.29.1
OPENAPI_SPEC_VALIDATOR_VERSION=0.9.0

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"

spec="${1:-$root/openapi.json}"
if [[ ! -f "$spec" ]]; then
    echo "check_python_names: spec not found: $spec" >&2
    exit 1
fi
spec="$(cd "$(dirname "$spec")" && pwd)/$(basename "$spec")"

# 1. venv with pinned tools; (re)install only when a pin is not already satisfied.
source "$root/tests/support/venv.sh"
geopera_venv "$root" "openapi-python-client==$OPENAPI_PYTHON_CLIENT_VERSION" \
    "openapi-spec-validator==$OPENAPI_SPEC_VALIDATOR_VERSION"

# 2. The document must be a valid OpenAPI document.
if ! "$venv/bin/openapi-spec-validator" "$spec" >&2; then
    echo "check_python_names: $spec is not a valid OpenAPI document" >&2
    exit 1
fi

# 3. Generate the Python client into a scratch dir and check its names.
work="$(mktemp -d "${TMPDIR:-/tmp}/geopera-pyclient.XXXXXX")"
trap 'rm -rf "$work"' EXIT
if ! "$venv/bin/openapi-python-client" generate \
        --path "$spec" \
        --meta none \
        --config "$here/openapi-python-client.yaml" \
        --output-path "$work/geopera" \
        --overwrite \
        --fail-on-warning >"$work/generate.log" 2>&1; then
    cat "$work/generate.log" >&2
    echo "check_python_names: openapi-python-client failed on $spec" >&2
    exit 1
fi

# 4. Import the generated package and compare names; prints the summary line.
"$py" -I "$here/check_python_names.py" "$work"
