"""One process's metrics: a registry of its own, the notifier hooks, the API wrappers and the listener.

Each server process has its own registry (not prometheus_client's global one), so replicas, and tests that
run several servers in one process, each report only themselves.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry, GCCollector, PlatformCollector, ProcessCollector
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from server.hub import Hub
from server.metrics.api import ApiCollector, ApiMetrics, RouteResolver
from server.metrics.endpoint import MetricsEndpoint
from server.metrics.exposition import CONTENT_TYPE, render
from server.metrics.methods import MeteredMethod
from server.metrics.notifications import COUNTER_NAMES, PrometheusNotificationHooks
from server.notify.dispatcher import Dispatcher
from server.store.base import Store


class _ServerCollector(Collector):
    """Values read when scraped: open watchers and pub/sub reconnects cost nothing between scrapes."""

    def __init__(self, hub: Hub, store: Store) -> None:
        self.hub = hub
        self.store = store

    def collect(self) -> Iterator[Metric]:
        """inbox_server_watchers and inbox_server_pubsub_reconnects_total."""
        yield GaugeMetricFamily(
            "inbox_server_watchers",
            "Open inbox watch sockets (watchers) in this process.",
            value=self.hub.watcher_count,
        )
        # Only PostgreSQL's LISTEN connection reconnects; the in-process pub/sub never does.
        reconnects = int(getattr(self.store.pubsub, "reconnects", 0))
        yield CounterMetricFamily(
            "inbox_server_pubsub_reconnects_total",
            "Times the pub/sub listener connection was re-established (each closes the watchers for a resync).",
            value=reconnects,
        )


class ServerMetrics:
    """Everything `--prometheus-enable` turns on, for one server process."""

    def __init__(self, hub: Hub, store: Store, routes: RouteResolver) -> None:
        self.registry = CollectorRegistry(auto_describe=False)
        self.notifications = PrometheusNotificationHooks(self.registry)
        self.api = ApiMetrics(routes)
        self.registry.register(ApiCollector(self.api))
        self.registry.register(_ServerCollector(hub, store))
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)
        GCCollector(registry=self.registry)
        self.endpoint = MetricsEndpoint(self.render, CONTENT_TYPE)

    def render(self) -> bytes:
        """The exposition, with Coder's counter names."""
        return render(self.registry, COUNTER_NAMES)

    async def start(self, address: str) -> str:
        """Start the listener; returns its URL."""
        return await self.endpoint.start(address)

    async def stop(self) -> None:
        """Stop the listener."""
        await self.endpoint.stop()


async def start_metrics(
    address: str, store: Store, hub: Hub, dispatcher: Dispatcher, routes: RouteResolver
) -> ServerMetrics:
    """Build the process's metrics, hook them into the notifier and start the listener on `address`."""
    metrics = ServerMetrics(hub, store, routes)
    hooks = metrics.notifications
    dispatcher.metrics = hooks
    dispatcher.methods = {m: MeteredMethod(m.value, impl, hooks) for m, impl in dispatcher.methods.items()}
    await metrics.start(address)
    return metrics
