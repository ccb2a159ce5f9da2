"""Measuring a connector process from outside: peak RSS of its process tree, CPU, its output and request log."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from benchmarks.measure import Measured, parse_output, read_request_log, run_measured

ALLOCATING_CHILD = (
    "import subprocess, sys\n"
    "child = 'import time; block = bytearray(200 * 2**20); block[::4096] = b\"x\" * len(block[::4096]); time.sleep(1)'\n"
    "subprocess.run([sys.executable, '-c', child])\n"
)


def test_peak_rss_counts_memory_held_by_a_child_process(tmp_path: Path):
    measured = run_measured([sys.executable, "-c", ALLOCATING_CHILD], env=dict(os.environ),
                            stdout_path=tmp_path / "out")
    assert measured.returncode == 0
    assert measured.peak_rss > 200 * 2**20
    assert measured.wall >= 1.0


def test_cpu_seconds_include_the_work_of_the_process(tmp_path: Path):
    busy = "import time\nend = time.process_time() + 0.5\nwhile time.process_time() < end: pass\n"
    measured = run_measured([sys.executable, "-c", busy], env=dict(os.environ), stdout_path=tmp_path / "out")
    assert 0.5 <= measured.cpu < 5


def test_a_connector_that_outlives_the_timeout_is_killed(tmp_path: Path):
    measured = run_measured([sys.executable, "-c", "import time; time.sleep(30)"], env=dict(os.environ),
                            stdout_path=tmp_path / "out", timeout=0.5)
    assert measured.returncode != 0
    assert measured.wall < 10


def test_records_are_counted_per_stream_in_airbyte_and_singer_output(tmp_path: Path):
    out = tmp_path / "out"
    out.write_text("\n".join([
        '{"type":"RECORD","record":{"stream":"lists","data":{"id":1},"emitted_at":1}}',
        '{"type":"RECORD","record":{"stream":"lists","data":{"id":2},"emitted_at":1}}',
        '{"type": "RECORD", "stream": "list_members", "record": {"id": "m"}}',
        '{"type":"STATE","state":{"type":"STREAM","stream":{"stream_descriptor":{"name":"lists"},"stream_state":{}}}}',
        '{"type": "STATE", "value": {"bookmarks": {"a": 1}}}',
        '{"type":"TRACE","trace":{"type":"ERROR","error":{"message":"lists failed: 500"}}}',
        "not json",
    ]) + "\n")
    output = parse_output(Measured([], 0, 0, 0, 0, out, ""))
    assert output.records == {"lists": 2, "list_members": 1}
    assert list(output.airbyte_states) == ["lists"]
    assert output.singer_state == {"bookmarks": {"a": 1}}
    assert output.errors == ["lists failed: 500"]


def test_request_log_summary_counts_outcomes_and_the_most_requests_in_flight_at_once(tmp_path: Path):
    log = tmp_path / "requests.log"
    log.write_text("".join(f"{start}\t{end}\tGET\t{outcome}\thttp://x/\n" for start, end, outcome in [
        (0.0, 1.0, "200"), (0.5, 1.5, "429"), (0.9, 2.0, "200"), (1.5, 2.5, "ConnectionError"), (3.0, 4.0, "200"),
    ]))
    summary = read_request_log(log)
    assert summary["total"] == 5
    assert summary["outcomes"] == {"200": 3, "429": 1, "ConnectionError": 1}
    assert summary["max_in_flight"] == 3  # 0.9 to 1.0; a request ending as another starts does not overlap it
