"""`inbox-server`: serve the API, and administer users, tokens and notifications on a database.

Results go to stdout, messages to stderr; failures exit non-zero.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import logging.handlers
import os
import socket
import sys
import uuid
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from server import __version__
from server.auth import generate_token
from server.config import ServerConfig, default_db_path
from server.logs import configure as configure_logging
from server.options import ConfigError, add_serve_options
from server.options import resolve as resolve_options
from server.records import ROLE_MEMBER, ROLE_OWNER, User, now_utc
from server.store import open_store
from server.store.base import DuplicateUserError, Store
from server.token_admin import LIFETIME_HELP, parse_lifetime, token_table
from server.usernames import username_problem
from server.uuids import UUIDParseError, parse_uuid

if TYPE_CHECKING:
    import uvicorn

    from server import serve_lock
    from server.app import InboxServer


class CliError(Exception):
    """A failure reported on stderr with exit code 1."""


class DatabaseLocked(CliError):
    """Another `serve` holds the database: reported on stderr with exit code 2."""


EXIT_DATABASE_LOCKED = 2


def _db_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--db",
        default=None,
        help="SQLite file or postgresql:// URL (default: $INBOX_DB, else a file in the user data dir)",
    )


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand."""
    parser = argparse.ArgumentParser(
        prog="inbox-server", description="A Coder-compatible notifications server (REST API and watch)."
    )
    parser.add_argument("--version", action="version", version=f"inbox-server {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = sub.add_parser(
        "serve",
        help="serve the notifications API",
        usage="%(prog)s [flags]",
        description="Serve the notifications API. Options take Coder's flags and CODER_* variables; "
        "a flag beats its variable, which beats the default.",
    )
    add_serve_options(serve)

    users = sub.add_parser("users", help="manage users").add_subparsers(dest="action", required=True)
    create = users.add_parser("create", help="create a user and print a session token for it")
    create.add_argument("--username", required=True)
    create.add_argument("--email", default="")
    create.add_argument("--name", default="")
    create.add_argument("--role", choices=[ROLE_OWNER, ROLE_MEMBER], default=ROLE_MEMBER)
    create.add_argument("--system", action="store_true", help="a system user (cannot send custom notifications)")
    create.add_argument("--lifetime", default="720h", help=f"of the printed token: {LIFETIME_HELP}")
    _db_arg(create)
    listing = users.add_parser("list", help="list users as JSON lines")
    _db_arg(listing)
    delete = users.add_parser("delete", help="delete a user and everything they own")
    delete.add_argument("--username", required=True)
    _db_arg(delete)

    tokens = sub.add_parser("tokens", help="manage session tokens").add_subparsers(dest="action", required=True)
    tcreate = tokens.add_parser("create", help="print a new session token for a user")
    tcreate.add_argument("--user", required=True, help="username or id")
    tcreate.add_argument("--lifetime", default="720h", help=LIFETIME_HELP)
    _db_arg(tcreate)
    tlist = tokens.add_parser("list", help="list a user's tokens: id, created, expires, last used")
    tlist.add_argument("--user", required=True, help="username or id")
    _db_arg(tlist)
    revoke = tokens.add_parser("revoke", help="revoke a token (its id or the whole token)")
    revoke.add_argument("token")
    _db_arg(revoke)

    notify = sub.add_parser("notify", help="enqueue a system notification as Coder would")
    notify.add_argument("--user", required=True, help="username or id")
    notify.add_argument("--template", required=True, help="template name or id")
    notify.add_argument("--label", action="append", default=[], metavar="K=V")
    notify.add_argument("--data", default="{}", help="JSON object")
    notify.add_argument("--target", action="append", default=[], metavar="UUID")
    notify.add_argument("--access-url", default="", help="base of action links (default: the server's)")
    _db_arg(notify)
    return parser


