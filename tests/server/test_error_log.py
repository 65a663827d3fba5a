"""A (route, exception type) traceback is logged at most once a minute, the rest counted and the count
printed with the next one (issue 12, section 3)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from server.errorlog import ThrottledErrorLog
from tests.live_server import LiveServer
from tests.server.helpers import client
from tests.server.test_api_database_errors import broken


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _fail(kind: type[Exception]) -> Exception:
    try:
        raise kind("boom")
    except Exception as exc:
        return exc


def test_one_traceback_a_minute_per_route_and_type(caplog: pytest.LogCaptureFixture) -> None:
    clock = Clock()
    throttle = ThrottledErrorLog(interval=60.0, clock=clock)
    logger = logging.getLogger("tests.errorlog")
    with caplog.at_level(logging.ERROR, logger="tests.errorlog"):
        logged = [throttle.exception(logger, _fail(KeyError), "failed", route="GET /a") for _ in range(300)]
        assert logged == [True] + [False] * 299
        # Another exception type, or another route, is its own kind.
        assert throttle.exception(logger, _fail(ValueError), "failed", route="GET /a")
        assert throttle.exception(logger, _fail(KeyError), "failed", route="GET /b")
        clock.now += 59.0
        assert not throttle.exception(logger, _fail(KeyError), "failed", route="GET /a")
        clock.now += 1.0
        assert throttle.exception(logger, _fail(KeyError), "failed", route="GET /a")
    records = [r for r in caplog.records if r.name == "tests.errorlog"]
    assert len(records) == 4
    assert all(r.exc_info is not None for r in records)
    assert records[0].getMessage() == "GET /a: failed"
    assert records[3].getMessage() == "GET /a: failed (300 more of these since the last one logged)"


def test_remembered_kinds_are_bounded() -> None:
    throttle = ThrottledErrorLog(max_kinds=10, clock=Clock())
    logger = logging.getLogger("tests.errorlog.bounded")
    logger.disabled = True
    try:
        for i in range(100):
            throttle.exception(logger, _fail(KeyError), "failed", route=f"GET /{i}")
    finally:
        logger.disabled = False
    assert len(throttle._kinds) == 10


async def test_a_burst_of_500s_logs_one_traceback(tmp_path: Path) -> None:
    server = LiveServer(tmp_path).start()
    try:
        async with client(server) as c:
            assert (await c.get("/users/me")).status_code == 200
            with broken(server, "inbox_notifications"):
                codes = [(await c.get("/notifications/inbox")).status_code for _ in range(30)]
        assert codes == [500] * 30
    finally:
        server.stop()
    text = server.log_path.read_text()
    assert text.count(" [error] ") == 1
    assert "Traceback (most recent call last)" in text
    assert "GET /api/v2/notifications/inbox: Failed to get filtered inbox notifications." in text
