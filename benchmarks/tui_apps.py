"""The apps the TUI benchmarks run on a pty: the floor (a bare Textual OptionList) and our inbox.

    python -m benchmarks.tui_apps bare --rows 25
    python -m benchmarks.tui_apps inbox --fixed 10000          # 10,000 loaded notifications, no server
    python -m benchmarks.tui_apps inbox --url URL --token TOK  # against a server (live watch)

With BENCH_KEYLOG set, each app appends the monotonic time at which it starts handling every key; with
BENCH_STATS set, the inbox writes "rows unique loaded link" there every 20 ms (how much is shown).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from textual import events
from textual.app import App, ComposeResult
from textual.widgets import OptionList


class _KeyLog:
    def __init__(self) -> None:
        path = os.environ.get("BENCH_KEYLOG")
        self.file = open(path, "a", buffering=1) if path else None  # noqa: SIM115 - lives as long as the app

    def key(self, event: events.Key) -> None:
        # Unhandled keys bubble back up to the app: log each key once, when it first arrives.
        if self.file is not None and not getattr(event, "_bench_logged", False):
            event._bench_logged = True  # type: ignore[attr-defined]
            self.file.write(f"{time.monotonic()} {event.key}\n")


class BareApp(App[None]):
    """The floor: Textual's own OptionList with plain string rows."""

    CSS = "OptionList { height: 1fr; }"

    def __init__(self, rows: int) -> None:
        super().__init__()
        self.rows = rows
        self.keylog = _KeyLog()

    def compose(self) -> ComposeResult:
        yield OptionList(*(f"Option {i}: a notification title of typical length" for i in range(self.rows)))

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key):
            self.keylog.key(event)
        await super().on_event(event)


def fixed_notifications(count: int) -> list[Any]:
    """`count` realistic notifications, newest first."""
    from inbox_tui.api.models import ICON_WORKSPACE, InboxAction, InboxNotification

    now = datetime.now(UTC)
    out = []
    for i in range(count):
        created = now - timedelta(minutes=i * 7)
        out.append(
            InboxNotification(
                id=f"00000000-0000-4000-8000-{i:012d}",
                user_id="u",
                template_id="a9d027b4-ac49-4fb1-9f6d-45af15f64e7a",
                targets=(f"10000000-0000-4000-8000-{i % 50:012d}",),
                title=f'Your workspace "ws-{i}" is low on memory',
                content=f"Your workspace **ws-{i}** has reached the memory usage threshold: **9{i % 10}%**.",
                icon=ICON_WORKSPACE,
                actions=(InboxAction("View workspace", f"https://coder.example.com/@ada/ws-{i}"),),
                read_at=None if i % 3 else created + timedelta(minutes=1),
                created_at=created,
            )
        )
    return out


def inbox_app(args: argparse.Namespace) -> App[None]:
    """Our app, with a key log and a stats file."""
    from inbox_tui.api.client import CoderClient
    from inbox_tui.app import InboxApp
    from inbox_tui.screens.inbox import InboxScreen
    from inbox_tui.state import InboxState
    from inbox_tui.widgets.header import Link

    class BenchInbox(InboxApp):
        def __init__(self, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self.keylog = _KeyLog()
            self.stats_path = os.environ.get("BENCH_STATS")

        def on_mount(self) -> None:
            super().on_mount()
            if self.stats_path:
                self.set_interval(0.02, self._stats)

        def _stats(self) -> None:
            screen = self.inbox_screen
            if screen is None or self.stats_path is None:
                return
            ids = screen.inbox.ids
            line = f"{len(ids)} {len(set(ids))} {len(self.state)} {self.link.state} {arrivals[0]} {arrivals[1]}\n"
            tmp = self.stats_path + ".tmp"
            with open(tmp, "w") as out:
                out.write(line)
            os.replace(tmp, self.stats_path)

        async def on_event(self, event: events.Event) -> None:
            if isinstance(event, events.Key):
                self.keylog.key(event)
            await super().on_event(event)

        def _display(self, screen: Any, renderable: Any) -> None:
            super()._display(screen, renderable)
            if os.environ.get("BENCH_FRAMELOG"):
                with open(os.environ["BENCH_FRAMELOG"], "a") as log:
                    log.write(f"{time.monotonic()}\n")

    # First and last arrival from the watch (monotonic), for the burst benchmark's "delivered in".
    arrivals = [0.0, 0.0]
    queue_arrival = InboxScreen.queue_arrival

    def timed_arrival(screen: InboxScreen, event: Any) -> None:
        now = time.monotonic()
        arrivals[0] = arrivals[0] or now
        arrivals[1] = now
        queue_arrival(screen, event)

    InboxScreen.queue_arrival = timed_arrival  # type: ignore[method-assign]

    if args.fixed:
        state = InboxState.from_notifications(fixed_notifications(args.fixed))
        return BenchInbox(initial=state, link=Link("live"))
    return BenchInbox(client=CoderClient(args.url, args.token), owns_client=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("which", choices=["bare", "inbox"])
    parser.add_argument("--rows", type=int, default=25)
    parser.add_argument("--fixed", type=int, default=0)
    parser.add_argument("--url", default="")
    parser.add_argument("--token", default="")
    args = parser.parse_args()
    app: App[None] = BareApp(args.rows) if args.which == "bare" else inbox_app(args)
    app.run()
    sys.exit(0)


if __name__ == "__main__":
    main()
