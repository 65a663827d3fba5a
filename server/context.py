"""AppContext: what every handler may use, built once per server process."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from server.auth import SessionCache
from server.config import ServerConfig
from server.ratelimit import RateLimiter
from server.store.base import Store

if TYPE_CHECKING:
    from server.hub import Hub
    from server.notify.dispatcher import Dispatcher
    from server.notify.enqueue import Enqueuer


@dataclass(slots=True)
class AppContext:
    """The process-wide parts: configuration, store, delivery pipeline and watcher hub."""

    config: ServerConfig
    store: Store
    enqueuer: Enqueuer
    dispatcher: Dispatcher
    hub: Hub
    rate_limiter: RateLimiter | None = None
    deployment_id: str = ""
    sessions: SessionCache = field(default_factory=SessionCache)
    extras: dict[str, object] = field(default_factory=dict)

    @property
    def access_url(self) -> str:
        """The deployment's external URL (no trailing slash), used for `{{base_url}}`."""
        return self.config.access_url.rstrip("/")
