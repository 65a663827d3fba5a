"""Prometheus metrics with coderd's names (issue 13, section 3), scraped from a real server.

A custom notification is delivered to the inbox and to a webhook receiver that answers 500, a watcher
receives the frame, another one stops answering pings; then the scrape must show Coder's notification and
API metrics with Coder's labels and buckets, and our own inbox_server_* counters, with the right values.
"""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from server.app import InboxServer
from server.config import ServerConfig
from server.records import TEMPLATE_CUSTOM_NOTIFICATION
from tests.live_server import LiveServer
from tests.pg import pg_dsn, pg_server_dsn  # noqa: F401  (fixtures)
from tests.server.helpers import wait_for
from tests.server.test_webhook_method import Receiver
from tests.server.watch_helpers import RawWatch, next_frame, open_watch, send_custom, watch_url

CUSTOM = str(TEMPLATE_CUSTOM_NOTIFICATION)
WATCH = "/api/v2/notifications/inbox/watch"
QUEUED_BUCKETS = ["0.1", "1", "5", "15", "30", "60", "120", "300", "600", "3600", "86400", "+Inf"]
SEND_BUCKETS = ["0.001", "0.05", "0.1", "0.5", "1", "2", "5", "10", "15", "30", "60", "120", "+Inf"]
LATENCY_BUCKETS = ["0.001", "0.005", "0.01", "0.025", "0.05", "0.1", "0.5", "1", "5", "10", "30", "+Inf"]
WEBSOCKET_BUCKETS = ["0.001", "1", "60", "3600", "54000", "108000", "+Inf"]

_SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$")
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


