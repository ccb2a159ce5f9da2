#!/usr/bin/env bash
# Creates .venv-pyairbyte: PyAirbyte (`airbyte` on PyPI) in its own virtual environment, apart from the project's .venv
# (PyAirbyte brings DuckDB, SQLAlchemy, pandas... and its own pins, which must not move the connectors' dependencies).
# The connectors are not installed into it: PyAirbyte runs the commands already installed in .venv
# (`get_source(..., local_executable=...)`), as it would run any connector on PATH.
#
#   scripts/pyairbyte_setup.sh            creates or completes the venv (about a minute the first time, instant after)
#   PYAIRBYTE_VENV=/path scripts/pyairbyte_setup.sh   elsewhere
#
# Exit status: 0 ready; 3 the package registry cannot be reached (nothing else is wrong: callers may skip);
# any other non-zero status is a real failure.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${PYAIRBYTE_VENV:-.venv-pyairbyte}"
SPEC="${PYAIRBYTE_SPEC:-airbyte>=0.71,<0.72}"
PYTHON="${PYTHON:-python3}"
# The import checks below must not try to reach Airbyte's registry or telemetry.
export AIRBYTE_OFFLINE_MODE=1 DO_NOT_TRACK=1

if [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c "import airbyte" 2>/dev/null; then
  echo "PyAirbyte $("$VENV/bin/python" -c 'from importlib.metadata import version; print(version("airbyte"))') ready in $VENV"
  exit 0
fi

if [ ! -x "$VENV/bin/python" ]; then
  "$PYTHON" -m venv "$VENV"
fi

log="$(mktemp)"
trap 'rm -f "$log"' EXIT
# Bounded retries and socket timeout: without a network, fail in about a minute rather than pip's quarter of an hour.
if ! "$VENV/bin/python" -m pip install --disable-pip-version-check --quiet --retries 3 --timeout 30 "$SPEC" >"$log" 2>&1; then
  cat "$log" >&2
  if grep -qiE "Could not find a version that satisfies|No matching distribution|Failed to establish a new connection|Temporary failure in name resolution|Network is unreachable|Max retries exceeded|ConnectTimeout|ReadTimeout" "$log"; then
    echo "pyairbyte_setup: the package registry cannot be reached to install '$SPEC'" >&2
    exit 3
  fi
  exit 1
fi
"$VENV/bin/python" -W ignore::FutureWarning -c "import airbyte" >/dev/null  # Google's Python 3.11 notices
echo "PyAirbyte $("$VENV/bin/python" -c 'from importlib.metadata import version; print(version("airbyte"))') ready in $VENV"
