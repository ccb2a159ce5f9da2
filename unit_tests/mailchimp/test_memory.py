"""Memory: the process caps glibc's malloc arenas before its worker threads start (peak RSS stays flat with scale)."""

import ctypes
import platform

import pytest

from source_mailchimp import run as run_module
from unit_tests.mailchimp.helpers import invoke


class FakeLibc:
    def __init__(self):
        self.calls = []

    def mallopt(self, parameter, value):
        self.calls.append((parameter, value))
        return 1


def test_every_run_caps_malloc_arenas_at_two_and_fixes_the_mmap_threshold_before_anything_else(monkeypatch, capsys, tmp_path):
    libc = FakeLibc()
    monkeypatch.setattr(ctypes, "CDLL", lambda name: libc)

    out = invoke(capsys, tmp_path, "spec")

    assert out.exit_code == 0
    assert libc.calls == [(-8, 2), (-3, 128 * 1024)]  # M_ARENA_MAX as MALLOC_ARENA_MAX=2, M_MMAP_THRESHOLD


def test_without_glibc_the_cap_is_skipped_and_the_connector_still_runs(monkeypatch, capsys, tmp_path):
    def no_libc(name):
        raise OSError("not glibc")

    monkeypatch.setattr(ctypes, "CDLL", no_libc)

    assert run_module.tune_malloc() is False
    out = invoke(capsys, tmp_path, "spec")
    assert out.exit_code == 0 and out.of_type("SPEC")


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt(M_ARENA_MAX) is glibc's")
def test_the_cap_is_applied_on_this_glibc():
    assert run_module.tune_malloc() is True
