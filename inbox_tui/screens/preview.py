"""The preview as a screen of its own, for panes too narrow to show it beside the list.

The inbox's keys for the highlighted notification work here too (r, n/N, o, 1-9, y): the screen that
opened the preview is its `host` and does them, on the row the preview shows; the preview then shows
whatever the host highlights (the next unread after `n`). The host is a protocol, so this module does not
import the inbox screen.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import ClassVar, Protocol

from textual.app import ComposeResult
from textual.binding import BindingType
from textual.screen import Screen

from inbox_tui.api.models import InboxNotification
from inbox_tui.keymap import KeySpec
from inbox_tui.widgets.footer import KeyFooter
from inbox_tui.widgets.preview import NotificationView
from inbox_tui.widgets.scrolling import scroll


class PreviewHost(Protocol):
    """What the full-screen preview asks of the screen that opened it (the inbox)."""

    def action_toggle_read(self) -> None:
        """Flip read/unread of the highlighted notification."""

    def action_next_unread(self) -> None:
        """Highlight the next unread notification."""

    def action_previous_unread(self) -> None:
        """Highlight the previous unread notification."""

    def action_open_action(self, number: int) -> None:
        """Open action N of the highlighted notification."""

    def action_copy_url(self) -> None:
        """Copy the highlighted notification's URL."""

    def preview_subject(self, notification_id: str | None = None) -> tuple[InboxNotification, str, datetime] | None:
        """A notification (the highlighted one, or the one with this id), its template's name and the time now."""


_GROUP = "Full-screen preview"
KEYS: tuple[KeySpec, ...] = (
    KeySpec("preview_back", "escape,enter,q", "back", "Back", "screen", _GROUP, show=True, key_display="esc"),
    KeySpec("preview_toggle_read", "r", "host('toggle_read')", "Read/unread", "screen", _GROUP, show=True),
    KeySpec("preview_next_unread", "n", "host('next_unread')", "Next unread", "screen", _GROUP, show=True),
    KeySpec("preview_previous_unread", "N", "host('previous_unread')", "Previous unread", "screen", _GROUP),
    KeySpec("preview_open", "o", "open_action(1)", "Open", "screen", _GROUP, show=True),
    *(
        KeySpec(f"preview_action_{n}", str(n), f"open_action({n})", f"Open action {n}", "screen", _GROUP)
        for n in range(1, 10)
    ),
    KeySpec("preview_copy_url", "y", "host('copy_url')", "Copy URL", "screen", _GROUP),
    KeySpec("preview_down", "j", "scroll('down')", "Scroll down", "screen", _GROUP),
    KeySpec("preview_up", "k", "scroll('up')", "Scroll up", "screen", _GROUP),
    KeySpec("preview_top", "g", "scroll('home')", "Top", "screen", _GROUP),
    KeySpec("preview_bottom", "G", "scroll('end')", "Bottom", "screen", _GROUP),
    KeySpec("preview_page_down", "ctrl+d", "scroll('page_down')", "Page down", "screen", _GROUP),
    KeySpec("preview_page_up", "ctrl+u", "scroll('page_up')", "Page up", "screen", _GROUP),
)
_HOST_ACTIONS = frozenset({"toggle_read", "next_unread", "previous_unread", "copy_url"})


class PreviewScreen(Screen[None]):
    """One notification full-screen; Esc / Enter / q go back."""

    BINDINGS: ClassVar[list[BindingType]] = [spec.binding() for spec in KEYS]

    def __init__(
        self,
        notification: InboxNotification,
        now: datetime,
        template_name: str = "",
        open_action: Callable[[int], None] | None = None,
        host: PreviewHost | None = None,
    ) -> None:
        """`host` does the inbox's keys (without one, only Back, scrolling and `open_action` work)."""
        super().__init__()
        self.notification = notification
        self._open_action = open_action
        self.host = host
        self.now = now
        self.template_name = template_name

    def compose(self) -> ComposeResult:
        yield NotificationView(id="preview-full")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.view.show(self.notification, self.now, self.template_name)
        self.view.focus()
        if self.host is not None:
            self.set_interval(30.0, self._tick)  # as the list's relative times move on

    def _tick(self) -> None:
        subject = self.host.preview_subject(self.notification.id) if self.host is not None else None
        if subject is not None:
            self.now = subject[2]
            self.view.tick(self.now)

    @property
    def view(self) -> NotificationView:
        """The notification on show."""
        return self.query_one(NotificationView)

    def action_back(self) -> None:
        """Back to the list."""
        self.dismiss(None)

    def action_open_action(self, number: int) -> None:
        """Open action N of this notification (through the inbox screen, which also marks it read)."""
        if self.host is not None:
            self.host.action_open_action(number)
            self._follow_host(same=True)
        elif self._open_action is not None:
            self._open_action(number)

    def action_host(self, name: str) -> None:
        """One of the inbox's keys for the highlighted notification, done by the host, then shown here."""
        if self.host is None or name not in _HOST_ACTIONS:
            return
        getattr(self.host, f"action_{name}")()
        # n/N move to another notification; r and y act on this one, which stays on show even when the
        # list hides it (unread only) and highlights another row.
        self._follow_host(same=name not in ("next_unread", "previous_unread"))

    def action_scroll(self, where: str) -> None:
        """Scroll the notification: down, up, home, end, page_down or page_up."""
        scroll(self.view, where)

    def _follow_host(self, *, same: bool) -> None:
        """Show this notification as the host has it now (`same`), or what the host highlights now."""
        assert self.host is not None
        subject = self.host.preview_subject(self.notification.id if same else None)
        if subject is None:
            return
        notification, template_name, now = subject
        moved = notification.id != self.notification.id
        self.notification, self.template_name, self.now = notification, template_name, now
        offset = self.view.scroll_y
        self.view.show(notification, now, template_name)
        if not moved:
            self.view.scroll_to(y=offset, animate=False)  # a read change keeps the reading position
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """The inbox's keys need a host; Open is offered only when there is something to open."""
        if action == "host":
            return self.host is not None
        if action == "open_action" and parameters == (1,):
            return bool(self.notification.actions) and (self.host is not None or self._open_action is not None)
        return True
