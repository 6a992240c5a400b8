#!/usr/bin/env bash
# The prepared GPU check: bash benchmarks/device_check.sh OUT_DIR [--scale gpu|smoke]. See device_check.py.
set -euo pipefail
out="${1:?usage: benchmarks/device_check.sh OUT_DIR [--scale gpu|smoke]}"
shift
cd "$(dirname "$0")/.."
py=python3
[ -x .venv/bin/python ] && py=.venv/bin/python
[ -x .conda-env/bin/python ] && py=.conda-env/bin/python
export DATADIET_DATA_ROOT="${DATADIET_DATA_ROOT:-$(cd .. && pwd)/shared/data}"
PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" timeout 600 "$py" benchmarks/device_check.py "$out" "$@"
