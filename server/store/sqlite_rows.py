"""SQLite value conversion and row mapping: records to parameters and rows to records (see
migrations/sqlite/0001_init.sql: uuids are 16-byte BLOBs, timestamps integer microseconds since the epoch)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from server.records import (
    ApiToken,
    InboxNotification,
    MessageStatus,
    NotificationMessage,
    NotificationMethod,
    NotificationTemplate,
    User,
)
from server.store.sqlite_wire import read_at_wire, wire_parts

_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_US: Final = timedelta(microseconds=1)


# -- value conversion -------------------------------------------------------------------------------
def to_us(value: datetime) -> int:
    """Microseconds since the epoch; a naive datetime is taken as UTC."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return (value - _EPOCH) // _ONE_US


def from_us(value: int) -> datetime:
    """An aware UTC datetime from microseconds since the epoch (exact, no float rounding)."""
    return _EPOCH + timedelta(microseconds=value)


def opt_us(value: datetime | None) -> int | None:
    return None if value is None else to_us(value)


def opt_dt(value: int | None) -> datetime | None:
    return None if value is None else from_us(value)


def targets_json(targets: Sequence[uuid.UUID] | None) -> str | None:
    # Canonical lowercase strings, quoted: the targets filter relies on this exact spelling.
    if targets is None:
        return None
    return json.dumps([str(t) for t in targets])


def targets_from_json(text: str | None) -> tuple[uuid.UUID, ...] | None:
    if text is None:
        return None
    return tuple(uuid.UUID(t) for t in json.loads(text))


def as_uuid(blob: bytes) -> uuid.UUID:
    return uuid.UUID(bytes=blob)


# -- row mapping ------------------------------------------------------------------------------------
USER_COLS: Final = "id, username, email, name, roles, is_system, status, created_at"
INBOX_COLS: Final = "id, user_id, template_id, targets, title, content, icon, actions, read_at, created_at"
TEMPLATE_COLS: Final = 'id, name, title_template, body_template, actions, "group", method, kind, enabled_by_default'
MESSAGE_COLS: Final = (
    "id, template_id, user_id, method, payload, targets, created_by, dedupe_hash, created_at, status,"
    " attempt_count, next_retry_after, status_reason, extra"
)


def user_from_row(row: Sequence[Any]) -> User:
    return User(
        id=as_uuid(row[0]),
        username=row[1],
        email=row[2],
        name=row[3],
        roles=tuple(json.loads(row[4])),
        is_system=bool(row[5]),
        status=row[6],
        created_at=from_us(row[7]),
    )


TOKEN_COLS: Final = "id, user_id, hashed_secret, created_at, expires_at, last_used"


def token_from_row(row: Sequence[Any]) -> ApiToken:
    return ApiToken(
        id=row[0],
        user_id=as_uuid(row[1]),
        hashed_secret=bytes(row[2]),
        created_at=from_us(row[3]),
        expires_at=opt_dt(row[4]),
        last_used=opt_dt(row[5]),
    )


def inbox_from_row(row: Sequence[Any]) -> InboxNotification:
    return InboxNotification(
        id=as_uuid(row[0]),
        user_id=as_uuid(row[1]),
        template_id=as_uuid(row[2]),
        targets=targets_from_json(row[3]),
        title=row[4],
        content=row[5],
        icon=row[6],
        actions=tuple(json.loads(row[7])),
        read_at=opt_dt(row[8]),
        created_at=from_us(row[9]),
    )


def inbox_params(n: InboxNotification) -> tuple[Any, ...]:
    head, tail = wire_parts(n)
    return (
        n.id.bytes,
        n.user_id.bytes,
        n.template_id.bytes,
        targets_json(n.targets),
        n.title,
        n.content,
        n.icon,
        json.dumps(list(n.actions)),
        opt_us(n.read_at),
        to_us(n.created_at),
        head,
        tail,
        read_at_wire(n.read_at),
    )


def template_from_row(row: Sequence[Any]) -> NotificationTemplate:
    return NotificationTemplate(
        id=as_uuid(row[0]),
        name=row[1],
        title_template=row[2],
        body_template=row[3],
        actions=row[4],
        group=row[5],
        method=row[6] or "",
        kind=row[7],
        enabled_by_default=bool(row[8]),
    )


def message_from_row(row: Sequence[Any]) -> NotificationMessage:
    return NotificationMessage(
        id=as_uuid(row[0]),
        template_id=as_uuid(row[1]),
        user_id=as_uuid(row[2]),
        method=NotificationMethod(row[3]),
        payload=json.loads(row[4]),
        targets=targets_from_json(row[5]),
        created_by=row[6],
        dedupe_hash=row[7] or "",
        created_at=from_us(row[8]),
        status=MessageStatus(row[9]),
        attempt_count=row[10],
        next_retry_after=opt_dt(row[11]),
        status_reason=row[12],
        extra=json.loads(row[13]),
    )