class Scrape:
    """One scrape, parsed: TYPE lines and samples keyed by name and label set."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.types: dict[str, str] = {}
        self.samples: dict[tuple[str, frozenset[tuple[str, str]]], float] = {}
        for line in text.splitlines():
            if line.startswith("# TYPE "):
                _, _, name, kind = line.split(" ", 3)
                self.types[name] = kind
            elif line and not line.startswith("#"):
                match = _SAMPLE.match(line)
                assert match, f"malformed sample line {line!r}"
                labels = frozenset(_LABEL.findall(match.group(2) or ""))
                self.samples[(match.group(1), labels)] = float(match.group(3))

    def value(self, name: str, **labels: str) -> float | None:
        """The sample with exactly these labels, or None."""
        return self.samples.get((name, frozenset(labels.items())))

    def buckets(self, name: str, **labels: str) -> list[str]:
        """The `le` values of a histogram series, in exposition order."""
        want = set(labels.items())
        return [
            dict(key)["le"]
            for (sample, key) in self.samples
            if sample == name + "_bucket" and want <= set(key) and len(key) == len(want) + 1
        ]


@pytest.fixture
def failing_receiver() -> Iterator[Receiver]:
    with Receiver() as receiver:
        receiver.statuses = [500] * 50  # every attempt fails, so the message ends as a permanent failure
        yield receiver


def _start(workdir: Path, *args: str, db: str | None = None) -> tuple[LiveServer, str]:
    server = LiveServer(workdir, db=db, args=["--prometheus-enable", "--prometheus-address", "127.0.0.1:0", *args])
    server.start()
    assert server.proc is not None and server.proc.stdout is not None
    line = server.proc.stdout.readline()
    assert line.startswith("prometheus metrics on "), line
    return server, line.split(" ", 3)[3].strip()


async def _scrape(url: str) -> Scrape:
    async with httpx.AsyncClient(timeout=10) as c:
        response = await c.get(url + "/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    return Scrape(response.text)


async def test_scrape_after_delivery_and_failed_webhook(tmp_path: Path, failing_receiver: Receiver) -> None:
    server, metrics_url = _start(
        tmp_path / "server",
        "--notifications-method",
        "webhook",
        "--webhook-url",
        failing_receiver.url,
        "--max-send-attempts",
        "2",
        "--retry-interval",
        "0.05",
        "--watch-ping-interval",
        "0.5",
        "--api-rate-limit",
        "5",
    )
    try:
        ws = await open_watch(server)
        dead = await RawWatch.connect(watch_url(server), server.headers())
        try:
            open_now = await _scrape(metrics_url)
            assert open_now.value("inbox_server_watchers") == 2
            assert open_now.value("coderd_api_concurrent_websockets", path=WATCH) == 2

            await send_custom(server, "Deploy done", "All green.")
            _, frame = await next_frame(ws)
            assert frame["notification"]["template_id"] == CUSTOM
            # The peer that never answers pings is closed with 1001 by the liveness check.
            close = await dead.wait_closed(within=10)
            assert close is not None and close.code == 1001

            async def failed_for_good() -> Scrape | None:
                scrape = await _scrape(metrics_url)
                done = scrape.value(
                    "coderd_notifications_permanent_failures_count", method="webhook", template_id=CUSTOM
                )
                return scrape if done == 1 else None

            scrape = await wait_for(failed_for_good, within=30)
        finally:
            dead.close()
            await ws.close()

        async with httpx.AsyncClient(base_url=server.url + "/api/v2", headers=server.headers()) as c:
            notification_id = frame["notification"]["id"]
            read = await c.put(f"/notifications/inbox/{notification_id}/read-status", json={"is_read": True})
            assert read.status_code == 200
            limited = [(await c.get("/buildinfo")).status_code for _ in range(8)]
            assert 429 in limited
        after = await _scrape(metrics_url)
    finally:
        server.stop()

    attempts = len(failing_receiver.requests)  # what the real receiver saw
    assert attempts == 2  # --max-send-attempts 2: two tries in all, as Coder makes
    for name in (
        "coderd_notifications_dispatched_count",
        "coderd_notifications_temporary_failures_count",
        "coderd_notifications_permanent_failures_count",
        "coderd_notifications_retry_count",
        "coderd_api_requests_processed_total",
        "inbox_server_watch_frames_sent_total",
        "inbox_server_watchers_evicted_total",
        "inbox_server_rate_limited_requests_total",
        "inbox_server_pubsub_reconnects_total",
    ):
        assert scrape.types[name] == "counter", name
    for name in (
        "coderd_notifications_queued_seconds",
        "coderd_notifications_dispatcher_send_seconds",
        "coderd_api_request_latencies_seconds",
        "coderd_api_websocket_durations_seconds",
    ):
        assert scrape.types[name] == "histogram", name
    for name in (
        "coderd_notifications_pending_updates",
        "coderd_api_concurrent_requests",
        "coderd_api_concurrent_websockets",
        "inbox_server_watchers",
    ):
        assert scrape.types[name] == "gauge", name
    assert "_created" not in scrape.text

    # Notifications: the inbox copy was dispatched once; the webhook copy failed every attempt.
    assert scrape.value("coderd_notifications_dispatched_count", method="inbox", template_id=CUSTOM) == 1
    assert scrape.value("coderd_notifications_dispatched_count", method="webhook", template_id=CUSTOM) is None
    temporary = scrape.value("coderd_notifications_temporary_failures_count", method="webhook", template_id=CUSTOM)
    assert temporary == attempts - 1
    assert scrape.value("coderd_notifications_retry_count", method="webhook", template_id=CUSTOM) == attempts - 1
    assert scrape.value("coderd_notifications_queued_seconds_count", method="inbox") == 1
    assert scrape.value("coderd_notifications_queued_seconds_count", method="webhook") == attempts
    assert scrape.value("coderd_notifications_dispatcher_send_seconds_count", method="webhook") == attempts
    assert scrape.value("coderd_notifications_dispatcher_send_seconds_count", method="inbox") == 1
    assert scrape.buckets("coderd_notifications_queued_seconds", method="webhook") == QUEUED_BUCKETS
    assert scrape.buckets("coderd_notifications_dispatcher_send_seconds", method="webhook") == SEND_BUCKETS
    assert scrape.value("coderd_notifications_pending_updates") == 0

    # API: labelled by route pattern, never by the raw path.
    processed = "coderd_api_requests_processed_total"
    assert after.value(processed, code="204", method="POST", path="/api/v2/notifications/custom") == 1
    assert after.value(processed, code="101", method="GET", path=WATCH) == 2
    read_status = "/api/v2/notifications/inbox/{id}/read-status"
    assert after.value(processed, code="200", method="PUT", path=read_status) == 1
    assert frame["notification"]["id"] not in after.text
    assert after.buckets("coderd_api_request_latencies_seconds", method="PUT", path=read_status) == LATENCY_BUCKETS
    assert after.value("coderd_api_request_latencies_seconds_count", method="PUT", path=read_status) == 1
    assert after.buckets("coderd_api_websocket_durations_seconds", path=WATCH) == WEBSOCKET_BUCKETS
    assert after.value("coderd_api_websocket_durations_seconds_count", path=WATCH) == 2
    assert after.value("coderd_api_concurrent_websockets", path=WATCH) == 0
    assert after.value("coderd_api_concurrent_requests", path=read_status) == 0

    # Ours.
    assert after.value("inbox_server_watchers") == 0
    # The live watcher's frame, and the dead one's if it was still open when the notification came.
    assert after.value("inbox_server_watch_frames_sent_total") == 1 + len(dead.texts)
    assert after.value("inbox_server_watchers_evicted_total", reason="liveness") == 1
    assert after.value("inbox_server_watchers_evicted_total", reason="queue_full") == 0
    assert after.value("inbox_server_watchers_evicted_total", reason="send_timeout") == 0
    refused = limited.count(429)
    assert after.value("inbox_server_rate_limited_requests_total", path="/api/v2/buildinfo") == refused
    assert after.value(processed, code="429", method="GET", path="/api/v2/buildinfo") == refused
    assert after.value("inbox_server_pubsub_reconnects_total") == 0


async def test_each_server_has_its_own_registry(tmp_path: Path) -> None:
    """Two servers in one process (as replicas would be in tests) each report only their own requests."""
    apps = [
        InboxServer(
            ServerConfig(
                db=str(tmp_path / f"inbox-{i}.db"),
                access_url="http://127.0.0.1",
                prometheus_enable=True,
                prometheus_address="127.0.0.1:0",
            )
        )
        for i in range(2)
    ]
    for app in apps:
        await app.startup()
    try:
        sent: list[dict[str, object]] = []

        async def receive() -> dict[str, object]:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: dict[str, object]) -> None:
            sent.append(message)

        for _ in range(3):
            scope = {"type": "http", "method": "GET", "path": "/healthz", "headers": [], "query_string": b""}
            await apps[0](scope, receive, send)
        assert sent[0]["status"] == 200
        scrapes = []
        for app in apps:
            assert app.metrics is not None
            scrapes.append(await _scrape(app.metrics.endpoint.url))
        processed = "coderd_api_requests_processed_total"
        assert scrapes[0].value(processed, code="200", method="GET", path="/healthz") == 3
        assert scrapes[1].value(processed, code="200", method="GET", path="/healthz") is None
    finally:
        for app in apps:
            await app.shutdown()


def test_metrics_off_loads_nothing(tmp_path: Path) -> None:
    """Without --prometheus-enable, prometheus_client is never imported and the notifier's hooks are no-ops."""
    program = f"""
import asyncio, sys
from server.app import InboxServer
from server.config import ServerConfig
from server.notify.hooks import NO_HOOKS

async def main():
    app = InboxServer(ServerConfig(db={str(tmp_path / "off.db")!r}))
    ctx = await app.startup()
    try:
        assert app.metrics is None
        assert ctx.dispatcher.metrics is NO_HOOKS
        assert "prometheus_client" not in sys.modules, "prometheus_client was imported"
    finally:
        await app.shutdown()

asyncio.run(main())
print("ok")
"""
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


