"""Catch up after a reconnect: list pages newest first until known items are reached.

The watch socket replays nothing, so whatever arrived while it was down is only visible through the list
endpoint. `resync` walks pages with the `starting_before` cursor and stops at the first page that holds
an id the caller already has (or at a short page, the end of the inbox), returning only the unknown
notifications, without duplicates, plus the fresh unread count. `merge_newest_first` folds them in.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass

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
