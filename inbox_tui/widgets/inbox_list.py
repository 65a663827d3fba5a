"""The notification list: an OptionList whose options carry inbox notifications.

Rows have a fixed height (two lines, or one in compact mode), so the line bookkeeping OptionList keeps per
option (and computes by rendering every option) is replaced by arithmetic: 10,000 rows cost nothing until
they scroll into view. Rows are drawn straight from the notification at the current width, cached until
the row, the width, the mode or the clock tick changes. New notifications are prepended without moving the
highlight off the notification it was on.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, datetime
from typing import ClassVar, overload

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style as RichStyle
from textual.binding import BindingType
from textual.geometry import Size
from textual.message import Message
from textual.strip import Strip
from textual.style import Style
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from inbox_tui.api.models import InboxNotification
from inbox_tui.keymap import list_bindings
from inbox_tui.text import relative_time
from inbox_tui.widgets.render import clean_line, icon_glyph, snippet

ROW_HEIGHT = 2
"""Lines per notification: title line, snippet line."""
COMPACT_ROW_HEIGHT = 1
"""Lines per notification in compact mode: the title line only."""

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    """The real time (tests and snapshots pass a fixed clock instead)."""
    return datetime.now(UTC)


def _fit(text: str, cells: int) -> str:
    """Exactly `cells` wide: padded, or cut with an ellipsis."""
    if cell_len(text) <= cells:
        return set_cell_size(text, cells)
    return set_cell_size(text, cells - 1) + "…"


class NotificationOption(Option):
    """An option that carries one notification."""

    def __init__(self, notification: InboxNotification) -> None:
        super().__init__("", id=notification.id)
        self.notification = notification
        self._title: str | None = None

    @property
    def title(self) -> str:
        """The title as one clean line (computed once)."""
        if self._title is None:
            self._title = clean_line(self.notification.title) or "(no title)"
        return self._title

    def set_notification(self, notification: InboxNotification) -> None:
        """Swap in a newer version of the same notification."""
        if notification.title != self.notification.title:
            self._title = None
        self.notification = notification


class _FixedLines(Sequence[tuple[int, int]]):
    """OptionList's line table ((option index, line in option) per line) for fixed-height rows."""

    def __init__(self, count: int, height: int) -> None:
        self._count = count
        self._height = height

    def __len__(self) -> int:
        return self._count * self._height

    @overload
    def __getitem__(self, y: int) -> tuple[int, int]: ...
    @overload
    def __getitem__(self, y: slice) -> Sequence[tuple[int, int]]: ...
    def __getitem__(self, y: int | slice) -> tuple[int, int] | Sequence[tuple[int, int]]:
        if isinstance(y, slice):
            return [self[i] for i in range(*y.indices(len(self)))]
        if y < 0:
            y += len(self)
        if not 0 <= y < len(self):
            raise IndexError(y)
        return divmod(y, self._height)

    def __iter__(self) -> Iterator[tuple[int, int]]:
        for y in range(len(self)):
            yield divmod(y, self._height)


class _FixedMap(dict[int, int]):
    """OptionList's per-option height / first-line maps, computed instead of stored."""

    def __init__(self, count: int, height: int, line_of: bool) -> None:
        super().__init__()
        self._count = count
        self._height = height
        self._line_of = line_of

    def __getitem__(self, index: int) -> int:
        if not 0 <= index < self._count:
            raise KeyError(index)
        return index * self._height if self._line_of else self._height

    def __contains__(self, index: object) -> bool:
        return isinstance(index, int) and 0 <= index < self._count

    def __len__(self) -> int:
        return self._count


