"""The one-line header: the exact unread count, filters, the connection state, and paused delivery."""

from __future__ import annotations

import time
from typing import ClassVar, NamedTuple

from textual.content import Content
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget

from inbox_tui.widgets.render import clean_line


class Link(NamedTuple):
    """The connection as the header shows it.

    state: "connecting", "live", "reconnecting", "offline" (or "demo" for a fixed inbox with no server).
    retry_at: time.monotonic() of the next attempt while reconnecting.
    """

    state: str = "connecting"
    retry_at: float | None = None
    detail: str = ""

    def describe(self, now: float | None = None) -> str:
        """Words for the header: "live", "reconnecting in 4 s", "offline"."""
        if self.state == "reconnecting" and self.retry_at is not None:
            left = max(0, round(self.retry_at - (time.monotonic() if now is None else now)))
            return f"reconnecting in {left} s" if left else "reconnecting…"
        if self.state == "connecting":
            return "connecting…"
        return self.state


class InboxHeader(Widget):
    """Inbox title, unread badge, active filters/search, connection state."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "inbox-header--title",
        "inbox-header--badge",
        "inbox-header--muted",
        "inbox-header--live",
        "inbox-header--warning",
        "inbox-header--error",
    }

    DEFAULT_CSS = """
    InboxHeader {
        dock: top;
        height: 1;
        background: $panel;
        color: $foreground;
        & > .inbox-header--title { text-style: bold; }
        & > .inbox-header--badge { background: $accent; color: $text; text-style: bold; }
        & > .inbox-header--muted { color: $text-muted; }
        & > .inbox-header--live { color: $text-success; }
        & > .inbox-header--warning { color: $text-warning; }
        & > .inbox-header--error { color: $text-error; }
    }
    """

    unread: reactive[int] = reactive(0)
    scope: reactive[str] = reactive("")
    source: reactive[str] = reactive("")
    link: reactive[Link] = reactive(Link)
    # The deployment's delivery is paused (GET /notifications/settings): nothing new arrives until resume.
    paused: reactive[bool] = reactive(False)

    class UnreadChanged(Message):
        """The unread count shown changed (the app keeps the terminal title in step)."""

        def __init__(self, unread: int) -> None:
            super().__init__()
            self.unread = unread

    def watch_unread(self, unread: int) -> None:
        self.post_message(self.UnreadChanged(max(0, unread)))

    def on_mount(self) -> None:
        # The countdown of "reconnecting in N s" moves once a second; cheap when not reconnecting.
        self.set_interval(1.0, self._tick)

    def _tick(self) -> None:
        if self.link.state == "reconnecting":
            self.refresh()

    def render(self) -> Content:
        width = self.size.width
        style = self.get_visual_style
        left = Content.assemble(
            (" Inbox ", style("inbox-header--title", partial=True)),
            # The exact count, as the CLI prints it (Coder's web badge caps at "99+"; a pane has the room).
            (f" {max(0, self.unread)} ", style("inbox-header--badge")),
            (" unread", style("inbox-header--muted", partial=True)),
        )
        state = self.link.state
        part = {
            "live": "inbox-header--live",
            "demo": "inbox-header--live",
            "reconnecting": "inbox-header--warning",
            "connecting": "inbox-header--warning",
        }.get(state, "inbox-header--error")
        dot = "●" if state in ("live", "demo") else "○"
        right = Content.assemble((f"{dot} {self.link.describe()}", style(part, partial=True)), " ")
        if self.paused and state in ("live", "connecting", "reconnecting"):
            # Said beside the link where there is room ("live" still tells that the server answers).
            warning = style("inbox-header--warning", partial=True)
            if width >= 50:
                right = Content.assemble(right.right_crop(1), (" · paused ", warning))
            else:
                right = Content.assemble((f"{dot} paused", warning), " ")
        if self.source and width >= 70:
            right = Content.assemble((f"{clean_line(self.source)} ", style("inbox-header--muted", partial=True)), right)
        middle = Content(f"  {self.scope}" if self.scope else "").stylize(style("inbox-header--muted", partial=True))
        detail = clean_line(self.link.detail.splitlines()[0]) if self.link.detail and state != "live" else ""
        if detail:
            # Why it is not live, as far as room allows (after the filters, which say what is listed).
            spare = width - left.cell_length - middle.cell_length - right.cell_length - 3
            if spare >= 12:
                # "connection refused (is the server running?) · ○ offline": no brackets around brackets.
                why = Content(f"{detail} · ").truncate(spare, ellipsis=True)
                right = Content.assemble(why.stylize(style("inbox-header--muted", partial=True)), right)
        room = width - left.cell_length - right.cell_length
        if room < middle.cell_length:
            middle = middle.truncate(max(0, room), ellipsis=room > 1)
        gap = max(0, width - left.cell_length - middle.cell_length - right.cell_length)
        return Content.assemble(left, middle, " " * gap, right)
