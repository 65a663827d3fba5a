"""The storage interface every backend implements (SQLite by default, PostgreSQL for replicas).

All SQL lives behind this interface, and so does publish/subscribe: the in-process hub for SQLite,
LISTEN/NOTIFY for PostgreSQL. Handlers and the delivery pipeline only talk to a `Store`.

Conventions every backend keeps (tests in tests/server/store hold both to them):
- Timestamps are timezone-aware UTC datetimes with microsecond precision.
- `targets` is None when stored NULL and a tuple (possibly empty) otherwise.
- Inbox listing is newest first by (created_at, id); the cursor is strict on that pair.
- Every write is committed (durable against a process crash) before the awaited call returns.
"""

from __future__ import annotations

import abc
import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Protocol

from server.records import (
    ApiToken,
    InboxFilter,
    InboxNotification,
    NotificationMessage,
    NotificationPreference,
    NotificationTemplate,
    User,
)

PAGE_SIZE = 25

# Reason recorded on a message whose template the user disabled between enqueue and dispatch (both backends).
INHIBITED_REASON = "disabled by user"


class StoreError(Exception):
    """Base class for store failures a handler turns into an HTTP error."""


class UnknownTemplateError(StoreError):
    """A preference named a template id that does not exist (Coder: a foreign-key failure)."""

    def __init__(self, template_ids: Sequence[uuid.UUID]) -> None:
        super().__init__(f"unknown notification template(s): {', '.join(map(str, template_ids))}")
        self.template_ids = tuple(template_ids)


class PubsubUnavailableError(StoreError):
    """Publish/subscribe is down for now (e.g. the LISTEN connection is reconnecting): try again later."""


class DatabaseReplacedError(StoreError):
    """The database file at the configured path is no longer the one this process has open.

    It was removed or replaced under the running server: a write into the old (unlinked) file would be
    acknowledged and then lost, so every write is refused from then on (HTTP 503) until a restart.
    """


class DuplicateUserError(StoreError):
    """A username is already taken."""


class InboxListener(Protocol):
    """What a subscriber to a user's inbox channel receives."""

    def on_notification(self, notification: InboxNotification) -> None:
        """A new inbox notification was delivered to the user. Must not block."""

    def on_lost(self) -> None:
        """The subscription broke (e.g. the LISTEN connection dropped): events may have been missed."""


Unsubscribe = Callable[[], None]


class InboxPubsub(abc.ABC):
    """Publish/subscribe on `inbox_notification:owner:<user uuid>` channels."""

    @abc.abstractmethod
    async def publish(self, notification: InboxNotification) -> None:
        """Publish a newly delivered notification to its owner's channel (after the row is committed)."""

    @abc.abstractmethod
    async def subscribe(self, user_id: uuid.UUID, listener: InboxListener) -> Unsubscribe:
        """Subscribe to one user's channel. Returns once the subscription is live."""


