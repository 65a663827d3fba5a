"""coderd's HTTP API metrics (coderd/httpmw/prometheus.go) and our watch-socket counters, as ASGI wrappers.

Names, labels and buckets are Coder's: `coderd_api_requests_processed_total{code,method,path}`,
`coderd_api_request_latencies_seconds{method,path}`, `coderd_api_concurrent_requests{path}`,
`coderd_api_concurrent_websockets{path}`, `coderd_api_websocket_durations_seconds{path}`. `path` is always
the route pattern (`/api/v2/notifications/inbox/{id}/read-status`), never the raw path, so a client cannot
create series; unknown methods are counted as `OTHER` for the same reason.

The request path only adds to plain ints and lists here (the event loop is the only writer, so no locks);
they become metric families when Prometheus scrapes (`ApiCollector`). With metrics off these wrappers are not
installed at all.
"""

from __future__ import annotations

import re
import time
from bisect import bisect_left
from collections.abc import Awaitable, Callable, Iterable, Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

from server.asgi import Message, Receive, Scope, Send
from server.hub import CLOSE_TRY_AGAIN_LATER, REASON_BEHIND, REASON_SEND_TIMEOUT
from server.metrics.exposition import go_float
from server.ws_protocol import REASON_LIVENESS

Asgi = Callable[[Scope, Receive, Send], Awaitable[None]]
HttpApp = Callable[[Scope, Receive, Send], Awaitable[int]]  # returns the status it sent

LATENCY_BUCKETS = (0.001, 0.005, 0.010, 0.025, 0.050, 0.100, 0.500, 1, 5, 10, 30)
WEBSOCKET_BUCKETS = (0.001, 1, 60, 60 * 60, 60 * 60 * 15, 60 * 60 * 30)
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
EVICTION_REASONS = ("queue_full", "send_timeout", "liveness")
# What the hub's close reasons mean for the eviction counter (both close with 1013).
_EVICTION_BY_CLOSE_REASON = {REASON_BEHIND: "queue_full", REASON_SEND_TIMEOUT: "send_timeout"}
UNMATCHED_API = "/api/v2/*"
UNMATCHED = "/*"
_now = time.perf_counter


class RouteResolver:
    """The route pattern of a path: exact paths by one dict lookup, then the few patterns with parameters."""

    def __init__(self, routes: Iterable[tuple[re.Pattern[str], str]], exact: Iterable[str] = ()) -> None:
        self._exact: dict[str, str] = {path: path for path in exact}
        self._patterns: list[tuple[re.Pattern[str], str]] = []
        for regex, template in routes:
            if "{" not in template:
                self._exact[template] = template
            elif all(t != template for _, t in self._patterns):
                self._patterns.append((regex, template))

    def __call__(self, path: str) -> str:
        """`path`'s route pattern, or `/api/v2/*` / `/*` when no route matches (as chi's catch-alls)."""
        template = self._exact.get(path)
        if template is not None:
            return template
        for regex, pattern in self._patterns:
            if regex.match(path):
                return pattern
        return UNMATCHED_API if path.startswith("/api/v2/") else UNMATCHED


class _Histogram:
    """Bucket counts (not yet cumulative; the last one is +Inf) and the sum of observations."""

    __slots__ = ("counts", "total")

    def __init__(self, buckets: int) -> None:
        self.counts = [0] * (buckets + 1)
        self.total = 0.0


class _Series:
    """Everything counted for one (method, route pattern): one lookup per request finds it all."""

    __slots__ = ("codes", "in_flight", "latency")

    def __init__(self) -> None:
        self.codes: dict[int, int] = {}
        self.in_flight = 0
        self.latency = _Histogram(len(LATENCY_BUCKETS))


