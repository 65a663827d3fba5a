"""Coder's notification metrics (coderd/notifications/metrics.go): same names, labels and buckets."""

from __future__ import annotations

from collections.abc import Sequence

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from server.notify.hooks import NotificationHooks
from server.records import NotificationMessage, now_utc

NAMESPACE = "coderd"
SUBSYSTEM = "notifications"
LABEL_METHOD = "method"
LABEL_TEMPLATE_ID = "template_id"

QUEUED_SECONDS_BUCKETS = (0.1, 1, 5, 15, 30, 60, 120, 300, 600, 3600, 86400)
SEND_SECONDS_BUCKETS = (0.001, 0.05, 0.1, 0.5, 1, 2, 5, 10, 15, 30, 60, 120)

# Coder's counters are named without the `_total` suffix prometheus_client would add; the exposition
# (server.metrics.exposition) prints these names exactly.
COUNTER_NAMES = (
    "coderd_notifications_dispatched_count",
    "coderd_notifications_temporary_failures_count",
    "coderd_notifications_permanent_failures_count",
    "coderd_notifications_retry_count",
)


class PrometheusNotificationHooks(NotificationHooks):
    """The notifier's hooks, recording into one registry."""

    __slots__ = (
        "dispatched_count",
        "pending_updates",
        "permanent_failures",
        "queued_seconds",
        "retry_count",
        "send_seconds",
        "temporary_failures",
    )

    def __init__(self, registry: CollectorRegistry) -> None:
        def counter(name: str, doc: str) -> Counter:
            labels = [LABEL_METHOD, LABEL_TEMPLATE_ID]
            return Counter(name, doc, labels, namespace=NAMESPACE, subsystem=SUBSYSTEM, registry=registry)

        self.dispatched_count = counter("dispatched_count", "The count of notifications successfully dispatched.")
        self.temporary_failures = counter(
            "temporary_failures_count", "The count of notifications which failed but have retry attempts remaining."
        )
        self.permanent_failures = counter(
            "permanent_failures_count",
            "The count of notifications which failed and have exceeded their retry attempts.",
        )
        self.retry_count = counter("retry_count", "The count of notification dispatch retry attempts.")
        # Like Coder, the histograms are not labelled by template (that would multiply the series).
        self.queued_seconds = Histogram(
            "queued_seconds",
            "The time elapsed between a notification being enqueued in the store and retrieved for processing "
            "(measures the latency of the notifications system). This should generally be within "
            "CODER_NOTIFICATIONS_FETCH_INTERVAL seconds; higher values for a sustained period indicates delayed "
            "processing and CODER_NOTIFICATIONS_LEASE_COUNT can be increased to accommodate this.",
            [LABEL_METHOD],
            namespace=NAMESPACE,
            subsystem=SUBSYSTEM,
            buckets=QUEUED_SECONDS_BUCKETS,
            registry=registry,
        )
        self.send_seconds = Histogram(
            "dispatcher_send_seconds",
            "The time taken to dispatch notifications.",
            [LABEL_METHOD],
            namespace=NAMESPACE,
            subsystem=SUBSYSTEM,
            buckets=SEND_SECONDS_BUCKETS,
            registry=registry,
        )
        self.pending_updates = Gauge(
            "pending_updates",
            "The number of updates waiting to be flushed to the store.",
            namespace=NAMESPACE,
            subsystem=SUBSYSTEM,
            registry=registry,
        )

    def leased(self, message: NotificationMessage) -> None:
        """Count a retry, and how long the message waited since it became due (enqueue, or its retry time)."""
        method = message.method.value
        if message.attempt_count > 0:
            self.retry_count.labels(method, str(message.template_id)).inc()
        due = message.next_retry_after or message.created_at
        self.queued_seconds.labels(method).observe(max(0.0, (now_utc() - due).total_seconds()))

    def dispatched(self, message: NotificationMessage) -> None:
        """One out-of-band delivery succeeded."""
        self.dispatched_count.labels(message.method.value, str(message.template_id)).inc()

    def inbox_delivered(self, messages: Sequence[NotificationMessage], seconds: float) -> None:
        """Inbox rows written in one store call: each message is dispatched, in the call's time."""
        for message in messages:
            method = message.method.value
            self.dispatched_count.labels(method, str(message.template_id)).inc()
            self.send_seconds.labels(method).observe(seconds)

    def failed(self, message: NotificationMessage, *, permanent: bool) -> None:
        """One attempt failed."""
        family = self.permanent_failures if permanent else self.temporary_failures
        family.labels(message.method.value, str(message.template_id)).inc()

    def update_pending(self, delta: int) -> None:
        """Dispatch outcomes being written to the store."""
        self.pending_updates.inc(delta)

    def observe_send(self, method: str, seconds: float) -> None:
        """The duration of one out-of-band send (see server.metrics.methods)."""
        self.send_seconds.labels(method).observe(seconds)