def test_bad_prometheus_address_is_a_usage_error(tmp_path: Path) -> None:
    server = LiveServer(tmp_path / "server")
    done = server.cli("serve", "--db", str(tmp_path / "x.db"), "--prometheus-enable", "--prometheus-address", "nope")
    assert done.returncode == 2
    assert "invalid --prometheus-address: 'nope' is not host:port" in done.stderr


async def test_prometheus_address_in_use_stops_the_start(tmp_path: Path) -> None:
    blocker = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = blocker.sockets[0].getsockname()[1]
    try:
        args = ["--prometheus-enable", "--prometheus-address", f"127.0.0.1:{port}"]
        server = LiveServer(tmp_path / "server", args=args)
        with pytest.raises(RuntimeError, match="cannot listen for Prometheus metrics"):
            server.start()
    finally:
        blocker.close()
        await blocker.wait_closed()


def test_route_patterns_never_raw_paths() -> None:
    """Every API path maps to its route pattern; unknown paths collapse into one series."""
    from server.app import ROUTES, WATCH_PATH
    from server.health import HEALTHZ_PATH
    from server.metrics.api import RouteResolver

    resolve = RouteResolver([(r.pattern, r.template) for r in ROUTES], exact=[HEALTHZ_PATH, WATCH_PATH])
    some = uuid.uuid4()
    assert resolve(f"/api/v2/notifications/inbox/{some}/read-status") == "/api/v2/notifications/inbox/{id}/read-status"
    assert resolve("/api/v2/users/me/notifications/preferences") == "/api/v2/users/{user}/notifications/preferences"
    assert resolve("/api/v2/users/me") == "/api/v2/users/{user}"
    assert resolve("/api/v2/notifications/inbox") == "/api/v2/notifications/inbox"
    assert resolve(WATCH_PATH) == WATCH_PATH
    assert resolve(f"/api/v2/{some}") == "/api/v2/*"
    assert resolve(f"/{some}") == "/*"


