"""Catch up with the server: what arrived while the watch was down, and read changes made elsewhere.

The watch socket replays nothing, so whatever arrived while it was down is only visible through the list
endpoint. `resync` walks pages with the `starting_before` cursor and stops at the first page that holds
an id the caller already has (or at a short page, the end of the inbox), returning only the unknown
notifications, without duplicates, plus the fresh unread count. `merge_newest_first` folds them in.

Read changes made elsewhere (another client, the CLI, the web dashboard) are never sent on the watch: they
show only as a different `unread_count`. `check_read_marks` compares the loaded rows and the count with
the server's unread listing, in one request when nothing changed, and walks back to the oldest loaded row
when something did, so that every loaded row's read mark is known without reloading the list.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from inbox_tui.api.client import PAGE_SIZE, CoderClient
from inbox_tui.api.models import InboxNotification

MAX_PAGES = 40  # 1,000 notifications: beyond that, reload instead of catching up


@dataclass(frozen=True, slots=True)
class ResyncResult:
    """What a resync found.

    `new`: notifications the caller did not know, newest first. `refreshed`: known notifications seen on the
    scanned pages, in their current state (their read status may have changed meanwhile). `complete` is
    False when the walk stopped at `max_pages` before reaching known items or the end: there may be a gap,
    so a full reload is the safe choice.
    """

    new: tuple[InboxNotification, ...]
    refreshed: tuple[InboxNotification, ...]
    unread_count: int
    complete: bool
    pages: int


async def resync(
    client: CoderClient,
    known_ids: Collection[str],
    *,
    targets: Iterable[str] = (),
    templates: Iterable[str] = (),
    read_status: str = "all",
    max_pages: int = MAX_PAGES,
) -> ResyncResult:
    """List pages (same filters as the view) until one contains a known id or is short."""
    target_list = tuple(targets)
    template_list = tuple(templates)
    known = set(known_ids)
    new: list[InboxNotification] = []
    refreshed: list[InboxNotification] = []
    seen: set[str] = set()
    cursor: str | None = None
    unread_count = 0
    pages = 0
    complete = False
    while pages < max_pages:
        page = await client.list_inbox(
            targets=target_list, templates=template_list, read_status=read_status, starting_before=cursor
        )
        pages += 1
        # Every page carries the caller's total; the last one asked is the freshest.
        unread_count = page.unread_count
        hit_known = False
        for notification in page.notifications:
            if notification.id in seen:
                continue
            seen.add(notification.id)
            if notification.id in known:
                hit_known = True
                refreshed.append(notification)
            elif not hit_known:
                new.append(notification)
        # Nothing known to look for (an empty view): the first page is what a fresh load would show.
        if hit_known or len(page.notifications) < PAGE_SIZE or not known:
            complete = True
            break
        cursor = page.notifications[-1].id
    return ResyncResult(
        new=tuple(new),
        refreshed=tuple(refreshed),
        unread_count=unread_count,
        complete=complete,
        pages=pages,
    )


def merge_newest_first(
    current: Iterable[InboxNotification], incoming: Iterable[InboxNotification]
) -> list[InboxNotification]:
    """Merge two sets of notifications by id (incoming wins), ordered newest first like the server."""
    by_id: dict[str, InboxNotification] = {n.id: n for n in current}
    for notification in incoming:
        by_id[notification.id] = notification
    return sorted(by_id.values(), key=lambda n: (n.created_at, n.id), reverse=True)


@dataclass(frozen=True, slots=True)
class ReadMarks:
    """What the server's unread listing says about the caller's loaded rows (see `check_read_marks`).

    `unread`: the unread notifications listed (the view's template and target filters), newest first.
    `unread_count`: the caller's total unread count, from the freshest page. `covered_after`: every unread
    notification created after this moment was listed, so a loaded row newer than it that is not in
    `unread` is read; None when the listing reached the end of the inbox (every row is covered). `stale`:
    the loaded rows, the count or the set of rows disagreed with the server (False: nothing to change).
    """

    unread: tuple[InboxNotification, ...]
    unread_ids: frozenset[str]
    unread_count: int
    covered_after: datetime | None
    stale: bool
    pages: int

    def covers(self, notification: InboxNotification) -> bool:
        """True when the listing says for sure whether this notification is unread."""
        return (
            self.covered_after is None
            or notification.created_at > self.covered_after
            or notification.id in self.unread_ids
        )


def _disagrees(
    loaded: Sequence[InboxNotification],
    known: Collection[str],
    marks: ReadMarks,
    *,
    shows_unread: bool,
    complete: bool,
) -> bool:
    """True when a covered loaded row has another read mark than the server's, or a row is missing."""
    for notification in loaded:
        if marks.covers(notification) and notification.is_read == (notification.id in marks.unread_ids):
            return True
    if not shows_unread:
        return False
    # An unread row the view would show but does not have: a frame the watch never delivered, or (in an
    # unread-only view) a row marked unread elsewhere. Older rows than the oldest loaded belong to later pages.
    oldest = min((n.created_at for n in loaded), default=None)
    return any(n.id not in known and (complete or oldest is None or n.created_at >= oldest) for n in marks.unread)


async def check_read_marks(
    client: CoderClient,
    loaded: Sequence[InboxNotification],
    unread_count: int,
    *,
    targets: Iterable[str] = (),
    templates: Iterable[str] = (),
    read_status: str = "all",
    complete: bool = False,
    force: bool = False,
    max_pages: int = MAX_PAGES,
) -> ReadMarks:
    """Compare the loaded rows and the unread count with the server, in as few requests as it can.

    Lists the caller's unread notifications newest first, with the view's template and target filters.
    The first page is the check: when its count equals `unread_count` (what the caller believes, without
    its in-flight changes), every loaded row it covers has the same read mark, and no unread row the view
    should show is missing, it stops there: one request. Otherwise, or with `force`, it keeps listing
    until the oldest loaded row is covered, so every loaded row's read mark is known.

    loaded: the caller's rows, newest first. read_status: the view's filter (a read-only view does not
    show unread rows, so none is missing there). complete: every row of the view is loaded (no older
    page), so an unread row older than the oldest loaded one is missing too.
    """
    target_list = tuple(targets)
    template_list = tuple(templates)
    known = {n.id for n in loaded}
    oldest = min((n.created_at for n in loaded), default=None)
    unread: list[InboxNotification] = []
    seen: set[str] = set()
    count = unread_count
    covered_after: datetime | None = None
    cursor: str | None = None
    pages = 0
    stale = force
    while pages < max_pages:
        page = await client.list_inbox(
            targets=target_list, templates=template_list, read_status="unread", starting_before=cursor
        )
        pages += 1
        count = page.unread_count
        fresh = [n for n in page.notifications if n.id not in seen]
        if pages > 1 and not fresh:
            break  # the cursor was not honoured (its row is gone): what was listed so far stands
        for notification in fresh:
            seen.add(notification.id)
            unread.append(notification)
        full = len(page.notifications) >= PAGE_SIZE
        # The cursor is "strictly older than": a row created at the same moment as the last listed one
        # may be on the next page, so only strictly newer rows are covered.
        covered_after = page.notifications[-1].created_at if full else None
        if not stale:
            marks = ReadMarks(tuple(unread), frozenset(seen), count, covered_after, False, pages)
            stale = count != unread_count or _disagrees(
                loaded, known, marks, shows_unread=read_status != "read", complete=complete
            )
            if not stale:
                break
        if covered_after is None or oldest is None or covered_after < oldest:
            break
        cursor = page.notifications[-1].id
    return ReadMarks(
        unread=tuple(unread),
        unread_ids=frozenset(seen),
        unread_count=count,
        covered_after=covered_after,
        stale=stale,
        pages=pages,
    )
