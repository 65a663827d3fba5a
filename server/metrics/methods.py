"""An out-of-band dispatch method that times each send (coderd_notifications_dispatcher_send_seconds)."""

from __future__ import annotations

import time

from server.metrics.notifications import PrometheusNotificationHooks
from server.notify.methods.base import DispatchMethod, RenderedMessage


class MeteredMethod:
    """Wraps a DispatchMethod; installed only with metrics on, so the plain path has no timing at all."""

    def __init__(self, name: str, method: DispatchMethod, hooks: PrometheusNotificationHooks) -> None:
        self.name = name
        self.method = method
        self.hooks = hooks

    async def dispatch(self, msg: RenderedMessage) -> None:
        """Deliver through the wrapped method, observing how long it took (failures included, as Coder)."""
        started = time.perf_counter()
        try:
            await self.method.dispatch(msg)
        finally:
            self.hooks.observe_send(self.name, time.perf_counter() - started)

    async def aclose(self) -> None:
        """Close the wrapped method."""
        await self.method.aclose()
