"""What the notifier reports to the metrics (the notifier defines it; `server.metrics` implements it). This base
does nothing: it is what runs with metrics off.

Kept free of `prometheus_client` so the notifier can hold one unconditionally; with `--prometheus-enable`
the server swaps in `server.metrics.notifications.PrometheusNotificationHooks`.
"""

from __future__ import annotations

from collections.abc import Sequence

from server.records import NotificationMessage


class NotificationHooks:
    """No-op notifier hooks (metrics off)."""

    __slots__ = ()

    def leased(self, message: NotificationMessage) -> None:
        """The notifier took a due message for an attempt."""

    def dispatched(self, message: NotificationMessage) -> None:
        """An out-of-band method delivered the message (its sent status is written next)."""

    def inbox_delivered(self, messages: Sequence[NotificationMessage], seconds: float) -> None:
        """Inbox rows written (and their messages marked sent) in one store call of `seconds`."""

    def failed(self, message: NotificationMessage, *, permanent: bool) -> None:
        """An attempt failed; `permanent` when no retry follows."""

    def update_pending(self, delta: int) -> None:
        """Dispatch outcomes waiting for their store write: +1 before the write, -1 after."""


NO_HOOKS = NotificationHooks()
