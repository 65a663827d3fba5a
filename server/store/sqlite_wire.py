"""Inbox rows as Coder's wire JSON straight out of SQLite, for the hot list endpoint.

Building 25 notifications as Python objects and encoding them costs about 0.7 ms per page. Instead each row
keeps its wire JSON, rendered once when it is written by the reference encoder
(`server.wire.inbox_notification_json`): everything but read_at in `wire_head`/`wire_tail`, and
read_at's JSON in `read_at_wire`, rewritten whenever read_at changes. A page is then string concatenation
in SQLite. Rows written before that (NULL `wire_head`) are rendered by the SQL expression below; a test
holds all three paths to the same output.
"""

from __future__ import annotations

from datetime import datetime
from typing import Final

from server.icons import DEFAULT_ICON_OTHER, FALLBACK_ICONS
from server.records import InboxNotification
from server.wire import encode_json, go_time, inbox_notification_json

_READ_AT_NULL = b'"read_at":null'


def wire_parts(n: InboxNotification) -> tuple[str, str]:
    """(head, tail) of the row's wire JSON, split where read_at's value goes."""
    encoded = encode_json({**inbox_notification_json(n), "read_at": None})
    # A literal `"read_at":null` cannot occur inside an encoded string (its quotes would be escaped),
    # and created_at follows it, so the last occurrence is the field itself.
    head, _, tail = encoded.rpartition(_READ_AT_NULL)
    return (head + b'"read_at":').decode(), tail.decode()


def read_at_wire(read_at: datetime | None) -> str | None:
    """read_at's JSON value, or None for SQL NULL (rendered as `null`)."""
    return None if read_at is None else f'"{go_time(read_at)}"'


def _uuid_text(column: str) -> str:
    h = f"lower(hex({column}))"
    return (
        f"substr({h},1,8)||'-'||substr({h},9,4)||'-'||substr({h},13,4)||'-'||substr({h},17,4)||'-'||substr({h},21,12)"
    )


def _go_time(column: str) -> str:
    # Go trims trailing zeros of the fraction, and drops it entirely when zero.
    return (
        f"strftime('%Y-%m-%dT%H:%M:%S', {column} / 1000000, 'unixepoch')"
        f" || CASE WHEN {column} % 1000000 = 0 THEN ''"
        f" ELSE rtrim('.' || printf('%06d', {column} % 1000000), '0') END || 'Z'"
    )


def _icon() -> str:
    by_icon: dict[str, list[str]] = {}
    for template_id, icon in FALLBACK_ICONS.items():
        if icon != DEFAULT_ICON_OTHER:
            by_icon.setdefault(icon, []).append(f"X'{template_id.hex}'")
    whens = " ".join(f"WHEN template_id IN ({', '.join(ids)}) THEN '{icon}'" for icon, ids in sorted(by_icon.items()))
    return f"CASE WHEN icon <> '' THEN icon {whens} ELSE '{DEFAULT_ICON_OTHER}' END"


COMPUTED_WIRE_JSON: Final = (
    "json_object("
    f"'id', {_uuid_text('id')}, "
    f"'user_id', {_uuid_text('user_id')}, "
    f"'template_id', {_uuid_text('template_id')}, "
    "'targets', json(targets), "
    "'title', title, "
    "'content', content, "
    f"'icon', {_icon()}, "
    # A scalar subquery drops SQLite's JSON subtype, hence the json() around it.
    "'actions', json((SELECT json_group_array(json_object("
    "'label', coalesce(json_extract(value, '$.label'), ''), 'url', coalesce(json_extract(value, '$.url'), ''))) "
    "FROM json_each(actions))), "
    f"'read_at', CASE WHEN read_at IS NULL THEN NULL ELSE {_go_time('read_at')} END, "
    f"'created_at', {_go_time('created_at')}"
    ")"
)

INBOX_WIRE_JSON: Final = (
    "CASE WHEN wire_head IS NULL THEN "
    + COMPUTED_WIRE_JSON
    + " ELSE wire_head || coalesce(read_at_wire, 'null') || wire_tail END"
)
