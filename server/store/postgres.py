"""PostgreSQL backend: several `inbox-server` replicas over one database, as Coder runs coderd.

psycopg 3 (async) with a connection pool; LISTEN/NOTIFY pub/sub in `server.store.pg_pubsub`. The schema is
Coder's (spec 2.2), created by versioned migrations in `migrations/postgres/NNNN_name.sql`, recorded in
`schema_migrations` and applied under an advisory lock so replicas starting together don't race.
"""

from __future__ import annotations

import json
import logging
import os
import select
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

try:
    import psycopg
    from psycopg import errors as pg_errors
    from psycopg import sql
    from psycopg.conninfo import conninfo_to_dict
    from psycopg.types.json import Jsonb
    from psycopg_pool import AsyncConnectionPool, PoolTimeout
except ImportError as exc:  # pragma: no cover - depends on the installation
    raise ImportError(
        "PostgreSQL support needs the 'postgres' extra (psycopg 3 and psycopg_pool): pip install 'inbox-tui[postgres]'"
    ) from exc

from server.bundled import migrations, template_rows
from server.records import (
    ApiToken,
    InboxFilter,
    InboxNotification,
    MessageStatus,
    NotificationMessage,
    NotificationMethod,
    NotificationPreference,
    NotificationTemplate,
    ReadStatus,
    User,
    now_utc,
)
from server.store.base import (
    INHIBITED_REASON,
    PAGE_SIZE,
    DuplicateUserError,
    Store,
    StoreError,
    UnknownTemplateError,
)
from server.store.faults import INBOX_ROWS_WRITTEN, fault_point
from server.store.inbox_clock import InboxClock
from server.store.pg_pubsub import PgInboxPubsub

log = logging.getLogger(__name__)

# pg_advisory_lock key serialising migrations and template seeding across replicas ("inbox-mg").
MIGRATION_LOCK_KEY = 0x696E626F782D6D67

POOL_MIN = 2
POOL_MAX = 16
PING_POOL_TIMEOUT = 0.9  # inside the health check's one second, so its answer names the cause

_INBOX_COLS = "id, user_id, template_id, targets, title, content, icon, actions, read_at, created_at"
_USER_COLS = "id, username, email, name, roles, is_system, status, created_at"
_TEMPLATE_COLS = (
    "id, name, title_template, body_template, actions::text, COALESCE(\"group\", ''), "
    "COALESCE(method::text, ''), kind::text, enabled_by_default"
)
_MESSAGE_COLS_OF = (
    "{m}id, {m}notification_template_id, {m}user_id, {m}method::text, {m}payload, {m}targets, {m}created_by,"
    " COALESCE({m}dedupe_hash, ''), {m}created_at, {m}status::text, {m}attempt_count, {m}next_retry_after,"
    " {m}status_reason, {m}extra"
)
_MESSAGE_COLS = _MESSAGE_COLS_OF.format(m="")

# Coder's inhibit_enqueue_if_disabled rule (spec 10): an explicit disabled row, or a template that is off
# by default and no row at all. `m` names the message (its user and template).
_DISABLED_FOR = """
    EXISTS (
        SELECT 1 FROM notification_templates t
        LEFT JOIN notification_preferences p
          ON p.notification_template_id = t.id AND p.user_id = {user}
        WHERE t.id = {template}
          AND (p.disabled IS TRUE OR (p.user_id IS NULL AND NOT t.enabled_by_default))
    )
"""


_TOKEN_COLS = "id, user_id, hashed_secret, created_at, expires_at, last_used"


def _token(row: Sequence[Any]) -> ApiToken:
    return ApiToken(
        id=row[0],
        user_id=row[1],
        hashed_secret=bytes(row[2]),
        created_at=_utc(row[3]),
        expires_at=None if row[4] is None else _utc(row[4]),
        last_used=None if row[5] is None else _utc(row[5]),
    )


def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


def _targets(value: list[uuid.UUID] | None) -> tuple[uuid.UUID, ...] | None:
    return None if value is None else tuple(value)


def _inbox(row: Sequence[Any]) -> InboxNotification:
    return InboxNotification(
        id=row[0],
        user_id=row[1],
        template_id=row[2],
        targets=_targets(row[3]),
        title=row[4],
        content=row[5],
        icon=row[6],
        actions=tuple(dict(a) for a in row[7]),
        read_at=None if row[8] is None else _utc(row[8]),
        created_at=_utc(row[9]),
    )


def _user(row: Sequence[Any]) -> User:
    return User(
        id=row[0],
        username=row[1],
        email=row[2],
        name=row[3],
        roles=tuple(row[4]),
        is_system=row[5],
        status=row[6],
        created_at=_utc(row[7]),
    )


