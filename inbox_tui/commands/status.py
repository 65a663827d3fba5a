"""`inbox-tui status`: one short line for status bars (`3 unread`), fast enough to run every few seconds.

A status bar runs it again and again, so the path is kept lean: no httpx, no asyncio, no Textual. The
connection is resolved as every command resolves it (flags, environment, config, the Coder CLI's login,
the shared local server; `status_fast` does it for the usual set-ups without the config modules), and one
`GET /api/v2/notifications/inbox?read_status=unread` goes out through `inbox_tui.plain_http`: the local
server's Unix socket, or TCP (TLS for https). Only when a proxy from the environment applies to a remote
deployment (or the URL is one plain_http does not send as it is) does it fall back to the full HTTP
client, which honours it.

It never starts a server: with nothing running (the local server stops after its idle period) it prints
nothing and exits 1, as for an unreachable deployment; the reason goes to stderr, which status bars do
not show. `inbox_tui.entry` runs this module without importing `inbox_tui.cli` at all.
"""

from __future__ import annotations

import json
import sys

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (mypy knows the name)
if TYPE_CHECKING:
    import argparse
    from collections.abc import Callable
    from datetime import datetime
    from typing import Any

# Imports are kept to what every run needs (a status bar pays for each one every few seconds): the
# rest is imported where it is used.

DEFAULT_FORMAT = "{unread} unread"
DEFAULT_TIMEOUT = 2.0
INBOX_PATH = "/api/v2/notifications/inbox?read_status=unread"
EXIT_OK = 0
EXIT_UNAVAILABLE = 1
EXIT_USAGE = 2

# The fields of --format, in the order `status --help` lists them.
FIELDS = {
    "unread": "the number of unread notifications (exact, as the header shows it)",
    "newest": "the title of the newest unread notification, on one line ('' when none)",
    "age": "how long ago it arrived: now, 5m, 3h, 2d, 3w, Mar 4 ('' when none)",
    "deployment": "where: the URL's host[:port], 'local' for the shared local server, 'demo'",
}

DESCRIPTION = (
    "Print one short line about your inbox for a status bar (tmux, i3, polybar, a shell prompt),\n"
    "by default `3 unread`. When the server cannot be reached, or nothing is running (status never\n"
    "starts the local server), it prints nothing and exits 1; the reason goes to stderr."
)
EPILOG = (
    "fields for --format (Python format syntax, e.g. '{unread}' or '✉ {unread:>3}'):\n"
    + "\n".join(f"  {{{name}}}{' ' * (13 - len(name))}{text}" for name, text in FIELDS.items())
    + "\n\nexamples:\n"
    "  inbox-tui status                             # 3 unread\n"
    "  inbox-tui status --format '{unread}' --hide-zero\n"
    "  tmux: set -g status-right '#(inbox-tui status --format \"✉ {unread}\")'"
)


class StatusUnavailable(Exception):
    """No count to print: not configured, nothing running, unreachable, or refused; the message says which."""


def add_status_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of `status` (shared by cli.py's parser and the fast entry's)."""
    parser.add_argument("--format", default=DEFAULT_FORMAT, metavar="TEXT", help=f"default: {DEFAULT_FORMAT!r}")
    parser.add_argument("--hide-zero", action="store_true", help="print nothing (exit 0) when there is nothing unread")
    parser.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT,
        metavar="SECONDS",
        help=f"give up on the server after this long (default {DEFAULT_TIMEOUT:g})",
    )


# -- where to ask ---------------------------------------------------------------------------------


class Target:
    """Where the count is asked for: a base URL (TCP) or a Unix socket, the token, a short name."""

    __slots__ = ("label", "socket", "token", "url")

    def __init__(self, url: str, token: str, label: str, socket: str | None = None) -> None:
        self.url = url
        self.token = token
        self.label = label
        self.socket = socket

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Target) and (self.url, self.token, self.label, self.socket) == (
            other.url,
            other.token,
            other.label,
            other.socket,
        )

    def __repr__(self) -> str:
        return f"Target(url={self.url!r}, label={self.label!r}, socket={self.socket!r})"


def url_label(url: str) -> str:
    """`host[:port][/path]` of a base URL: what `{deployment}` prints."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return parts.netloc + parts.path


