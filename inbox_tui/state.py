"""The inbox state: what the main screen shows, kept in a plain object that tests drive without an app.

It holds the loaded notifications (ids newest first and a by-id map), the server's unread count, the
filters the list was loaded with, the paging cursor, and optimistic read changes that can be rolled back.
Nothing here does I/O or imports Textual: the app calls the API and feeds the answers in.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Literal, NamedTuple

from inbox_tui.api.models import InboxEvent, InboxNotification, InboxPage

if TYPE_CHECKING:
    from inbox_tui.api.resync import ReadMarks

ReadStatus = Literal["all", "unread", "read"]
READ_STATUSES: tuple[ReadStatus, ...] = ("all", "unread", "read")

# The list endpoint's page size is fixed by the server (spec §4); a full page means there may be more.
PAGE_SIZE = 25

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def _sort_key(notification: InboxNotification) -> int:
    """Newest first: negated microseconds since the epoch (exact, unlike float timestamps)."""
    return -((notification.created_at - _EPOCH) // _MICROSECOND)


class Filters(NamedTuple):
    """The server-side filters of the list and the watch (spec §4, §5.3)."""

    read_status: ReadStatus = "all"
    templates: tuple[str, ...] = ()
    targets: tuple[str, ...] = ()

    @property
    def active(self) -> bool:
        """True when anything narrows the list."""
        return self.read_status != "all" or bool(self.templates) or bool(self.targets)

    def matches(self, notification: InboxNotification) -> bool:
        """The server's semantics: templates OR, targets AND (null targets never match), read status."""
        if self.templates and notification.template_id not in self.templates:
            return False
        if self.targets:
            have = notification.targets or ()
            if not all(target in have for target in self.targets):
                return False
        if self.read_status == "unread":
            return not notification.is_read
        if self.read_status == "read":
            return notification.is_read
        return True


class ReadChange(NamedTuple):
    """One optimistic read toggle: what to put back if the server refuses it."""

    id: str
    before: InboxNotification
    after: InboxNotification
    delta: int  # change applied to the unread count (+1 marked unread, -1 marked read)


class MarkAllChange(NamedTuple):
    """An optimistic mark-all-read: the items it stamped and the count it zeroed."""

    before: dict[str, InboxNotification]
    stamped: dict[str, InboxNotification]
    unread_before: int
    count_generation: int


class MergeResult(NamedTuple):
    """What a merge changed: ids inserted (in list order) and known ids whose notification was replaced."""

    added: tuple[str, ...] = ()
    updated: tuple[str, ...] = ()
    added_at_top: bool = True
    # Arrivals only: the frame's unread count is not what the state can account for (a read change made
    # elsewhere), so the loaded read marks need checking against the server.
    stale: bool = False

    @property
    def changed(self) -> bool:
        """True when the list or a row needs repainting."""
        return bool(self.added or self.updated)


class ReadSnapshot(NamedTuple):
    """What a read-marks check starts from; `InboxState.apply_read_marks` skips what changed locally since."""

    rows: tuple[InboxNotification, ...]
    unread_count: int  # the server's count as last taken, without the optimistic changes in flight
    complete: bool  # no older page: every row of the view is loaded
    filters: Filters
    read_epoch: int
    count_generation: int
    load_epoch: int


