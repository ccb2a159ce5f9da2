"""Reads every stream of one of our connectors with PyAirbyte into its default local DuckDB cache, and prints the
number of records per stream as JSON.

Run it with the PyAirbyte venv's interpreter (made by scripts/pyairbyte_setup.sh), not the project's:

    AIRBYTE_OFFLINE_MODE=1 .venv-pyairbyte/bin/python scripts/pyairbyte_read.py source-mailchimp --config config.json

PyAirbyte runs the connector command installed in the project's venv (`.venv/bin/source-mailchimp`, or any path given
with --executable), exactly as it runs any locally installed connector. Offline mode is required on machines that
cannot reach Airbyte's connector registry: without it PyAirbyte looks the connector up there first and fails. It is
set here if the caller did not set it.

The last line printed on stdout is `{"connector": ..., "streams": {stream: records in the cache}, "cache": path}`.
The cache is PyAirbyte's default DuckDB file (`.cache/default_cache/default_cache.duckdb` under the working directory,
or under $AIRBYTE_CACHE_ROOT), with one schema per connector (`mailchimp`, `campaign_monitor`): both connectors have
streams named `campaigns` and `lists`, and in the default schema the second connector's records would be merged into
the first one's tables. As PyAirbyte's default `read()`, it reads incrementally from the state PyAirbyte keeps in that
schema and merges by primary key, so that running the script twice gives the same counts (`--full-refresh` reads every
stream in full and replaces its table instead).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("AIRBYTE_OFFLINE_MODE", "1")  # before `import airbyte`: read once, at import
os.environ.setdefault("DO_NOT_TRACK", "1")

ROOT = Path(__file__).resolve().parents[1]
# connector -> its schema in the DuckDB cache
CONNECTORS = {"source-mailchimp": "mailchimp", "source-campaign-monitor": "campaign_monitor"}


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("connector", choices=sorted(CONNECTORS))
    parser.add_argument("--config", required=True, type=Path, help="the connector's config, a JSON file")
    parser.add_argument(
        "--executable",
        type=Path,
        help="the connector command (default: the one installed in the project's .venv, then on PATH)",
    )
    parser.add_argument("--streams", default="*", help="comma-separated stream names (default: every stream)")
    parser.add_argument("--full-refresh", action="store_true",
                        help="read every stream in full and replace its table (default: incremental, from the cache's state)")
    return parser.parse_args(argv)


def connector_executable(connector: str, given: Path | None) -> Path:
    if given is not None:
        return given.resolve()
    installed = ROOT / ".venv" / "bin" / connector
    if installed.exists():
        return installed
    import shutil

    found = shutil.which(connector)
    if not found:
        sys.exit(f"{connector} is not installed: run `.venv/bin/pip install -e .` first, or pass --executable")
    return Path(found)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    import airbyte as ab  # after the environment is set

    config = json.loads(args.config.read_text())
    streams = "*" if args.streams == "*" else [name.strip() for name in args.streams.split(",") if name.strip()]
    source = ab.get_source(
        args.connector,
        local_executable=connector_executable(args.connector, args.executable),
        config=config,
        streams=streams,
    )
    source.check()
    default = ab.get_default_cache()
    cache = ab.DuckDBCache(db_path=default.db_path, cache_dir=default.cache_dir, schema_name=CONNECTORS[args.connector])
    if args.full_refresh:
        result = source.read(cache=cache, force_full_refresh=True, write_strategy="replace")
    else:
        result = source.read(cache=cache)
    counts = {name: len(dataset) for name, dataset in sorted(result.streams.items())}
    print(
        json.dumps(
            {"connector": args.connector, "streams": counts, "cache": str(cache.db_path), "schema": cache.schema_name}
        ),
        flush=True,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
