"""`inbox-tui`: the terminal inbox, and commands for scripts that mirror `coder notifications`.

With no command it opens the inbox (Textual is imported only then). Commands print results on stdout
and messages on stderr, exit non-zero on failure, and print API errors the way the Coder CLI does
(`unable to pause notifications: PUT https://…: unexpected status code 403: Forbidden.` and so on).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import sys
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from types import ModuleType
from typing import Any, TextIO

from inbox_tui import __version__
from inbox_tui.api.client import FORMATS, CoderClient, normalize_url
from inbox_tui.api.errors import ApiError
from inbox_tui.api.models import InboxEvent, InboxNotification
from inbox_tui.commands.inbox import STOP_SIGNALS, connect, run_inbox
from inbox_tui.commands.output import (
    EXIT_FAILURE,
    EXIT_INTERRUPTED,
    EXIT_OK,
    CommandFailed,
    err,
    safe_streams,
)
from inbox_tui.config import ConfigError, delete_token, load_config, save_config, save_token, secure_dirs
from inbox_tui.connection import Connection
from inbox_tui.text import clean_line as text_clean_line
from inbox_tui.text import markdown_to_plain, relative_time, terminal_safe

PROG = "inbox-tui"

# The Coder CLI's messages (cli/notifications.go), printed on stderr.
MSG_PAUSED = "Notifications are now paused."
MSG_RESUMED = "Notifications are now resumed."
MSG_TEST_SENT = (
    "A test notification has been sent. If you don't receive the notification, check Coder's logs for any errors."
)
MSG_CUSTOM_SENT = "A custom notification has been sent."
PREFIX_PAUSE = "unable to pause notifications: "
PREFIX_RESUME = "unable to resume notifications: "
PREFIX_TEST = "unable to post test notification: "
PREFIX_CUSTOM = "unable to post custom notification: "


def send_epilog() -> str:
    """`send --help`'s epilog (built when the full parser is: the inbox's start does not load the warnings)."""
    from inbox_tui.api.send_warnings import DEDUPE_NOTE

    return (
        "Sent means accepted: delivery follows within seconds. "
        + DEDUPE_NOTE
        + " A warning follows the message on stderr (exit status 0 all the same, as Coder's CLI) when the "
        "notification will not arrive: Custom Notification turned off in your preferences, or delivery paused "
        "by an owner (it then arrives after `inbox-tui resume`)."
    )


ID_HELP = (
    "Each ID is a whole notification id or the start of one (`inbox-tui list` prints them): a prefix must "
    "match exactly one notification of your inbox, read or unread."
)
ID_EPILOG = "Nothing is changed when an ID matches no notification or several (they are listed)."


# -- output helpers -------------------------------------------------------------------------------


_err = err


def _out(line: str) -> None:
    print(terminal_safe(line), file=sys.stdout, flush=True)


def clean_line(text: str) -> str:
    """One line of terminal text from untrusted API text (inbox_tui.text, shared with the TUI)."""
    return text_clean_line(text)


def list_line(notification: InboxNotification, now: datetime | None = None) -> str:
    """`<id>  unread  5m  <title>`: one greppable line per notification."""
    status = "read" if notification.is_read else "unread"
    when = relative_time(notification.created_at, now or datetime.now(UTC), iso_dates=True)
    return f"{notification.id}  {status:<6}  {when:>10}  {clean_line(notification.title)}"


def watch_line(notification: InboxNotification) -> str:
    """`12:03:04  <title> - <content>` for `watch`."""
    stamp = notification.created_at.astimezone().strftime("%H:%M:%S")
    title = clean_line(notification.title)
    content = clean_line(notification.content)
    return f"{stamp}  {title} - {content}" if content else f"{stamp}  {title}"


def event_json(event: InboxEvent) -> str:
    """One JSON object per notification, the watch frame's shape (ASCII-escaped: safe in any terminal)."""
    return json.dumps({"notification": event.notification.to_json(), "unread_count": event.unread_count})


# -- argument parsing -----------------------------------------------------------------------------


def _global_flags(parser: argparse.ArgumentParser, *, suppress: bool) -> None:
    default: Any = argparse.SUPPRESS if suppress else None
    parser.add_argument("--url", default=default, help="deployment URL (default: CODER_URL, config, Coder CLI)")
    parser.add_argument("--token", default=default, help="session token (default: CODER_SESSION_TOKEN, ...)")
    parser.add_argument(
        "--demo",
        action="store_true",
        default=argparse.SUPPRESS if suppress else False,
        help="use a throwaway demo server that keeps producing notifications",
    )


