"""`inbox-server`: serve the API, and administer users, tokens and notifications on a database.

Results go to stdout, messages to stderr; failures exit non-zero.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import socket
import sys
import uuid
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Any

from server.auth import generate_token
from server.config import DEFAULT_RATE_LIMIT, ServerConfig, SmtpConfig, WebhookConfig, default_db_path
from server.metrics.endpoint import DEFAULT_ADDRESS as DEFAULT_PROMETHEUS_ADDRESS
from server.metrics.endpoint import address_arg
from server.records import ROLE_MEMBER, ROLE_OWNER, User
from server.store import open_store
from server.store.base import DuplicateUserError, Store
from server.uuids import UUIDParseError, parse_uuid


class CliError(Exception):
    """A failure reported on stderr with exit code 1."""


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
    serve.add_argument("--prometheus-enable", action="store_true", help="serve Prometheus metrics (coderd's names)")
    serve.add_argument(
        "--prometheus-address", default=DEFAULT_PROMETHEUS_ADDRESS, type=address_arg, help="HOST:PORT for the metrics"
    )
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
        prometheus_enable=args.prometheus_enable,
        prometheus_address=args.prometheus_address,
    )


async def serve(config: ServerConfig) -> None:
    """Bind, start uvicorn with our websocket protocol, print `listening on ...` once ready."""
    import uvicorn

    # The store's reader and writer threads hand results back to the event loop constantly; Python's
    # default 5 ms GIL switch interval makes the loop wait behind them (a convoy). 1 ms keeps p99 low.
    sys.setswitchinterval(0.001)

    from server.app import InboxServer
    from server.ws_protocol import WatchWebSocketProtocol

    sock = socket.socket(socket.AF_INET6 if ":" in config.host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((config.host, config.port))
    except OSError as exc:
        raise CliError(f"cannot listen on {config.host}:{config.port}: {exc.strerror}") from None
    sock.listen(2048)
    sock.setblocking(False)
    host, port = sock.getsockname()[:2]
    display_host = f"[{host}]" if ":" in host else host
    if not config.access_url:
        config.access_url = f"http://{display_host}:{port}"
    app = InboxServer(config)
    if config.demo:
        from server.demo import start_demo

        app.on_ready.append(start_demo)
    uv_config = uvicorn.Config(
        app,
        lifespan="on",
        http="httptools" if _has("httptools") else "h11",
        loop="none",
        ws=WatchWebSocketProtocol,
        ws_ping_interval=None,
        log_level=config.log_level,
        access_log=False,
        timeout_graceful_shutdown=5,
    )
    uv_server = uvicorn.Server(uv_config)
    task = asyncio.create_task(uv_server.serve(sockets=[sock]))
    while not uv_server.started:
        if task.done():
            break
        await asyncio.sleep(0.01)
    if uv_server.started:
        print(f"listening on http://{display_host}:{port}", flush=True)
        if app.metrics is not None:
            print(f"prometheus metrics on {app.metrics.endpoint.url}", flush=True)
    await task
    if not uv_server.started:
        raise CliError("server failed to start (see the log above)")


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
        raise CliError(f"no user {ref!r}")
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
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
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
