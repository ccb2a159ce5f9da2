import pytest
import requests_mock


@pytest.fixture
def api():
    with requests_mock.Mocker() as mocker:
        yield mocker


@pytest.fixture
def no_sleep(monkeypatch):
    """Retries back off for real seconds; tests that exercise them skip the waiting and record it."""
    waits = []
    import time

    monkeypatch.setattr(time, "sleep", lambda seconds: waits.append(seconds))
    return waits
