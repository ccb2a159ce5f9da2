"""The speed-ups of our packaged commands, switched on by their entrypoints only.

They replace parts of airbyte-cdk's own per-record work and its page loop (cdk_fast_paths, pages_read_ahead) and tune
the process (glibc malloc, the heap frozen before a read). Each was written and tested against one airbyte-cdk version:
on any other version the connector runs the CDK's own code and says so once. Nothing here runs on import, so the
manifest and components alone (Airbyte's stock runtime, the Connector Builder) never see a patched CDK.

`EMAIL_SOURCES_SPEEDUPS=off` (or 0, false, no) in the environment runs the CDK's own code on the tested version too:
the records and states are the same either way, only slower.

With them on, the per-partition cursor also emits its state every `cdk_fast_paths.STATE_INTERVAL_SECONDS` (30 s)
instead of the CDK's 600 s, so that a sync killed midway resumes from at most half a minute before.
"""

from __future__ import annotations

import os
from importlib import metadata
from typing import Optional

SWITCH = "EMAIL_SOURCES_SPEEDUPS"
TESTED_CDK_VERSION = "7.39.1"
_OFF_VALUES = {"0", "off", "false", "no"}
_outcome: Optional[tuple[bool, str]] = None


def switched_off() -> bool:
    """Whether the environment asks for the CDK's own code."""
    return os.environ.get(SWITCH, "").strip().lower() in _OFF_VALUES


def switch_on_speedups() -> tuple[bool, str]:
    """Installs every speed-up once per process, unless switched off or on another airbyte-cdk version.

    Returns (on, why): `why` is the line to log. Call it before airbyte_cdk is first imported: one speed-up spares the
    CDK's import part of its start-up."""
    global _outcome
    if _outcome is not None:
        return _outcome
    if switched_off():
        _outcome = (False, f"Speed-ups off ({SWITCH}={os.environ[SWITCH]}): the CDK's own code runs.")
        return _outcome
    try:
        version = metadata.version("airbyte-cdk")
    except metadata.PackageNotFoundError:
        version = "unknown"
    if version != TESTED_CDK_VERSION:
        _outcome = (False, f"Speed-ups off: written for airbyte-cdk {TESTED_CDK_VERSION}, this is {version}; "
                           "the CDK's own code runs.")
        return _outcome
    import cdk_fast_paths  # first: its install() must precede the first import of airbyte_cdk
    from connector_common.malloc import tune_malloc

    tune_malloc()  # before the worker threads start
    cdk_fast_paths.install()
    cdk_fast_paths.use_command_line_paths()
    from connector_common import pages_read_ahead

    pages_read_ahead.install()
    _outcome = (True, f"Speed-ups on (airbyte-cdk {version}); {SWITCH}=off runs the CDK's own code.")
    return _outcome
