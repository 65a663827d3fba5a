"""The inbox feed: the inbox state kept in step with the server, without any UI (no Textual).

It loads the first page (taking the one asked for at start-up when it is for the same filters), older
pages, follows the watch stream (working through a burst in slices so keys and repaints keep their turn),
gathers arrivals into batches, catches up after reconnects (resync) and checks read marks changed
elsewhere. It sends read changes too, one request at a time per notification.

Each coroutine does the talking and the state change and returns what changed; the caller (the inbox
screen's workers) repaints, schedules, alerts and reports failures. Nothing here repaints or knows a timer,
so the feed is tested against a real server without a terminal (tests/client/test_feed.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TYPE_CHECKING, NamedTuple

from inbox_tui.api.client import CoderClient
from inbox_tui.api.errors import describe_error
from inbox_tui.api.models import InboxEvent, InboxNotification, InboxPage
from inbox_tui.state import Filters, InboxState, MarkAllChange, MergeResult, ReadChange

if TYPE_CHECKING:
    from inbox_tui.api.resync import ReadMarks
    from inbox_tui.api.watch import InboxWatcher, StateChanged
    from inbox_tui.first_page import FirstPage

# The watch (websockets) and the resync walk are imported when first used, not before the first paint.

# In a burst, the watch works through buffered frames for WATCH_SLICE seconds, then leaves the event loop to
# keys and repaints for WATCH_PAUSE (a third of the CPU still absorbs 1,000 arrivals in well under a second).
WATCH_SLICE = 0.004
WATCH_PAUSE = 0.008


class CatchUp(NamedTuple):
    """What a resync did: `reload` when too much was missed to catch up (load the first page again),
    else `merged`: what it added and refreshed. `current` is False when the filters changed meanwhile
    (the result was dropped)."""

    merged: MergeResult
    reload: bool = False
    current: bool = True


class MarksChecked(NamedTuple):
    """What a read-marks check found: the server's answer, what it changed, and whether the unread count moved."""

    marks: ReadMarks
    result: MergeResult
    count_changed: bool

    @property
    def changed_ids(self) -> tuple[str, ...]:
        """Rows whose read mark (or presence) changed."""
        return (*self.result.added, *self.result.updated)


