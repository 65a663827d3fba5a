"""What the inbox screen tells the app: messages it posts (they bubble to the app, which handles them).

The screen never calls into the app: it is given what it needs at construction (`InboxContext`) and says
what happened here. The app's handlers (`on_<name>` in app.py) do what outlives the screen: remember
settings, pace the garbage collector, fetch template names, alert, toast failures. Tests can record these
with `run_test(message_hook=...)` instead of polling for their effects.
"""

from __future__ import annotations

from collections.abc import Sequence

from textual.message import Message

from inbox_tui.api.models import InboxNotification
from inbox_tui.state import Filters
from inbox_tui.widgets.header import Link


class FirstPageShown(Message):
    """The inbox painted a first page (at start-up, and again after each reload with other filters; a
    fixed inbox once): what can wait may start now."""


class FirstPageFailed(Message):
    """A first page could not be loaded (the list says why); start-up is over all the same."""

    def __init__(self, error: BaseException) -> None:
        super().__init__()
        self.error = error


class InboxGrew(Message):
    """Rows were added (a burst, older pages, a catch-up)."""

    def __init__(self, added: int) -> None:
        super().__init__()
        self.added = added


class NewUnread(Message):
    """New unread notifications arrived (one message per batch): alert if the terminal is unfocused."""

    def __init__(self, notifications: Sequence[InboxNotification]) -> None:
        super().__init__()
        self.notifications = tuple(notifications)


class FiltersChanged(Message):
    """The inbox switched to other filters (unread-only among them)."""

    def __init__(self, filters: Filters) -> None:
        super().__init__()
        self.filters = filters


class ViewChanged(Message):
    """Compact rows or the preview's place changed (the screen has already switched)."""

    def __init__(self, *, compact: bool, preview_position: str) -> None:
        super().__init__()
        self.compact = compact
        self.preview_position = preview_position


class LinkChanged(Message):
    """The watch's connection state changed (the header already shows it)."""

    def __init__(self, link: Link) -> None:
        super().__init__()
        self.link = link


class WorkerFailed(Message):
    """A worker of the screen failed (its rollback, if any, has run): say what went wrong.

    group: the worker group ("load", "more", "read", "mark-all", "resync", "stale-check", "watch").
    """

    def __init__(self, group: str, error: BaseException) -> None:
        super().__init__()
        self.group = group
        self.error = error


class DeliveryPausedChanged(Message):
    """The admin screen paused or resumed the deployment's delivery (the header shows it at once)."""

    def __init__(self, paused: bool) -> None:
        super().__init__()
        self.paused = paused
