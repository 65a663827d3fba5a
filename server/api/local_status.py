"""GET /inbox-server/status: what `inbox-tui server status` shows (not part of Coder's API).

Owners only: it names the process, the database, how many watchers are connected and how many rounds the
notifier has finished (tests wait on it for proof that the notifier has seen a queued message).
"""

from __future__ import annotations

import os
import time

from server import __version__
from server.context import AppContext
from server.errors import ApiError
from server.http import Request, Response, json_response
from server.records import User


async def get_status(ctx: AppContext, req: Request, user: User, *, started_at: float) -> Response:
    """The serving process: PID, database, start time, uptime, connected watchers, notifier rounds, idle stop."""
    if not user.is_owner:
        raise ApiError(403, "Forbidden.")
    config = ctx.config
    return json_response(
        {
            "pid": os.getpid(),
            "version": __version__,
            "db": config.db if config.db.startswith("/") or "://" not in config.db else "postgresql",
            "started_at": started_at,
            "uptime_seconds": round(time.time() - started_at, 3),
            "watchers": ctx.hub.watcher_count,
            "notifier_rounds": ctx.dispatcher.rounds,
            "idle_timeout_seconds": config.idle_timeout,
            "address": f"unix:{config.unix_socket}" if config.unix_socket else config.access_url,
        }
    )