@dataclass
class InboxState:
    """Loaded notifications, newest first, with the server's unread count and the current filters."""

    ids: list[str] = field(default_factory=list)
    by_id: dict[str, InboxNotification] = field(default_factory=dict)
    unread_count: int = 0
    filters: Filters = field(default_factory=Filters)
    has_more: bool = False
    loaded: bool = False
    search: str = ""
    _keys: list[int] = field(default_factory=list, repr=False)
    _haystacks: dict[str, str] = field(default_factory=dict, repr=False)
    _pending: dict[str, ReadChange] = field(default_factory=dict, repr=False)
    _count_generation: int = field(default=0, repr=False)
    # Local read changes, numbered: a read-marks check drops what it learnt about rows touched since it
    # started (its listing may predate the change). A reset or a mark-all voids a check as a whole.
    _read_epoch: int = field(default=0, repr=False)
    _touched: dict[str, int] = field(default_factory=dict, repr=False)
    _mark_all_epoch: int = field(default=0, repr=False)
    _marks_all: list[MarkAllChange] = field(default_factory=list, repr=False)
    _load_epoch: int = field(default=0, repr=False)

    # ----- loading -------------------------------------------------------------------------------

    @classmethod
    def from_notifications(
        cls, notifications: Iterable[InboxNotification], unread_count: int | None = None
    ) -> InboxState:
        """A loaded state from a fixed set (demo, snapshots); the count defaults to the unread items."""
        state = cls()
        items = list(notifications)
        state.merge(items)
        state.unread_count = sum(1 for n in items if not n.is_read) if unread_count is None else unread_count
        state.loaded = True
        return state

    def reset(self, filters: Filters | None = None) -> None:
        """Forget everything loaded (a new filter or a full reload); keeps the filters unless given."""
        if filters is not None:
            self.filters = filters
        self.ids.clear()
        self._keys.clear()
        self.by_id.clear()
        self._haystacks.clear()
        self._pending.clear()
        self._touched.clear()
        self._load_epoch += 1
        self.has_more = False
        self.loaded = False

    def apply_page(self, page: InboxPage, *, first: bool) -> MergeResult:
        """Take one list response: the first page replaces the list, later pages append older items."""
        if first:
            self.reset()
        result = self.merge(page.notifications)
        self._set_count(page.unread_count)
        self.has_more = len(page.notifications) >= PAGE_SIZE
        self.loaded = True
        return result

    @property
    def cursor(self) -> str | None:
        """`starting_before` for the next older page: the oldest loaded notification."""
        return self.ids[-1] if self.ids else None

    # ----- merging -------------------------------------------------------------------------------

    def merge(self, notifications: Iterable[InboxNotification]) -> MergeResult:
        """Insert unknown notifications in date order and refresh known ones, never duplicating an id.

        A known notification with an optimistic change in flight keeps its local version: the change's own
        response settles it.
        """
        added: list[str] = []
        updated: list[str] = []
        top = True
        for notification in notifications:
            nid = notification.id
            if nid in self.by_id:
                if nid not in self._pending and self.by_id[nid] != notification:
                    self.by_id[nid] = notification
                    updated.append(nid)
                continue
            key = _sort_key(notification)
            # Among equal timestamps a newcomer goes first, as the newest delivery.
            index = bisect_left(self._keys, key)
            if index != 0:
                top = False
            self._keys.insert(index, key)
            self.ids.insert(index, nid)
            self.by_id[nid] = notification
            added.append(nid)
        if len(added) > 1 and not top:
            position = {nid: i for i, nid in enumerate(self.ids)}
            added.sort(key=position.__getitem__)
        return MergeResult(tuple(added), tuple(updated), top)

    def merge_arrivals(self, events: Sequence[InboxEvent]) -> MergeResult:
        """Take watch events: notifications outside the filters are skipped; the count always follows.

        Read-status filters are not applied to arrivals: new notifications are always unread, and the
        server's watch already drops them for `read` (spec §5.3).
        """
        if not events:
            return MergeResult()
        # Each new notification adds one to the count; anything else the frame's count says happened
        # elsewhere (a read-all, a read or unread toggle in another client).
        before = self.unread_count
        fresh = {
            e.notification.id for e in events if e.notification.id not in self.by_id and not e.notification.is_read
        }
        keep = [e.notification for e in events if self._matches_server_filters(e.notification)]
        result = self.merge(keep)
        self._set_count(events[-1].unread_count)
        stale = self.unread_count != before + len(fresh) or not self.rows_agree_with_count()
        return result._replace(stale=stale) if stale else result

    def merge_resync(self, notifications: Sequence[InboxNotification], unread_count: int) -> MergeResult:
        """Take what a resync after a reconnect found: new items join, known items take the server's state."""
        keep = [n for n in notifications if self._matches_server_filters(n) or n.id in self.by_id]
        result = self.merge(keep)
        self._set_count(unread_count)
        return result

    def _matches_server_filters(self, notification: InboxNotification) -> bool:
        filters = self.filters
        if filters.read_status == "read" and not notification.is_read:
            return False
        if filters.read_status == "unread" and notification.is_read:
            return False
        return Filters(templates=filters.templates, targets=filters.targets).matches(notification)

    def rows_agree_with_count(self) -> bool:
        """False when the loaded read marks cannot be right with this unread count.

        More unread rows than the count is impossible; with every row of an unfiltered view loaded, the
        unread rows are exactly the count.
        """
        # Runs on every batch of arrivals: a plain loop over read_at (not the property), stopping early.
        count = self.unread_count
        unread = 0
        for notification in self.by_id.values():
            if notification.read_at is None:
                unread += 1
                if unread > count:
                    return False
        filters = self.filters
        if not self.has_more and not filters.templates and not filters.targets and filters.read_status != "read":
            return unread == count
        return True

    def _set_count(self, count: int) -> None:
        """A count from the server is the truth, plus whatever optimistic changes are still in flight."""
        self._count_generation += 1
        self.unread_count = max(0, count + sum(c.delta for c in self._pending.values()))

    # ----- optimistic read changes ---------------------------------------------------------------

    def begin_toggle_read(self, nid: str, now: datetime | None = None) -> ReadChange:
        """Flip one notification's read state locally and return the change to commit or roll back."""
        before = self.by_id[nid]
        if before.is_read:
            after = before.with_read_at(None)
            delta = 1
        else:
            after = before.with_read_at(now or datetime.now(UTC))
            delta = -1
        return self._begin(nid, before, after, delta)

    def begin_set_read(self, nid: str, is_read: bool, now: datetime | None = None) -> ReadChange | None:
        """Like begin_toggle_read but to a given state; None when it is already there."""
        if self.by_id[nid].is_read == is_read:
            return None
        return self.begin_toggle_read(nid, now)

    def _begin(self, nid: str, before: InboxNotification, after: InboxNotification, delta: int) -> ReadChange:
        change = ReadChange(nid, before, after, delta)
        self.by_id[nid] = after
        self._pending[nid] = change
        self._touch(nid)
        self.unread_count = max(0, self.unread_count + delta)
        return change

    def is_pending(self, nid: str) -> bool:
        """True while a read change of this notification waits for the server."""
        return nid in self._pending

    def commit_read(self, change: ReadChange, event: InboxEvent) -> None:
        """The server accepted a change: take its notification (if still the latest change) and count."""
        latest = self._pending.get(change.id)
        if latest is change:
            del self._pending[change.id]
            if change.id in self.by_id:
                self.by_id[change.id] = event.notification
        self._touch(change.id)
        self._set_count(event.unread_count)

    def rollback_read(self, change: ReadChange) -> bool:
        """The server refused a change: put the notification and the count back. False if superseded."""
        if self._pending.get(change.id) is not change:
            return False
        del self._pending[change.id]
        self._touch(change.id)
        if self.by_id.get(change.id) == change.after:
            self.by_id[change.id] = change.before
        # Counts from the server carry the in-flight deltas on top (see _set_count), so taking this
        # one delta off is right whether or not a count arrived meanwhile.
        self.unread_count = max(0, self.unread_count - change.delta)
        return True

    def begin_mark_all(self, now: datetime | None = None) -> MarkAllChange:
        """Stamp every loaded unread notification read and zero the count, as Coder's web inbox does."""
        stamp = now or datetime.now(UTC)
        before: dict[str, InboxNotification] = {}
        stamped: dict[str, InboxNotification] = {}
        for nid in self.ids:
            item = self.by_id[nid]
            if not item.is_read:
                before[nid] = item
                stamped[nid] = self.by_id[nid] = item.with_read_at(stamp)
        change = MarkAllChange(before, stamped, self.unread_count, self._count_generation)
        self.unread_count = 0
        self._read_epoch += 1
        self._mark_all_epoch = self._read_epoch
        self._marks_all.append(change)
        return change

    def commit_mark_all(self, change: MarkAllChange) -> None:
        """Mark-all is settled (answered, refused or abandoned): read-marks checks may run again. Idempotent."""
        self._marks_all = [c for c in self._marks_all if c is not change]
        self._read_epoch += 1
        self._mark_all_epoch = self._read_epoch

    @property
    def mark_all_in_flight(self) -> bool:
        """True while a mark-all waits for the server (a check now would see rows it is about to stamp)."""
        return bool(self._marks_all)

    def rollback_mark_all(self, change: MarkAllChange) -> list[str]:
        """The server refused mark-all: restore what it stamped; returns the ids put back."""
        self.commit_mark_all(change)
        restored: list[str] = []
        for nid, item in change.before.items():
            if self.by_id.get(nid) is change.stamped[nid]:
                self.by_id[nid] = item
                restored.append(nid)
        if self._count_generation == change.count_generation:
            self.unread_count = change.unread_before
        return restored

    def _touch(self, nid: str) -> None:
        self._read_epoch += 1
        self._touched[nid] = self._read_epoch

    # ----- read changes made elsewhere -----------------------------------------------------------

    def read_snapshot(self) -> ReadSnapshot:
        """The loaded rows and the count as a read-marks check should compare them with the server."""
        pending = sum(c.delta for c in self._pending.values())
        return ReadSnapshot(
            rows=tuple(self.by_id[nid] for nid in self.ids),
            unread_count=max(0, self.unread_count - pending),
            complete=self.loaded and not self.has_more,
            filters=self.filters,
            read_epoch=self._read_epoch,
            count_generation=self._count_generation,
            load_epoch=self._load_epoch,
        )

    def apply_read_marks(self, marks: ReadMarks, snapshot: ReadSnapshot, now: datetime | None = None) -> MergeResult:
        """Take what a read-marks check found: loaded rows get the server's read mark, missing unread rows
        join, the count follows; the list itself (and so the cursor) stays as it is.

        Rows touched locally since the snapshot keep their state (the listing may predate the change); a
        reload, other filters or a mark-all since then void the whole check. A row the server no longer
        lists as unread is stamped read at `now` (the listing does not say when it was read).
        """
        if not marks.stale:
            return MergeResult()
        if (
            snapshot.load_epoch != self._load_epoch
            or snapshot.filters != self.filters
            or self.mark_all_in_flight
            or self._mark_all_epoch > snapshot.read_epoch
        ):
            return MergeResult()
        stamp = now or datetime.now(UTC)
        unread = {n.id: n for n in marks.unread}
        checked = {n.id for n in snapshot.rows}
        updated: list[str] = []
        for nid in self.ids:
            if nid not in checked or nid in self._pending or self._touched.get(nid, 0) > snapshot.read_epoch:
                continue
            item = self.by_id[nid]
            server = unread.get(nid)
            if server is not None:
                if item.is_read:
                    self.by_id[nid] = server
                    updated.append(nid)
            elif not item.is_read and marks.covers(item):
                self.by_id[nid] = item.with_read_at(stamp)
                updated.append(nid)
        oldest = snapshot.rows[-1].created_at if snapshot.rows else None
        missing = [
            n
            for n in marks.unread
            if n.id not in self.by_id
            and self._matches_server_filters(n)
            and (snapshot.complete or oldest is None or n.created_at >= oldest)
        ]
        merged = self.merge(missing)
        # A count that came meanwhile (a frame, a read change's answer) is fresher than the listing's.
        if self._count_generation == snapshot.count_generation and not self._pending:
            self._set_count(marks.unread_count)
        return MergeResult(merged.added, (*updated, *merged.updated), merged.added_at_top)

    # ----- reading -------------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self.ids)

    def get(self, nid: str) -> InboxNotification | None:
        """The loaded notification with this id, if any."""
        return self.by_id.get(nid)

    def visible_ids(self) -> list[str]:
        """The ids the list shows: all loaded ones, or those matching the local search."""
        query = self.search.strip().casefold()
        if not query:
            return list(self.ids)
        words = query.split()
        haystacks = self._haystacks
        out: list[str] = []
        for nid in self.ids:
            hay = haystacks.get(nid)
            if hay is None:
                item = self.by_id[nid]
                hay = haystacks[nid] = f"{item.title}\n{item.content}".casefold()
            if all(word in hay for word in words):
                out.append(nid)
        return out

    def matches_search(self, nid: str) -> bool:
        """True when this loaded notification passes the local search."""
        query = self.search.strip().casefold()
        if not query:
            return True
        item = self.by_id[nid]
        hay = f"{item.title}\n{item.content}".casefold()
        return all(word in hay for word in query.split())

    def next_unread(self, ids: Sequence[str], start: int, step: int) -> int | None:
        """Index in `ids` of the next unread notification after `start` going `step` (+1 down, -1 up)."""
        index = start + step
        while 0 <= index < len(ids):
            item = self.by_id.get(ids[index])
            if item is not None and not item.is_read:
                return index
            index += step
        return None
