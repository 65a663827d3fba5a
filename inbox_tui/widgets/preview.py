"""The preview: title, when and what, the content as Markdown, and the actions numbered 1-9."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.content import Content
from textual.widgets import Markdown, Static

from inbox_tui.api.models import InboxNotification
from inbox_tui.links import notification_links
from inbox_tui.text import relative_time_long
from inbox_tui.widgets.render import clean_block, clean_line


def action_lines(notification: InboxNotification) -> Content:
    """ "1 View workspace  https://..." per action, then per link in the message; the first nine have keys."""
    links = notification_links(notification)
    if not links:
        return Content("No actions.").stylize(".notification-view--muted")
    lines: list[Content] = []
    for number, link in enumerate(links, 1):
        key = str(number) if number <= 9 else " "
        lines.append(
            Content.assemble(
                (f" {key} ", ".notification-view--key"),
                " ",
                (clean_line(link.label) or "(no label)", ".notification-view--label"),
                (" · link in the message" if link.source == "body" else "", ".notification-view--muted"),
                "\n    ",
                (clean_line(link.url), ".notification-view--muted"),
            )
        )
    return Content("\n").join(lines)


def meta_line(notification: InboxNotification, now: datetime, template_name: str = "") -> Content:
    """When it came, whether it was read, and from which template."""
    created = notification.created_at.astimezone()
    parts = [f"{created:%Y-%m-%d %H:%M} ({relative_time_long(notification.created_at, now)})"]
    parts.append("unread" if not notification.is_read else "read")
    if template_name:
        parts.append(clean_line(template_name))
    return Content(" · ".join(parts)).stylize(".notification-view--muted")


class NotificationView(VerticalScroll):
    """One notification, in full."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "notification-view--muted",
        "notification-view--key",
        "notification-view--label",
    }

    DEFAULT_CSS = """
    NotificationView {
        padding: 0 1;
        & > #preview-title { text-style: bold; }
        & > #preview-meta { margin: 0 0 1 0; }
        & > Markdown { margin: 0; padding: 0; background: transparent; }
        & > #preview-actions-title { margin: 1 0 0 0; color: $text-muted; }
        & > #preview-actions { margin: 0 0 1 0; }
        & > .notification-view--muted { color: $text-muted; }
        & > .notification-view--key { color: $text-accent; text-style: bold; }
        & > .notification-view--label { text-style: bold; }
    }
    """

    def compose(self) -> ComposeResult:
        yield Static(id="preview-title", markup=False)
        yield Static(id="preview-meta", markup=False)
        yield Markdown(id="preview-body")
        yield Static("Actions", id="preview-actions-title", markup=False)
        yield Static(id="preview-actions", markup=False)

    _pending: tuple[InboxNotification | None, datetime, str] | None = None
    _shown: tuple[InboxNotification | None, str] = (None, "")
    _ready = False

    def on_mount(self) -> None:
        self._ready = True
        if self._pending is not None:
            self.show(*self._pending)

    def show(self, notification: InboxNotification | None, now: datetime, template_name: str = "") -> None:
        """Show a notification (None: nothing is highlighted); before mounting, remembered until then."""
        if not self._ready:
            self._pending = (notification, now, template_name)
            return
        self._pending = None
        self._shown = (notification, template_name)
        title = self.query_one("#preview-title", Static)
        meta = self.query_one("#preview-meta", Static)
        body = self.query_one("#preview-body", Markdown)
        actions = self.query_one("#preview-actions", Static)
        if notification is None:
            title.update(Content("Nothing selected"))
            meta.update(Content(""))
            body.update("")
            actions.update(Content(""))
            return
        title.update(Content(clean_line(notification.title) or "(no title)"))
        meta.update(meta_line(notification, now, template_name))
        # Markdown text is parsed as markdown, never as Textual markup; controls are removed first.
        body.update(clean_block(notification.content))
        actions.update(action_lines(notification))
        self.scroll_home(animate=False)

    def tick(self, now: datetime) -> None:
        """Move the relative time of the meta line on ("2 minutes ago"), with the list's times; the body
        and the scroll position stay."""
        notification, template_name = self._shown
        if self._ready and notification is not None:
            self.query_one("#preview-meta", Static).update(meta_line(notification, now, template_name))
