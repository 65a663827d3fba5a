"""GET /healthz: `200 OK` while the database answers a trivial query within a second, else 503.

Like Coder's `/healthz` it needs no authentication and is not rate limited, so load balancers and
orchestrators can probe it. Because anyone may call it, probes share one database query at a time: a
flood of health checks costs the database at most one query in flight.
"""

from __future__ import annotations

import asyncio
import logging

from server.context import AppContext
from server.errors import ApiError
from server.http import Request, Response
from server.store.base import Store

log = logging.getLogger(__name__)

HEALTHZ_PATH = "/healthz"
PING_TIMEOUT = 1.0  # seconds the database has to answer
MSG_UNHEALTHY = "The database is unavailable."
TEXT_CONTENT_TYPE = b"text/plain; charset=utf-8"
_EXTRAS_KEY = "health"


class HealthCheck:
    """Single-flight database probe: concurrent callers await the same query."""

    def __init__(self, store: Store, timeout: float = PING_TIMEOUT) -> None:
        self.store = store
        self.timeout = timeout
        self._probe: asyncio.Task[str | None] | None = None

    async def problem(self) -> str | None:
        """None when the database answered in time, else why not."""
        probe = self._probe
        if probe is None or probe.done():
            probe = self._probe = asyncio.create_task(self._ping(), name="healthz-ping")
        # shield: a client that hangs up must not cancel the probe other callers are waiting for.
        return await asyncio.shield(probe)

    async def _ping(self) -> str | None:
        try:
            async with asyncio.timeout(self.timeout):
                await self.store.ping()
        except TimeoutError:
            return f"The database did not answer within {self.timeout:g}s."
        except Exception as exc:
            return str(exc) or type(exc).__name__
        return None


def _checker(ctx: AppContext) -> HealthCheck:
    checker = ctx.extras.get(_EXTRAS_KEY)
    if not isinstance(checker, HealthCheck):
        checker = ctx.extras[_EXTRAS_KEY] = HealthCheck(ctx.store)
    return checker


async def healthz(ctx: AppContext, request: Request) -> Response:
    """GET /healthz (HEAD too): `OK` as text, or 503 in Coder's error shape with the reason."""
    if request.method not in ("GET", "HEAD"):
        raise ApiError(405, "Method not allowed.", headers=[(b"allow", b"GET, HEAD")])
    problem = await _checker(ctx).problem()
    if problem is not None:
        # Debug only: probes arrive every few seconds, and the store's own errors are logged where they occur.
        log.debug("healthz: %s", problem)
        raise ApiError(503, MSG_UNHEALTHY, problem)
    return Response(200, b"OK", [(b"content-type", TEXT_CONTENT_TYPE)])
