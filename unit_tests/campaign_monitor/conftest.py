"""Shared fixtures of the Campaign Monitor unit tests: configs and the canned API responses they need."""

from __future__ import annotations

import pytest

from source_campaign_monitor import components



@pytest.fixture(autouse=True)
def fresh_process_state():
    """Each test starts as a new process: no OAuth token and no client time zone known yet."""
    components._TOKEN_STATES.clear()
    components.ClientTimeZones._converters.clear()
    components.SyncInputs.clear()
    yield
    components._TOKEN_STATES.clear()
    components.ClientTimeZones._converters.clear()
    components.SyncInputs.clear()
