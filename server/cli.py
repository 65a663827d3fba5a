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
from pathlib import Path
from typing import Any

from server.auth import generate_token
from server.config import DEFAULT_RATE_LIMIT, ServerConfig, SmtpConfig, WebhookConfig, default_db_path
from server.private_files import ensure_private_dir
from server.realip import parse_origins, split_flag_values
from server.records import ROLE_MEMBER, ROLE_OWNER, User
from server.store import open_store
from server.store.base import DuplicateUserError, Store
from server.uuids import UUIDParseError, parse_uuid


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
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = sub.add_parser("serve", help="serve the notifications API")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=3000, help="0 picks a free port")
    _db_arg(serve)
    serve.add_argument("--access-url", default="", help="external URL used in links (default http://HOST:PORT)")
    serve.add_argument("--notifications-method", choices=["smtp", "webhook"], default="smtp")
    serve.add_argument("--webhook-url", default="")
    serve.add_argument("--smtp-host", default="")
    serve.add_argument("--smtp-port", type=int, default=25)
    serve.add_argument("--smtp-from", default="")
    serve.add_argument("--smtp-username", default="")
    serve.add_argument("--smtp-password", default="")
    serve.add_argument("--smtp-starttls", action="store_true", help="upgrade with STARTTLS")
    serve.add_argument("--smtp-tls", action="store_true", help="implicit TLS from the first byte")
    serve.add_argument("--smtp-insecure-skip-verify", action="store_true")
    serve.add_argument("--api-rate-limit", type=int, default=DEFAULT_RATE_LIMIT, help="requests per minute")
    serve.add_argument("--dangerous-disable-rate-limits", action="store_true")
    serve.add_argument("--watch-ping-interval", type=float, default=15.0)
    serve.add_argument("--watch-send-timeout", type=float, default=5.0)
    serve.add_argument(
        "--watch-queue-size", type=int, default=256, help="frames a watcher may fall behind before it is closed"
    )
    serve.add_argument("--retry-interval", type=float, default=1.0, help="first retry delay (seconds)")
    serve.add_argument("--max-send-attempts", type=int, default=5)
    serve.add_argument("--fetch-interval", type=float, default=1.0, help="safety-net sweep (seconds)")
    serve.add_argument("--demo", action="store_true", help="seed demo notifications and keep sending new ones")
    serve.add_argument("--log-level", default="warning")
    local = serve.add_argument_group("local server (inbox-tui's embedded default)")
    local.add_argument("--unix-socket", default="", metavar="PATH", help="listen on a Unix socket instead of TCP")
    local.add_argument("--runtime-file", default="", metavar="PATH", help="publish address and PID here once up")
    local.add_argument(
        "--idle-timeout", type=float, default=0.0, metavar="SECONDS", help="exit after this long with no client"
    )
    local.add_argument("--log-file", default="", metavar="PATH", help="log here, rotated by size (5 MiB x 3)")
    serve.add_argument(
        "--proxy-trusted-headers",
        action="append",
        default=[],
        metavar="HEADER",
        help="headers to take the client address from, e.g. X-Forwarded-For (repeat or comma-separate)",
    )
    serve.add_argument(
        "--proxy-trusted-origins",
        action="append",
        default=[],
        metavar="CIDR",
        help="proxies whose --proxy-trusted-headers are believed (repeat or comma-separate)",
    )
    serve.add_argument("--read-header-timeout", type=float, default=10.0, help="seconds for a request head to arrive")
    serve.add_argument(
        "--max-watchers-per-user", type=int, default=64, help="open watch sockets per user; 0 = unlimited"
    )

    users = sub.add_parser("users", help="manage users").add_subparsers(dest="action", required=True)
    create = users.add_parser("create", help="create a user and print a session token for it")
    create.add_argument("--username", required=True)
    create.add_argument("--email", default="")
    create.add_argument("--name", default="")
    create.add_argument("--role", choices=[ROLE_OWNER, ROLE_MEMBER], default=ROLE_MEMBER)
    create.add_argument("--system", action="store_true", help="a system user (cannot send custom notifications)")
    _db_arg(create)
    listing = users.add_parser("list", help="list users as JSON lines")
    _db_arg(listing)
    delete = users.add_parser("delete", help="delete a user and everything they own")
    delete.add_argument("--username", required=True)
    _db_arg(delete)

    tokens = sub.add_parser("tokens", help="manage session tokens").add_subparsers(dest="action", required=True)
    tcreate = tokens.add_parser("create", help="print a new session token for a user")
    tcreate.add_argument("--user", required=True, help="username or id")
    _db_arg(tcreate)
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