def _id_list(values: list[str] | None) -> list[str]:
    out: list[str] = []
    for value in values or []:
        out.extend(part.strip() for part in value.split(",") if part.strip())
    return out


def inbox_args(argv: Sequence[str] | None) -> argparse.Namespace | None:
    """The arguments when they only open the inbox (global flags, no command), else None.

    Issue 11: building every command's parser and its help (~2-10 ms) is start-up time the inbox does not
    need. Anything else (a command, --help, --version, a malformed flag) is left to `build_parser()`.
    """
    parser = argparse.ArgumentParser(prog=PROG, add_help=False, exit_on_error=False)
    _global_flags(parser, suppress=False)
    try:
        args, rest = parser.parse_known_args(argv)
    except argparse.ArgumentError:
        return None
    if rest:
        return None
    args.command = None
    return args


def build_parser() -> argparse.ArgumentParser:
    """The `inbox-tui` argument parser."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="A terminal inbox for Coder notifications. Run without a command to open the inbox.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=(
            "examples:\n"
            '  make build; inbox-tui send "Build done" "make build finished"\n'
            "  inbox-tui list --unread\n"
            "  inbox-tui watch --json | jq .notification.title\n"
            "  inbox-tui login https://coder.example.com\n\n"
            "connection: --url/--token, else CODER_URL/CODER_SESSION_TOKEN, else `inbox-tui login`,\n"
            "else the Coder CLI's login, else a bundled server on 127.0.0.1 (docs/configuration.md)."
        ),
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    _global_flags(parser, suppress=False)
    common = argparse.ArgumentParser(add_help=False)
    _global_flags(common, suppress=True)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    send = sub.add_parser(
        "send",
        aliases=["custom"],
        parents=[common],
        help="send yourself a custom notification",
        description="Send a custom notification to yourself. MESSAGE '-' reads it from stdin.",
        epilog=send_epilog(),
    )
    send.add_argument("title", metavar="TITLE")
    send.add_argument("message", metavar="MESSAGE")
    sub.add_parser("pause", parents=[common], help="pause notification delivery (owners)")
    sub.add_parser("resume", parents=[common], help="resume notification delivery (owners)")
    sub.add_parser("test", parents=[common], help="send a test notification (owners)")

    listing = sub.add_parser("list", parents=[common], help="list notifications, newest first")
    status = listing.add_mutually_exclusive_group()
    status.add_argument("--unread", action="store_true", help="only unread notifications")
    status.add_argument("--read", action="store_true", help="only read notifications")
    listing.add_argument(
        "--template",
        action="append",
        metavar="ID|NAME",
        help="template id or name, e.g. 'Custom Notification' (repeatable)",
    )
    listing.add_argument("--target", action="append", metavar="ID", help="target id (repeatable)")
    listing.add_argument("--before", metavar="ID", help="start after this notification (id or unique prefix; paging)")
    listing.add_argument("--all", action="store_true", help="follow pages to the end (default: 25)")
    listing.add_argument("--json", action="store_true", help="print the API's JSON")

    watch = sub.add_parser("watch", parents=[common], help="print new notifications as they arrive (until ctrl+c)")
    watch.add_argument("--json", action="store_true", help="one JSON object per notification")
    watch.add_argument("--format", choices=FORMATS, default="plaintext", help="title/content format")
    watch.add_argument("--unread", action="store_true", help="only unread notifications")
    watch.add_argument("--template", action="append", metavar="ID|NAME", help="template id or name (repeatable)")
    watch.add_argument("--target", action="append", metavar="ID", help="target id (repeatable)")

    read = sub.add_parser(
        "read", parents=[common], help="mark notifications as read", description=ID_HELP, epilog=ID_EPILOG
    )
    read.add_argument("ids", nargs="+", metavar="ID")
    unread = sub.add_parser(
        "unread", parents=[common], help="mark notifications as unread", description=ID_HELP, epilog=ID_EPILOG
    )
    unread.add_argument("ids", nargs="+", metavar="ID")
    sub.add_parser("read-all", parents=[common], help="mark all notifications as read")
    status_line = sub.add_parser(
        "status",
        parents=[common],
        help="one short line for status bars: '3 unread' (nothing, exit 1, when unreachable)",
        description=status_command().DESCRIPTION,
        epilog=status_command().EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    status_command().add_status_arguments(status_line)
    templates = sub.add_parser(
        "templates",
        parents=[common],
        help="list notification templates: id, name, group, kind, enabled for you",
        description=(
            "Every notification template (system, then custom) with whether you receive it (your preferences, "
            "else the template's default). A template's name works wherever a template id is taken."
        ),
    )
    templates.add_argument("--json", action="store_true", help="print a JSON array")

    login = sub.add_parser("login", parents=[common], help="save a deployment URL and session token")
    login.add_argument("login_url", metavar="URL")
    sub.add_parser("logout", parents=[common], help="forget the saved URL and token")
    sub.add_parser("whoami", parents=[common], help="show who and where you are connected")

    server = sub.add_parser(
        "server",
        help="the shared local server (the default when nothing is configured)",
        description=(
            "With nothing configured, every inbox-tui process shares one local inbox-server per database. "
            "It starts on demand, detached from any terminal, and stops after an idle period with no client "
            "(INBOX_TUI_SERVER_IDLE_TIMEOUT seconds, default 600)."
        ),
    )
    actions = server.add_subparsers(dest="server_action", metavar="ACTION", required=True)
    actions.add_parser("status", help="print address, PID, database, uptime and connected watchers")
    actions.add_parser("start", help="start it now (it would start on demand anyway)")
    actions.add_parser("stop", help="stop it (the next inbox-tui command starts it again)")
    logs = actions.add_parser("logs", help="print the log's path, or follow it")
    logs.add_argument("-f", "--follow", action="store_true", help="print the log and follow it (ctrl+c stops)")
    return parser


# -- running commands -----------------------------------------------------------------------------

Command = Callable[[argparse.Namespace, Connection, CoderClient], Awaitable[int]]


async def _guarded(command: Command, args: argparse.Namespace, connection: Connection) -> int:
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    stopped_by: list[int] = []

    def on_signal(code: int) -> None:
        stopped_by.append(code)
        if task is not None:
            task.cancel()

    for sig, code in STOP_SIGNALS.items():
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, on_signal, code)
    try:
        async with connection.client() as client:
            return await command(args, connection, client)
    except asyncio.CancelledError:
        if stopped_by:
            return stopped_by[0]
        raise
    finally:
        for sig in STOP_SIGNALS:
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.remove_signal_handler(sig)


def _connect(args: argparse.Namespace, *, long_lived: bool = False) -> Connection:
    return connect(args.url, args.token, demo=bool(args.demo), long_lived=long_lived)


def _run_command(command: Command, args: argparse.Namespace, *, long_lived: bool = False) -> int:
    connection = _connect(args, long_lived=long_lived)
    try:
        return asyncio.run(_guarded(command, args, connection))
    finally:
        connection.close()


async def cmd_pause(args: argparse.Namespace, connection: Connection, client: CoderClient) -> int:
    """`pause`: as `coder notifications pause`."""
    try:
        await client.set_paused(True)
    except ApiError as exc:
        raise CommandFailed(PREFIX_PAUSE + str(exc)) from exc
    _err(MSG_PAUSED)
    return EXIT_OK


async def cmd_resume(args: argparse.Namespace, connection: Connection, client: CoderClient) -> int:
    """`resume`: as `coder notifications resume`."""
    try:
        await client.set_paused(False)
    except ApiError as exc:
        raise CommandFailed(PREFIX_RESUME + str(exc)) from exc
    _err(MSG_RESUMED)
    return EXIT_OK


async def cmd_test(args: argparse.Namespace, connection: Connection, client: CoderClient) -> int:
    """`test`: as `coder notifications test`."""
    try:
        await client.send_test()
    except ApiError as exc:
        raise CommandFailed(PREFIX_TEST + str(exc)) from exc
    _err(MSG_TEST_SENT)
    return EXIT_OK


async def cmd_send(args: argparse.Namespace, connection: Connection, client: CoderClient) -> int:
    """`send TITLE MESSAGE` (alias `custom`): as `coder notifications custom`."""
    message = args.message
    if message == "-":
        message = sys.stdin.read()
    try:
        await client.send_custom(args.title, message)
    except ApiError as exc:
        raise CommandFailed(PREFIX_CUSTOM + str(exc)) from exc
    _err(MSG_CUSTOM_SENT)
    from inbox_tui.api.send_warnings import custom_send_warnings  # not loaded for the inbox (start-up)

    for warning in await custom_send_warnings(client):  # issue 11: say when nothing will arrive
        _err("warning: " + warning.message)
    return EXIT_OK


async def _notification_ids(client: CoderClient, values: Sequence[str]) -> list[str]:
    """Whole notification ids for what was typed (ids or unique prefixes, see api/lookup.py)."""
    from inbox_tui.api.lookup import IdLookupError, resolve_notification_ids  # not for the inbox's start

    try:
        return await resolve_notification_ids(client, values)
    except IdLookupError as exc:
        raise CommandFailed(str(exc)) from exc
    except ApiError as exc:
        raise CommandFailed("unable to look up notification ids: " + str(exc)) from exc


async def _template_ids(client: CoderClient, values: list[str] | None) -> list[str]:
    """Whole template ids for `--template` values (ids, names or id prefixes; comma-separated too)."""
    from inbox_tui.api.lookup import IdLookupError, resolve_template_ids

    try:
        return await resolve_template_ids(client, _id_list(values))
    except IdLookupError as exc:
        raise CommandFailed(str(exc)) from exc
    except ApiError as exc:
        raise CommandFailed("unable to look up templates: " + str(exc)) from exc


def _read_status(args: argparse.Namespace) -> str:
    if getattr(args, "unread", False):
        return "unread"
    if getattr(args, "read", False):
        return "read"
    return "all"


async def cmd_list(args: argparse.Namespace, connection: Connection, client: CoderClient) -> int:
    """`list`: one page (or `--all`) of notifications, newest first."""
    notifications: list[InboxNotification] = []
    seen: set[str] = set()
    cursor: str | None = (await _notification_ids(client, [args.before]))[0] if args.before else None
    templates = await _template_ids(client, args.template)
    unread_count = 0
    try:
        while True:
            page = await client.list_inbox(
                targets=_id_list(args.target),
                templates=templates,
                read_status=_read_status(args),
                starting_before=cursor,
            )
            unread_count = page.unread_count
            fresh = [n for n in page.notifications if n.id not in seen]
            seen.update(n.id for n in fresh)
            notifications.extend(fresh)
            if not args.all or len(page.notifications) < 25 or not fresh:
                break
            cursor = page.notifications[-1].id
    except ApiError as exc:
        raise CommandFailed("unable to list notifications: " + str(exc)) from exc
    if args.json:
        _out(json.dumps({"notifications": [n.to_json() for n in notifications], "unread_count": unread_count}))
        return EXIT_OK
    now = datetime.now(UTC)
    for notification in notifications:
        _out(list_line(notification, now))
    if not notifications:
        _err("No notifications.")
    _err(f"{unread_count} unread.")
    return EXIT_OK


async def cmd_watch(args: argparse.Namespace, connection: Connection, client: CoderClient) -> int:
    """`watch`: print each new notification until interrupted, reconnecting (and catching up) on its own."""
    # Only `watch` needs the websocket stack (websockets, ~10 ms to import): the inbox and the other
    # commands must not pay for it at start-up.
    from inbox_tui.api.resync import resync
    from inbox_tui.api.watch import Arrived, ConnectionState, InboxWatcher, Reconnected, StateChanged

    filters: dict[str, Any] = {
        "targets": _id_list(args.target),
        "templates": await _template_ids(client, args.template),
        "read_status": _read_status(args),
    }
    printed: set[str] = set()
    known: set[str] = set()
    first_live = True

    def emit(event: InboxEvent, *, convert: bool) -> None:
        notification = event.notification
        if notification.id in printed:
            return
        printed.add(notification.id)
        known.add(notification.id)
        if convert and args.format == "plaintext":
            notification = notification._replace(
                title=markdown_to_plain(notification.title),
                content=markdown_to_plain(notification.content),
            )
            event = InboxEvent(notification=notification, unread_count=event.unread_count)
        _out(event_json(event) if args.json else watch_line(notification))

    async def catch_up() -> None:
        result = await resync(client, known, **filters)
        for notification in reversed(result.new):
            emit(InboxEvent(notification=notification, unread_count=result.unread_count), convert=True)

    watcher = InboxWatcher(client, format=args.format, **filters)
    async for item in watcher:
        if isinstance(item, Arrived):
            emit(item.event, convert=False)
        elif isinstance(item, Reconnected):
            _err("Reconnected.")
            try:
                await catch_up()
            except ApiError as exc:
                _err(f"unable to catch up after reconnecting: {exc}")
        elif isinstance(item, StateChanged):
            if item.state is ConnectionState.LIVE and first_live:
                first_live = False
                # What is already there is history, not news: remember it so a later catch-up stops there.
                try:
                    page = await client.list_inbox(**filters)
                    known.update(n.id for n in page.notifications)
                except ApiError:
                    pass
                _err(f"Watching for new notifications on {connection.address} (press ctrl+c to stop).")
            elif item.state is ConnectionState.RECONNECTING:
                _err(f"{item.error}; reconnecting in {item.retry_in or 0:.1f}s.")
            elif item.state is ConnectionState.OFFLINE and item.error is not None:
                raise CommandFailed("unable to watch notifications: " + str(item.error))
    return EXIT_OK


async def _mark(ids: Sequence[str], client: CoderClient, *, is_read: bool) -> int:
    word = "read" if is_read else "unread"
    status = EXIT_OK
    for notification_id in ids:
        try:
            event = await client.set_read(notification_id, is_read)
        except ApiError as exc:
            _err(f"unable to mark notification {notification_id} as {word}: {exc}")
            status = EXIT_FAILURE
            continue
        _err(f"Notification {event.notification.id} marked as {word} ({event.unread_count} unread).")
    return status


async def cmd_read(args: argparse.Namespace, connection: Connection, client: CoderClient) -> int:
    """`read ID...` (whole ids or unique prefixes)."""
    return await _mark(await _notification_ids(client, args.ids), client, is_read=True)


async def cmd_unread(args: argparse.Namespace, connection: Connection, client: CoderClient) -> int:
    """`unread ID...` (whole ids or unique prefixes)."""
    return await _mark(await _notification_ids(client, args.ids), client, is_read=False)


async def cmd_read_all(args: argparse.Namespace, connection: Connection, client: CoderClient) -> int:
    """`read-all`."""
    try:
        await client.mark_all_read()
    except ApiError as exc:
        raise CommandFailed("unable to mark all notifications as read: " + str(exc)) from exc
    _err("All notifications marked as read.")
    return EXIT_OK


async def cmd_whoami(args: argparse.Namespace, connection: Connection, client: CoderClient) -> int:
    """`whoami`: the user, the deployment, and where the connection came from."""
    try:
        user = await client.me()
    except ApiError as exc:
        raise CommandFailed("unable to get the current user: " + str(exc)) from exc
    roles = ", ".join(clean_line(r) for r in user.roles if r) or "member"
    _out(f"{clean_line(user.username)} ({roles}) at {connection.address} [{connection.source_label}]")
    return EXIT_OK


def _read_token_interactively(url: str, stdin: TextIO) -> str:
    if stdin.isatty():
        import getpass  # only `login` asks (issue 11: not loaded for the inbox)

        # issue 11: /cli-auth exists only on Coder; buildinfo says which server this is.
        from inbox_tui.api.deployment import deployment_kind, token_hint

        _err(token_hint(url, asyncio.run(deployment_kind(url))))
        return getpass.getpass("Paste your token here: ")
    return stdin.readline()


def cmd_login(args: argparse.Namespace) -> int:
    """`login URL`: check a token with /users/me, then save the URL and the token (0600)."""
    try:
        url = normalize_url(args.login_url)
    except ValueError as exc:
        raise CommandFailed(f"invalid URL: {exc}") from exc
    token = (args.token or "").strip() or _read_token_interactively(url, sys.stdin).strip()
    if not token:
        raise CommandFailed("no token given")

    async def check() -> str:
        async with CoderClient(url, token) as client:
            return (await client.me()).username

    try:
        username = asyncio.run(check())
    except ApiError as exc:
        raise CommandFailed("unable to log in: " + str(exc)) from exc
    try:
        config = load_config()
        config.url = url
        save_token(token)
        path = save_config(config)
    except (ConfigError, OSError) as exc:
        raise CommandFailed(f"unable to save the login: {exc}") from exc
    _err(f"Logged in to {url} as {username}. Saved to {path}.")
    return EXIT_OK


def cmd_logout(args: argparse.Namespace) -> int:
    """`logout`: forget the saved URL and token (the token itself stays valid on the server)."""
    try:
        config = load_config()
    except ConfigError as exc:
        raise CommandFailed(str(exc)) from exc
    had_token = delete_token()
    had_url = config.url is not None
    if had_url:
        config.url = None
        save_config(config)
    if not (had_token or had_url):
        raise CommandFailed(f"You are not logged in. Try logging in using '{PROG} login <url>'.")
    _err(f"You are no longer logged in. You can log in using '{PROG} login <url>'.")
    return EXIT_OK


def cmd_server(args: argparse.Namespace) -> int:
    """`server status|start|stop|logs`: the shared local server."""
    from inbox_tui import local_server
    from inbox_tui.embedded import EmbeddedError

    try:
        paths = local_server.LocalPaths.default()
        action = args.server_action
        if action == "status":
            found = local_server.status(paths)
            if found is None:
                raise CommandFailed(f"No local server is running for {paths.db}.")
            watchers = "unknown" if found.watchers < 0 else str(found.watchers)
            idle = f"after {_duration(found.idle_timeout)} with no client" if found.idle_timeout > 0 else "never"
            for label, value in (
                ("address", found.address),
                ("pid", str(found.pid)),
                ("database", found.db),
                ("uptime", _duration(found.uptime)),
                ("watchers", watchers),
                ("idle stop", idle),
                ("log", found.log),
            ):
                _out(f"{label + ':':<10} {value}")
            return EXIT_OK
        if action == "start":
            server = local_server.ensure_running(paths)
            _err(f"Local server running at {server.address} (PID {server.pid}).")
            return EXIT_OK
        if action == "stop":
            pid = local_server.stop(paths)
            if pid is None:
                raise CommandFailed(f"No local server is running for {paths.db}.")
            _err(f"Local server (PID {pid}) stopped.")
            return EXIT_OK
        if args.follow:
            return _follow(paths.log)
        _out(str(paths.log))
        return EXIT_OK
    except EmbeddedError as exc:
        raise CommandFailed(str(exc)) from exc


def _duration(seconds: float) -> str:
    """`3h 05m`, `5m 03s`, `42s`."""
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes:02d}m"
    if minutes:
        return f"{minutes}m {secs:02d}s"
    return f"{secs}s"


def _follow(path: Any) -> int:
    """Print a log file and follow it (from the start of a rotated file) until interrupted."""
    import time

    position = 0
    inode = None
    pending = ""
    try:
        while True:
            try:
                info = os.stat(path)
            except FileNotFoundError:
                time.sleep(0.2)
                continue
            if info.st_ino != inode or info.st_size < position:
                inode, position = info.st_ino, 0
            if info.st_size > position:
                with open(path, "rb") as log:
                    log.seek(position)
                    chunk = log.read()
                position += len(chunk)
                *lines, pending = (pending + chunk.decode("utf-8", "replace")).split("\n")
                for line in lines:
                    # The log may quote what clients sent: never let it drive the terminal.
                    _out(clean_line(line))
            time.sleep(0.2)
    except KeyboardInterrupt:
        return EXIT_OK


def run_tui(args: argparse.Namespace) -> int:
    """Open the inbox (inbox_tui.commands.inbox; `inbox_tui.entry` goes there directly when it can)."""
    return run_inbox(args.url, args.token, demo=bool(args.demo))


COMMANDS: dict[str, Command] = {
    "send": cmd_send,
    "custom": cmd_send,
    "pause": cmd_pause,
    "resume": cmd_resume,
    "test": cmd_test,
    "list": cmd_list,
    "watch": cmd_watch,
    "read": cmd_read,
    "unread": cmd_unread,
    "read-all": cmd_read_all,
    "whoami": cmd_whoami,
    "templates": lambda args, connection, client: _cmd_templates(args, connection, client),
}


async def _cmd_templates(args: argparse.Namespace, connection: Connection, client: CoderClient) -> int:
    from inbox_tui.commands.templates import cmd_templates  # loaded by the command that needs it

    return await cmd_templates(args, connection, client)


def status_command() -> ModuleType:
    """`inbox_tui.commands.status`, loaded when a parser or command needs it (not for the inbox)."""
    from inbox_tui.commands import status

    return status


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `inbox-tui`; returns the exit status."""
    safe_streams()
    args = inbox_args(argv) or build_parser().parse_args(argv)  # issue 11: inbox_args is the quick path
    secure_dirs()  # issue 12: our directories and files are private, also ones older versions made
    try:
        if args.command is None:
            return run_tui(args)
        if args.command == "login":
            return cmd_login(args)
        if args.command == "logout":
            return cmd_logout(args)
        if args.command == "server":
            return cmd_server(args)
        if args.command == "status":  # inbox_tui.entry runs it without importing this module
            from inbox_tui.commands.status import run_status

            return run_status(args)
        return _run_command(COMMANDS[args.command], args, long_lived=args.command == "watch")
    except CommandFailed as exc:
        _err(str(exc))
        return EXIT_FAILURE
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # `inbox-tui list | head`: the reader left; say nothing more.
        with contextlib.suppress(OSError):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        return EXIT_FAILURE


if __name__ == "__main__":
    sys.exit(main())
