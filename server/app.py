"""The ASGI application: lifespan, authentication, rate limits and the one routing table."""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from server.api import inbox, local_status, notifications, preferences, settings, templates, users
from server.api.common import Handler, database_replaced
from server.asgi import USER_ID_KEY, Receive, Scope, Send
from server.auth import authenticate
from server.config import ServerConfig
from server.context import AppContext
from server.errorlog import current_route, error_log
from server.errors import MSG_ROUTE_NOT_FOUND, ApiError
from server.health import HEALTHZ_PATH, healthz
from server.http import Request, Response, error_response, json_response
from server.hub import Hub
from server.notify.dispatcher import Dispatcher
from server.notify.enqueue import Enqueuer
from server.notify.methods.base import DispatchMethod
from server.notify.methods.smtp import SmtpMethod
from server.notify.methods.webhook import WebhookMethod
from server.ratelimit import RateLimiter
from server.realip import RealIP, parse_origins
from server.records import NotificationMethod, User
from server.store import open_store
from server.store.base import DatabaseReplacedError, Store

if TYPE_CHECKING:
    from server.metrics.registry import ServerMetrics

log = logging.getLogger(__name__)

API = "/api/v2"
BYPASS_RATELIMIT_HEADER = b"x-coder-bypass-ratelimit"
WATCH_PATH = f"{API}/notifications/inbox/watch"
LOCAL_STATUS_PATH = "/inbox-server/status"


@dataclass(frozen=True, slots=True)
class Route:
    """One row of the routing table."""

    method: str
    pattern: re.Pattern[str]
    handler: Handler
    template: str = ""  # "/api/v2/users/{user}": the rate limiter's endpoint key, never the raw path


def _route(method: str, path: str, handler: Handler) -> Route:
    regex = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]*)", path)
    return Route(method, re.compile(f"^{API}{regex}$"), handler, f"{API}{path}")


ROUTES: list[Route] = [
    _route("GET", "/notifications/inbox", inbox.list_inbox_notifications),
    _route("PUT", "/notifications/inbox/mark-all-as-read", inbox.mark_all_as_read),
    _route("PUT", "/notifications/inbox/{id}/read-status", inbox.update_read_status),
    _route("GET", "/notifications/settings", settings.get_settings),
    _route("PUT", "/notifications/settings", settings.put_settings),
    _route("GET", "/notifications/templates/system", templates.system_templates),
    _route("GET", "/notifications/templates/custom", templates.custom_templates),
    _route("PUT", "/notifications/templates/{notification_template}/method", templates.update_template_method),
    _route("GET", "/notifications/dispatch-methods", templates.dispatch_methods),
    _route("POST", "/notifications/test", notifications.post_test_notification),
    _route("POST", "/notifications/custom", notifications.post_custom_notification),
    _route("GET", "/users/{user}/notifications/preferences", preferences.get_preferences),
    _route("PUT", "/users/{user}/notifications/preferences", preferences.put_preferences),
    _route("GET", "/users/{user}", users.get_user),
]


_GROUP = re.compile(r"\(\?P<(\w+)>[^)]*\)")


def route_pattern(path: str) -> str:
    """The routing-table pattern that serves `path`, or `unmatched` (the access log's route field)."""
    if path in (WATCH_PATH, f"{API}/buildinfo"):
        return path
    for route in ROUTES:
        if route.pattern.match(path):
            return _GROUP.sub(r"{\1}", route.pattern.pattern).strip("^$")
    return "unmatched"


def build_methods(config: ServerConfig) -> dict[NotificationMethod, DispatchMethod]:
    """The out-of-band dispatch methods this deployment has configured."""
    methods: dict[NotificationMethod, DispatchMethod] = {}
    if config.smtp.configured:
        methods[NotificationMethod.SMTP] = SmtpMethod(config.smtp)
    if config.webhook.configured:
        methods[NotificationMethod.WEBHOOK] = WebhookMethod(config.webhook)
    return methods


