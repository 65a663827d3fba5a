"""Async HTTP client for Coder's notifications API (works against Coder and against inbox-server).

Every refused request raises `ApiError` (printed like the Coder CLI prints it); a server that cannot be
reached raises `ConnectionFailed`. Real-server quirks handled here: preferences may be `null`, template
lists may be `null`, dispatch methods may come as an array of one, older servers lack the custom
templates endpoint, 304 means "unchanged" (success) for settings and template methods.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode, urlsplit

from inbox_tui.api import load_httpx, models
from inbox_tui.api.errors import ApiError, ConnectionFailed
from inbox_tui.api.models import InboxEvent, InboxPage
from inbox_tui.plain_http import TOKEN_HEADER, USER_AGENT
from inbox_tui.urls import is_loopback_url, normalize_url

__all__ = ["FORMATS", "CoderClient", "inbox_query", "is_loopback_url", "normalize_url", "plain_http_transport"]

if TYPE_CHECKING:
    # Defined when first used (models.__getattr__): the inbox's first frame needs none of them (issue 11).
    # httpx loads with the first request (inbox_tui.api.load_httpx), after the inbox's first frame.
    import httpx

    from inbox_tui.api.more_models import (
        DispatchMethods,
        NotificationPreference,
        NotificationSettings,
        NotificationTemplate,
        User,
    )

PAGE_SIZE = 25  # fixed by the server; a shorter page is the last one
READ_STATUSES = ("all", "read", "unread")
FORMATS = ("markdown", "plaintext")


def plain_http_transport(url: str, *, trust_env: bool) -> httpx.AsyncHTTPTransport | None:
    """A transport without TLS verification for a plain `http://` deployment, or None for httpx's default.

    httpx's default transport builds a verifying SSL context up front, which loads the CA bundle: ~30 ms of
    every start, spent even when no request will ever use TLS. A plain-HTTP deployment never does TLS, and
    the client only requests paths under its own base URL and follows no redirects, so nothing can reach
    an https:// URL through this transport. None (the default transport) for https://, and when proxies
    from the environment apply: httpx mounts those only when it builds the transports itself.
    """
    if urlsplit(url).scheme != "http":
        return None
    load_httpx()
    from urllib.request import getproxies  # loaded by httpx anyway

    import httpx

    if trust_env and any(getproxies().get(scheme) for scheme in ("http", "https", "all")):
        return None
    return httpx.AsyncHTTPTransport(verify=False)


def _uuid_list(values: Iterable[str]) -> str:
    return ",".join(v.strip() for v in values if v.strip())


def inbox_query(
    *,
    targets: Iterable[str] = (),
    templates: Iterable[str] = (),
    read_status: str = "all",
    starting_before: str | None = None,
    format: str | None = None,
) -> dict[str, str]:
    """Query parameters for list and watch; empty ones are left out (the server rejects unknown ones)."""
    params: dict[str, str] = {}
    target_list = _uuid_list(targets)
    if target_list:
        params["targets"] = target_list
    template_list = _uuid_list(templates)
    if template_list:
        params["templates"] = template_list
    if read_status and read_status != "all":
        params["read_status"] = read_status
    if starting_before:
        params["starting_before"] = starting_before
    if format and format != "markdown":
        params["format"] = format
    return params


class CoderClient:
    """One authenticated session against a Coder (or inbox-server) deployment."""

    def __init__(
        self,
        url: str,
        token: str,
        *,
        timeout: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
        uds: str | None = None,
        before_reconnect: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        """`uds`: reach the server through this Unix socket (the embedded local server); `url` then only
        names the host for the Host header. `before_reconnect`: awaited by the watch before each reconnect
        attempt, e.g. to restart a local server that is gone (it may raise to report why it cannot)."""
        self.url = normalize_url(url)
        self.token = token
        self.timeout = timeout
        self.uds = uds
        self.before_reconnect = before_reconnect
        self._transport = transport
        self._client: httpx.AsyncClient | None = None

    @property
    def _http(self) -> httpx.AsyncClient:
        # Built on first use: importing httpx (and building its pool) waits until a request is made.
        if self._client is None:
            load_httpx()
            import httpx

            # A proxy from the environment must not intercept the embedded server on 127.0.0.1.
            trust_env = not self.is_loopback
            transport = self._transport
            if transport is None and self.uds is not None:
                transport = httpx.AsyncHTTPTransport(uds=self.uds)
            if transport is None:
                transport = plain_http_transport(self.url, trust_env=trust_env)
            self._client = httpx.AsyncClient(
                base_url=self.url + "/api/v2",
                headers={TOKEN_HEADER: self.token, "User-Agent": USER_AGENT, "Accept": "application/json"},
                timeout=httpx.Timeout(self.timeout),
                transport=transport,
                # Redirects are never followed (a 3xx is an ApiError); plain_http_transport relies on that.
                follow_redirects=False,
                trust_env=trust_env,
            )
        return self._client

    @property
    def is_loopback(self) -> bool:
        """True when the deployment is on this machine (the embedded server, a local test server)."""
        return self.uds is not None or is_loopback_url(self.url)

    async def __aenter__(self) -> CoderClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pool (none was made if no request was)."""
        if self._client is not None:
            await self._client.aclose()

    # -- plumbing ---------------------------------------------------------------------------------

    def api_url(self, path: str) -> str:
        """Absolute URL of an API path such as `/notifications/inbox`."""
        return f"{self.url}/api/v2{path}"

    async def _request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        body: Any = None,
        ok: tuple[int, ...] = (200,),
    ) -> httpx.Response:
        http = self._http
        import httpx  # loaded by self._http

        content: bytes | None = None
        headers: dict[str, str] = {}
        if body is not None:
            content = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        try:
            response = await http.request(method, path, params=dict(params or {}), content=content, headers=headers)
        except httpx.TransportError as exc:
            url = self.api_url(path)
            if params:
                url += "?" + urlencode(dict(params))
            raise ConnectionFailed.from_exception(method, url, exc) from exc
        if response.status_code not in ok:
            raise ApiError.from_response(response)
        return response

    @staticmethod
    def _json(response: httpx.Response) -> Any:
        mime = response.headers.get("content-type", "").split(";", 1)[0].strip().lower()
        if mime in ("text/html", "application/xhtml+xml"):
            raise ApiError.invalid_response(response, "")
        try:
            return json.loads(response.content)
        except ValueError as exc:
            raise ApiError.invalid_response(response, f"decode body: {exc}") from exc

    def _object(self, response: httpx.Response) -> dict[str, Any]:
        data = self._json(response)
        if not isinstance(data, dict):
            raise ApiError.invalid_response(response, "expected a JSON object")
        return data

    def _list(self, response: httpx.Response) -> list[dict[str, Any]]:
        data = self._json(response)
        if data is None:  # Go encodes a nil slice as null
            return []
        if not isinstance(data, list):
            raise ApiError.invalid_response(response, "expected a JSON array")
        return [item for item in data if isinstance(item, dict)]

    # -- users and deployment ---------------------------------------------------------------------

    async def me(self) -> User:
        """The authenticated user (`GET /users/me`); also how a token is validated."""
        return models.User.from_json(self._object(await self._request("GET", "/users/me")))

    async def buildinfo(self) -> dict[str, Any]:
        """`GET /buildinfo`: version information of the deployment (no auth needed)."""
        return self._object(await self._request("GET", "/buildinfo"))

    # -- inbox ------------------------------------------------------------------------------------

    async def list_inbox(
        self,
        *,
        targets: Iterable[str] = (),
        templates: Iterable[str] = (),
        read_status: str = "all",
        starting_before: str | None = None,
    ) -> InboxPage:
        """One page (at most 25, newest first) of the caller's inbox, older than `starting_before`."""
        params = inbox_query(
            targets=targets, templates=templates, read_status=read_status, starting_before=starting_before
        )
        response = await self._request("GET", "/notifications/inbox", params=params)
        return InboxPage.from_json(self._object(response))

    async def set_read(self, notification_id: str, is_read: bool) -> InboxEvent:
        """Mark one notification read or unread; returns it with the caller's unread count."""
        path = f"/notifications/inbox/{quote(notification_id, safe='')}/read-status"
        response = await self._request("PUT", path, body={"is_read": is_read})
        return InboxEvent.from_json(self._object(response))

    async def mark_all_read(self) -> None:
        """Mark every unread notification of the caller as read (204)."""
        await self._request("PUT", "/notifications/inbox/mark-all-as-read", ok=(200, 204))

    # -- settings ---------------------------------------------------------------------------------

    async def settings(self) -> NotificationSettings:
        """`GET /notifications/settings`."""
        data = self._object(await self._request("GET", "/notifications/settings"))
        return models.NotificationSettings(notifier_paused=bool(data.get("notifier_paused", False)))

    async def set_paused(self, paused: bool) -> None:
        """Pause or resume the notifier (owners). 304 (already in that state) is success."""
        await self._request("PUT", "/notifications/settings", body={"notifier_paused": paused}, ok=(200, 304))

    # -- templates and dispatch methods -----------------------------------------------------------

    async def system_templates(self) -> list[NotificationTemplate]:
        """`GET /notifications/templates/system` (older servers return fewer)."""
        response = await self._request("GET", "/notifications/templates/system")
        return [models.NotificationTemplate.from_json(t) for t in self._list(response)]

    async def custom_templates(self) -> list[NotificationTemplate]:
        """`GET /notifications/templates/custom` (missing before custom notifications existed)."""
        response = await self._request("GET", "/notifications/templates/custom")
        return [models.NotificationTemplate.from_json(t) for t in self._list(response)]

    async def templates(self) -> list[NotificationTemplate]:
        """System then custom templates; an older server without the custom endpoint gives system only."""
        system = await self.system_templates()
        try:
            custom = await self.custom_templates()
        except ApiError as exc:
            if exc.status not in (404, 405):
                raise
            custom = []
        seen = {t.id for t in system}
        return system + [t for t in custom if t.id not in seen]

    async def dispatch_methods(self) -> DispatchMethods:
        """Available methods and the deployment default (an object; an array of one is accepted too)."""
        response = await self._request("GET", "/notifications/dispatch-methods")
        data = self._json(response)
        if isinstance(data, list):
            data = data[0] if data else {}
        if not isinstance(data, dict):
            raise ApiError.invalid_response(response, "expected a JSON object")
        available = tuple(str(m) for m in (data.get("available") or []))
        return models.DispatchMethods(available=available, default=str(data.get("default") or ""))

    async def set_template_method(self, template_id: str, method: str) -> None:
        """Set a template's delivery method ("" = deployment default). 304 (unchanged) is success."""
        path = f"/notifications/templates/{quote(template_id, safe='')}/method"
        await self._request("PUT", path, body={"method": method}, ok=(200, 304))

    # -- sending ----------------------------------------------------------------------------------

    async def send_test(self) -> None:
        """Send the test notification to the caller (owners; 204, 200 on servers before 2025-02)."""
        await self._request("POST", "/notifications/test", ok=(200, 204))

    async def send_custom(self, title: str, message: str) -> None:
        """Send a custom notification to the caller (204)."""
        body = {"content": {"title": title, "message": message}}
        await self._request("POST", "/notifications/custom", body=body, ok=(200, 204))

    # -- preferences ------------------------------------------------------------------------------

    def _preferences_path(self, user: str) -> str:
        return f"/users/{quote(user, safe='')}/notifications/preferences"

    @staticmethod
    def _preference_map(rows: list[dict[str, Any]]) -> dict[str, NotificationPreference]:
        prefs = [models.NotificationPreference.from_json(row) for row in rows if "id" in row]
        return {p.id: p for p in prefs}

    async def preferences(self, user: str = "me") -> dict[str, NotificationPreference]:
        """Explicit preference rows by template id (`null` from the server means none)."""
        response = await self._request("GET", self._preferences_path(user))
        return self._preference_map(self._list(response))

    async def update_preferences(
        self, changes: Mapping[str, bool], user: str = "me"
    ) -> dict[str, NotificationPreference]:
        """Merge `changes` (template id -> **disabled**, Coder's `template_disabled_map`) into the rows.

        Only the listed templates are touched; returns all the user's rows afterwards.
        """
        body = {"template_disabled_map": {k: bool(v) for k, v in changes.items()}}
        response = await self._request("PUT", self._preferences_path(user), body=body)
        return self._preference_map(self._list(response))

    # -- watch ------------------------------------------------------------------------------------

    def watch_url(
        self,
        *,
        targets: Iterable[str] = (),
        templates: Iterable[str] = (),
        read_status: str = "all",
        format: str = "markdown",
    ) -> str:
        """The ws(s):// URL of the inbox watch socket with these filters."""
        params = inbox_query(targets=targets, templates=templates, read_status=read_status, format=format)
        scheme = "wss" if self.url.startswith("https://") else "ws"
        base = scheme + self.url[self.url.index("://") :]
        url = f"{base}/api/v2/notifications/inbox/watch"
        return f"{url}?{urlencode(params)}" if params else url

    @property
    def auth_headers(self) -> dict[str, str]:
        """Headers that authenticate a request (for the websocket upgrade)."""
        return {TOKEN_HEADER: self.token, "User-Agent": USER_AGENT}
