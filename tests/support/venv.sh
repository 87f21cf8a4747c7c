# Sourced by the Python-using scripts (tests/spec, tests/peer, tests/contract, benches):
# `geopera_venv ROOT NAME==VERSION...` creates or reuses the venv at
# "${GEOPERA_VENV:-ROOT/target/venv}" (Python >= 3.11, from "${PYTHON:-python3}") and
# installs the pinned packages only when one is not already at its pin. It sets `venv`
# and `py` for the caller.

geopera_venv() {
    local root=$1
    shift
    venv="${GEOPERA_VENV:-$root/target/venv}"
    [[ "$venv" = /* ]] || venv="$PWD/$venv"
    py="$venv/bin/python"
    if ! "$py" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
        echo "venv: creating $venv" >&2
        rm -rf "$venv"
        "${PYTHON:-python3}" -c 'import sys; sys.exit(sys.version_info < (3, 11))' || {
            echo "venv: ${PYTHON:-python3} is older than 3.11" >&2
            return 1
        }
        "${PYTHON:-python3}" -m venv "$venv"
    fi
    if ! "$py" - "$@" <<'PY' 2>/dev/null
import sys
from importlib.metadata import version
sys.exit(not all(version(name) == pin for name, pin in (a.split("==") for a in sys.argv[1:])))
PY
    then
        echo "venv: installing $*" >&2
        "$py" -m pip install --quiet --disable-pip-version-check "$@"
    fi
}