class InboxServer:
    """The ASGI callable. Build it, then let uvicorn drive the lifespan."""

    def __init__(self, config: ServerConfig, store: Store | None = None) -> None:
        self.config = config
        self._store = store
        self.ctx: AppContext | None = None
        self.on_ready: list[Callable[[AppContext], Awaitable[None]]] = []
        # Run at the end of the lifespan: uvicorn re-raises SIGTERM/SIGINT once it has shut down, so
        # clean-up after `serve()` returns would never run on a signal.
        self.on_shutdown: list[Callable[[], None]] = []
        self.started_at = time.time()
        self._last_activity = time.monotonic()
        self.metrics: ServerMetrics | None = None  # with --prometheus-enable
        self.real_ip = RealIP(config.proxy_trusted_headers, parse_origins(config.proxy_trusted_origins))

    def idle_for(self) -> float:
        """Seconds since the last request, or 0 while a watcher is connected (for the idle stop)."""
        if self.ctx is not None and self.ctx.hub.watcher_count > 0:
            self._last_activity = time.monotonic()
            return 0.0
        return time.monotonic() - self._last_activity

    async def startup(self) -> AppContext:
        """Open the store and start the delivery pipeline and the watcher hub."""
        store = self._store or open_store(self.config.db)
        await store.open()
        if getattr(store, "created_new", False):
            # A lost database must not be replaced silently by an empty one (issue 12).
            log.warning("created a new, empty database at %s", self.config.db)
        deployment_id = await store.get_site_config("deployment_id")
        if not deployment_id:
            deployment_id = str(uuid.uuid4())
            await store.set_site_config("deployment_id", deployment_id)
        # Admin commands that enqueue from another process render links with the serving access URL.
        await store.set_site_config("access_url", self.config.access_url)
        dispatcher = Dispatcher(self.config, store, build_methods(self.config))
        enqueuer = Enqueuer(self.config, store, dispatcher.wake)
        hub = Hub(store, self.config)
        limiter = RateLimiter(self.config.api_rate_limit) if self.config.rate_limited else None
        self.ctx = AppContext(
            config=self.config,
            store=store,
            enqueuer=enqueuer,
            dispatcher=dispatcher,
            hub=hub,
            rate_limiter=limiter,
            deployment_id=deployment_id,
        )
        if self.config.prometheus_enable:
            self.metrics = await self._start_metrics(store, hub, dispatcher)
        await hub.start()
        await dispatcher.start()
        for hook in self.on_ready:
            await hook(self.ctx)
        return self.ctx

    async def shutdown(self) -> None:
        """Close every watcher with 1001, stop the notifier, flush the store, run the shutdown hooks."""
        if self.ctx is not None:
            await self.ctx.hub.close_all()
            await self.ctx.dispatcher.stop()
            await self.ctx.store.close()
            self.ctx = None
        if self.metrics is not None:
            await self.metrics.stop()
            self.metrics = None
        for hook in self.on_shutdown:
            hook()

    async def _start_metrics(self, store: Store, hub: Hub, dispatcher: Dispatcher) -> ServerMetrics:
        """Prometheus metrics (imported only when enabled, so metrics off costs not even the import)."""
        from server.metrics.api import RouteResolver
        from server.metrics.registry import start_metrics

        exact = [HEALTHZ_PATH, f"{API}/buildinfo", WATCH_PATH]
        routes = RouteResolver([(r.pattern, r.template) for r in ROUTES], exact=exact)
        return await start_metrics(self.config.prometheus_address, store, hub, dispatcher, routes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind != "lifespan":
            self.real_ip.apply(scope)
        if kind == "http":
            self._last_activity = time.monotonic()
            if self.metrics is None:
                await self._http(scope, receive, send)
            else:
                await self.metrics.api.http(scope, receive, send, self._http)
        elif kind == "websocket":
            self._last_activity = time.monotonic()
            if self.metrics is None:
                await self._websocket(scope, receive, send)
            else:
                await self.metrics.api.websocket(scope, receive, send, self._websocket)
        elif kind == "lifespan":
            await self._lifespan(receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self.startup()
                except Exception as exc:
                    log.exception("startup failed")
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.shutdown()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        from server.api.watch import handle_watch

        assert self.ctx is not None
        if scope["path"] == WATCH_PATH:
            await handle_watch(self.ctx, scope, receive, send)
            return
        await send({"type": "websocket.close", "code": 1008})

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> int:
        """Serve one request; returns the status sent (for the metrics, which then need no send wrapper)."""
        ctx = self.ctx
        assert ctx is not None, "lifespan must run before requests"
        request = Request(scope, receive)
        try:
            response = await self._dispatch(ctx, request)
        except ApiError as exc:
            response = error_response(exc)
        except DatabaseReplacedError as exc:
            response = error_response(database_replaced(exc))
        except Exception as exc:
            error_log.exception(log, exc, "request failed")
            response = json_response({"message": "An internal server error occurred."}, 500)
        await response.send(send)
        return response.status

    async def _dispatch(self, ctx: AppContext, request: Request) -> Response:
        path = request.path
        if path == HEALTHZ_PATH:
            return await healthz(ctx, request)  # no authentication, no rate limit (as Coder)
        if path == f"{API}/buildinfo" and request.method == "GET":
            self._rate_limit(ctx, request, None, path)
            return await users.buildinfo(ctx)
        if path == LOCAL_STATUS_PATH and request.method == "GET":
            user = await authenticate(ctx.store, request.headers, request.query_string, ctx.sessions)
            return await local_status.get_status(ctx, request, user, started_at=self.started_at)
        handler: Handler | None = None
        template = ""
        allowed: list[str] = []
        for route in ROUTES:
            match = route.pattern.match(path)
            if match is None:
                continue
            allowed.append(route.method)
            if route.method == request.method:
                handler = route.handler
                template = route.template
                current_route.set(f"{request.method} {template}")
                request.path_params = match.groupdict()
                break
        if path == WATCH_PATH:
            if request.method != "GET":
                raise ApiError(405, "Method not allowed.", headers=[(b"allow", b"GET")])
            return await self._watch_without_upgrade(ctx, request)
        if handler is None:
            if allowed:
                raise ApiError(405, "Method not allowed.", headers=[(b"allow", ", ".join(allowed).encode())])
            raise ApiError(404, MSG_ROUTE_NOT_FOUND)
        try:
            user = await authenticate(ctx.store, request.headers, request.query_string, ctx.sessions)
        except ApiError:
            self._rate_limit(ctx, request, None, template)
            raise
        request.scope[USER_ID_KEY] = str(user.id)  # for the debug request log line
        headers = self._rate_limit(ctx, request, user, template)
        response = await handler(ctx, request, user)
        response.headers.extend(headers)
        return response

    async def _watch_without_upgrade(self, ctx: AppContext, request: Request) -> Response:
        """A plain GET on the watch path: validate as the websocket would, then refuse to serve it."""
        from server.query import WATCH_PARAMS, parse_inbox_query

        await authenticate(ctx.store, request.headers, request.query_string)
        parse_inbox_query(request.query_string, allow=WATCH_PARAMS)
        raise ApiError(
            426,
            "Failed to upgrade connection to websocket.",
            'WebSocket protocol violation: Connection header "" does not contain Upgrade',
            headers=[(b"upgrade", b"websocket")],
        )

    def _rate_limit(
        self, ctx: AppContext, request: Request, user: User | None, route: str
    ) -> list[tuple[bytes, bytes]]:
        limiter = ctx.rate_limiter
        if limiter is None:
            return []
        if user is not None:
            if user.is_owner and request.header(BYPASS_RATELIMIT_HEADER) in (b"true", b"1"):
                return []
            key = f"user:{user.id}"
        else:
            key = f"ip:{request.client_host}"
        decision = limiter.hit(f"{key}|{request.method} {route}")
        if not decision.allowed:
            raise ApiError(429, limiter.message, headers=decision.headers())
        return decision.headers()
