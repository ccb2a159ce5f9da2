#!/usr/bin/env bash
# Creates .venv-stock: airbyte-cdk exactly as Airbyte's manifest-only image ships it, from PyPI, and nothing of this
# repository. integration_tests/stock_runtime.py runs its `source-declarative-manifest` to prove that a manifest and
# its components.py work on the stock runtime (Airbyte Cloud, the Connector Builder, the
# airbyte/source-declarative-manifest image), where none of our packages is installed.
#
#   scripts/stock_runtime_setup.sh                    creates or completes the venv (about a minute the first time, instant after)
#   STOCK_VENV=/path scripts/stock_runtime_setup.sh   elsewhere
#
# Exit status: 0 ready; 3 the package registry cannot be reached (nothing else is wrong: callers may skip);
# any other non-zero status is a real failure.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${STOCK_VENV:-.venv-stock}"
SPEC="${STOCK_CDK_SPEC:-airbyte-cdk==7.39.1}"
PYTHON="${PYTHON:-python3}"
WANTED="${SPEC#airbyte-cdk==}"

installed_version() {
  "$VENV/bin/python" -c 'from importlib.metadata import version; print(version("airbyte-cdk"))' 2>/dev/null
}

# Nothing of this repository may be importable from it (an editable install or a .pth file would hide a missing
# import in components.py). -I: neither the working directory nor PYTHONPATH counts.
isolated() {
  "$VENV/bin/python" -I -c "
import importlib.util, sys
found = [m for m in ('source_mailchimp', 'source_campaign_monitor', 'connector_common', 'cdk_fast_paths', 'sandbox')
         if importlib.util.find_spec(m)]
sys.exit(f'$VENV can import {found}: recreate it (rm -r $VENV)' if found else 0)
"
}

if [ -x "$VENV/bin/source-declarative-manifest" ] && [ "$(installed_version)" = "$WANTED" ] && isolated; then
  echo "airbyte-cdk $WANTED (stock runtime) ready in $VENV"
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
    echo "stock_runtime_setup: the package registry cannot be reached to install '$SPEC'" >&2
    exit 3
  fi
  exit 1
fi
if ! isolated; then
  exit 1
fi
echo "airbyte-cdk $(installed_version) (stock runtime) ready in $VENV"
