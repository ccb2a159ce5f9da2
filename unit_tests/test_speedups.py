"""The speed-ups are an opt-in of our packaged commands: importing the connectors' components patches nothing, and
the switch and the version guard leave the CDK's own code in place."""

import ctypes
import subprocess
import sys
from pathlib import Path

import pytest

from connector_common import speedups

ROOT = Path(__file__).resolve().parents[1]

CDK_FUNCTIONS = """
import sys
{setup}
from airbyte_cdk.sources.declarative.retrievers.simple_retriever import SimpleRetriever
from airbyte_cdk.sources.declarative.incremental.concurrent_partition_cursor import ConcurrentPerPartitionCursor
from airbyte_cdk.sources.concurrent_source.concurrent_source import ConcurrentSource
from airbyte_cdk.entrypoint import AirbyteEntrypoint
for function in (SimpleRetriever._read_pages, ConcurrentPerPartitionCursor.observe,
                 ConcurrentPerPartitionCursor._throttle_state_message, ConcurrentSource.read,
                 AirbyteEntrypoint.airbyte_message_to_string):
    print(function.__module__)
"""


def cdk_function_modules(setup: str, **env: str) -> list[str]:
    completed = subprocess.run([sys.executable, "-c", CDK_FUNCTIONS.format(setup=setup)], capture_output=True,
                               text=True, check=True, cwd=ROOT, env={"PATH": "/usr/bin:/bin", **env})
    return completed.stdout.split()


def test_importing_the_components_of_either_connector_leaves_the_cdk_as_it_is():
    modules = cdk_function_modules("import importlib, source_mailchimp.parts as mc, source_campaign_monitor.parts as cm; "
                                    "[importlib.import_module(module) for module in mc.MODULES + cm.MODULES]")

    assert all(module.startswith("airbyte_cdk.") for module in modules), modules


def test_the_speedups_replace_the_cdks_per_record_work_when_switched_on():
    modules = cdk_function_modules("from connector_common.speedups import switch_on_speedups; switch_on_speedups()")

    assert not any(module.startswith("airbyte_cdk.") for module in modules), modules


@pytest.mark.parametrize("value", ["off", "0", "false", "NO"])
def test_the_switch_leaves_the_cdks_own_code_and_says_so(value):
    setup = "from connector_common.speedups import switch_on_speedups; print(switch_on_speedups()[1])"
    completed = subprocess.run([sys.executable, "-c", CDK_FUNCTIONS.format(setup=setup)], capture_output=True,
                               text=True, check=True, cwd=ROOT, env={"PATH": "/usr/bin:/bin",
                                                                     speedups.SWITCH: value})
    said, *modules = completed.stdout.splitlines()

    assert said.startswith("Speed-ups off") and speedups.SWITCH in said
    assert all(module.startswith("airbyte_cdk.") for module in modules), modules


def test_another_cdk_version_gets_the_cdks_own_code_and_a_line_naming_both_versions(monkeypatch):
    monkeypatch.setattr(speedups, "_outcome", None)
    monkeypatch.setattr(speedups.metadata, "version", lambda name: "7.40.0")
    installed = []
    monkeypatch.setattr("cdk_fast_paths.install", lambda: installed.append("fast paths"))

    on, said = speedups.switch_on_speedups()

    assert not on and installed == []
    assert "7.39.1" in said and "7.40.0" in said


class FakeLibc:
    def __init__(self):
        self.calls = []

    def mallopt(self, parameter, value):
        self.calls.append((parameter, value))
        return 1


def test_the_speedups_cap_malloc_arenas_at_two_and_fix_the_mmap_threshold_before_anything_else(monkeypatch):
    libc = FakeLibc()
    monkeypatch.setattr(ctypes, "CDLL", lambda name: libc)
    monkeypatch.setattr(speedups, "_outcome", None)
    monkeypatch.setattr("cdk_fast_paths.install", lambda: libc.calls.append("fast paths installed"))

    on, _ = speedups.switch_on_speedups()

    assert on
    # M_ARENA_MAX as MALLOC_ARENA_MAX=2, M_MMAP_THRESHOLD, before anything else
    assert libc.calls == [(-8, 2), (-3, 128 * 1024), "fast paths installed"]