async def serve(config: ServerConfig) -> None:
    """Bind, start uvicorn with our websocket protocol, print `listening on ...` once ready.

    A SQLite database is locked for the life of the process first (one server per database), so a
    second `serve` on the same file, and a stale Unix socket, are dealt with before anything is bound.
    """
    from server import serve_lock

    # The store's reader and writer threads hand results back to the event loop constantly; Python's
    # default 5 ms GIL switch interval makes the loop wait behind them (a convoy). 1 ms keeps p99 low.
    sys.setswitchinterval(0.001)

    lock: serve_lock.ServeLock | None = None
    if serve_lock.is_sqlite_path(config.db):
        try:
            lock = serve_lock.acquire(config.db)
        except serve_lock.DatabaseInUseError as exc:
            raise DatabaseLocked(str(exc)) from None
        except OSError as exc:
            raise CliError(f"cannot lock the database {config.db}: {exc.strerror or exc}") from None
    try:
        await _serve_locked(config, lock)
    finally:
        if lock is not None:
            lock.release()


def _bind(config: ServerConfig) -> tuple[socket.socket, str]:
    """The listening socket and the address to print (`http://host:port` or `unix:/path`)."""
    if config.unix_socket:
        path = config.unix_socket
        # Only the lock holder gets here, so a socket file left at the path is a dead server's.
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.bind(path)
            os.chmod(path, 0o600)
        except OSError as exc:
            sock.close()
            raise CliError(f"cannot listen on {path}: {exc.strerror or exc}") from None
        if not config.access_url:
            config.access_url = "http://localhost"
        return sock, f"unix:{path}"
    sock = socket.socket(socket.AF_INET6 if ":" in config.host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((config.host, config.port))
    except OSError as exc:
        sock.close()
        raise CliError(f"cannot listen on {config.host}:{config.port}: {exc.strerror}") from None
    host, port = sock.getsockname()[:2]
    display_host = f"[{host}]" if ":" in host else host
    if not config.access_url:
        config.access_url = f"http://{display_host}:{port}"
    config.port = port
    return sock, f"http://{display_host}:{port}"


async def _serve_locked(config: ServerConfig, lock: serve_lock.ServeLock | None) -> None:
    import uvicorn

    from server.access_log import AccessLog
    from server.app import InboxServer, route_pattern
    from server.fdlimit import raise_open_files_limit
    from server.http_protocol import MAX_HEAD_BYTES, head_limited_protocol
    from server.lifecycle import GracefulServer, log_configuration
    from server.runtime_file import remove_runtime_file, write_runtime_file
    from server.ws_protocol import WatchWebSocketProtocol

    raise_open_files_limit()
    sock, address = _bind(config)
    sock.listen(2048)
    sock.setblocking(False)
    log_configuration(config)
    app = InboxServer(config)
    if config.demo:
        from server.demo import start_demo

        app.on_ready.append(start_demo)
    asgi_app: Any = AccessLog(app, route_pattern) if logging.getLogger().isEnabledFor(logging.DEBUG) else app
    uv_config = uvicorn.Config(
        asgi_app,
        lifespan="on",
        http=head_limited_protocol(config.read_header_timeout) if _has("httptools") else "h11",
        h11_max_incomplete_event_size=MAX_HEAD_BYTES,
        loop="none",
        ws=WatchWebSocketProtocol,
        ws_ping_interval=None,
        # uvicorn trusts X-Forwarded-For from 127.0.0.1 by default; server.realip decides instead.
        proxy_headers=False,
        log_level=None,  # server/logs.py sets the levels
        log_config=None,  # our handlers (server/logs.py) take uvicorn's records too
        access_log=False,
        timeout_graceful_shutdown=max(1, round(config.shutdown_timeout)),
    )
    uv_server = GracefulServer(uv_config)
    task = asyncio.create_task(uv_server.serve(sockets=[sock]))
    runtime_file = Path(config.runtime_file) if config.runtime_file else None

    def withdraw() -> None:
        # Only what this process published: a successor may already have replaced the runtime file.
        if runtime_file is not None:
            remove_runtime_file(runtime_file)
        if config.unix_socket and uv_server.started:
            with contextlib.suppress(OSError):
                os.unlink(config.unix_socket)

    app.on_shutdown.append(withdraw)
    idle: asyncio.Task[None] | None = None
    try:
        while not uv_server.started:
            if task.done():
                break
            await asyncio.sleep(0.01)
        if uv_server.started:
            if lock is not None:
                lock.record(address)
            if runtime_file is not None:
                write_runtime_file(
                    runtime_file,
                    {
                        "address": address,
                        "url": config.access_url,
                        "socket": config.unix_socket,
                        "db": config.db,
                        "log": config.log_human,
                        "idle_timeout": config.idle_timeout,
                    },
                )
            print(f"listening on {address}", flush=True)
            if app.metrics is not None:
                print(f"prometheus metrics on {app.metrics.endpoint.url}", flush=True)
            if config.idle_timeout > 0:
                idle = asyncio.create_task(_stop_when_idle(app, uv_server, config.idle_timeout))
        await task
    finally:
        if idle is not None:
            idle.cancel()
        withdraw()
    if not uv_server.started:
        raise CliError("server failed to start (see the log above)")


async def _stop_when_idle(app: InboxServer, uv_server: uvicorn.Server, idle_timeout: float) -> None:
    """Ask uvicorn to exit once no request has come and no watcher has been open for `idle_timeout`."""
    log = logging.getLogger("server.idle")
    step = min(5.0, max(0.05, idle_timeout / 10))
    while not uv_server.should_exit:
        await asyncio.sleep(step)
        if app.idle_for() >= idle_timeout:
            log.info("no client for %.0f s: stopping", idle_timeout)
            uv_server.should_exit = True
            return


def _has(module: str) -> bool:
    try:
        __import__(module)
    except ImportError:
        return False
    return True


async def _with_store(db: str | None, action: Callable[[Store], Awaitable[int]]) -> int:
    store = open_store(db or default_db_path())
    await store.open()
    try:
        return await action(store)
    finally:
        await store.close()


async def _find_user(store: Store, ref: str) -> User:
    try:
        user = await store.get_user(parse_uuid(ref))
    except UUIDParseError:
        user = await store.get_user_by_username(ref)
    if user is None:
        known = ", ".join(sorted(u.username for u in await store.list_users())[:10]) or "none"
        raise CliError(
            f"no user {ref!r} (users: {known}); plain `inbox-tui` creates its local "
            "owner on first run, `inbox-server users create` makes others"
        )
    return user


async def _users_create(store: Store, args: argparse.Namespace) -> int:
    username = args.username
    problem = username_problem(username)
    if problem:
        raise CliError(f"invalid --username {username!r}: {problem}")
    lifetime = _lifetime(args)
    try:
        user = await store.create_user(
            username=username,
            email=args.email or f"{username}@localhost",
            name=args.name,
            roles=[args.role] if args.role == ROLE_OWNER else [ROLE_MEMBER],
            is_system=args.system,
        )
    except DuplicateUserError:
        raise CliError(f"user {username!r} already exists") from None
    token, row = generate_token(user.id, lifetime)
    await store.create_api_token(row)
    print(token)
    print(f"created {args.role} {username} ({user.id})", file=sys.stderr)
    return 0


async def _users_list(store: Store, args: argparse.Namespace) -> int:
    for user in await store.list_users():
        line = {"id": str(user.id), "username": user.username, "email": user.email, "roles": list(user.roles)}
        print(json.dumps(line))
    return 0


async def _users_delete(store: Store, args: argparse.Namespace) -> int:
    user = await _find_user(store, args.username)
    await store.delete_user(user.id)
    print(f"deleted {user.username}", file=sys.stderr)
    return 0


def _lifetime(args: argparse.Namespace) -> timedelta | None:
    try:
        return parse_lifetime(args.lifetime)
    except ValueError as exc:
        raise CliError(str(exc)) from None


async def _tokens_create(store: Store, args: argparse.Namespace) -> int:
    lifetime = _lifetime(args)
    user = await _find_user(store, args.user)
    token, row = generate_token(user.id, lifetime)
    await store.create_api_token(row)
    print(token)
    return 0


async def _tokens_list(store: Store, args: argparse.Namespace) -> int:
    user = await _find_user(store, args.user)
    print(token_table(await store.list_api_tokens(user.id), now_utc()))
    return 0


async def _tokens_revoke(store: Store, args: argparse.Namespace) -> int:
    token_id = args.token.split("-", 1)[0]
    if not await store.delete_api_token(token_id):
        raise CliError(f"no token {token_id!r}")
    print(f"revoked {token_id}", file=sys.stderr)
    return 0


def _parse_labels(pairs: Sequence[str]) -> dict[str, str]:
    labels: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise CliError(f"--label takes KEY=VALUE, got {pair!r}")
        labels[key] = value
    return labels


async def _notify(store: Store, args: argparse.Namespace) -> int:
    from server.notify.enqueue import Enqueuer

    labels = _parse_labels(args.label)
    try:
        data: Any = json.loads(args.data)
    except ValueError as exc:
        raise CliError(f"--data is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise CliError("--data must be a JSON object")
    targets: list[uuid.UUID] = []
    for raw in args.target:
        try:
            targets.append(parse_uuid(raw))
        except UUIDParseError as exc:
            raise CliError(f"--target {raw!r}: {exc}") from None
    user = await _find_user(store, args.user)
    template = None
    try:
        template = await store.get_template(parse_uuid(args.template))
    except UUIDParseError:
        wanted = args.template.casefold()
        template = next((t for t in await store.list_templates() if t.name.casefold() == wanted), None)
    if template is None:
        raise CliError(f"no notification template {args.template!r}")
    # The running server's notifier picks the message up on its next sweep (at most --fetch-interval);
    # links use the access URL the server last served with.
    access_url = args.access_url or await store.get_site_config("access_url") or ""
    enqueuer = Enqueuer(ServerConfig(db="", access_url=access_url), store, lambda: None)
    ids = await enqueuer.enqueue(
        user=user,
        template_id=template.id,
        labels=labels,
        data=data,
        created_by="inbox-server notify",
        targets=targets or None,
    )
    for message_id in ids:
        print(message_id)
    if not ids:
        print("nothing enqueued: the user disabled this template, or it is a duplicate today", file=sys.stderr)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `inbox-server`."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        if args.command == "serve":
            try:
                config = resolve_options(args)
                configure_logging(config)
            except ConfigError as exc:
                print(f"inbox-server: {exc}", file=sys.stderr)
                return 2
            _run(serve(config))
            return 0
        handlers: dict[tuple[str, str], Callable[[Store, argparse.Namespace], Awaitable[int]]] = {
            ("users", "create"): _users_create,
            ("users", "list"): _users_list,
            ("users", "delete"): _users_delete,
            ("tokens", "create"): _tokens_create,
            ("tokens", "list"): _tokens_list,
            ("tokens", "revoke"): _tokens_revoke,
            ("notify", ""): _notify,
        }
        handler = handlers[(args.command, getattr(args, "action", "") or "")]
        return asyncio.run(_with_store(args.db, lambda store: handler(store, args)))
    except DatabaseLocked as exc:
        print(f"inbox-server: {exc}", file=sys.stderr)
        return EXIT_DATABASE_LOCKED
    except CliError as exc:
        print(f"inbox-server: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def _run(coro: Coroutine[Any, Any, None]) -> None:
    try:
        import uvloop
    except ImportError:
        asyncio.run(coro)
        return
    uvloop.run(coro)


if __name__ == "__main__":
    sys.exit(main())