class InboxFeed:
    """The inbox state and the server, in step. `client` None: a fixed inbox, nothing is fetched."""

    def __init__(self, client: CoderClient | None, state: InboxState, clock: Callable[[], datetime]) -> None:
        self.client = client
        self.state = state
        self.clock = clock
        self.loading = False
        # Why the first page failed to load (shown where the list would be), until the next load.
        self.load_error: str | None = None
        self.watcher: InboxWatcher | None = None
        self._arrivals: list[InboxEvent] = []
        # Arrivals while the first page is on its way, merged after it (they may be newer than the page).
        self._arrivals_during_load: list[InboxEvent] | None = None
        self._prefetch: tuple[Filters, asyncio.Future[InboxPage]] | None = None
        self._read_locks: dict[str, asyncio.Lock] = {}

    # ----- the first page -------------------------------------------------------------------------

    def prefetch(self, early: FirstPage | None = None) -> asyncio.Future[InboxPage] | None:
        """Ask for the first page now (start-up, before any screen exists); `load_first` takes it.

        `early`: the page `inbox-tui` began fetching before Textual loaded (inbox_tui/first_page.py); used
        when it was for these filters and arrived, else the client asks.
        """
        client = self.client
        if client is None or self.state.loaded:
            return None
        filters = self.state.filters

        def request() -> Awaitable[InboxPage]:
            return client.list_inbox(
                targets=filters.targets, templates=filters.templates, read_status=filters.read_status
            )

        future = asyncio.ensure_future(request() if early is None else early.page_or(filters, request))
        self._prefetch = (filters, future)
        return future

    def _take_prefetched(self, filters: Filters) -> asyncio.Future[InboxPage] | None:
        prefetch, self._prefetch = self._prefetch, None
        if prefetch is None:
            return None
        if prefetch[0] != filters:
            prefetch[1].cancel()
            return None
        return prefetch[1]

    def take_ready_page(self) -> bool:
        """Apply the start-up page if it has already arrived without error (so the first frame shows it)."""
        prefetch = self._prefetch
        if prefetch is None or prefetch[0] != self.state.filters:
            return False
        future = prefetch[1]
        if not future.done() or future.cancelled() or future.exception() is not None:
            return False
        self._prefetch = None
        self.state.apply_page(future.result(), first=True)
        return True

    def begin_load(self) -> None:
        """A first-page load starts: "Loading…", no error, and arrivals from now on are kept for after it."""
        self.loading = True
        self.load_error = None
        self._arrivals_during_load = []

    async def load_first(self) -> MergeResult:
        """(Re)load the first page with the current filters (call `begin_load` first to show it loading)."""
        client = self.client
        assert client is not None
        if not self.loading:
            self.begin_load()
        filters = self.state.filters
        try:
            prefetched = self._take_prefetched(filters)
            if prefetched is not None:
                page = await prefetched
            else:
                page = await client.list_inbox(
                    targets=filters.targets, templates=filters.templates, read_status=filters.read_status
                )
        except BaseException:
            self.loading = False
            self._arrivals_during_load = None
            raise
        result = self.state.apply_page(page, first=True)
        late = self._arrivals_during_load or []
        self._arrivals_during_load = None
        self.loading = False
        if late:
            self.state.merge_arrivals(late)
        return result

    def load_failed(self, error: BaseException) -> None:
        """The first page failed: remember why, in words, until the next load."""
        self.load_error = describe_error(error)

    def reset(self, filters: Filters) -> None:
        """Other filters: forget the loaded rows (then `load_first`)."""
        self.state.reset(filters)

    # ----- older pages ----------------------------------------------------------------------------

    @property
    def can_load_more(self) -> bool:
        """True when there is a server and an older page to ask for."""
        return self.client is not None and self.state.loaded and self.state.has_more

    async def load_more(self) -> MergeResult | None:
        """The next older page; None when there is none, or the list was reloaded while it was on its way."""
        client = self.client
        state = self.state
        cursor = state.cursor
        if client is None or cursor is None:
            return None
        filters = state.filters
        page = await client.list_inbox(
            targets=filters.targets,
            templates=filters.templates,
            read_status=filters.read_status,
            starting_before=cursor,
        )
        if state.cursor != cursor or state.filters != filters:
            return None
        return state.apply_page(page, first=False)

    # ----- arrivals -------------------------------------------------------------------------------

    def queue_arrival(self, event: InboxEvent) -> None:
        """Keep one arrival for the next batch (the caller flushes it a moment later)."""
        self._arrivals.append(event)
        if self._arrivals_during_load is not None:
            self._arrivals_during_load.append(event)

    def flush_arrivals(self) -> MergeResult | None:
        """Merge the batch gathered so far (None: it was empty)."""
        events, self._arrivals = self._arrivals, []
        if not events:
            return None
        return self.state.merge_arrivals(events)

    def new_unread(self, ids: tuple[str, ...] | list[str]) -> list[InboxNotification]:
        """The notifications among `ids` that are unread (what an alert announces)."""
        return [n for n in (self.state.get(i) for i in ids) if n is not None and not n.is_read]

    # ----- the watch ------------------------------------------------------------------------------

    async def follow(
        self, arrived: Callable[[InboxEvent], object], state_changed: Callable[[StateChanged], object]
    ) -> None:
        """Follow the watch stream with the current filters until cancelled: each arrival to `arrived`,
        each connection change to `state_changed`."""
        client = self.client
        if client is None:
            return
        from inbox_tui.api.watch import Arrived, InboxWatcher, StateChanged

        filters = self.state.filters
        watcher = InboxWatcher(
            client, targets=filters.targets, templates=filters.templates, read_status=filters.read_status
        )
        self.watcher = watcher
        clock = asyncio.get_running_loop().time
        busy_since = last = clock()
        try:
            async for item in watcher:
                now = clock()
                if now - last > 0.001:
                    busy_since = now  # the stream had to wait for this one: not a backlog
                if isinstance(item, Arrived):
                    arrived(item.event)
                elif isinstance(item, StateChanged):
                    state_changed(item)
                if now - busy_since >= WATCH_SLICE:
                    # Frames already buffered come back without ever suspending, so a burst would hold
                    # the event loop until the backlog is gone. Hand it to keys and repaints regularly.
                    await asyncio.sleep(WATCH_PAUSE)
                    busy_since = clock()
                last = clock()
        finally:
            if self.watcher is watcher:
                self.watcher = None

    def retry_now(self) -> bool:
        """Reconnect at once if the watch is waiting to; False when no watch is running."""
        if self.watcher is None:
            return False
        self.watcher.retry_now()
        return True

    # ----- catching up ----------------------------------------------------------------------------

    async def resync(self) -> CatchUp:
        """Catch up with the server after a reconnect: what arrived meanwhile, page by page."""
        client = self.client
        assert client is not None
        from inbox_tui.api.resync import resync

        state = self.state
        filters = state.filters
        result = await resync(
            client,
            list(state.ids),
            targets=filters.targets,
            templates=filters.templates,
            read_status=filters.read_status,
        )
        if state.filters != filters:
            return CatchUp(MergeResult(), current=False)
        if not result.complete:
            return CatchUp(MergeResult(), reload=True)
        return CatchUp(state.merge_resync([*result.new, *result.refreshed], result.unread_count))

    @property
    def can_check_read_marks(self) -> bool:
        """A read-marks check makes sense: a server, a loaded list, no mark-all waiting for its answer."""
        return self.client is not None and self.state.loaded and not self.state.mark_all_in_flight

    async def check_read_marks(self, *, force: bool) -> MarksChecked | None:
        """Check the count and the loaded read marks against the server and take what disagrees.

        One request when nothing changed; `force` walks every loaded row. None: no check was possible.
        """
        client = self.client
        if client is None or not self.can_check_read_marks:
            return None
        from inbox_tui.api.resync import check_read_marks

        state = self.state
        snapshot = state.read_snapshot()
        filters = snapshot.filters
        marks = await check_read_marks(
            client,
            snapshot.rows,
            snapshot.unread_count,
            targets=filters.targets,
            templates=filters.templates,
            read_status=filters.read_status,
            complete=snapshot.complete,
            force=force,
        )
        before = state.unread_count
        result = state.apply_read_marks(marks, snapshot, self.clock())
        return MarksChecked(marks, result, state.unread_count != before)

    # ----- read changes ---------------------------------------------------------------------------

    async def send_read(self, change: ReadChange) -> None:
        """Send a read change begun on the state, and commit the server's answer (the caller rolls back
        on failure). One request at a time per notification, so the server sees them in order."""
        client = self.client
        assert client is not None
        lock = self._read_locks.setdefault(change.id, asyncio.Lock())
        async with lock:
            event = await client.set_read(change.id, change.after.is_read)
        self.state.commit_read(change, event)

    async def send_mark_all(self, change: MarkAllChange) -> None:
        """Send a mark-all begun on the state (the caller rolls back on failure)."""
        client = self.client
        assert client is not None
        try:
            await client.mark_all_read()
        finally:
            # Also when refused (the rollback follows) or cancelled by a second mark-all: never leave the
            # read-marks checks waiting for an answer that will not come.
            self.state.commit_mark_all(change)

    # ----- the deployment's delivery (issue 11) ---------------------------------------------------

    async def delivery_paused(self) -> bool | None:
        """Whether the deployment's notifier is paused (`GET /notifications/settings`, readable by owners
        and members alike); None for a fixed inbox with no server."""
        if self.client is None:
            return None
        return (await self.client.settings()).notifier_paused
