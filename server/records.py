"""Plain records the server passes between the store, the delivery pipeline and the API handlers.

They mirror Coder's database rows, not the wire format: `server.wire` turns them into JSON.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

# Roles as Coder names them.
ROLE_OWNER = "owner"
ROLE_MEMBER = "member"

# Well-known template ids (coderd/notifications/events.go).
TEMPLATE_TEST_NOTIFICATION = uuid.UUID("c425f63e-716a-4bf4-ae24-78348f706c3f")
TEMPLATE_CUSTOM_NOTIFICATION = uuid.UUID("39b1e189-c857-4b0c-877a-511144c18516")
TEMPLATE_ONE_TIME_PASSCODE = uuid.UUID("62f86a30-2330-4b61-a26d-311ff3b608cf")


_ids = random.Random()  # seeded from os.urandom; ids need uniqueness, not secrecy


def new_message_id() -> uuid.UUID:
    """A random (version 4) UUID for a queued message, without a getrandom syscall per id.

    Message ids only need to be unique (they become inbox notification ids); tokens use `secrets`.
    """
    return uuid.UUID(int=_ids.getrandbits(128), version=4)


def now_utc() -> datetime:
    """The current time as Coder's `dbtime.Now()`: UTC, rounded to the microsecond."""
    return datetime.now(UTC)


class NotificationMethod(StrEnum):
    """The `notification_method` enum, in enum order."""

    SMTP = "smtp"
    WEBHOOK = "webhook"
    INBOX = "inbox"


class ReadStatus(StrEnum):
    """The `inbox_notification_read_status` enum."""

    ALL = "all"
    UNREAD = "unread"
    READ = "read"


class MessageStatus(StrEnum):
    """Lifecycle of a `notification_messages` row."""

    PENDING = "pending"
    LEASED = "leased"
    SENT = "sent"
    PERMANENT_FAILURE = "permanent_failure"
    TEMPORARY_FAILURE = "temporary_failure"
    INHIBITED = "inhibited"


@dataclass(frozen=True, slots=True)
class User:
    """A user account (the codersdk.User fields a notifications client needs)."""

    id: uuid.UUID
    username: str
    email: str
    name: str
    roles: tuple[str, ...]
    is_system: bool
    status: str
    created_at: datetime

    @property
    def is_owner(self) -> bool:
        """Site owners may act on anyone's notifications, preferences and the deployment config."""
        return ROLE_OWNER in self.roles


@dataclass(frozen=True, slots=True)
class ApiToken:
    """A session token row: only the SHA-256 of the secret is kept."""

    id: str
    user_id: uuid.UUID
    hashed_secret: bytes
    created_at: datetime
    expires_at: datetime | None = None  # None: never (an explicit `--lifetime 0`)
    last_used: datetime | None = None


@dataclass(frozen=True, slots=True)
class InboxNotification:
    """A row of `inbox_notifications`."""

    id: uuid.UUID
    user_id: uuid.UUID
    template_id: uuid.UUID
    targets: tuple[uuid.UUID, ...] | None
    title: str
    content: str
    icon: str
    actions: tuple[dict[str, str], ...]
    read_at: datetime | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class NotificationTemplate:
    """A row of `notification_templates`. `actions` is the jsonb text as Postgres prints it."""

    id: uuid.UUID
    name: str
    title_template: str
    body_template: str
    actions: str
    group: str
    method: str  # "" means the deployment default
    kind: str
    enabled_by_default: bool


@dataclass(frozen=True, slots=True)
class NotificationPreference:
    """A row of `notification_preferences`: an explicit user choice for one template."""

    template_id: uuid.UUID
    disabled: bool
    updated_at: datetime


@dataclass(slots=True)
class NotificationMessage:
    """A row of `notification_messages`: one queued delivery of one template to one user by one method."""

    id: uuid.UUID
    template_id: uuid.UUID
    user_id: uuid.UUID
    method: NotificationMethod
    payload: dict[str, Any]
    targets: tuple[uuid.UUID, ...] | None
    created_by: str
    dedupe_hash: str
    created_at: datetime
    status: MessageStatus = MessageStatus.PENDING
    attempt_count: int = 0
    next_retry_after: datetime | None = None
    status_reason: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class InboxFilter:
    """The list/watch filters (spec section 4)."""

    targets: tuple[uuid.UUID, ...] = ()
    templates: tuple[uuid.UUID, ...] = ()
    read_status: ReadStatus = ReadStatus.ALL

    def matches(self, notification: InboxNotification) -> bool:
        """The in-memory filter a watcher applies to each new notification (spec 5.3)."""
        if self.targets:
            have = set(notification.targets or ())
            if not all(t in have for t in self.targets):
                return False
        if self.templates and notification.template_id not in self.templates:
            return False
        return not (self.read_status is ReadStatus.READ and notification.read_at is None)
