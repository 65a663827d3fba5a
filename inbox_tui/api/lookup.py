"""Ids as people type them: unique prefixes of notification ids, and template names (no Textual here).

The API takes only whole UUIDs (`400 Invalid UUID` otherwise). People copy the first eight characters
of an id from `inbox-tui list`, and know templates by name ("Custom Notification"), so the commands
resolve what was typed first:

- a whole UUID is passed on as it is, with no request (the server says whether it exists);
- a notification id prefix (hex digits, dashes allowed) is matched against the caller's whole inbox,
  read and unread, paging to the end: a prefix is unique only if no older page holds another match;
- a template is a whole id, else a name (case-insensitive, runs of spaces count as one), else a prefix
  of an id, matched against the system and custom templates.

No match and more than one match are `IdLookupError`s that say what was typed and, for an ambiguous
one, list the candidates.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from inbox_tui.api.models import InboxNotification
from inbox_tui.text import clean_line

if TYPE_CHECKING:
    from inbox_tui.api.client import CoderClient
    from inbox_tui.api.more_models import NotificationTemplate  # loaded after the first frame (issue 11)

PAGE_SIZE = 25  # the server's fixed page size: a shorter page is the last one
MAX_CANDIDATES = 10  # an ambiguous prefix lists at most this many, then says how many more
_HEX_PREFIX = re.compile(r"[0-9a-f][0-9a-f-]*")


class IdLookupError(Exception):
    """What was typed names no notification or template, or more than one; the message says which."""


def is_uuid(value: str) -> bool:
    """True for a whole UUID as the API takes it (36 characters with dashes, or 32 hex digits)."""
    text = value.strip()
    if len(text) not in (32, 36):
        return False
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


def _candidates(lines: Sequence[str]) -> str:
    shown = [f"  {line}" for line in lines[:MAX_CANDIDATES]]
    if len(lines) > MAX_CANDIDATES:
        shown.append(f"  ... and {len(lines) - MAX_CANDIDATES} more")
    return "\n".join(shown)


def _notification_line(notification: InboxNotification) -> str:
    status = "read" if notification.is_read else "unread"
    return f"{notification.id}  {status:<6}  {clean_line(notification.title)}"


async def _whole_inbox(client: CoderClient) -> list[InboxNotification]:
    """Every notification of the caller, newest first (one request per 25)."""
    found: list[InboxNotification] = []
    seen: set[str] = set()
    cursor: str | None = None
    while True:
        page = await client.list_inbox(starting_before=cursor)
        fresh = [n for n in page.notifications if n.id not in seen]
        seen.update(n.id for n in fresh)
        found.extend(fresh)
        if len(page.notifications) < PAGE_SIZE or not fresh:
            return found
        cursor = page.notifications[-1].id


def match_notification_prefix(prefix: str, inbox: Iterable[InboxNotification]) -> list[InboxNotification]:
    """The notifications whose id starts with `prefix` (case-insensitive)."""
    wanted = prefix.strip().lower()
    return [n for n in inbox if n.id.lower().startswith(wanted)]


async def resolve_notification_ids(client: CoderClient, values: Sequence[str]) -> list[str]:
    """Whole notification ids for `values` (whole ids or unique prefixes), in the same order.

    Reads the inbox only when some value is a prefix. Raises IdLookupError naming every value that
    matches nothing or more than one notification (ApiError/ConnectionFailed from the listing pass through).
    """
    problems: list[str] = []
    prefixes: list[str] = []
    for value in values:
        text = value.strip()
        if is_uuid(text):
            continue
        if not _HEX_PREFIX.fullmatch(text.lower()):
            problems.append(f'"{text}" is not a notification id or the start of one (hex digits)')
        else:
            prefixes.append(text)
    if problems:
        raise IdLookupError("\n".join(problems))
    if not prefixes:
        return [value.strip() for value in values]
    inbox = await _whole_inbox(client)
    resolved: dict[str, str] = {}
    for prefix in prefixes:
        matches = match_notification_prefix(prefix, inbox)
        if not matches:
            problems.append(f'no notification id starts with "{prefix}"')
        elif len(matches) > 1:
            problems.append(
                f'"{prefix}" is the start of {len(matches)} notification ids; type more of it:\n'
                + _candidates([_notification_line(n) for n in matches])
            )
        else:
            resolved[prefix] = matches[0].id
    if problems:
        raise IdLookupError("\n".join(problems))
    return [resolved.get(value.strip(), value.strip()) for value in values]


def _name_key(name: str) -> str:
    return " ".join(name.split()).casefold()


def match_template(value: str, templates: Iterable[NotificationTemplate]) -> list[NotificationTemplate]:
    """The templates `value` names: by whole id, else by name (case-insensitive), else by id prefix."""
    text = value.strip()
    every = list(templates)
    if is_uuid(text):
        return [t for t in every if t.id.lower() == text.lower()]
    by_name = [t for t in every if _name_key(t.name) == _name_key(text)]
    if by_name or not _HEX_PREFIX.fullmatch(text.lower()):
        return by_name
    return [t for t in every if t.id.lower().startswith(text.lower())]


async def resolve_template_ids(client: CoderClient, values: Sequence[str]) -> list[str]:
    """Whole template ids for `values` (ids, names or id prefixes), in the same order.

    Reads the templates only when some value is not a whole id. Raises IdLookupError naming every value
    that matches no template or more than one.
    """
    if all(is_uuid(value) for value in values):
        return [value.strip() for value in values]
    templates = await client.templates()
    out: list[str] = []
    problems: list[str] = []
    for value in values:
        text = value.strip()
        if is_uuid(text):
            out.append(text)  # an id the server does not list may still be one it filters on
            continue
        matches = match_template(text, templates)
        if not matches:
            problems.append(f'no template is named "{text}" (`inbox-tui templates` lists them)')
        elif len(matches) > 1:
            problems.append(
                f'"{text}" matches {len(matches)} templates; use an id:\n'
                + _candidates([f"{t.id}  {clean_line(t.name)}" for t in matches])
            )
        else:
            out.append(matches[0].id)
    if problems:
        raise IdLookupError("\n".join(problems))
    return out