class InboxList(OptionList):
    """The inbox: notifications newest first, two lines each (one in compact mode)."""

    BINDINGS: ClassVar[list[BindingType]] = list_bindings()

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "inbox-list--dot",
        "inbox-list--icon",
        "inbox-list--title",
        "inbox-list--title-unread",
        "inbox-list--snippet",
        "inbox-list--time",
        "inbox-list--time-unread",
    }

    DEFAULT_CSS = """
    InboxList, InboxList:focus {
        height: 1fr;
        border: none;
        padding: 0;
        background-tint: transparent;
        & > .option-list--option { padding: 0; }
        & > .inbox-list--dot { color: $accent; text-style: bold; }
        & > .inbox-list--icon { color: $text-muted; }
        & > .inbox-list--title { color: $text-muted; }
        & > .inbox-list--title-unread { color: $text; text-style: bold; }
        & > .inbox-list--snippet { color: $text-muted; }
        & > .inbox-list--time { color: $text-muted; }
        & > .inbox-list--time-unread { color: $text-accent; }
    }
    """

    class NewAbove(Message):
        """How many arrivals sit above the viewport, unseen (0 once the top is in view)."""

        def __init__(self, count: int) -> None:
            super().__init__()
            self.count = count

    def __init__(self, *, clock: Clock = system_clock, compact_rows: bool = False, id: str | None = None) -> None:
        """`compact_rows`: one line per notification (OptionList's own `compact` is a border style)."""
        super().__init__(id=id)
        self._clock = clock
        self._row_height = COMPACT_ROW_HEIGHT if compact_rows else ROW_HEIGHT
        self._now = clock()
        self._rows: dict[tuple[int, Style, int], list[Strip]] = {}
        self._styles_for: dict[Style, dict[str, RichStyle]] = {}
        self.new_above = 0
        self._selected: set[str] = set()

    # ----- OptionList's line bookkeeping, for fixed-height rows -----------------------------------

    @property
    def _lines(self) -> Sequence[tuple[int, int]]:
        return _FixedLines(len(self._options), self._row_height)

    @property
    def _heights(self) -> dict[int, int]:
        return _FixedMap(len(self._options), self._row_height, line_of=False)

    @property
    def _index_to_line(self) -> dict[int, int]:
        return _FixedMap(len(self._options), self._row_height, line_of=True)

    def _update_lines(self) -> None:
        if not self.scrollable_content_region:
            return
        virtual_size = Size(self.scrollable_content_region.width, len(self._options) * self._row_height)
        if virtual_size != self.virtual_size:
            self.virtual_size = virtual_size
            self._scroll_update(virtual_size)

    def _clear_caches(self) -> None:
        self._rows.clear()
        super()._clear_caches()

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return len(self._options) * self._row_height

    def get_content_width(self, container: Size, viewport: Size) -> int:
        return container.width

    # ----- drawing --------------------------------------------------------------------------------

    def _get_option_render(self, option: Option, style: Style) -> list[Strip]:
        width = self.scrollable_content_region.width
        key = (id(option), style, width)
        strips = self._rows.get(key)
        if strips is None:
            assert isinstance(option, NotificationOption)
            strips = self._draw(option, style, width)
            if len(self._rows) > 512:
                self._rows.clear()
            self._rows[key] = strips
        return strips

    def _draw(self, option: NotificationOption, base: Style, width: int) -> list[Strip]:
        # Segments straight from plain strings: Content's span machinery costs ~1 ms a row, this ~0.05.
        notification = option.notification
        unread = not notification.is_read
        part = self._segment_styles(base)
        age = relative_time(notification.created_at, self._now)
        # " ● ▣ title…      age "
        lead = 5
        age_cells = max(4, len(age))
        title_cells = max(1, width - lead - age_cells - 2)
        plain = part["base"]
        line1 = [
            # Rows picked with v/space for a bulk action carry a check mark (text, so it shows without colour).
            Segment("✓", part["dot"]) if notification.id in self._selected else Segment(" ", plain),
            Segment("●" if unread else " ", part["dot"]),
            Segment(" ", plain),
            Segment(icon_glyph(notification.icon), part["icon"]),
            Segment(" ", plain),
            Segment(_fit(option.title, title_cells), part["title-unread" if unread else "title"]),
            Segment(" ", plain),
            Segment(age.rjust(age_cells), part["time-unread" if unread else "time"]),
            Segment(" ", plain),
        ]
        lines = [line1]
        if self._row_height > 1:
            body_cells = max(1, width - lead - 1)
            lines.append(
                [
                    Segment(" " * lead, plain),
                    Segment(_fit(snippet(notification.content), body_cells), part["snippet"]),
                    Segment(" ", plain),
                ]
            )
        meta = {"option": self._option_to_index[option]}
        return [Strip(line, width).crop_extend(0, width, plain).apply_meta(meta) for line in lines]

    def _segment_styles(self, base: Style) -> dict[str, RichStyle]:
        styles = self._styles_for.get(base)
        if styles is None:
            styles = {"base": base.rich_style}
            for name in ("dot", "icon", "title", "title-unread", "snippet", "time", "time-unread"):
                styles[name] = (base + self.get_visual_style(f"inbox-list--{name}", partial=True)).rich_style
            self._styles_for[base] = styles
        return styles

    def notify_style_update(self) -> None:
        self._styles_for.clear()
        self._rows.clear()
        super().notify_style_update()

    def tick(self) -> None:
        """Move relative times on (called every half minute)."""
        self._now = self._clock()
        self._rows.clear()
        self.refresh()

    # ----- selection (several rows for one action) --------------------------------------------------

    @property
    def selected(self) -> frozenset[str]:
        """Ids of the rows picked for a bulk action, listed or not (a filter may hide some)."""
        return frozenset(self._selected)

    def toggle_selected(self, nid: str) -> bool:
        """Pick or unpick a row; returns whether it is picked now."""
        if nid in self._selected:
            self._selected.discard(nid)
        else:
            self._selected.add(nid)
        self._rows.clear()
        self.refresh()
        return nid in self._selected

    def clear_selection(self) -> None:
        """Unpick every row."""
        if self._selected:
            self._selected.clear()
            self._rows.clear()
            self.refresh()

    # ----- compact mode ---------------------------------------------------------------------------

    @property
    def compact_rows(self) -> bool:
        """True when each notification takes one line (title only) instead of two."""
        return self._row_height == COMPACT_ROW_HEIGHT

    @property
    def row_height(self) -> int:
        """Lines per notification in the current mode."""
        return self._row_height

    def set_compact_rows(self, compact: bool) -> None:
        """Switch between one and two lines per notification.

        The same notification stays highlighted and, where the list allows, on the same screen line.
        """
        height = COMPACT_ROW_HEIGHT if compact else ROW_HEIGHT
        if height == self._row_height:
            return
        old = self._row_height
        highlighted = self.highlighted
        line_on_screen = None if highlighted is None else highlighted * old - round(self.scroll_y)
        self._row_height = height
        self._rows.clear()
        self._update_lines()
        if highlighted is not None and line_on_screen is not None and self.scrollable_content_region:
            # Whole rows at the top of the view: a half row there looks like a drawing error.
            target = max(0, highlighted * height - line_on_screen)
            self.scroll_to(y=target - target % height, animate=False, immediate=True)
            self._keep_highlight_visible()
            # Keeping the highlight in an odd-height view can land on half a row: round to a whole one.
            over = round(self.scroll_y) % height
            if over:
                self.scroll_to(y=round(self.scroll_y) - over + height, animate=False, immediate=True)
        self.refresh()

    # ----- content --------------------------------------------------------------------------------

    @property
    def notification(self) -> InboxNotification | None:
        """The highlighted notification."""
        option = self.highlighted_option
        return option.notification if isinstance(option, NotificationOption) else None

    @property
    def ids(self) -> list[str]:
        """Ids in display order."""
        return [option.id for option in self._options if option.id is not None]

    def index_of(self, nid: str) -> int | None:
        """Display index of a notification, or None."""
        option = self._id_to_option.get(nid)
        return None if option is None else self._option_to_index[option]

    def show(self, notifications: Sequence[InboxNotification]) -> None:
        """Show these notifications, keeping the highlight on the same one when it is still listed.

        When the only change is new notifications on top, they are prepended (cheap, and the viewport stays
        on what the user was reading when scrolled away from the top).
        """
        old = self._options
        count = len(notifications) - len(old)
        if (
            old
            and count > 0
            and all(
                option.notification.id == item.id  # type: ignore[attr-defined]
                for option, item in zip(old, notifications[count:], strict=True)
            )
        ):
            self._prepend(notifications[:count])
            self.update_items(notifications[count:])
            return
        if count == 0 and all(option.id == item.id for option, item in zip(old, notifications, strict=True)):
            self.update_items(notifications)
            return
        self._replace(notifications)

    def _replace(self, notifications: Sequence[InboxNotification]) -> None:
        keep = self.notification
        keep_index = self.highlighted
        scroll = self.scroll_y
        options: list[Option] = [NotificationOption(n) for n in notifications]
        self._rows.clear()
        self._options = options
        self._id_to_option = {n.id: option for n, option in zip(notifications, options, strict=True)}
        self._option_to_index = {option: index for index, option in enumerate(options)}
        self._mouse_hovering_over = None
        self._update_lines()
        self.refresh()
        if not options:
            self.set_reactive(OptionList.highlighted, None)
            self.new_above = 0
            self.post_message(self.NewAbove(0))
            return
        target = 0
        if keep is not None:
            found = self.index_of(keep.id)
            if found is not None:
                target = found
            elif keep_index is not None:
                target = min(keep_index, len(options) - 1)
        self.scroll_y = scroll
        self.highlighted = target
        if keep is not None and self.notification is not None and self.notification.id == keep.id:
            return
        self.scroll_to_highlight()

    def _prepend(self, notifications: Sequence[InboxNotification]) -> None:
        count = len(notifications)
        new = [NotificationOption(n) for n in notifications]
        self._options[0:0] = new
        for option in new:
            self._id_to_option[option.notification.id] = option
        self._option_to_index = {option: index for index, option in enumerate(self._options)}
        self._rows.clear()
        self._mouse_hovering_over = None
        self._update_lines()
        highlighted = self.highlighted
        at_top = self.scroll_y == 0
        if not at_top:
            # Keep the rows the user is reading where they are.
            self.scroll_y = self.scroll_y + count * self._row_height
        if highlighted is not None:
            # The same notification stays highlighted; no OptionHighlighted, since nothing changed for it.
            self.set_reactive(OptionList.highlighted, highlighted + count)
            if at_top:
                self._keep_highlight_visible()
        self.refresh()
        if self.scroll_y > 0:
            self.new_above += count
            self.post_message(self.NewAbove(self.new_above))

    def _keep_highlight_visible(self) -> None:
        highlighted = self.highlighted
        if highlighted is None:
            return
        top = highlighted * self._row_height
        bottom = top + self._row_height
        height = self.scrollable_content_region.height
        if bottom > self.scroll_y + height:
            self.scroll_y = bottom - height
        if top < self.scroll_y:
            self.scroll_y = top

    def update_items(self, notifications: Iterable[InboxNotification]) -> None:
        """Repaint rows whose notification changed (read state, resync)."""
        changed = False
        for item in notifications:
            option = self._id_to_option.get(item.id)
            if isinstance(option, NotificationOption) and option.notification is not item:
                if option.notification != item:
                    changed = True
                option.set_notification(item)
        if changed:
            self._rows.clear()
            self.refresh()

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        if new_value == 0 and self.new_above:
            self.new_above = 0
            self.post_message(self.NewAbove(0))

    # ----- movement -------------------------------------------------------------------------------

    @property
    def half_page(self) -> int:
        """Rows in half a screen (at least one): what ctrl+d and ctrl+u move."""
        return max(1, self.scrollable_content_region.height // (2 * self._row_height))

    def action_half_page_down(self) -> None:
        """Move down half a screen."""
        self.move_by(self.half_page)

    def action_half_page_up(self) -> None:
        """Move up half a screen."""
        self.move_by(-self.half_page)

    def action_cursor_down(self) -> None:
        """One row older; stops at the oldest loaded row (OptionList would wrap to the newest)."""
        self.move_by(1)

    def action_cursor_up(self) -> None:
        """One row newer; stops at the newest."""
        self.move_by(-1)

    def move_by(self, rows: int) -> None:
        """Move the highlight by `rows` (negative: up), stopping at either end."""
        if not self._options:
            return
        current = self.highlighted if self.highlighted is not None else 0
        self.highlighted = max(0, min(len(self._options) - 1, current + rows))

    def action_top(self) -> None:
        """Jump to the newest notification."""
        self.action_first()
        self.scroll_to(y=0, animate=False, immediate=True)