class ApiMetrics:
    """Counts kept by the ASGI wrappers; read by `ApiCollector` at scrape time."""

    def __init__(self, route_of: Callable[[str], str]) -> None:
        self.route_of = route_of
        self.series: dict[tuple[str, str], _Series] = {}  # HTTP requests by (method, path)
        self.websocket_codes: dict[tuple[int, str], int] = {}  # websocket handshakes by (status, path)
        self.concurrent_websockets: dict[str, int] = {}
        self.websocket_durations: dict[str, _Histogram] = {}
        self.frames_sent = 0
        self.evicted = dict.fromkeys(EVICTION_REASONS, 0)

    @property
    def processed(self) -> dict[tuple[int, str, str], int]:
        """Requests answered by (status, method, path), websockets included."""
        counts = {(code, "GET", path): n for (code, path), n in self.websocket_codes.items()}
        for (method, path), series in self.series.items():
            for code, n in series.codes.items():
                counts[(code, method, path)] = counts.get((code, method, path), 0) + n
        return counts

    @property
    def concurrent(self) -> dict[str, int]:
        """HTTP requests in progress by path."""
        counts: dict[str, int] = {}
        for (_, path), series in self.series.items():
            counts[path] = counts.get(path, 0) + series.in_flight
        return counts

    @property
    def rate_limited(self) -> dict[str, int]:
        """429 answers by path."""
        return {path: n for (code, _, path), n in self.processed.items() if code == 429 and n}

    async def http(self, scope: Scope, receive: Receive, send: Send, app: HttpApp) -> None:
        """Serve one HTTP request through `app` (which returns the status it sent), counting it."""
        method = scope["method"]
        if method not in KNOWN_METHODS:
            method = "OTHER"
        key = (method, self.route_of(scope["path"]))
        series = self.series.get(key)
        if series is None:
            series = self.series[key] = _Series()
        series.in_flight += 1
        status = 500  # what uvicorn answers when the application fails before responding
        started = _now()
        try:
            status = await app(scope, receive, send)
        finally:
            elapsed = _now() - started
            series.in_flight -= 1
            codes = series.codes
            codes[status] = codes.get(status, 0) + 1
            latency = series.latency
            latency.counts[bisect_left(LATENCY_BUCKETS, elapsed)] += 1
            latency.total += elapsed

    async def websocket(self, scope: Scope, receive: Receive, send: Send, app: Asgi) -> None:
        """Serve one websocket through `app`: its duration, frames and why the server closed it."""
        path = self.route_of(scope["path"])
        sockets = self.concurrent_websockets
        sockets[path] = sockets.get(path, 0) + 1
        status = 0
        started = time.perf_counter()

        async def observing_send(message: Message) -> None:
            nonlocal status
            kind = message["type"]
            if kind == "websocket.send":
                self.frames_sent += 1
            elif kind == "websocket.accept":
                status = 101
            elif kind == "websocket.http.response.start":
                status = message["status"]
            elif kind == "websocket.close":
                if status == 0:
                    status = 403  # closed before accepting: the server refuses the handshake with 403
                elif message.get("code") == CLOSE_TRY_AGAIN_LATER:
                    reason = _EVICTION_BY_CLOSE_REASON.get(message.get("reason", ""))
                    if reason is not None:
                        self.evicted[reason] += 1
            await send(message)

        async def observing_receive() -> Message:
            message = await receive()
            if message["type"] == "websocket.disconnect" and message.get("reason") == REASON_LIVENESS:
                self.evicted["liveness"] += 1  # our websocket protocol closed it: a ping went unanswered
            return message

        try:
            await app(scope, observing_receive, observing_send)
        finally:
            elapsed = time.perf_counter() - started
            sockets[path] -= 1
            key = (status or 500, path)
            self.websocket_codes[key] = self.websocket_codes.get(key, 0) + 1
            histogram = self.websocket_durations.get(path)
            if histogram is None:
                histogram = self.websocket_durations[path] = _Histogram(len(WEBSOCKET_BUCKETS))
            histogram.counts[bisect_left(WEBSOCKET_BUCKETS, elapsed)] += 1
            histogram.total += elapsed


def _histogram_family(
    name: str, doc: str, labels: list[str], bounds: tuple[float, ...], rows: Iterable[tuple[list[str], _Histogram]]
) -> HistogramMetricFamily:
    family = HistogramMetricFamily(name, doc, labels=labels)
    edges = [go_float(b) for b in bounds] + ["+Inf"]
    for values, histogram in rows:
        cumulative, running = [], 0
        for edge, count in zip(edges, histogram.counts, strict=True):
            running += count
            cumulative.append((edge, float(running)))
        family.add_metric(values, cumulative, histogram.total)
    return family


class ApiCollector(Collector):
    """Turns `ApiMetrics` into metric families when Prometheus scrapes."""

    def __init__(self, metrics: ApiMetrics) -> None:
        self.metrics = metrics

    def collect(self) -> Iterator[Metric]:
        """coderd_api_* families, then inbox_server_* frames, evictions and rate limits."""
        m = self.metrics
        processed = CounterMetricFamily(
            "coderd_api_requests_processed_total",
            "The total number of processed API requests",
            labels=["code", "method", "path"],
        )
        for (code, method, path), count in sorted(m.processed.items()):
            processed.add_metric([str(code), method, path], count)
        yield processed
        concurrent = GaugeMetricFamily(
            "coderd_api_concurrent_requests", "The number of concurrent API requests.", labels=["path"]
        )
        for path, count in sorted(m.concurrent.items()):
            concurrent.add_metric([path], count)
        yield concurrent
        websockets = GaugeMetricFamily(
            "coderd_api_concurrent_websockets", "The total number of concurrent API websockets.", labels=["path"]
        )
        for path, count in sorted(m.concurrent_websockets.items()):
            websockets.add_metric([path], count)
        yield websockets
        yield _histogram_family(
            "coderd_api_request_latencies_seconds",
            "Latency distribution of requests in seconds.",
            ["method", "path"],
            LATENCY_BUCKETS,
            ((list(key), s.latency) for key, s in sorted(m.series.items())),
        )
        yield _histogram_family(
            "coderd_api_websocket_durations_seconds",
            "Websocket duration distribution of requests in seconds.",
            ["path"],
            WEBSOCKET_BUCKETS,
            (([path], h) for path, h in sorted(m.websocket_durations.items())),
        )
        yield CounterMetricFamily(
            "inbox_server_watch_frames_sent_total", "Inbox watch frames written to watch sockets.", value=m.frames_sent
        )
        evicted = CounterMetricFamily(
            "inbox_server_watchers_evicted_total",
            "Watch sockets the server closed because the client could not keep up (queue_full, send_timeout) "
            "or stopped answering pings (liveness).",
            labels=["reason"],
        )
        for reason in EVICTION_REASONS:
            evicted.add_metric([reason], m.evicted[reason])
        yield evicted
        limited = CounterMetricFamily(
            "inbox_server_rate_limited_requests_total", "Requests refused with 429 by the rate limits.", labels=["path"]
        )
        for path, count in sorted(m.rate_limited.items()):
            limited.add_metric([path], count)
        yield limited