class Store(abc.ABC):
    """Persistent state of one deployment."""

    pubsub: InboxPubsub

    # -- lifecycle ---------------------------------------------------------------------------
    @abc.abstractmethod
    async def open(self) -> None:
        """Connect, run pending migrations and seed the bundled templates (idempotent)."""

    @abc.abstractmethod
    async def close(self) -> None:
        """Flush pending writes and release connections."""

    # -- users and tokens --------------------------------------------------------------------
    @abc.abstractmethod
    async def create_user(
        self, *, username: str, email: str, name: str, roles: Sequence[str], is_system: bool = False
    ) -> User:
        """Create a user; raises DuplicateUserError when the username is taken."""

    @abc.abstractmethod
    async def get_user(self, user_id: uuid.UUID) -> User | None:
        """A user by id, or None."""

    @abc.abstractmethod
    async def get_user_by_username(self, username: str) -> User | None:
        """A user by username (case-insensitive, as Coder), or None."""

    @abc.abstractmethod
    async def list_users(self) -> list[User]:
        """Every user, oldest first."""

    @abc.abstractmethod
    async def delete_user(self, user_id: uuid.UUID) -> bool:
        """Delete a user with their tokens, preferences, messages and inbox. False when unknown."""

    @abc.abstractmethod
    async def create_api_token(self, token: ApiToken) -> None:
        """Store a token (its id and the SHA-256 of its secret)."""

    @abc.abstractmethod
    async def get_api_token(self, token_id: str) -> ApiToken | None:
        """A token by id, or None."""

    @abc.abstractmethod
    async def delete_api_token(self, token_id: str) -> bool:
        """Revoke a token. False when unknown."""

    @abc.abstractmethod
    async def list_api_tokens(self, user_id: uuid.UUID) -> list[ApiToken]:
        """A user's tokens, oldest first."""

    @abc.abstractmethod
    async def touch_api_token(self, token_id: str, when: datetime) -> None:
        """Record that a token was used at `when` (callers throttle this)."""

    # -- inbox notifications -----------------------------------------------------------------
    @abc.abstractmethod
    async def list_inbox(
        self,
        user_id: uuid.UUID,
        flt: InboxFilter,
        *,
        before: InboxNotification | None = None,
        limit: int = PAGE_SIZE,
    ) -> list[InboxNotification]:
        """A user's notifications newest first, filtered, strictly older than `before` (by created_at, id)."""

    async def inbox_page_json(
        self,
        user_id: uuid.UUID,
        flt: InboxFilter,
        *,
        before: InboxNotification | None = None,
        limit: int = PAGE_SIZE,
    ) -> tuple[bytes, int]:
        """One list page as encoded wire JSON (an array of codersdk.InboxNotification) and the unread count.

        The hot path of the list endpoint. This default encodes `list_inbox` rows in Python; a backend may
        build the JSON in the database instead, held to the same bytes by tests.
        """
        from server.wire import encode_json, inbox_notification_json

        rows = await self.list_inbox(user_id, flt, before=before, limit=limit)
        return encode_json([inbox_notification_json(n) for n in rows]), await self.count_unread(user_id)

    @abc.abstractmethod
    async def count_unread(self, user_id: uuid.UUID) -> int:
        """The user's total unread count, ignoring every filter."""

    @abc.abstractmethod
    async def get_inbox_notification(self, notification_id: uuid.UUID) -> InboxNotification | None:
        """One notification by id (any user), or None."""

    @abc.abstractmethod
    async def set_read_at(self, notification_id: uuid.UUID, read_at: datetime | None) -> InboxNotification | None:
        """Set or clear read_at; returns the updated row, or None when unknown."""

    @abc.abstractmethod
    async def mark_all_read(self, user_id: uuid.UUID, read_at: datetime) -> int:
        """Stamp read_at on the user's unread rows only; returns how many changed."""

    @abc.abstractmethod
    async def insert_inbox_notifications(self, notifications: Sequence[InboxNotification]) -> None:
        """Insert rows directly (seeding, benchmarks, tests). Existing ids are left alone."""

    # -- templates ---------------------------------------------------------------------------
    @abc.abstractmethod
    async def list_templates(self, kind: str | None = None) -> list[NotificationTemplate]:
        """Templates of one kind (or all), ordered by name in byte order."""

    @abc.abstractmethod
    async def get_template(self, template_id: uuid.UUID) -> NotificationTemplate | None:
        """One template, or None."""

    @abc.abstractmethod
    async def set_template_method(self, template_id: uuid.UUID, method: str) -> bool | None:
        """Route a template to a method ("" = default). True if changed, False if unchanged, None if unknown."""

    # -- preferences -------------------------------------------------------------------------
    @abc.abstractmethod
    async def get_preferences(self, user_id: uuid.UUID) -> list[NotificationPreference]:
        """Every explicit preference row of the user."""

    @abc.abstractmethod
    async def upsert_preferences(self, user_id: uuid.UUID, disabled: Mapping[uuid.UUID, bool]) -> None:
        """Merge rows in one statement; raises UnknownTemplateError (changing nothing) on an unknown id."""

    # -- deployment settings -----------------------------------------------------------------
    @abc.abstractmethod
    async def get_site_config(self, key: str) -> str | None:
        """The raw stored value of a site_configs key, or None."""

    @abc.abstractmethod
    async def set_site_config(self, key: str, value: str) -> None:
        """Store a site_configs value."""

    # -- notification messages (the delivery queue) ------------------------------------------
    @abc.abstractmethod
    async def enqueue_messages(self, messages: Sequence[NotificationMessage]) -> list[uuid.UUID]:
        """Insert queued messages in one transaction, applying Coder's enqueue rules per message.

        A message is silently skipped when the user disabled its template (explicit row) or the template
        is disabled by default and the user has no row, or when its dedupe_hash already exists.
        Returns the ids that were inserted.
        """

    @abc.abstractmethod
    async def lease_messages(self, *, limit: int, lease_seconds: float, now: datetime) -> list[NotificationMessage]:
        """Lease due messages for dispatch, so that only one notifier delivers each.

        Due: pending, or temporary_failure whose next_retry_after has passed, or leased with an expired
        lease. Messages whose template the user disabled since enqueue are marked inhibited instead.
        """

    async def deliver_inbox(self, message_id: uuid.UUID, notification: InboxNotification) -> bool:
        """`deliver_inbox_many` for one message. False when the row already existed."""
        return (await self.deliver_inbox_many([(message_id, notification)]))[0] is not None

    @abc.abstractmethod
    async def deliver_inbox_many(
        self, deliveries: Sequence[tuple[uuid.UUID, InboxNotification]]
    ) -> list[InboxNotification | None]:
        """Insert inbox rows, mark their messages sent and publish the new rows: all of it or none.

        Rows and their fan-out commit or fail together (PostgreSQL sends the NOTIFY in the insert's
        transaction; in-process subscribers hear of a row once it is committed), so a watcher never misses
        a committed row. `created_at` is monotonic per database: a row is never stamped earlier than 1 µs
        after the newest delivered row (a wall clock stepped back logs a warning), so newest-first order
        and catch-up by "first page holding a known id" hold. Returns, per delivery, the row as stored
        (with its final created_at), or None when it existed already (nothing is published then).
        A failure raises and leaves every message leased, so its lease expiry retries the batch.
        """

    @abc.abstractmethod
    async def renew_leases(self, message_ids: Sequence[uuid.UUID], *, lease_seconds: float, now: datetime) -> int:
        """Extend the lease of messages still leased (a send in flight) to `now + lease_seconds`; how many."""

    @abc.abstractmethod
    async def mark_message_sent(self, message_id: uuid.UUID) -> None:
        """Mark an out-of-band (smtp/webhook) message delivered."""

    @abc.abstractmethod
    async def mark_message_failed(self, message_id: uuid.UUID, reason: str, *, retry_after: datetime | None) -> None:
        """Record a failed attempt: retried after `retry_after`, or a permanent failure when None."""

    @abc.abstractmethod
    async def get_message(self, message_id: uuid.UUID) -> NotificationMessage | None:
        """One message by id (tests and diagnostics)."""

    @abc.abstractmethod
    async def count_messages(self, status: str | None = None) -> int:
        """How many messages are in the queue, optionally with one status."""

    @abc.abstractmethod
    async def purge_messages(self, older_than: datetime) -> int:
        """Delete messages created before `older_than` (Coder keeps 7 days)."""

    # -- health ------------------------------------------------------------------------------
    async def ping(self) -> None:
        """Answer a trivial query, or raise: what `GET /healthz` asks (callers bound the wait)."""
        await self.get_site_config("deployment_id")