def resolve_target(url_flag: str | None, token_flag: str | None, *, demo: bool) -> Target:
    """The deployment and token the other commands would use, without starting anything.

    The full resolution (inbox_tui.connection); `status_fast.lean_target` gives the same answer for the
    common cases without importing it.
    """
    from inbox_tui.config import ConfigError

    try:
        if demo:
            return _demo_target(url_flag, token_flag)
        from inbox_tui.connection import ResolveError, explicit_connection

        try:
            explicit = explicit_connection(url_flag, token_flag)
        except ResolveError as exc:
            raise StatusUnavailable(str(exc)) from exc
        if explicit is None:
            return _local_target()
        return Target(url=explicit.url, token=explicit.token, label=url_label(explicit.url))
    except ConfigError as exc:
        raise StatusUnavailable(str(exc)) from exc


def _demo_target(url_flag: str | None, token_flag: str | None) -> Target:
    from inbox_tui.embedded import read_runtime
    from inbox_tui.local_runtime import pid_alive

    if url_flag or token_flag:
        raise StatusUnavailable("--demo cannot be combined with --url or --token")
    info = read_runtime(demo=True)
    if info is None or not pid_alive(info.pid):
        raise StatusUnavailable("no demo inbox is open")
    return Target(url=info.url, token=info.token, label="demo")


def _local_target() -> Target:
    from inbox_tui.embedded import EmbeddedError
    from inbox_tui.local_runtime import HOST_URL, pid_alive
    from inbox_tui.local_server import LocalPaths, read_runtime

    try:
        paths = LocalPaths.default()
    except EmbeddedError as exc:
        raise StatusUnavailable(str(exc)) from exc
    info = read_runtime(paths)
    if info is None or not info.socket or not pid_alive(info.pid):
        raise StatusUnavailable(NOT_RUNNING)
    try:
        token = paths.token.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise StatusUnavailable(f"cannot read the local server's token: {exc.strerror or exc}") from exc
    return Target(url=HOST_URL, token=token, label="local", socket=info.socket)


NOT_RUNNING = "the local server is not running (any other inbox-tui command starts it)"


# -- asking ---------------------------------------------------------------------------------------


def _proxied(url: str) -> bool:
    """True when an environment proxy applies to `url` (never for loopback, as the full client decides)."""
    from urllib.parse import urlsplit

    from inbox_tui.urls import is_loopback_url

    if is_loopback_url(url):
        return False
    from urllib.request import getproxies, proxy_bypass

    proxies = getproxies()
    if not (proxies.get(urlsplit(url).scheme) or proxies.get("all")):
        return False
    return not proxy_bypass(urlsplit(url).hostname or "")


def _server_message(body: bytes) -> str:
    try:
        data = json.loads(body)
    except ValueError:
        return ""
    if isinstance(data, dict):
        return " ".join(str(data.get(key) or "") for key in ("message", "detail")).strip()
    return ""


def _ask(target: Target, timeout: float) -> tuple[int, bytes] | None:
    """Status and body of the unread page over a plain socket (TLS for https); None when the URL needs the
    full client (an environment proxy applies, or an http URL `plain_http` does not send as it is)."""
    from inbox_tui.plain_http import Route, get, get_tls

    if target.socket is not None:
        route: Route | None = Route.unix(target.socket)
    elif _proxied(target.url):
        return None
    elif target.url.startswith("https:"):
        return get_tls(target.url, INBOX_PATH, target.token, timeout=timeout)
    else:
        route = Route.for_url(target.url)
    if route is None:
        return None
    answer = get(route, INBOX_PATH, target.token, timeout=timeout)
    return answer.status, answer.body


def fetch_unread(target: Target, timeout: float) -> dict[str, Any]:
    """`GET /notifications/inbox?read_status=unread`: the first page of unread and the unread count."""
    where = f"GET {target.url}{INBOX_PATH}"
    try:
        asked = _ask(target, timeout)
    except (OSError, ValueError) as exc:  # plain_http.Unusable is a ValueError
        raise StatusUnavailable(f"{where}: {exc or type(exc).__name__}") from exc
    if asked is None:
        return _fetch_with_client(target, timeout)
    status, body = asked
    if status != 200:
        message = _server_message(body)
        detail = f": {message}" if message else ""
        raise StatusUnavailable(f"{where}: unexpected status code {status}{detail}")
    try:
        data = json.loads(body)
    except ValueError as exc:
        raise StatusUnavailable(f"{where}: the answer is not JSON") from exc
    if not isinstance(data, dict):
        raise StatusUnavailable(f"{where}: the answer is not a JSON object")
    return data


