"""The preview as a screen of its own, for panes too narrow to show it beside the list."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import Footer

from inbox_tui.api.models import InboxNotification
from inbox_tui.widgets.preview import NotificationView


class PreviewScreen(Screen[None]):
    """One notification full-screen; Esc / Enter / q go back. Number keys still open actions."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,enter,q", "back", "Back", id="preview_back"),
        *(
            Binding(str(n), f"open_action({n})", f"Action {n}", show=n == 1, id=f"preview_action_{n}")
            for n in range(1, 10)
        ),
    ]

    def __init__(
        self,
        notification: InboxNotification,
        now: datetime,
        template_name: str = "",
        open_action: Callable[[int], None] | None = None,
    ) -> None:
        super().__init__()
        self.notification = notification
        self._open_action = open_action
        self.now = now
        self.template_name = template_name

    def compose(self) -> ComposeResult:
        yield NotificationView(id="preview-full")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(NotificationView).show(self.notification, self.now, self.template_name)
        self.query_one(NotificationView).focus()

    def action_back(self) -> None:
        """Back to the list."""
        self.dismiss(None)

    def action_open_action(self, number: int) -> None:
        """Open action N of this notification (through the inbox screen, which also marks it read)."""
        if self._open_action is not None:
            self._open_action(number)