@pytest.mark.postgres
async def test_postgres_replicas_each_report_their_own(tmp_path: Path, pg_dsn: str) -> None:  # noqa: F811
    """Two replicas on one database: each endpoint counts its own requests; a lost listener is a reconnect."""
    import psycopg

    from server.store.pg_pubsub import listener_application_name

    first, first_url = _start(tmp_path / "r1", db=pg_dsn)
    second = LiveServer(tmp_path / "r2", db=pg_dsn, args=["--prometheus-enable", "--prometheus-address", "127.0.0.1:0"])
    second.owner_token, second.member_token = first.owner_token, first.member_token  # the same users
    second.start()
    assert second.proc is not None and second.proc.stdout is not None
    second_url = second.proc.stdout.readline().split(" ", 3)[3].strip()
    try:
        async with httpx.AsyncClient(headers=first.headers()) as c:
            for _ in range(3):
                assert (await c.get(first.url + "/api/v2/notifications/inbox")).status_code == 200
        with psycopg.connect(pg_dsn, autocommit=True) as admin:
            killed = admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE application_name = %s AND datname = current_database()",
                (listener_application_name(first.pid),),
            ).fetchall()
        assert killed == [(True,)]

        async def reconnected() -> Scrape | None:
            scrape = await _scrape(first_url)
            return scrape if scrape.value("inbox_server_pubsub_reconnects_total") == 1 else None

        scrape = await wait_for(reconnected, within=30)
        other = await _scrape(second_url)
    finally:
        second.stop()
        first.stop()
    processed = "coderd_api_requests_processed_total"
    inbox = "/api/v2/notifications/inbox"
    assert scrape.value(processed, code="200", method="GET", path=inbox) == 3
    assert other.value(processed, code="200", method="GET", path=inbox) is None
    assert other.value("inbox_server_pubsub_reconnects_total") == 0


async def test_stalled_watcher_eviction_is_counted_by_reason(tmp_path: Path) -> None:
    """A watcher that stops reading is evicted with 1013; the counter's reason matches the server's log."""
    server, metrics_url = _start(
        tmp_path / "server", "--watch-queue-size", "4", "--watch-send-timeout", "1", "--log-level", "warning"
    )
    try:
        stalled = await RawWatch.connect(watch_url(server), server.headers(), rcvbuf=4096)
        try:
            body = "x" * 1_000  # ~1.3 KB frames: the stalled socket's buffers fill after a few dozen
            async with httpx.AsyncClient(base_url=server.url + "/api/v2", headers=server.headers(), timeout=30) as c:
                for i in range(300):
                    content = {"title": f"n{i}", "message": body}
                    assert (await c.post("/notifications/custom", json={"content": content})).status_code == 204

            async def evicted() -> Scrape | None:
                scrape = await _scrape(metrics_url)
                return scrape if scrape.value("inbox_server_watchers") == 0 else None

            scrape = await wait_for(evicted, within=30)
        finally:
            stalled.close()
    finally:
        server.stop()
    logged = re.findall(r"evicted watcher \d+ of user \S+ with 1013 \(([^,]+),", server.log_path.read_text())
    assert len(logged) == 1, logged
    reason = {"watcher fell behind": "queue_full", "send timed out": "send_timeout"}[logged[0]]
    for name in ("queue_full", "send_timeout", "liveness"):
        assert scrape.value("inbox_server_watchers_evicted_total", reason=name) == (1 if name == reason else 0)