def _fetch_with_client(target: Target, timeout: float) -> dict[str, Any]:
    """The same request through the full client, which honours proxies (rare; pays for httpx)."""
    import asyncio

    from inbox_tui.api.client import CoderClient
    from inbox_tui.api.errors import ApiError

    async def ask() -> dict[str, Any]:
        async with CoderClient(target.url, target.token, timeout=timeout) as client:
            page = await client.list_inbox(read_status="unread")
        return {"unread_count": page.unread_count, "notifications": [n.to_json() for n in page.notifications]}

    try:
        return asyncio.run(ask())
    except ApiError as exc:
        raise StatusUnavailable(str(exc)) from exc


# -- the line -------------------------------------------------------------------------------------


def _one_line(text: str) -> str:
    if text.isascii() and text.isprintable():
        return text  # nothing to clean: skip importing the sanitiser
    from inbox_tui.text import terminal_safe

    return " ".join(terminal_safe(text, multiline=False).split())


def status_fields(data: dict[str, Any], label: str, now: datetime | None = None) -> dict[str, str | int]:
    """The --format fields from an unread page (server text made single-line and terminal-safe)."""
    try:
        unread = int(data.get("unread_count") or 0)
    except (TypeError, ValueError):
        unread = 0
    newest: dict[str, Any] = {}
    rows = data.get("notifications")
    if isinstance(rows, list) and rows and isinstance(rows[0], dict):
        newest = rows[0]
    age = ""
    created = newest.get("created_at")
    if isinstance(created, str) and created:
        from datetime import UTC, datetime

        from inbox_tui.text import relative_time

        try:
            when = datetime.fromisoformat(created)
        except ValueError:
            pass
        else:
            age = relative_time(when if when.tzinfo else when.replace(tzinfo=UTC), now or datetime.now(UTC))
    title = _one_line(str(newest.get("title") or ""))
    return {"unread": unread, "newest": title, "age": age, "deployment": _one_line(label)}


def render_line(template: str, fields: dict[str, str | int]) -> str:
    """`template` with the fields filled in; an unknown field or bad syntax is a ValueError that says so."""
    import string

    try:
        names = [name for _, name, _, _ in string.Formatter().parse(template) if name is not None]
    except ValueError as exc:
        raise ValueError(f"invalid --format {template!r}: {exc}") from None
    unknown = [name for name in names if name not in fields]
    if unknown or any(name == "" or name.isdigit() for name in names):
        known = ", ".join("{" + name + "}" for name in FIELDS)
        raise ValueError(f"invalid --format {template!r}: unknown field {{{(unknown or [''])[0]}}}; fields: {known}")
    try:
        line = template.format_map(fields)
    except (ValueError, TypeError, KeyError, IndexError, AttributeError) as exc:
        raise ValueError(f"invalid --format {template!r}: {exc}") from None
    return _one_line(line)


def print_status(target_of: Callable[[], Target], format: str, hide_zero: bool, timeout: float) -> int:
    """Check the format, resolve (`target_of()`), ask, print: 0, or 1 with nothing printed (2: bad --format)."""
    try:
        render_line(format, {name: 0 if name == "unread" else "" for name in FIELDS})
    except ValueError as exc:
        print(f"inbox-tui status: {_one_line(str(exc))}", file=sys.stderr)
        return EXIT_USAGE
    try:
        target = target_of()
        data = fetch_unread(target, max(0.1, timeout))
    except StatusUnavailable as exc:
        print(_one_line(f"inbox-tui status: {exc}"), file=sys.stderr)
        return EXIT_UNAVAILABLE
    fields = status_fields(data, target.label)
    if hide_zero and not fields["unread"]:
        return EXIT_OK
    print(render_line(format, fields), flush=True)
    return EXIT_OK


def run_status(args: argparse.Namespace) -> int:
    """`inbox-tui status` from parsed arguments, with the full connection resolution."""
    return print_status(
        lambda: resolve_target(args.url, args.token, demo=bool(args.demo)), args.format, args.hide_zero, args.timeout
    )
