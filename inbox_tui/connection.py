"""Which deployment to talk to, and with which token (no Textual here).

Resolution order, first match wins for the URL:

1. `--url` / `--token` flags
2. `CODER_URL` / `CODER_SESSION_TOKEN` (the Coder CLI's own variables)
3. our config file (`url` in config.toml, token in the 0600 token file)
4. the Coder CLI's saved login (`url` and `session` in its `coderv2` config dir)
5. the embedded default (the shared local server on a Unix socket, see `local_server.py`), or `--demo`

The token is resolved the same way, except that a *saved* token (ours or the Coder CLI's) is only used
with the URL it was saved with: a token is never sent to a server it was not issued for.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

from inbox_tui.config import (
    ENV_CODER_TOKEN,
    ENV_CODER_URL,
    Config,
    load_coder_login,
    load_config,
    load_token,
)
from inbox_tui.urls import normalize_url

if TYPE_CHECKING:
    from inbox_tui.api.client import CoderClient

    # The launchers are imported only when they are used: a configured URL never needs them.
    from inbox_tui.embedded import EmbeddedServer
    from inbox_tui.local_server import LocalServer

RECONNECT_TIMEOUT = 10.0  # a reconnect waits this long for the local server; the watch then retries

SOURCE_FLAGS = "flags"
SOURCE_ENV = "environment"
SOURCE_CONFIG = "config"
SOURCE_CODER_CLI = "coder-cli"
SOURCE_EMBEDDED = "embedded"
SOURCE_DEMO = "demo"

SOURCE_LABELS = {
    SOURCE_FLAGS: "--url/--token flags",
    SOURCE_ENV: "CODER_URL/CODER_SESSION_TOKEN",
    SOURCE_CONFIG: "inbox-tui config",
    SOURCE_CODER_CLI: "the Coder CLI's login",
    SOURCE_EMBEDDED: "local server",
    SOURCE_DEMO: "demo server",
}


class ResolveError(Exception):
    """Nothing usable could be resolved (e.g. a URL without a token, or the embedded server would not start).

    The message says what to do.
    """


@dataclass(slots=True)
class Connection:
    """A resolved deployment: URL, token, where they came from, and the embedded server if one is used."""

    url: str
    token: str
    source: str
    embedded: EmbeddedServer | None = None
    local: LocalServer | None = None

    @property
    def source_label(self) -> str:
        """Where the connection came from, in words."""
        return SOURCE_LABELS.get(self.source, self.source)

    @property
    def is_embedded(self) -> bool:
        """True for the embedded default and the demo."""
        return self.embedded is not None or self.local is not None

    @property
    def address(self) -> str:
        """Where the server is, for people: the URL, or `unix:/path` for the local server."""
        return self.local.address if self.local is not None else self.url

    def client(self, *, timeout: float = 10.0) -> CoderClient:
        """A new API client for this connection (close it, or use it as an async context manager).

        For the local server the client talks through its Unix socket, and its watch makes sure the server
        is running (restarting it if it is gone) before each reconnect.
        """
        # Imported here: resolving a connection must not load httpx (`inbox-tui status` never needs it).
        from inbox_tui.api.client import CoderClient

        if self.local is None:
            return CoderClient(self.url, self.token, timeout=timeout)
        return CoderClient(
            self.url,
            self.token,
            timeout=timeout,
            uds=self.local.socket,
            before_reconnect=self.ensure_server,
        )

    async def ensure_server(self) -> None:
        """Start the local server again if it is gone.

        Runs in a daemon thread (it may wait for a server to answer): quitting the inbox meanwhile must not
        wait for it, as it would for asyncio's default executor.
        """
        import asyncio
        import threading

        from inbox_tui.local_server import ensure_running

        local = self.local
        if local is None:
            return
        loop = asyncio.get_running_loop()
        done: asyncio.Future[None] = loop.create_future()

        def settle(error: BaseException | None) -> None:
            if done.done():
                return
            if error is None:
                done.set_result(None)
            else:
                done.set_exception(error)

        def work() -> None:
            error: BaseException | None = None
            try:
                ensure_running(local.paths, quiet=True, timeout=RECONNECT_TIMEOUT)
            except Exception as exc:
                error = exc
            with contextlib.suppress(RuntimeError):  # the loop closed: nobody is waiting any more
                loop.call_soon_threadsafe(settle, error)

        threading.Thread(target=work, name="local-server", daemon=True).start()
        await done

    def close(self) -> None:
        """Release the connection: stops a demo server this process owns (the local server is shared)."""
        if self.embedded is not None:
            self.embedded.stop()


class Explicit(NamedTuple):
    """The URL and token found before the embedded default, with their sources (None when absent)."""

    url: str | None
    token: str | None
    url_source: str | None
    token_source: str | None


def _same(a: str | None, b: str | None) -> bool:
    if not a or not b:
        return False
    try:
        return normalize_url(a) == normalize_url(b)
    except ValueError:
        return False


def find_explicit(
    url_flag: str | None = None,
    token_flag: str | None = None,
    *,
    env: Mapping[str, str] | None = None,
    config: Config | None = None,
) -> Explicit:
    """Steps 1-4 of the resolution order (no server is started, nothing is contacted)."""
    environ = os.environ if env is None else env
    cfg = config if config is not None else load_config()
    coder = load_coder_login()
    env_url = environ.get(ENV_CODER_URL, "").strip() or None
    env_token = environ.get(ENV_CODER_TOKEN, "").strip() or None
    url_flag = (url_flag or "").strip() or None
    token_flag = (token_flag or "").strip() or None

    url: str | None = None
    url_source: str | None = None
    for candidate, source in (
        (url_flag, SOURCE_FLAGS),
        (env_url, SOURCE_ENV),
        (cfg.url, SOURCE_CONFIG),
        (coder.url, SOURCE_CODER_CLI),
    ):
        if candidate:
            url, url_source = candidate, source
            break

    token: str | None = None
    token_source: str | None = None
    if token_flag:
        token, token_source = token_flag, SOURCE_FLAGS
    elif env_token:
        token, token_source = env_token, SOURCE_ENV
    elif url is not None:
        if _same(url, cfg.url):
            saved = load_token()
            if saved:
                token, token_source = saved, SOURCE_CONFIG
        if token is None and _same(url, coder.url) and coder.token:
            token, token_source = coder.token, SOURCE_CODER_CLI
    return Explicit(url=url, token=token, url_source=url_source, token_source=token_source)


def _start_demo(*, long_lived: bool) -> EmbeddedServer:
    from inbox_tui.embedded import EmbeddedError, embedded_server

    try:
        return embedded_server(demo=True, long_lived=long_lived)
    except EmbeddedError as exc:
        raise ResolveError(str(exc)) from exc


def _local_server() -> LocalServer:
    from inbox_tui.embedded import EmbeddedError
    from inbox_tui.local_server import ensure_running

    try:
        return ensure_running()
    except EmbeddedError as exc:
        raise ResolveError(str(exc)) from exc
    except OSError as exc:  # e.g. the data or state directory cannot be created
        where = f" ({exc.filename})" if exc.filename else ""
        raise ResolveError(f"cannot start the local server: {exc.strerror or exc}{where}") from exc


def resolve(
    url_flag: str | None = None,
    token_flag: str | None = None,
    *,
    demo: bool = False,
    long_lived: bool = False,
    env: Mapping[str, str] | None = None,
    config: Config | None = None,
) -> Connection:
    """Resolve the connection, starting (or joining) the local server when nothing is configured.

    Raises ResolveError (also when the local server cannot be started) or ConfigError.
    `long_lived` (the TUI, `watch`) publishes a demo server so other `--demo` commands can join it.
    The caller must `close()` the returned connection.
    """
    if demo:
        if url_flag or token_flag:
            raise ResolveError("--demo runs its own server; it cannot be combined with --url or --token")
        server = _start_demo(long_lived=long_lived)
        return Connection(url=server.url, token=server.token, source=SOURCE_DEMO, embedded=server)
    explicit = explicit_connection(url_flag, token_flag, env=env, config=config)
    if explicit is not None:
        return explicit
    local = _local_server()
    return Connection(url=local.url, token=local.token, source=SOURCE_EMBEDDED, local=local)


def explicit_connection(
    url_flag: str | None = None,
    token_flag: str | None = None,
    *,
    env: Mapping[str, str] | None = None,
    config: Config | None = None,
) -> Connection | None:
    """Steps 1-4 checked (a normal URL with a token), or None for the embedded default; nothing is started.

    Raises ResolveError (a token without a URL, an invalid URL, a URL without a token) or ConfigError.
    `inbox-tui status` uses it too, with its own step 5 (it never starts the local server).
    """
    found = find_explicit(url_flag, token_flag, env=env, config=config)
    if found.url is None:
        if found.token_source == SOURCE_FLAGS:
            raise ResolveError("--token was given without a URL: add --url or set CODER_URL")
        return None
    try:
        url = normalize_url(found.url)
    except ValueError as exc:
        raise ResolveError(f"invalid URL from {SOURCE_LABELS[found.url_source or '']}: {exc}") from exc
    if found.token is None:
        raise ResolveError(
            f"no session token for {url}: run `inbox-tui login {url}`, or pass --token, or set CODER_SESSION_TOKEN"
        )
    return Connection(url=url, token=found.token, source=found.url_source or SOURCE_FLAGS)