def _serve_config(args: argparse.Namespace) -> ServerConfig:
    return ServerConfig(
        host=args.host,
        port=args.port,
        db=args.db or default_db_path(),
        access_url=args.access_url,
        notifications_method=args.notifications_method,
        smtp=SmtpConfig(
            host=args.smtp_host,
            port=args.smtp_port,
            sender=args.smtp_from,
            username=args.smtp_username,
            password=args.smtp_password,
            starttls=args.smtp_starttls,
            tls=args.smtp_tls,
            insecure_skip_verify=args.smtp_insecure_skip_verify,
        ),
        webhook=WebhookConfig(url=args.webhook_url),
        api_rate_limit=args.api_rate_limit,
        disable_rate_limits=args.dangerous_disable_rate_limits,
        max_send_attempts=args.max_send_attempts,
        retry_interval=args.retry_interval,
        fetch_interval=args.fetch_interval,
        watch_ping_interval=args.watch_ping_interval,
        watch_send_timeout=args.watch_send_timeout,
        watch_queue_size=args.watch_queue_size,
        demo=args.demo,
        log_level=args.log_level,
        unix_socket=args.unix_socket,
        runtime_file=args.runtime_file,
        idle_timeout=args.idle_timeout,
        log_file=args.log_file,
        proxy_trusted_headers=split_flag_values(args.proxy_trusted_headers),
        proxy_trusted_origins=_origins(args.proxy_trusted_origins),
        read_header_timeout=args.read_header_timeout,
        max_watchers_per_user=args.max_watchers_per_user,
    )


def _origins(values: list[str]) -> list[str]:
    origins = split_flag_values(values)
    try:
        parse_origins(origins)
    except ValueError as exc:
        raise CliError(str(exc)) from None
    return origins


async def serve(config: ServerConfig) -> None:
    """Bind, start uvicorn with our websocket protocol, print `listening on ...` once ready.

    A SQLite database is locked for the life of the process first (one server per database), so a
    second `serve` on the same file, and a stale Unix socket, are dealt with before anything is bound.
    """
    import uvicorn

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
        await _serve_locked(config, uvicorn, lock)
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
    return sock, f"http://{display_host}:{port}"


async def _serve_locked(config: ServerConfig, uvicorn: Any, lock: Any) -> None:
    from server.app import InboxServer
    from server.fdlimit import raise_open_files_limit
    from server.http_protocol import MAX_HEAD_BYTES, head_limited_protocol
    from server.runtime_file import remove_runtime_file, write_runtime_file
    from server.ws_protocol import WatchWebSocketProtocol

    raise_open_files_limit()
    sock, address = _bind(config)
    sock.listen(2048)
    sock.setblocking(False)
    app = InboxServer(config)
    if config.demo:
        from server.demo import start_demo

        app.on_ready.append(start_demo)
    uv_config = uvicorn.Config(
        app,
        lifespan="on",
        http=head_limited_protocol(config.read_header_timeout) if _has("httptools") else "h11",
        h11_max_incomplete_event_size=MAX_HEAD_BYTES,
        loop="none",
        ws=WatchWebSocketProtocol,
        ws_ping_interval=None,
        # uvicorn trusts X-Forwarded-For from 127.0.0.1 by default; server.realip decides instead.
        proxy_headers=False,
        log_level=config.log_level,
        access_log=False,
        timeout_graceful_shutdown=5,
    )
    uv_server = uvicorn.Server(uv_config)
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
                        "log": config.log_file,
                        "idle_timeout": config.idle_timeout,
                    },
                )
            print(f"listening on {address}", flush=True)
            if config.idle_timeout > 0:
                idle = asyncio.create_task(_stop_when_idle(app, uv_server, config.idle_timeout))
        await task
    finally:
        if idle is not None:
            idle.cancel()
        withdraw()
    if not uv_server.started:
        raise CliError("server failed to start (see the log above)")


async def _stop_when_idle(app: Any, uv_server: Any, idle_timeout: float) -> None:
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
    username = args.username.strip()
    if not username:
        raise CliError("--username must not be empty")
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
    token, row = generate_token(user.id)
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


async def _tokens_create(store: Store, args: argparse.Namespace) -> int:
    user = await _find_user(store, args.user)
    token, row = generate_token(user.id)
    await store.create_api_token(row)
    print(token)
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
    log_format = "%(asctime)s %(levelname)s %(name)s: %(message)s"
    if args.command == "serve" and args.log_file:
        _log_to_file(args.log_file, log_format)
    else:
        logging.basicConfig(level=logging.WARNING, format=log_format)
    try:
        if args.command == "serve":
            config = _serve_config(args)
            logging.getLogger().setLevel(config.log_level.upper())
            _run(serve(config))
            return 0
        handlers: dict[tuple[str, str], Callable[[Store, argparse.Namespace], Awaitable[int]]] = {
            ("users", "create"): _users_create,
            ("users", "list"): _users_list,
            ("users", "delete"): _users_delete,
            ("tokens", "create"): _tokens_create,
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


LOG_FILE_BYTES = 5 * 1024 * 1024
LOG_FILE_BACKUPS = 3


class _PrivateRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """A rotating log whose files (the first and every rotated one) are created 0600."""

    def _open(self) -> Any:
        old_umask = os.umask(0o077)
        try:
            return super()._open()
        finally:
            os.umask(old_umask)


def _log_to_file(path: str, log_format: str) -> None:
    """Log to a size-rotated file (`server.log`, `.1` ... `.3`), created 0600: the embedded server's log."""
    ensure_private_dir(Path(path).parent)
    handler = _PrivateRotatingFileHandler(path, maxBytes=LOG_FILE_BYTES, backupCount=LOG_FILE_BACKUPS, encoding="utf-8")
    handler.setFormatter(logging.Formatter(log_format))
    logging.basicConfig(level=logging.WARNING, handlers=[handler])


def _run(coro: Coroutine[Any, Any, None]) -> None:
    try:
        import uvloop
    except ImportError:
        asyncio.run(coro)
        return
    uvloop.run(coro)


if __name__ == "__main__":
    sys.exit(main())