def _template(row: Sequence[Any]) -> NotificationTemplate:
    return NotificationTemplate(
        id=row[0],
        name=row[1],
        title_template=row[2],
        body_template=row[3],
        actions=row[4],
        group=row[5],
        method=row[6],
        kind=row[7],
        enabled_by_default=row[8],
    )


def _message(row: Sequence[Any]) -> NotificationMessage:
    return NotificationMessage(
        id=row[0],
        template_id=row[1],
        user_id=row[2],
        method=NotificationMethod(row[3]),
        payload=row[4],
        targets=_targets(row[5]),
        created_by=row[6],
        dedupe_hash=row[7],
        created_at=_utc(row[8]),
        status=MessageStatus(row[9]),
        attempt_count=row[10],
        next_retry_after=None if row[11] is None else _utc(row[11]),
        status_reason=row[12],
        extra=row[13],
    )


def _is_select(query: Any) -> bool:
    """Whether a statement only reads (our SELECTs never call functions with side effects)."""
    text = query.as_string() if isinstance(query, sql.Composable) else str(query)
    return text.lstrip().upper().startswith("SELECT ")


def _uuid_list(values: Sequence[uuid.UUID] | None) -> list[uuid.UUID] | None:
    return None if values is None else list(values)


class PostgresStore(Store):
    """The store on PostgreSQL: pooled connections and one LISTEN connection per process."""

    pubsub: PgInboxPubsub

    def __init__(self, dsn: str, *, min_size: int = POOL_MIN, max_size: int = POOL_MAX) -> None:
        self.dsn = dsn
        self._pool = AsyncConnectionPool(
            dsn,
            min_size=min_size,
            max_size=max_size,
            open=False,
            kwargs=self._connect_kwargs(dsn),
            configure=self._configure,
            # A replica must survive a database restart: hand out only connections that still work.
            check=self._check_idle,
            name="inbox-store",
        )
        self.pubsub = PgInboxPubsub(dsn, self._pool, self.get_inbox_notification)
        self._clock = InboxClock()

    @staticmethod
    def _connect_kwargs(dsn: str) -> dict[str, Any]:
        try:
            given = conninfo_to_dict(dsn)
        except psycopg.ProgrammingError as exc:
            raise StoreError(f"invalid PostgreSQL URL: {exc}") from None
        kwargs: dict[str, Any] = {"autocommit": True}
        if "application_name" not in given:
            kwargs["application_name"] = f"inbox-server {os.getpid()}"
        if "connect_timeout" not in given:
            kwargs["connect_timeout"] = 10
        return kwargs

    @staticmethod
    async def _check_idle(conn: psycopg.AsyncConnection[Any]) -> None:
        """Refuse a pooled connection the server has closed, without a round trip.

        An idle connection receives nothing unless the server ends it (a FATAL message, then EOF: a
        restart, pg_terminate_backend, an idle timeout), so a readable socket means "discard". This is what
        `check_connection` finds out too, but it costs a query on every checkout.
        """
        if conn.closed or conn.broken:
            raise psycopg.OperationalError("connection is closed")
        readable, _, _ = select.select([conn.fileno()], [], [], 0)
        if readable:
            await conn.close()  # so the pool sees it broken and replaces it instead of trying it again
            raise psycopg.OperationalError("connection was closed by the server")

    @staticmethod
    async def _configure(conn: psycopg.AsyncConnection[Any]) -> None:
        # Timestamps come back in UTC, as the interface promises.
        await conn.execute("SET TIME ZONE 'UTC'")

    # -- lifecycle ---------------------------------------------------------------------------
    async def open(self) -> None:
        """Connect, migrate, seed the templates and start the listener connection."""
        # One direct connection first, so an unreachable server, a wrong password or a missing database
        # is reported as what it is rather than as a pool timeout.
        try:
            probe = await psycopg.AsyncConnection.connect(self.dsn, **self._connect_kwargs(self.dsn))
        except psycopg.OperationalError as exc:
            raise StoreError(f"cannot connect to PostgreSQL: {str(exc).strip()}") from exc
        await probe.close()
        await self._pool.open(wait=True, timeout=30.0)
        try:
            await self._migrate()
            await self.pubsub.start()
        except BaseException:
            await self.close()
            raise

    async def close(self) -> None:
        """Finish deliveries in flight, stop the listener and close every pooled connection."""
        await self.pubsub.close()
        await self._pool.close()

    async def _migrate(self) -> None:
        async with self._pool.connection() as conn:
            # Session-level lock: held across the per-migration transactions, released in finally (or
            # by the server if this connection dies), so concurrent replicas migrate one at a time.
            await conn.execute("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK_KEY,))
            try:
                await conn.execute(
                    "CREATE TABLE IF NOT EXISTS schema_migrations ("
                    " version integer PRIMARY KEY, name text NOT NULL,"
                    " applied_at timestamptz NOT NULL DEFAULT now())"
                )
                cur = await conn.execute("SELECT version FROM schema_migrations")
                applied = {row[0] for row in await cur.fetchall()}
                for version, name, text in migrations("postgres"):
                    if version in applied:
                        continue
                    log.info("applying migration %s", name)
                    async with conn.transaction():
                        await conn.execute(text.encode())  # no parameters: several statements allowed
                        await conn.execute(
                            "INSERT INTO schema_migrations (version, name) VALUES (%s, %s)", (version, name)
                        )
                await self._seed_templates(conn)
            finally:
                await conn.execute("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK_KEY,))

    @staticmethod
    async def _seed_templates(conn: psycopg.AsyncConnection[Any]) -> None:
        """Upsert the bundled templates; a method an owner chose is kept."""
        rows = [
            (
                uuid.UUID(t["id"]),
                t["name"],
                t["title_template"],
                t["body_template"],
                t["actions"],
                t.get("group") or None,
                t.get("method") or None,
                t["kind"],
                bool(t["enabled_by_default"]),
            )
            for t in template_rows()
        ]
        async with conn.transaction(), conn.cursor() as cur:
            await cur.executemany(
                "INSERT INTO notification_templates (id, name, title_template, body_template, actions,"
                ' "group", method, kind, enabled_by_default)'
                " VALUES (%s, %s, %s, %s, %s::jsonb, %s, %s::notification_method,"
                " %s::notification_template_kind, %s)"
                " ON CONFLICT (id) DO UPDATE SET name = excluded.name,"
                " title_template = excluded.title_template, body_template = excluded.body_template,"
                ' actions = excluded.actions, "group" = excluded."group", kind = excluded.kind,'
                " enabled_by_default = excluded.enabled_by_default,"
                # A method an owner routed the template to wins over the shipped one.
                " method = COALESCE(notification_templates.method, excluded.method)",
                rows,
            )

    # -- small helpers -----------------------------------------------------------------------
    async def _read(self, query: Any, params: Sequence[Any] | Mapping[str, Any], *, one: bool) -> Any:
        """Run a statement; a plain SELECT is retried once on a connection that broke under it.

        A database restart breaks every pooled connection at once; retrying a read on a fresh (checked)
        connection keeps API reads in flight from failing. Writes are never retried here: a broken
        connection leaves their outcome unknown.
        """
        for attempt in (1, 2):
            try:
                async with self._pool.connection() as conn:
                    cur = await conn.execute(query, params)
                    return await (cur.fetchone() if one else cur.fetchall())
            except psycopg.OperationalError as exc:
                if attempt == 2 or isinstance(exc, PoolTimeout) or not _is_select(query):
                    raise
                log.warning("retrying a read after a broken connection: %s", exc)
        raise AssertionError("unreachable")

    async def _fetchone(self, query: Any, params: Sequence[Any] | Mapping[str, Any] = ()) -> Any:
        return await self._read(query, params, one=True)

    async def _fetchall(self, query: Any, params: Sequence[Any] | Mapping[str, Any] = ()) -> list[Any]:
        rows: list[Any] = await self._read(query, params, one=False)
        return rows

    async def _rowcount(self, query: Any, params: Sequence[Any] | Mapping[str, Any] = ()) -> int:
        async with self._pool.connection() as conn:
            cur = await conn.execute(query, params)
            return cur.rowcount

    # -- users and tokens --------------------------------------------------------------------
    async def create_user(
        self, *, username: str, email: str, name: str, roles: Sequence[str], is_system: bool = False
    ) -> User:
        """Create a user; raises DuplicateUserError when the username is taken (case-insensitively)."""
        user = User(
            id=uuid.uuid4(),
            username=username,
            email=email,
            name=name,
            roles=tuple(roles),
            is_system=is_system,
            status="active",
            created_at=now_utc(),
        )
        try:
            await self._rowcount(
                f"INSERT INTO users ({_USER_COLS}) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
                (
                    user.id,
                    user.username,
                    user.email,
                    user.name,
                    list(user.roles),
                    user.is_system,
                    user.status,
                    user.created_at,
                ),
            )
        except pg_errors.UniqueViolation:
            raise DuplicateUserError(f"username {username!r} is already taken") from None
        return user

    async def get_user(self, user_id: uuid.UUID) -> User | None:
        """A user by id, or None."""
        row = await self._fetchone(f"SELECT {_USER_COLS} FROM users WHERE id = %s", (user_id,))
        return None if row is None else _user(row)

    async def get_user_by_username(self, username: str) -> User | None:
        """A user by username, case-insensitively."""
        row = await self._fetchone(f"SELECT {_USER_COLS} FROM users WHERE lower(username) = lower(%s)", (username,))
        return None if row is None else _user(row)

    async def list_users(self) -> list[User]:
        """Every user, oldest first."""
        rows = await self._fetchall(f"SELECT {_USER_COLS} FROM users ORDER BY created_at, id")
        return [_user(r) for r in rows]

    async def delete_user(self, user_id: uuid.UUID) -> bool:
        """Delete a user; foreign keys cascade to tokens, preferences, messages and inbox rows."""
        return await self._rowcount("DELETE FROM users WHERE id = %s", (user_id,)) > 0

    async def create_api_token(self, token: ApiToken) -> None:
        """Store a token (its id and the SHA-256 of its secret)."""
        try:
            await self._rowcount(
                "INSERT INTO api_keys (id, user_id, hashed_secret, created_at, expires_at, last_used)"
                " VALUES (%s, %s, %s, %s, %s, %s)",
                (token.id, token.user_id, token.hashed_secret, token.created_at, token.expires_at, token.last_used),
            )
        except psycopg.IntegrityError as exc:  # the id is taken, or the user is gone
            raise StoreError(f"cannot store token {token.id}: {exc}") from exc

    async def get_api_token(self, token_id: str) -> ApiToken | None:
        """A token by id, or None."""
        row = await self._fetchone(f"SELECT {_TOKEN_COLS} FROM api_keys WHERE id = %s", (token_id,))
        return None if row is None else _token(row)

    async def delete_api_token(self, token_id: str) -> bool:
        """Revoke a token. False when unknown."""
        return await self._rowcount("DELETE FROM api_keys WHERE id = %s", (token_id,)) > 0

    async def list_api_tokens(self, user_id: uuid.UUID) -> list[ApiToken]:
        """A user's tokens, oldest first."""
        rows = await self._fetchall(
            f"SELECT {_TOKEN_COLS} FROM api_keys WHERE user_id = %s ORDER BY created_at, id", (user_id,)
        )
        return [_token(r) for r in rows]

    async def touch_api_token(self, token_id: str, when: datetime) -> None:
        """Record that a token was used at `when` (callers throttle this)."""
        await self._rowcount("UPDATE api_keys SET last_used = %s WHERE id = %s", (when, token_id))

    # -- inbox notifications -----------------------------------------------------------------
    async def list_inbox(
        self,
        user_id: uuid.UUID,
        flt: InboxFilter,
        *,
        before: InboxNotification | None = None,
        limit: int = PAGE_SIZE,
    ) -> list[InboxNotification]:
        """Newest first by (created_at, id); targets contain ALL given, template is ANY given."""
        where = [sql.SQL("user_id = %(user)s")]
        params: dict[str, Any] = {"user": user_id, "limit": limit}
        if flt.targets:
            where.append(sql.SQL("targets @> %(targets)s::uuid[]"))  # NULL targets never match
            params["targets"] = list(flt.targets)
        if flt.templates:
            where.append(sql.SQL("template_id = ANY(%(templates)s::uuid[])"))
            params["templates"] = list(flt.templates)
        if flt.read_status is ReadStatus.READ:
            where.append(sql.SQL("read_at IS NOT NULL"))
        elif flt.read_status is ReadStatus.UNREAD:
            where.append(sql.SQL("read_at IS NULL"))
        if before is not None:
            where.append(sql.SQL("(created_at, id) < (%(b_created)s, %(b_id)s)"))
            params["b_created"] = before.created_at
            params["b_id"] = before.id
        query = sql.SQL(
            "SELECT {cols} FROM inbox_notifications WHERE {where} ORDER BY created_at DESC, id DESC LIMIT %(limit)s"
        ).format(cols=sql.SQL(_INBOX_COLS), where=sql.SQL(" AND ").join(where))
        return [_inbox(r) for r in await self._fetchall(query, params)]

    async def count_unread(self, user_id: uuid.UUID) -> int:
        """The user's total unread count, ignoring every filter."""
        row = await self._fetchone(
            "SELECT count(*) FROM inbox_notifications WHERE user_id = %s AND read_at IS NULL", (user_id,)
        )
        return int(row[0])

    async def get_inbox_notification(self, notification_id: uuid.UUID) -> InboxNotification | None:
        """One notification by id (any user), or None."""
        row = await self._fetchone(f"SELECT {_INBOX_COLS} FROM inbox_notifications WHERE id = %s", (notification_id,))
        return None if row is None else _inbox(row)

    async def set_read_at(self, notification_id: uuid.UUID, read_at: datetime | None) -> InboxNotification | None:
        """Set or clear read_at; the updated row, or None when unknown."""
        row = await self._fetchone(
            f"UPDATE inbox_notifications SET read_at = %s WHERE id = %s RETURNING {_INBOX_COLS}",
            (read_at, notification_id),
        )
        return None if row is None else _inbox(row)

    async def mark_all_read(self, user_id: uuid.UUID, read_at: datetime) -> int:
        """Stamp read_at on unread rows only: rows already read keep their time."""
        return await self._rowcount(
            "UPDATE inbox_notifications SET read_at = %s WHERE user_id = %s AND read_at IS NULL",
            (read_at, user_id),
        )

    @staticmethod
    def _inbox_params(n: InboxNotification) -> tuple[Any, ...]:
        return (
            n.id,
            n.user_id,
            n.template_id,
            _uuid_list(n.targets),
            n.title,
            n.content,
            n.icon,
            Jsonb([dict(a) for a in n.actions]),
            n.read_at,
            n.created_at,
        )

    _INSERT_INBOX = (
        f"INSERT INTO inbox_notifications ({_INBOX_COLS})"
        " VALUES (%s, %s, %s, %s::uuid[], %s, %s, %s, %s, %s, %s) ON CONFLICT (id) DO NOTHING"
    )

    async def insert_inbox_notifications(self, notifications: Sequence[InboxNotification]) -> None:
        """Insert rows directly in one transaction; existing ids are left alone."""
        if not notifications:
            return
        async with self._pool.connection() as conn, conn.transaction(), conn.cursor() as cur:
            await cur.executemany(self._INSERT_INBOX, [self._inbox_params(n) for n in notifications])
            # Deliveries after these rows sort above them (GREATEST ignores a NULL clock).
            await cur.execute(
                "UPDATE inbox_clock SET last_created_at = GREATEST(last_created_at, %s)",
                (max(n.created_at for n in notifications),),
            )

    # -- templates ---------------------------------------------------------------------------
    async def list_templates(self, kind: str | None = None) -> list[NotificationTemplate]:
        """Templates of one kind (or all), by name in byte order (C collation) as Coder's Postgres."""
        if kind is None:
            rows = await self._fetchall(
                f'SELECT {_TEMPLATE_COLS} FROM notification_templates ORDER BY name COLLATE "C", id'
            )
        else:
            rows = await self._fetchall(
                f"SELECT {_TEMPLATE_COLS} FROM notification_templates WHERE kind::text = %s"
                ' ORDER BY name COLLATE "C", id',
                (kind,),
            )
        return [_template(r) for r in rows]

    async def get_template(self, template_id: uuid.UUID) -> NotificationTemplate | None:
        """One template, or None."""
        row = await self._fetchone(f"SELECT {_TEMPLATE_COLS} FROM notification_templates WHERE id = %s", (template_id,))
        return None if row is None else _template(row)

    async def set_template_method(self, template_id: uuid.UUID, method: str) -> bool | None:
        """Route a template to a method ("" = the deployment default)."""
        if method and method not in {m.value for m in NotificationMethod}:
            raise StoreError(f"invalid notification method {method!r}")
        async with self._pool.connection() as conn, conn.transaction():
            cur = await conn.execute(
                "SELECT COALESCE(method::text, '') FROM notification_templates WHERE id = %s FOR UPDATE",
                (template_id,),
            )
            row = await cur.fetchone()
            if row is None:
                return None
            if row[0] == method:
                return False
            await conn.execute(
                "UPDATE notification_templates SET method = NULLIF(%s, '')::notification_method WHERE id = %s",
                (method, template_id),
            )
            return True

    # -- preferences -------------------------------------------------------------------------
    async def get_preferences(self, user_id: uuid.UUID) -> list[NotificationPreference]:
        """Every explicit preference row of the user."""
        rows = await self._fetchall(
            "SELECT notification_template_id, disabled, updated_at FROM notification_preferences"
            " WHERE user_id = %s ORDER BY notification_template_id",
            (user_id,),
        )
        return [NotificationPreference(template_id=r[0], disabled=r[1], updated_at=_utc(r[2])) for r in rows]

    async def upsert_preferences(self, user_id: uuid.UUID, disabled: Mapping[uuid.UUID, bool]) -> None:
        """One upsert of every pair; an unknown template id fails the whole statement (nothing changes)."""
        if not disabled:
            return
        ids = list(disabled)
        flags = [bool(disabled[i]) for i in ids]
        try:
            async with self._pool.connection() as conn:
                await conn.execute(
                    "INSERT INTO notification_preferences"
                    " (user_id, notification_template_id, disabled, created_at, updated_at)"
                    " SELECT %s, t, d, now(), now() FROM unnest(%s::uuid[], %s::boolean[]) AS u(t, d)"
                    " ON CONFLICT (user_id, notification_template_id)"
                    " DO UPDATE SET disabled = excluded.disabled, updated_at = now()",
                    (user_id, ids, flags),
                )
                return
        except pg_errors.ForeignKeyViolation:
            pass  # one statement, so nothing changed; now find out which ids were at fault
        rows = await self._fetchall(
            "SELECT u.t FROM unnest(%s::uuid[]) AS u(t)"
            " WHERE NOT EXISTS (SELECT 1 FROM notification_templates t WHERE t.id = u.t)",
            (ids,),
        )
        missing = [r[0] for r in rows]
        if not missing:  # the user vanished rather than a template
            raise StoreError(f"unknown user {user_id}")
        raise UnknownTemplateError(missing)

    # -- deployment settings -----------------------------------------------------------------
    async def get_site_config(self, key: str) -> str | None:
        """The raw stored value of a site_configs key, or None."""
        row = await self._fetchone("SELECT value FROM site_configs WHERE key = %s", (key,))
        return None if row is None else str(row[0])

    async def set_site_config(self, key: str, value: str) -> None:
        """Store a site_configs value."""
        await self._rowcount(
            "INSERT INTO site_configs (key, value) VALUES (%s, %s)"
            " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    # -- notification messages (the delivery queue) ------------------------------------------
    # One statement for the whole batch (one round trip, atomic without BEGIN/COMMIT): the messages
    # travel as one jsonb array, are inserted in their given order (so the first of two duplicates wins),
    # skipped by Coder's preference rule, and dropped on a dedupe_hash that already exists.
    _ENQUEUE = (
        "INSERT INTO notification_messages (id, notification_template_id, user_id, method, status,"
        " status_reason, created_by, payload, targets, attempt_count, dedupe_hash, extra, created_at,"
        " updated_at, next_retry_after)"
        " SELECT (d->>'id')::uuid, (d->>'template_id')::uuid, (d->>'user_id')::uuid,"
        " (d->>'method')::notification_method, (d->>'status')::notification_message_status,"
        " d->>'status_reason', d->>'created_by', d->'payload',"
        " CASE WHEN jsonb_typeof(d->'targets') = 'array' THEN ARRAY("
        "   SELECT t::uuid FROM jsonb_array_elements_text(d->'targets') WITH ORDINALITY AS x(t, n) ORDER BY n"
        " ) END,"
        " (d->>'attempt_count')::integer, d->>'dedupe_hash', d->'extra', (d->>'created_at')::timestamptz,"
        " (d->>'created_at')::timestamptz, (d->>'next_retry_after')::timestamptz"
        " FROM jsonb_array_elements(%s::jsonb) WITH ORDINALITY AS e(d, ord)"
        " WHERE NOT "
        + _DISABLED_FOR.format(user="(d->>'user_id')::uuid", template="(d->>'template_id')::uuid")
        + " ORDER BY ord"
        " ON CONFLICT (dedupe_hash) DO NOTHING RETURNING id"
    )

    async def enqueue_messages(self, messages: Sequence[NotificationMessage]) -> list[uuid.UUID]:
        """Insert messages atomically, skipping disabled templates and duplicates per message.

        An unknown template id raises UnknownTemplateError and nothing is inserted (Coder fails on the
        foreign key). Returns the inserted ids in the order given.
        """
        if not messages:
            return []
        batch = [
            {
                "id": str(m.id),
                "template_id": str(m.template_id),
                "user_id": str(m.user_id),
                "method": m.method.value,
                "status": m.status.value,
                "status_reason": m.status_reason,
                "created_by": m.created_by,
                "payload": m.payload,
                "targets": None if m.targets is None else [str(t) for t in m.targets],
                "attempt_count": m.attempt_count,
                "dedupe_hash": m.dedupe_hash,
                "extra": m.extra,
                "created_at": m.created_at.isoformat(),
                "next_retry_after": None if m.next_retry_after is None else m.next_retry_after.isoformat(),
            }
            for m in messages
        ]
        try:
            rows = await self._fetchall(self._ENQUEUE, (json.dumps(batch),))
        except pg_errors.ForeignKeyViolation as exc:
            template_ids = list(dict.fromkeys(m.template_id for m in messages))
            missing = await self._fetchall(
                "SELECT u.t FROM unnest(%s::uuid[]) AS u(t)"
                " WHERE NOT EXISTS (SELECT 1 FROM notification_templates t WHERE t.id = u.t)",
                (template_ids,),
            )
            if missing:
                raise UnknownTemplateError([r[0] for r in missing]) from None
            raise StoreError(f"cannot enqueue notification messages: {exc}") from exc
        except psycopg.IntegrityError as exc:
            raise StoreError(f"cannot enqueue notification messages: {exc}") from exc
        inserted = {r[0] for r in rows}
        return [m.id for m in messages if m.id in inserted]

    async def lease_messages(self, *, limit: int, lease_seconds: float, now: datetime) -> list[NotificationMessage]:
        """Lease due messages with FOR UPDATE SKIP LOCKED, so concurrent notifiers never share one.

        Due: pending, temporary_failure with next_retry_after <= now, or leased with leased_until < now
        (Coder's AcquireNotificationMessages). attempt_count grows when an attempt ends, not here.
        Messages whose template the user disabled since enqueue are marked inhibited in the same
        statement and not returned; their slots are refilled.
        """
        query = (
            "WITH due AS ("
            "  SELECT m.id FROM notification_messages m"
            # The IN list repeats the partial index's predicate so the planner can use it.
            "  WHERE m.status IN ('pending', 'leased', 'temporary_failure') AND (m.status = 'pending'"
            "     OR (m.status = 'temporary_failure' AND m.next_retry_after <= %(now)s)"
            "     OR (m.status = 'leased' AND m.leased_until < %(now)s))"
            "  ORDER BY m.created_at, m.id"
            "  LIMIT %(limit)s"
            "  FOR UPDATE SKIP LOCKED"
            "), judged AS ("
            "  SELECT due.id, "
            + _DISABLED_FOR.format(user="m.user_id", template="m.notification_template_id")
            + " AS disabled FROM due JOIN notification_messages m ON m.id = due.id"
            ") UPDATE notification_messages m SET"
            "  status = CASE WHEN j.disabled THEN 'inhibited' ELSE 'leased' END::notification_message_status,"
            "  status_reason = CASE WHEN j.disabled THEN %(inhibited_reason)s ELSE m.status_reason END,"
            "  leased_until = CASE WHEN j.disabled THEN NULL ELSE %(until)s END,"
            "  updated_at = %(now)s"
            " FROM judged j WHERE m.id = j.id"
            " RETURNING j.disabled, " + _MESSAGE_COLS_OF.format(m="m.")
        )
        leased: list[NotificationMessage] = []
        until = now + timedelta(seconds=lease_seconds)
        while len(leased) < limit:
            want = limit - len(leased)
            rows = await self._fetchall(
                query, {"now": now, "limit": want, "until": until, "inhibited_reason": INHIBITED_REASON}
            )
            batch = [_message(r[1:]) for r in rows if not r[0]]
            batch.sort(key=lambda m: (m.created_at, m.id))
            leased.extend(batch)
            if len(rows) < want or len(batch) == len(rows):
                break  # nothing more is due, or no slot went to an inhibited message
        return leased

    _MARK_SENT = (
        "UPDATE notification_messages SET status = 'sent', status_reason = '',"
        " attempt_count = attempt_count + 1, leased_until = NULL, next_retry_after = NULL, updated_at = now()"
    )

    _DELIVER_MANY = (
        "WITH rows AS ("
        " SELECT e.ord, (d->>'message_id')::uuid AS message_id, (d->>'id')::uuid AS id,"
        " (d->>'user_id')::uuid AS user_id, (d->>'template_id')::uuid AS template_id,"
        " CASE WHEN jsonb_typeof(d->'targets') = 'array' THEN ARRAY("
        "   SELECT t::uuid FROM jsonb_array_elements_text(d->'targets') WITH ORDINALITY AS x(t, n) ORDER BY n"
        " ) END AS targets,"
        " d->>'title' AS title, d->>'content' AS content, d->>'icon' AS icon, d->'actions' AS actions,"
        " (d->>'read_at')::timestamptz AS read_at, (d->>'created_at')::timestamptz AS created_at"
        " FROM jsonb_array_elements(%s::jsonb) WITH ORDINALITY AS e(d, ord)"
        "), inserted AS ("
        f" INSERT INTO inbox_notifications ({_INBOX_COLS})"
        " SELECT id, user_id, template_id, targets, title, content, icon, actions, read_at, created_at"
        " FROM rows ORDER BY ord ON CONFLICT (id) DO NOTHING RETURNING id"
        "), sent AS ("
        f" {_MARK_SENT} FROM (SELECT DISTINCT message_id FROM rows) AS r"
        " WHERE notification_messages.id = r.message_id RETURNING 1"
        ") SELECT id FROM inserted"
    )

    async def deliver_inbox_many(
        self, deliveries: Sequence[tuple[uuid.UUID, InboxNotification]]
    ) -> list[InboxNotification | None]:
        """Deliver a batch in ONE transaction: stamp, insert, mark sent, NOTIFY, commit.

        PostgreSQL sends a NOTIFY at commit, so the rows and their fan-out to every replica commit or fail
        together: a replica killed before the commit leaves the messages leased (redelivered after the short
        lease), never a committed row that no watcher heard of. The inbox_clock row lock orders deliveries
        of all replicas, so created_at is monotonic per database.
        """
        if not deliveries:
            return []
        try:
            async with self._pool.connection() as conn, conn.transaction():
                cur = await conn.execute("SELECT last_created_at FROM inbox_clock FOR UPDATE")
                clock_row = await cur.fetchone()
                last: datetime | None = None if clock_row is None or clock_row[0] is None else _utc(clock_row[0])
                stamped: list[tuple[uuid.UUID, InboxNotification]] = []
                planned = last
                for message_id, n in deliveries:
                    at = self._clock.stamp(planned, n.created_at)
                    planned = at
                    stamped.append((message_id, n if at == n.created_at else replace(n, created_at=at)))
                cur = await conn.execute(self._DELIVER_MANY, (json.dumps(self._delivery_batch(stamped)),))
                inserted = {r[0] for r in await cur.fetchall()}
                results: list[InboxNotification | None] = []
                for _, n in stamped:
                    results.append(n if n.id in inserted else None)
                    inserted.discard(n.id)  # a second delivery of one row in the same batch finds it existing
                fresh = [n for n in results if n is not None]
                if fresh:
                    newest = max(n.created_at for n in fresh)
                    if clock_row is None:
                        await conn.execute("INSERT INTO inbox_clock (last_created_at) VALUES (%s)", (newest,))
                    elif last is None or newest > last:
                        await conn.execute("UPDATE inbox_clock SET last_created_at = %s", (newest,))
                    await self.pubsub.notify_in(conn, fresh)
                fault_point(INBOX_ROWS_WRITTEN)
        except psycopg.IntegrityError as exc:  # e.g. the user was deleted since the message was leased
            raise StoreError(f"cannot deliver {len(deliveries)} inbox notifications: {exc}") from exc
        return results

    @staticmethod
    def _delivery_batch(items: Sequence[tuple[uuid.UUID, InboxNotification]]) -> list[dict[str, Any]]:
        return [
            {
                "message_id": str(message_id),
                "id": str(n.id),
                "user_id": str(n.user_id),
                "template_id": str(n.template_id),
                "targets": None if n.targets is None else [str(t) for t in n.targets],
                "title": n.title,
                "content": n.content,
                "icon": n.icon,
                "actions": [dict(a) for a in n.actions],
                "read_at": None if n.read_at is None else n.read_at.isoformat(),
                "created_at": n.created_at.isoformat(),
            }
            for message_id, n in items
        ]

    async def renew_leases(self, message_ids: Sequence[uuid.UUID], *, lease_seconds: float, now: datetime) -> int:
        """Extend the lease of messages still leased (a send in flight) to `now + lease_seconds`."""
        if not message_ids:
            return 0
        return await self._rowcount(
            "UPDATE notification_messages SET leased_until = %s WHERE id = ANY(%s::uuid[]) AND status = 'leased'",
            (now + timedelta(seconds=lease_seconds), list(message_ids)),
        )

    async def mark_message_sent(self, message_id: uuid.UUID) -> None:
        """Mark an out-of-band (smtp/webhook) message delivered."""
        await self._rowcount(
            "UPDATE notification_messages SET status = 'sent', status_reason = '',"
            " attempt_count = attempt_count + 1, leased_until = NULL, next_retry_after = NULL,"
            " updated_at = now() WHERE id = %s",
            (message_id,),
        )

    async def mark_message_failed(self, message_id: uuid.UUID, reason: str, *, retry_after: datetime | None) -> None:
        """Record a failed attempt: retried once `retry_after` passes, or failed for good when None."""
        status = MessageStatus.TEMPORARY_FAILURE if retry_after is not None else MessageStatus.PERMANENT_FAILURE
        await self._rowcount(
            "UPDATE notification_messages SET status = %s::notification_message_status, status_reason = %s,"
            " attempt_count = attempt_count + 1, leased_until = NULL, next_retry_after = %s,"
            " updated_at = now() WHERE id = %s",
            (status.value, reason, retry_after, message_id),
        )

    async def get_message(self, message_id: uuid.UUID) -> NotificationMessage | None:
        """One message by id."""
        row = await self._fetchone(f"SELECT {_MESSAGE_COLS} FROM notification_messages WHERE id = %s", (message_id,))
        return None if row is None else _message(row)

    async def count_messages(self, status: str | None = None) -> int:
        """How many messages are queued, optionally with one status."""
        if status is None:
            row = await self._fetchone("SELECT count(*) FROM notification_messages")
        else:
            row = await self._fetchone("SELECT count(*) FROM notification_messages WHERE status::text = %s", (status,))
        return int(row[0])

    async def purge_messages(self, older_than: datetime) -> int:
        """Delete messages created before `older_than`."""
        return await self._rowcount("DELETE FROM notification_messages WHERE created_at < %s", (older_than,))

    # -- health ------------------------------------------------------------------------------
    async def ping(self) -> None:
        """`SELECT 1` on a pooled connection; StoreError when none is to be had (the pool keeps retrying)."""
        try:
            async with self._pool.connection(timeout=PING_POOL_TIMEOUT) as conn:
                await conn.execute("SELECT 1")
        except PoolTimeout:
            raise StoreError(f"no PostgreSQL connection within {PING_POOL_TIMEOUT:g}s") from None
        except psycopg.Error as exc:
            raise StoreError(f"PostgreSQL: {str(exc).strip()}") from exc
