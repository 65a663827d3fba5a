"""The main screen: header, the notification list, the preview, search and the footer.

This screen drives the inbox feed (inbox_tui/feed.py, which does the talking to the server) through thin
workers: it loads pages, watches for arrivals (coalescing bursts into one repaint), resyncs after
reconnects, checks for read changes made elsewhere (on a timer, on focus, on a frame whose unread count
it cannot account for, after reconnects), and sends read changes optimistically. All of its workers run
in named groups with `exit_on_error=False`; a failure runs the rollback registered for its worker,
then goes to the app as a message. The screen never calls into the app: it is given an `InboxContext`
and posts the messages of inbox_tui/messages.py.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple

from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.command import Provider
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.message import Message
from textual.reactive import reactive
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, OptionList, Static
from textual.worker import Worker, WorkerState

from inbox_tui import messages
from inbox_tui.api.client import CoderClient
from inbox_tui.api.errors import describe_error
from inbox_tui.api.models import InboxEvent, InboxNotification
from inbox_tui.count_prefix import COUNTED_IDS, OPEN_DELAY, CountPrefix
from inbox_tui.feed import InboxFeed
from inbox_tui.keymap import bindings, display_keys, effective_keys
from inbox_tui.links import NotificationLink, notification_links
from inbox_tui.screens.start_styles import mount_focused, skip_first_restyle
from inbox_tui.state import Filters, InboxState, MarkAllChange, ReadChange, ReadStatus
from inbox_tui.templates import TemplateCatalog
from inbox_tui.widgets.header import InboxHeader, Link
from inbox_tui.widgets.inbox_list import InboxList
from inbox_tui.widgets.list_status import ListStatus, position_text

if TYPE_CHECKING:
    from datetime import datetime

    from textual.widgets import Input

    from inbox_tui.api.resync import ReadMarks
    from inbox_tui.api.watch import StateChanged
    from inbox_tui.widgets.preview import NotificationView

# The watch (websockets), the preview (Textual's Markdown) and the modal screens are imported when first
# used, not before the first paint: start-up time is a goal of its own.

# Arrivals are gathered for this long and shown in one repaint, so a burst never floods the event loop.
ARRIVAL_BATCH_SECONDS = 0.05
# Start fetching the next older page this many rows before the end of the list.
PREFETCH_ROWS = 5
# Panes narrower than this show the preview as its own screen instead of beside the list.
NARROW_WIDTH = 80
# Panes shorter than this show the preview as its own screen instead of below the list.
SHORT_HEIGHT = 20


class InboxContext(NamedTuple):
    """What the inbox screen is given by the app: it never reaches into the app for more.

    feed: the inbox and its server (client, state, clock). templates: template names, fetched once.
    keymap: the `[keys]` remaps in force (the app may add to it later). link: the connection state to show
    before the watch reports. source: where the connection came from, for the header. watch: follow the
    live stream. check_interval: seconds between read-marks checks (0: none). compact, preview_position:
    the view settings to start with (changes are posted as `ViewChanged`). mark_read_on_preview: opening
    the preview with `enter` marks the notification read, as `r` would (the config file's switch).
    """

    feed: InboxFeed
    templates: TemplateCatalog
    keymap: Mapping[str, str]
    link: Link
    source: str = ""
    watch: bool = False
    check_interval: float = 0.0
    compact: bool = False
    preview_position: str = "right"
    mark_read_on_preview: bool = False  # issue 11: `enter` (opening the preview) also marks it read


def _inbox_commands() -> type[Provider]:
    from inbox_tui.screens.palette import InboxCommands

    return InboxCommands


# Seconds the highlight must rest before the position under the list follows it (see _show_position).
POSITION_DELAY = 0.15


class InboxScreen(Screen[None]):
    """The inbox."""

    BINDINGS: ClassVar[list[BindingType]] = bindings("screen")
    COMMANDS: ClassVar[set[type[Provider] | Callable[[], type[Provider]]]] = {_inbox_commands}
    AUTO_FOCUS = "#inbox"
    COMPONENT_CLASSES: ClassVar[set[str]] = {"inbox-screen--muted", "inbox-screen--strong", "inbox-screen--error"}
    DEFAULT_CSS = """
    InboxScreen {
        & > .inbox-screen--muted { color: $text-muted; }
        & > .inbox-screen--strong { text-style: bold; }
        & > .inbox-screen--error { color: $text-error; text-style: bold; }
    }
    """

    preview_open: reactive[bool] = reactive(False)

    class ReadMarksChecked(Message):
        """A check for read changes made elsewhere finished (the app and tests can follow it).

        trigger: "timer", "focus", "frame" or "reconnect". marks: what the server said. changed: ids of
        rows whose read mark (or presence) changed.
        """

        def __init__(self, trigger: str, marks: ReadMarks, changed: tuple[str, ...]) -> None:
            super().__init__()
            self.trigger = trigger
            self.marks = marks
            self.changed = changed

    def __init__(self, context: InboxContext) -> None:
        super().__init__()
        self.context = context
        self.compact = context.compact
        self.preview_position = context.preview_position
        # Rollbacks for workers that fail (a refused read change), run before the failure is reported.
        self._failure_hooks: dict[Worker[Any], Callable[[BaseException], None]] = {}
        self._flush_timer: Timer | None = None
        self._preview_timer: Timer | None = None
        self._preview: NotificationView | None = None
        self._search: Input | None = None
        self.went_live = False  # the watch has been live once: the next "live" is a reconnect
        self._count = CountPrefix()
        self._count_timer: Timer | None = None
        self._position_timer: Timer | None = None

    # ----- plumbing -------------------------------------------------------------------------------

    @property
    def feed(self) -> InboxFeed:
        """The inbox kept in step with the server (loads, watch, resync, read changes)."""
        return self.context.feed

    @property
    def state(self) -> InboxState:
        """The inbox state (owned by the app, so other screens can read it)."""
        return self.context.feed.state

    @property
    def client(self) -> CoderClient | None:
        """The API client; None for a fixed inbox with no server (demo fixtures, snapshots)."""
        return self.context.feed.client

    @property
    def keymap(self) -> Mapping[str, str]:
        """The `[keys]` remaps in force (the palette shows them)."""
        return self.context.keymap

    @property
    def watch_enabled(self) -> bool:
        """Whether the live stream is followed."""
        return self.context.watch and self.client is not None

    @property
    def inbox(self) -> InboxList:
        """The list widget."""
        return self.query_one("#inbox", InboxList)

    @property
    def list_status(self) -> ListStatus:
        """The line under the list (activity, count typed, rows selected, position)."""
        return self.query_one("#list-status", ListStatus)

    def on_failure(self, worker: Worker[Any], hook: Callable[[BaseException], None]) -> None:
        """Run `hook(error)` if this worker fails (a rollback), before the failure is reported."""
        if worker.state in (WorkerState.SUCCESS, WorkerState.CANCELLED):
            return
        self._failure_hooks[worker] = hook

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """A worker failed: roll back what it began, then tell the app (it says what went wrong)."""
        worker = event.worker
        if event.state is WorkerState.ERROR:
            error = worker.error
            assert error is not None
            hook = self._failure_hooks.pop(worker, None)
            if hook is not None:
                hook(error)
            self.post_message(messages.WorkerFailed(worker.group, error))
        elif event.state in (WorkerState.SUCCESS, WorkerState.CANCELLED):
            self._failure_hooks.pop(worker, None)

    # ----- layout ---------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield InboxHeader(id="header")
        with Horizontal(id="body"), Vertical(id="list-pane"):
            yield Static("", id="new-marker", markup=False)
            # Styled as focused from the start: AUTO_FOCUS focuses it right after (one restyle fewer, issue 11).
            yield mount_focused(self, InboxList(id="inbox", clock=self.feed.clock, compact_rows=self.compact))
            yield Static("", id="empty", markup=False)
            yield ListStatus(id="list-status")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one("#new-marker", Static).display = False
        self._place_preview()
        header = self.query_one(InboxHeader)
        header.link = self.context.link
        header.source = self.context.source
        self.set_interval(30.0, self._tick)
        interval = self.context.check_interval
        if self.client is not None and interval > 0:
            self.set_interval(interval, self._check_tick)
        if not self.state.loaded and self.client is not None and self._take_ready_page():
            pass
        elif self.state.loaded or self.client is None:
            self.refresh_list()
            self.call_after_refresh(self.post_message, messages.FirstPageShown())
        else:
            self._load_first()
        if self.watch_enabled:
            # After the first frame: the watch imports the websocket stack (~12 ms), which the first paint
            # need not wait for. Whatever arrives meanwhile is caught by the resync when the watch goes live.
            self.call_after_refresh(self._start_watch)

    def on_screen_resume(self, event: events.ScreenResume) -> None:
        skip_first_restyle(self, event)  # issue 11: styled as it mounted; Textual's handler runs after this

    def _start_watch(self) -> None:
        if self.feed.watcher is None and not any(w.group == "watch" and w.node is self for w in self.workers):
            self._watch()

    def on_resize(self, event: events.Resize) -> None:
        self.set_class(event.size.width < NARROW_WIDTH, "-narrow")
        self.set_class(event.size.height < SHORT_HEIGHT, "-short")
        self._place_preview()
        self.call_after_refresh(self._fill_viewport)

    def _place_preview(self) -> None:
        """Put the preview where the app says (right or bottom), hidden where it would not fit."""
        bottom = self.preview_position == "bottom"
        self.set_class(bottom, "-preview-bottom")
        self.set_class(not self.preview_fits, "-cramped")

    def watch_preview_open(self, open_: bool) -> None:
        if open_ and self._preview is None:
            from inbox_tui.widgets.preview import NotificationView

            self._preview = NotificationView(id="preview")
            self.query_one("#body", Horizontal).mount(self._preview)
        self.set_class(open_, "-preview")
        if open_:
            self._show_preview()

    @property
    def narrow(self) -> bool:
        """True when the pane is too narrow for the preview beside the list."""
        return self.has_class("-narrow")

    @property
    def preview_fits(self) -> bool:
        """Whether the preview fits where it goes: beside the list needs width, below it needs height."""
        if self.preview_position == "bottom":
            return not self.has_class("-short")
        return not self.narrow

    def _tick(self) -> None:
        self.inbox.tick()
        if self._preview is not None and self.preview_open:
            self._preview.tick(self.feed.clock())  # the preview's "2 minutes ago" moves with the list's "3m"

    # ----- showing the state ----------------------------------------------------------------------

    def refresh_list(self) -> None:
        """Repaint the list, header and empty message from the state (keeps the highlight in place)."""
        state = self.state
        by_id = state.by_id
        self.inbox.show([by_id[nid] for nid in state.visible_ids()])
        self._refresh_chrome()
        if self.preview_open:
            self._schedule_preview()

    def _refresh_chrome(self) -> None:
        state = self.state
        header = self.query_one(InboxHeader)
        header.unread = state.unread_count
        header.scope = self._scope_text()
        empty = self.query_one("#empty", Static)
        has_rows = self.inbox.option_count > 0
        self.inbox.display = has_rows
        empty.display = not has_rows
        if not has_rows:
            empty.update(self._empty_text())
        elif self.focused is None:
            # Hiding the empty list (a reload, a filter change) took its focus: give it back, or j/enter
            # would do nothing while r still acted on the highlighted row.
            self.inbox.focus()
        self._show_position()

    def _show_position(self) -> None:
        """`12/50+` under the list, once the highlight rests for POSITION_DELAY (j held: no update).

        A second widget repainted on every move cost each keypress a frame of its own (Textual paints at most
        60 frames a second): tui_scale's keypress-to-repaint p50 went from 9 to 14 ms. Moving, the row is
        what the eye follows; the number can wait until it stops.
        """
        if self._position_timer is not None:
            self._position_timer.stop()
        self._position_timer = self.set_timer(POSITION_DELAY, self._update_position)

    def _update_position(self) -> None:
        self._position_timer = None
        inbox = self.inbox
        count = inbox.option_count if inbox.display else 0
        self.list_status.position = position_text(inbox.highlighted, count, self.state.has_more)

    def _scope_text(self) -> str:
        filters = self.state.filters
        parts: list[str] = []
        if filters.read_status != "all":
            parts.append(f"{filters.read_status} only")
        if filters.templates:
            names = self.context.templates.names
            if len(filters.templates) == 1 and filters.templates[0] in names:
                parts.append(names[filters.templates[0]])
            else:
                parts.append(f"{len(filters.templates)} templates")
        if filters.targets:
            parts.append(f"{len(filters.targets)} target{'s' if len(filters.targets) > 1 else ''}")
        if self.state.search.strip():
            parts.append(f'search "{self.state.search.strip()}"')
        return " · ".join(parts)

    def _empty_text(self) -> Content:
        state = self.state
        if self.feed.load_error is not None:
            return Content.assemble(
                ("Error loading notifications\n", ".inbox-screen--error"),
                (self.feed.load_error, ".inbox-screen--muted"),
                ("\nPress R to retry.", ".inbox-screen--muted"),
            )
        if self.feed.loading and not state.loaded:
            return Content("Loading…").stylize(".inbox-screen--muted")
        if state.search.strip() and state.ids:
            return Content.assemble(
                ("No loaded notification matches the search\n", ".inbox-screen--strong"),
                ("Esc clears it.", ".inbox-screen--muted"),
            )
        if state.filters.active:
            return Content.assemble(
                ("No notifications match the filters\n", ".inbox-screen--strong"),
                ("f changes them, u toggles unread only.", ".inbox-screen--muted"),
            )
        return Content.assemble(
            ("No notifications\n", ".inbox-screen--strong"),
            ("New notifications will be displayed here.", ".inbox-screen--muted"),
        )

    def _template_name(self, notification: InboxNotification) -> str:
        return self.context.templates.names.get(notification.template_id, "")

    def preview_subject(self, notification_id: str | None = None) -> tuple[InboxNotification, str, datetime] | None:
        """What the full-screen preview shows: the highlighted row (or this one), its template's name, now."""
        notification = self.state.get(notification_id) if notification_id else self.inbox.notification
        if notification is None:
            return None
        return notification, self._template_name(notification), self.feed.clock()

    def _schedule_preview(self) -> None:
        # Holding j with the preview open would re-render markdown on every row; show the one it stops on.
        if self._preview_timer is not None:
            self._preview_timer.stop()
        self._preview_timer = self.set_timer(0.03, self._show_preview)

    def _show_preview(self) -> None:
        if self._preview is None:
            return
        notification = self.inbox.notification
        self._preview.show(
            notification,
            self.feed.clock(),
            self._template_name(notification) if notification else "",
        )

    @on(InboxList.NewAbove)
    def _new_above(self, message: InboxList.NewAbove) -> None:
        marker = self.query_one("#new-marker", Static)
        marker.display = message.count > 0
        marker.update(Content(f"↑ {message.count} new · {self._top_key()} jumps to the newest"))

    def on_click(self, event: events.Click) -> None:
        if event.widget is not None and event.widget.id == "new-marker":
            self.inbox.action_top()

    def _top_key(self) -> str:
        return display_keys(effective_keys(self.context.keymap)["top"])

    @on(OptionList.OptionHighlighted, "#inbox")
    def _highlighted(self, message: OptionList.OptionHighlighted) -> None:
        self._show_position()
        if self.preview_open:
            self._schedule_preview()
        if self.state.has_more and message.option_index >= self.inbox.option_count - 1 - PREFETCH_ROWS:
            self._request_more()

    @on(OptionList.OptionSelected, "#inbox")
    def _selected(self) -> None:
        self.action_preview()

    # ----- loading --------------------------------------------------------------------------------

    def _load_first(self) -> None:
        """(Re)load the first page with the current filters; a failure shows where the list would be."""
        worker = self._load_first_page()
        self.on_failure(worker, self.load_failed)

    @work(group="load", exclusive=True, exit_on_error=False)
    async def _load_first_page(self) -> None:
        if self.client is None:
            return
        self.workers.cancel_group(self, "more")
        self.feed.begin_load()
        self._refresh_chrome()
        await self.feed.load_first()
        self._first_page_shown()

    def _take_ready_page(self) -> bool:
        """Show the start-up page at once if it has already arrived (so the first frame has the inbox)."""
        if not self.feed.take_ready_page():
            return False
        self._first_page_shown()
        return True

    def _first_page_shown(self) -> None:
        self.refresh_list()
        self.call_after_refresh(self.post_message, messages.FirstPageShown())
        self.call_after_refresh(self._fill_viewport)

    def load_failed(self, error: BaseException) -> None:
        """Show the error where the list would be (the app also shows a toast)."""
        self.feed.load_failed(error)
        self._refresh_chrome()
        self.post_message(messages.FirstPageFailed(error))

    def _request_more(self) -> None:
        if not self.feed.can_load_more:
            return
        busy = (WorkerState.PENDING, WorkerState.RUNNING)
        if any(w.group in ("more", "load") and w.state in busy and w.node is self for w in self.workers):
            return
        self._load_more()

    @work(group="more", exclusive=True, exit_on_error=False)
    async def _load_more(self) -> None:
        result = await self.feed.load_more()
        if result is None:
            return  # reloaded meanwhile
        self.refresh_list()
        self._grew(len(result.added))
        # Still at the end (e.g. a search hides most of the page): keep going.
        highlighted = self.inbox.highlighted
        if self.state.has_more and (highlighted is None or highlighted >= self.inbox.option_count - 1 - PREFETCH_ROWS):
            self.call_later(self._request_more)
        else:
            self.call_after_refresh(self._fill_viewport)

    def _fill_viewport(self) -> None:
        """Fetch older pages while the loaded rows do not fill the list (compact rows, a tall pane).

        Otherwise the cursor could never get near the end to ask for more, and the list would look complete.
        """
        inbox = self.inbox
        if not self.state.has_more or not self.state.loaded or not inbox.display:
            return
        if (inbox.option_count - PREFETCH_ROWS) * inbox.row_height < inbox.size.height:
            self._request_more()

    def apply_filters(self, filters: Filters) -> None:
        """Reload the list (and the watch) with other filters."""
        if filters == self.state.filters and self.state.loaded:
            return
        self.post_message(messages.FiltersChanged(filters))
        self.feed.reset(filters)
        self.refresh_list()
        if self.client is None:
            return
        self._load_first()
        if self.watch_enabled:
            self._watch()

    # ----- live -----------------------------------------------------------------------------------

    @work(group="watch", exclusive=True, exit_on_error=False)
    async def _watch(self) -> None:
        """Follow the inbox forever: arrivals, connection state, resync after reconnects."""
        await self.feed.follow(self.queue_arrival, self._link_changed)

    def _link_changed(self, change: StateChanged) -> None:
        from inbox_tui.api.watch import ConnectionState

        detail = describe_error(change.error) if change.error is not None else ""
        link = Link(change.state.value, change.retry_at, detail)
        self.query_one(InboxHeader).link = link
        self.post_message(messages.LinkChanged(link))
        if change.state is ConnectionState.LIVE and self.state.loaded:
            # Live (again): whatever arrived while we were not listening is only in the list endpoint.
            self._resync()
        elif change.state is ConnectionState.OFFLINE and change.error is not None:
            self.app.notify(detail, title="Live updates stopped", severity="error", markup=False)
        if change.state is ConnectionState.LIVE and self.went_live:
            self.check_paused()  # reconnected: delivery may have been paused or resumed meanwhile
        self.went_live = self.went_live or change.state is ConnectionState.LIVE

    def queue_arrival(self, event: InboxEvent) -> None:
        """Take one new notification from the watch; bursts are shown together a moment later."""
        self.feed.queue_arrival(event)
        if self._flush_timer is None:
            self._flush_timer = self.set_timer(ARRIVAL_BATCH_SECONDS, self._flush_arrivals)

    def _flush_arrivals(self) -> None:
        self._flush_timer = None
        result = self.feed.flush_arrivals()
        if result is None:
            return
        self.refresh_list()
        if result.added:
            self._grew(len(result.added))
            self._alert(result.added)
        if result.stale:
            # The frame's count says something changed elsewhere (a read-all, a toggle in another client).
            self.check_read_marks("frame", force=True)

    def _grew(self, added: int) -> None:
        if added:
            self.post_message(messages.InboxGrew(added))

    def _alert(self, ids: tuple[str, ...]) -> None:
        items = self.feed.new_unread(ids)
        if items:
            self.post_message(messages.NewUnread(items))

    @work(group="resync", exclusive=True, exit_on_error=False)
    async def _resync(self) -> None:
        if self.client is None:
            return
        caught_up = await self.feed.resync()
        if not caught_up.current:
            return
        if caught_up.reload:
            # Too much was missed to catch up page by page: start over.
            self._load_first()
            return
        self.refresh_list()
        if caught_up.merged.added:
            self._alert(caught_up.merged.added)
        # Read changes made while we were away show only in the count, which the resync just took:
        # walk the read marks back to the oldest loaded row rather than compare counts.
        await self._sync_read_marks("reconnect", force=True)

    # ----- read changes made elsewhere ------------------------------------------------------------

    def _check_tick(self) -> None:
        self.check_read_marks("timer")
        self.check_paused()

    def check_read_marks(self, trigger: str, *, force: bool = False) -> None:
        """Check the count and the loaded read marks against the server, and fix what disagrees.

        One request when nothing changed. `force` (a frame the state cannot account for) walks every
        loaded row and replaces a check already running; otherwise a running check or load is enough.
        """
        if not self.feed.can_check_read_marks:
            return
        busy = (WorkerState.PENDING, WorkerState.RUNNING)
        groups = ("load",) if force else ("load", "stale-check", "resync")
        if any(w.group in groups and w.state in busy and w.node is self for w in self.workers):
            return
        self._check_marks(trigger, force)

    @work(group="stale-check", exclusive=True, exit_on_error=False)
    async def _check_marks(self, trigger: str, force: bool) -> None:
        await self._sync_read_marks(trigger, force=force)

    async def _sync_read_marks(self, trigger: str, *, force: bool) -> None:
        checked = await self.feed.check_read_marks(force=force)
        if checked is None:
            return
        if checked.result.changed or checked.count_changed:
            self.refresh_list()
        if checked.result.added:
            self._grew(len(checked.result.added))
            self._alert(checked.result.added)
        self.post_message(self.ReadMarksChecked(trigger, checked.marks, checked.changed_ids))

    # ----- paused delivery (issue 11) -------------------------------------------------------------

    def check_paused(self) -> None:
        """Ask the server whether delivery is paused, and show it in the header (no server: nothing).

        Asked after the first page (never before the first frame), on each check tick, after a reconnect,
        and at once when the admin screen pauses or resumes (the app calls `show_paused` then).
        """
        if self.client is not None:
            self._check_paused()

    @work(group="paused-check", exclusive=True, exit_on_error=False)
    async def _check_paused(self) -> None:
        paused = await self.feed.delivery_paused()
        if paused is not None:
            self.show_paused(paused)

    def show_paused(self, paused: bool) -> None:
        """Show whether the deployment's delivery is paused (`● live · paused` in the header)."""
        self.query_one(InboxHeader).paused = paused

    # ----- count prefixes (5j, 3G, 3o, 3y; a digit alone opens link N) ----------------------------

    def on_key(self, event: events.Key) -> None:
        """Digits before a key are a count (inbox_tui/count_prefix.py); a digit alone opens link N."""
        if self._search is not None and self._search.has_focus:
            return
        count = self._count
        key = event.key
        # Every key passes here: the keymap is looked at only for a digit or while a count is pending.
        if count.accepts(key) and (count.pending or key in self._link_keys()):
            event.stop()
            event.prevent_default()
            count.push(key)
            self._count_changed()
            return
        if not count.pending:
            return
        number = count.take()
        self._count_changed()
        keys = effective_keys(self.context.keymap)
        counted = {k: binding_id for binding_id in COUNTED_IDS for k in keys[binding_id].split(",")}
        binding_id = counted.get(key)
        if key == "escape" or binding_id is not None:
            event.stop()
            event.prevent_default()
        if binding_id is not None and number is not None:
            self._counted(binding_id, number)

    def _link_keys(self) -> set[str]:
        """The keys in force for "open link N" (digits by default): the ones that start a count."""
        keys = effective_keys(self.context.keymap)
        return {keys[f"open_action_{n}"] for n in range(1, 10)}

    def _count_changed(self) -> None:
        """Show the count being typed, and (re)start the wait after which it opens link N."""
        if self._count_timer is not None:
            self._count_timer.stop()
            self._count_timer = None
        self.list_status.pending = self._count.digits
        if self._count.pending:
            self._count_timer = self.set_timer(OPEN_DELAY, self._open_counted_link)

    def _open_counted_link(self) -> None:
        self._count_timer = None
        number = self._count.take()
        self.list_status.pending = ""
        if number is not None:
            self.action_open_action(number)

    def _counted(self, binding_id: str, number: int) -> None:
        """Run a count-taking key with its count."""
        inbox = self.inbox
        if binding_id in ("cursor_down", "cursor_up"):
            inbox.move_by(number if binding_id == "cursor_down" else -number)
        elif binding_id in ("half_page_down", "half_page_up"):
            half = inbox.half_page
            inbox.move_by(half * number if binding_id == "half_page_down" else -half * number)
        elif binding_id == "bottom":
            self._go_to_row(number)
        elif binding_id in ("next_unread", "previous_unread"):
            for _ in range(number):
                before = inbox.highlighted
                self._jump_unread(1 if binding_id == "next_unread" else -1)
                if inbox.highlighted == before:
                    break  # none loaded further: the last step said so (or is loading)
        elif binding_id == "open_first_action":
            self.action_open_action(number)
        elif binding_id == "copy_url":
            self.action_copy_url(number)

    def _go_to_row(self, number: int) -> None:
        """`3G`: highlight row 3 (1-based), loading older pages until it exists; past the end, the last."""
        inbox = self.inbox
        if number <= inbox.option_count or not self.feed.can_load_more:
            if inbox.option_count:
                inbox.highlighted = min(number, inbox.option_count) - 1
            return

        def reached() -> bool:
            if inbox.option_count < number:
                return False
            inbox.highlighted = number - 1
            return True

        inbox.action_last()
        self._load_older(reached, quiet=True)

    # ----- actions: moving ------------------------------------------------------------------------

    def action_next_unread(self) -> None:
        """Highlight the next unread notification below."""
        self._jump_unread(1)

    def action_previous_unread(self) -> None:
        """Highlight the previous unread notification above."""
        self._jump_unread(-1)

    def _jump_unread(self, step: int) -> None:
        inbox = self.inbox
        ids = inbox.ids
        start = inbox.highlighted if inbox.highlighted is not None else -1
        found = self.state.next_unread(ids, start, step)
        if found is not None:
            inbox.highlighted = found
        elif step > 0 and self.feed.can_load_more and self._unread_beyond_loaded():
            self._load_older(self._to_next_unread)
        else:
            where = "further down" if step > 0 else "further up"
            self.app.notify(f"No unread notification {where}.", markup=False)

    def _unread_beyond_loaded(self) -> bool:
        """Whether the server's unread count says some unread rows are not loaded yet."""
        state = self.state
        loaded_unread = sum(1 for nid in state.ids if not state.by_id[nid].is_read)
        # Unread rows hidden by a search count as loaded: pages beyond can only hold the rest.
        return state.filters.read_status != "read" and loaded_unread < state.unread_count

    def _to_next_unread(self) -> bool:
        """Highlight the next unread row below the highlight, if one is loaded now."""
        inbox = self.inbox
        start = inbox.highlighted if inbox.highlighted is not None else -1
        found = self.state.next_unread(inbox.ids, start, 1)
        if found is None:
            return False
        inbox.highlighted = found
        return True

    def action_bottom(self) -> None:
        """Highlight the oldest notification, loading every older page first (esc stops the loading)."""
        self.inbox.action_last()
        if self.feed.can_load_more:
            self._load_older(None)

    @work(group="more", exclusive=True, exit_on_error=False)
    async def _load_older(self, goal: Callable[[], bool] | None, quiet: bool = False) -> None:
        """Load older pages until `goal()` holds, or to the end when there is no goal (G).

        The list stays usable meanwhile; a highlight left on the last row follows the new last row.
        In the "more" group: a reload cancels it, and the prefetch waits for it.
        """
        status = self.list_status
        inbox = self.inbox
        try:
            while self.feed.can_load_more:
                what = "Loading to the end" if goal is None else "Looking for unread" if not quiet else "Loading"
                status.activity = f"{what}… {inbox.option_count} rows · esc stops"
                at_end = inbox.highlighted == inbox.option_count - 1
                result = await self.feed.load_more()
                if result is None:
                    return  # reloaded meanwhile
                self.refresh_list()
                self._grew(len(result.added))
                if goal is not None and goal():
                    return
                if goal is None and at_end:
                    inbox.action_last()
        finally:
            status.activity = ""
        if goal is not None and not quiet:
            self.app.notify("No unread notification further down.", markup=False)
        elif goal is not None and inbox.option_count:
            inbox.action_last()

    def _stop_loading_older(self) -> bool:
        """Esc while G or n loads older pages: stop (the rows loaded so far stay)."""
        busy = (WorkerState.PENDING, WorkerState.RUNNING)
        if not self.list_status.activity:
            return False
        if not any(w.group == "more" and w.state in busy and w.node is self for w in self.workers):
            return False
        self.workers.cancel_group(self, "more")
        self.list_status.activity = ""
        return True

    # ----- actions: the highlighted notification --------------------------------------------------

    def _current(self) -> InboxNotification | None:
        notification = self.inbox.notification
        if notification is None:
            self.app.notify("No notification is highlighted.", severity="warning", markup=False)
        return notification

    def action_preview(self) -> None:
        """Show the highlighted notification (beside the list, or full-screen in a narrow pane)."""
        notification = self.inbox.notification
        if notification is None:
            return
        if self.context.mark_read_on_preview and not notification.is_read and not self.preview_open:
            self._set_read(notification, True)  # opening it (not closing it) reads it, as `r` would
            notification = self.state.get(notification.id) or notification
        if not self.preview_fits:
            from inbox_tui.screens.preview import PreviewScreen

            self.app.push_screen(
                PreviewScreen(
                    notification,
                    self.feed.clock(),
                    self._template_name(notification),
                    open_action=self.action_open_action,
                    host=self,
                )
            )
            return
        self.preview_open = not self.preview_open

    def action_close(self) -> None:
        """Esc: leave the search box, clear the search, or close the preview."""
        search = self._search
        if self._stop_loading_older():
            return
        if self.inbox.selected:
            self.inbox.clear_selection()
            self.list_status.selected = 0
            return
        if search is not None and search.display and (search.has_focus or self.state.search):
            search.value = ""
            search.display = False
            self.state.search = ""
            self.refresh_list()
            self.inbox.focus()
        elif self.preview_open:
            self.preview_open = False

    def action_toggle_read(self) -> None:
        """Flip read/unread now; the server confirms, or the change is rolled back with a toast.

        With rows selected (v/space), all of them: read if any is unread, else unread; one request and
        one rollback per row, as for a single row.
        """
        # The full-screen preview asks for r too: there it means the notification on show.
        if self.inbox.selected and self.app.screen is self:
            self._set_read_selected()
            return
        notification = self._current()
        if notification is None:
            return
        self._set_read(notification, not notification.is_read)

    def _set_read_selected(self) -> None:
        inbox = self.inbox
        chosen = [n for n in (self.state.get(nid) for nid in inbox.selected) if n is not None]
        is_read = any(not n.is_read for n in chosen)
        inbox.clear_selection()
        self.list_status.selected = 0
        for notification in chosen:
            if notification.is_read != is_read:
                self._set_read(notification, is_read)

    def action_toggle_select(self) -> None:
        """Pick or unpick the highlighted row for a bulk read change (r), then move down one."""
        inbox = self.inbox
        notification = inbox.notification
        if notification is None:
            return
        inbox.toggle_selected(notification.id)
        self.list_status.selected = len(inbox.selected)
        self.inbox.move_by(1)

    def _set_read(self, notification: InboxNotification, is_read: bool) -> None:
        change = self.state.begin_set_read(notification.id, is_read, self.feed.clock())
        if change is None:
            return
        self._row_changed(change.id)
        if self.client is None:
            self.state.commit_read(change, InboxEvent(change.after, self.state.unread_count))
            return
        worker = self._send_read(change)
        self.on_failure(worker, lambda _error: self._rollback_read(change))

    @work(group="read", exit_on_error=False)
    async def _send_read(self, change: ReadChange) -> None:
        await self.feed.send_read(change)
        self._row_changed(change.id)

    def _rollback_read(self, change: ReadChange) -> None:
        if self.state.rollback_read(change):
            self._row_changed(change.id)

    def _row_changed(self, nid: str) -> None:
        notification = self.state.get(nid)
        if notification is not None:
            self.inbox.update_items([notification])
        self._refresh_chrome()
        if self.preview_open and self.inbox.notification is not None and self.inbox.notification.id == nid:
            self._schedule_preview()

    def action_open_action(self, number: int) -> None:
        """Open link N (1-based: the actions, then the message's links); opening also marks it read."""
        notification = self._current()
        if notification is None:
            return
        links = notification_links(notification)
        if not 1 <= number <= len(links):
            self._no_such_link(links)
            return
        self.app.open_url(links[number - 1].url)
        if not notification.is_read:
            self._set_read(notification, True)

    def action_copy_url(self, number: int = 1) -> None:
        """Copy link N's URL (the first: an action's, else the message's) to the clipboard (OSC 52)."""
        notification = self._current()
        if notification is None:
            return
        links = notification_links(notification)
        if not links:
            self.app.notify("This notification has no URL to copy.", severity="warning", markup=False)
            return
        if not 1 <= number <= len(links):
            self._no_such_link(links)
            return
        url = links[number - 1].url
        self.app.copy_to_clipboard(url)
        self.app.notify(url, title="Copied", markup=False)

    def _no_such_link(self, links: Sequence[NotificationLink]) -> None:
        count, plural = len(links), "s" if len(links) > 1 else ""
        kind = "action" if all(link.source == "action" for link in links) else "link"
        has = "no actions or links" if count == 0 else f"{count} {kind}{plural}"
        self.app.notify(f"This notification has {has}.", severity="warning", markup=False)

    def action_copy_id(self) -> None:
        """Copy the highlighted notification's id to the clipboard (for `inbox-tui read <id>`, say)."""
        notification = self._current()
        if notification is None:
            return
        self.app.copy_to_clipboard(notification.id)
        self.app.notify(notification.id, title="Copied", markup=False)

    # ----- actions: the inbox ---------------------------------------------------------------------

    def action_mark_all_read(self) -> None:
        """Mark everything read, after a y/N question."""
        count = self.state.unread_count
        if count == 0 and not any(not self.state.by_id[i].is_read for i in self.state.ids):
            self.app.notify("Nothing is unread.", markup=False)
            return
        noun = "notification" if count == 1 else "notifications"
        from inbox_tui.screens.confirm import ConfirmScreen

        self.app.push_screen(
            ConfirmScreen(f"Mark all {count} unread {noun} as read?"),
            self._mark_all_answer,
        )

    def _mark_all_answer(self, yes: bool | None) -> None:
        if not yes:
            return
        change = self.state.begin_mark_all(self.feed.clock())
        self.inbox.update_items(self.state.by_id[i] for i in change.stamped)
        self._refresh_chrome()
        if self.preview_open:
            self._schedule_preview()
        if self.client is None:
            self.state.commit_mark_all(change)
            return
        worker = self._send_mark_all(change)
        self.on_failure(worker, lambda _error: self._rollback_mark_all(change))

    @work(group="mark-all", exclusive=True, exit_on_error=False)
    async def _send_mark_all(self, change: MarkAllChange) -> None:
        await self.feed.send_mark_all(change)

    def _rollback_mark_all(self, change: MarkAllChange) -> None:
        restored = self.state.rollback_mark_all(change)
        self.inbox.update_items(self.state.by_id[i] for i in restored)
        self._refresh_chrome()

    def action_search(self) -> None:
        """Search the loaded notifications (title and content)."""
        if self._search is None:
            from textual.widgets import Input

            self._search = Input(placeholder="Search loaded notifications (Enter keeps it, Esc clears)", id="search")
            self.query_one("#list-pane", Vertical).mount(self._search)
        self._search.display = True
        self._search.focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input is self._search:
            self.state.search = event.value
            self.refresh_list()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input is not self._search:
            return
        if not event.value.strip():
            self.action_close()
            return
        self.inbox.focus()

    def action_unread_only(self) -> None:
        """Toggle between unread only and everything."""
        filters = self.state.filters
        status: ReadStatus = "all" if filters.read_status == "unread" else "unread"
        self.apply_filters(Filters(read_status=status, templates=filters.templates, targets=filters.targets))

    def action_compact(self) -> None:
        """One line per notification (title only) or two (title and snippet); remembered."""
        inbox = self.inbox
        inbox.set_compact_rows(not inbox.compact_rows)
        self.compact = inbox.compact_rows
        self._view_changed()
        self.call_after_refresh(self._fill_viewport)

    def action_preview_position(self) -> None:
        """Move the preview between the right of the list and below it; remembered."""
        position = "bottom" if self.preview_position == "right" else "right"
        self.preview_position = position
        self._view_changed()
        self._place_preview()
        if not self.preview_open or not self.preview_fits:
            where = "below the list" if position == "bottom" else "beside the list"
            fits = "" if self.preview_fits else " (this pane is too small for it: Enter shows it full-screen)"
            self.app.notify(f"The preview opens {where}{fits}.", timeout=3, markup=False)

    def _view_changed(self) -> None:
        self.post_message(messages.ViewChanged(compact=self.compact, preview_position=self.preview_position))

    def action_filters(self) -> None:
        """Pick read status, templates and targets."""
        from inbox_tui.screens.filters import FilterScreen, known_targets

        templates = self.context.templates
        state = self.state
        self.app.push_screen(
            FilterScreen(
                state.filters,
                load_templates=templates.load if self.client is not None else None,
                templates=templates.templates,
                targets=known_targets([state.by_id[i] for i in state.ids]),
            ),
            self._filters_chosen,
        )

    def _filters_chosen(self, filters: Filters | None) -> None:
        if filters is not None:
            self.apply_filters(filters)

    def action_resync(self) -> None:
        """Catch up with the server now (and reconnect at once if the watch is waiting to)."""
        if self.client is None:
            return
        if not self.state.loaded or self.feed.load_error is not None:
            self._load_first()
        else:
            self._resync()
        if not self.feed.retry_now() and self.watch_enabled:
            self._watch()
