"""The default storage backend: one SQLite file in WAL mode.

Concurrency model:
- Writes go through ONE writer thread that owns the only read-write connection. Callers submit a job (a
  function of that connection) and await a future. The writer drains every queued job, runs each inside its
  own SAVEPOINT of one `BEGIN IMMEDIATE` transaction (a failing job rolls back only itself and receives its
  exception), commits once, and only then resolves the futures. So an awaited write is committed (durable
  against a process crash) when it returns, and bursts of writes share one commit.
- Reads run in a small thread pool, each thread with its own read-only connection; WAL lets them proceed
  while the writer commits. Nothing touches SQLite on the event loop thread.

Storage conventions (see migrations/sqlite/0001_init.sql): uuids are 16-byte BLOBs, timestamps are integer
microseconds since the Unix epoch, uuid arrays and jsonb are JSON text.

The writer thread is `sqlite_writer.py`, the row mapping `sqlite_rows.py`, list rows as wire JSON `sqlite_wire.py`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import shutil
import sqlite3
import tempfile
import threading
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any, Final, TypeVar

from server.bundled import migrations, template_rows
from server.private_files import prepare_sqlite_file
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
    DatabaseReplacedError,
    DuplicateUserError,
    Store,
    StoreError,
    UnknownTemplateError,
)
from server.store.inbox_clock import InboxClock
from server.store.local_pubsub import LocalPubsub
from server.store.sqlite_rows import (
    INBOX_COLS,
    MESSAGE_COLS,
    TEMPLATE_COLS,
    TOKEN_COLS,
    USER_COLS,
    as_uuid,
    from_us,
    inbox_from_row,
    inbox_params,
    message_from_row,
    opt_dt,
    opt_us,
    targets_json,
    template_from_row,
    to_us,
    token_from_row,
    user_from_row,
)
from server.store.sqlite_wire import INBOX_WIRE_JSON, read_at_wire
from server.store.sqlite_writer import STOP, WriteJob, Writer
from server.wire import go_escape

log = logging.getLogger(__name__)

T = TypeVar("T")

BUSY_TIMEOUT_MS: Final = 10_000
READER_THREADS: Final = 4
STATEMENT_CACHE: Final = 256


# -- SQL ----------------------------------------------------------------------------------------------
SQL_INSERT_INBOX: Final = (
    f"INSERT INTO inbox_notifications ({INBOX_COLS}, wire_head, wire_tail, read_at_wire)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING"
)

# Coder's inhibit_enqueue_if_disabled trigger as one INSERT ... SELECT: nothing is inserted when the user
# disabled the template, or it is disabled by default and the user has no row; ON CONFLICT drops duplicates.
SQL_ENQUEUE: Final = """
INSERT INTO notification_messages (
    id, template_id, user_id, method, status, payload, targets, created_by, dedupe_hash,
    created_at, updated_at, attempt_count, next_retry_after, status_reason, extra)
SELECT ?1, t.id, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10, ?11, ?12, ?13, ?14
FROM notification_templates AS t
LEFT JOIN notification_preferences AS p ON p.user_id = ?3 AND p.template_id = t.id
WHERE t.id = ?2
  AND CASE WHEN p.user_id IS NULL THEN t.enabled_by_default ELSE NOT p.disabled END
ON CONFLICT (dedupe_hash) DO NOTHING
"""

# Due messages, oldest first, with whether the user has disabled the template since enqueue. The IN term
# lets SQLite read only unfinished rows through notification_messages_status.
SQL_DUE: Final = f"""
SELECT {", ".join("m." + c.strip() for c in MESSAGE_COLS.split(","))},
       CASE WHEN p.user_id IS NULL THEN NOT t.enabled_by_default ELSE p.disabled END AS inhibited
FROM notification_messages AS m
JOIN notification_templates AS t ON t.id = m.template_id
LEFT JOIN notification_preferences AS p ON p.user_id = m.user_id AND p.template_id = m.template_id
WHERE m.status IN ('pending', 'leased', 'temporary_failure')
  AND (m.status = 'pending'
       OR (m.status = 'temporary_failure' AND m.next_retry_after <= ?1)
       OR (m.status = 'leased' AND m.leased_until < ?1))
ORDER BY m.created_at, m.id
LIMIT ?2
"""

SQL_SEED_TEMPLATE: Final = """
INSERT INTO notification_templates (
    id, name, title_template, body_template, actions, "group", method, kind, enabled_by_default)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (id) DO UPDATE SET
    name = excluded.name,
    title_template = excluded.title_template,
    body_template = excluded.body_template,
    actions = excluded.actions,
    "group" = excluded."group",
    kind = excluded.kind,
    enabled_by_default = excluded.enabled_by_default,
    -- A method an owner routed the template to wins over the shipped one.
    method = COALESCE(notification_templates.method, excluded.method)
"""


def _list_sql(n_targets: int, n_templates: int, read_status: ReadStatus, cursor: bool) -> str:
    """The list query for one filter shape; identical text per shape keeps sqlite3's statement cache warm."""
    where = ["user_id = ?"]
    if cursor:
        where.append("(created_at, id) < (?, ?)")
    # Each filter is one bound JSON array, however many values it holds: one parameter per value made
    # the statement grow with the URL (SQLite: "Expression tree is too large" at ~1,000 targets).
    # One template keeps the equality that walks inbox_notifications_template in page order.
    if n_templates == 1:
        where.append("template_id = ?")
    elif n_templates:
        where.append("template_id IN (SELECT uuid_blob(value) FROM json_each(?))")
    # Contains-all on a JSON array we wrote ourselves: each target is a quoted, fixed-length, lowercase
    # string, so a substring match is exact. NULL targets never match.
    if n_targets:
        where.append("targets IS NOT NULL AND NOT EXISTS (SELECT 1 FROM json_each(?) WHERE instr(targets, value) = 0)")
    if read_status is ReadStatus.UNREAD:
        where.append("read_at IS NULL")
    elif read_status is ReadStatus.READ:
        where.append("read_at IS NOT NULL")
    return (
        f"SELECT {INBOX_COLS} FROM inbox_notifications WHERE {' AND '.join(where)}"
        " ORDER BY created_at DESC, id DESC LIMIT ?"
    )


def _filter_params(flt: InboxFilter) -> list[str | bytes]:
    """The bound values of _list_sql's filters: one JSON array per filter in use (one template: its id)."""
    params: list[str | bytes] = []
    if len(flt.templates) == 1:
        params.append(flt.templates[0].bytes)
    elif flt.templates:
        params.append(json.dumps([str(t) for t in flt.templates]))
    if flt.targets:
        params.append(json.dumps([f'"{t}"' for t in flt.targets]))
    return params


def _uuid_blob(text: str) -> bytes:
    """SQL function uuid_blob(text): a canonical UUID string as the 16-byte blob ids are stored as."""
    return bytes.fromhex(text.replace("-", ""))


def _split_statements(script: str) -> list[str]:
    """Split a migration into statements; complete_statement keeps trigger bodies whole."""
    statements: list[str] = []
    buf = ""
    for line in script.splitlines(keepends=True):
        buf += line
        if sqlite3.complete_statement(buf):
            if buf.strip():
                statements.append(buf.strip())
            buf = ""
    if buf.strip() and not all(ln.strip().startswith("--") or not ln.strip() for ln in buf.splitlines()):
        raise StoreError(f"incomplete SQL statement in migration: {buf.strip()[:80]!r}")
    return statements


# -- the store ----------------------------------------------------------------------------------------
class SqliteStore(Store):
    """A `Store` on one SQLite file. `path` ":memory:" uses a temporary file removed on close."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.pubsub = LocalPubsub()
        self._file: Path | None = None
        self._tmpdir: str | None = None
        self._writer: Writer | None = None
        self._readers: ThreadPoolExecutor | None = None
        self._reader_conns: list[sqlite3.Connection] = []
        self._reader_lock = threading.Lock()
        self._loop_conn: sqlite3.Connection | None = None  # for run_bounded_read, on the event loop thread
        self._local = threading.local()
        self._closed = False
        self.created_new = False  # whether open() found no database at the path and made a new one
        self._identity: tuple[int, int] | None = None  # (st_dev, st_ino) of the file we opened
        self._replaced: DatabaseReplacedError | None = None
        self._clock = InboxClock()
        self._last_created: datetime | None = None  # newest inbox row; only the writer thread touches it

    # -- instrumentation (benchmarks and tests) -----------------------------------------------------
    @property
    def commit_count(self) -> int:
        """Write transactions committed so far; fewer than write calls means bursts were batched."""
        return self._writer.commit_count if self._writer else 0

    @property
    def write_count(self) -> int:
        """Write jobs run so far (each awaited write is one job)."""
        return self._writer.job_count if self._writer else 0

    # -- plumbing -------------------------------------------------------------------------------------
    def _check_file(self) -> DatabaseReplacedError | None:
        """On the writer thread, before a batch commits: the error to fail it with if the file changed."""
        if self._replaced is not None:
            return self._replaced
        if self._identity is None or self._file is None:
            return None
        try:
            now: tuple[int, int] | None = _file_identity(self._file)
        except FileNotFoundError:
            now = None
        except OSError:
            return None  # cannot tell (e.g. a permission change on the directory): keep going
        if now == self._identity:
            return None
        what = "removed" if now is None else "replaced by another file"
        log.error(
            "the database file %s was %s while the server was running: refusing every write from now on"
            " (nothing more is acknowledged); restore the file or restart the server",
            self._file,
            what,
        )
        self._replaced = DatabaseReplacedError(
            f"The database file was {what} while the server was running; writes are refused until the"
            " server is restarted."
        )
        return self._replaced

    async def run_write(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run `fn(conn)` on the writer thread inside its own savepoint; returns once committed."""
        writer = self._writer
        if writer is None or self._closed:
            raise StoreError("the store is not open")
        if self._replaced is not None:
            raise self._replaced
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        writer.queue.put(WriteJob(fn, future, loop))
        try:
            return await future
        except sqlite3.Error as exc:
            raise StoreError(f"database write failed: {exc}") from exc

    def run_bounded_read(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run an index-bounded read (a primary-key lookup, or one page walked along an index) inline.

        Such a read costs tens of microseconds, less than the hand-off to a reader thread and back
        (measured: the list endpoint serves 2.3x the requests inline). WAL readers never wait for the
        writer, so this cannot stall the event loop; anything that may scan goes through `run_read`.
        """
        if self._closed or self._readers is None:
            raise StoreError("the store is not open")
        if self._loop_conn is None:
            self._loop_conn = self._connect(read_only=True)
            with self._reader_lock:
                self._reader_conns.append(self._loop_conn)
        try:
            return fn(self._loop_conn)
        except sqlite3.Error as exc:
            raise StoreError(f"database read failed: {exc}") from exc

    async def run_read(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run `fn(conn)` on a reader thread with that thread's read-only connection."""
        readers = self._readers
        if readers is None or self._closed:
            raise StoreError("the store is not open")
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(readers, self._in_reader, fn)
        except sqlite3.Error as exc:
            raise StoreError(f"database read failed: {exc}") from exc

    def _in_reader(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._connect(read_only=True)
            self._local.conn = conn
            with self._reader_lock:
                self._reader_conns.append(conn)
        return fn(conn)

    def _connect(self, *, read_only: bool) -> sqlite3.Connection:
        assert self._file is not None
        if read_only:
            target, uri = self._file.resolve().as_uri() + "?mode=ro", True
        else:
            target, uri = str(self._file), False
        # isolation_level=None: no implicit transactions, the writer issues BEGIN/COMMIT itself and every
        # read statement sees the latest commit. check_same_thread=False: connections are created on one
        # thread and then used by exactly one other (the writer, or one pool thread).
        conn = sqlite3.connect(
            target,
            uri=uri,
            isolation_level=None,
            check_same_thread=False,
            cached_statements=STATEMENT_CACHE,
            timeout=BUSY_TIMEOUT_MS / 1000,
        )
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.create_function("uuid_blob", 1, _uuid_blob, deterministic=True)
        conn.execute("PRAGMA cache_size = -16000")  # 16 MiB per connection
        if not read_only:
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                conn.close()
                raise StoreError(f"cannot use WAL mode on {self._file} (journal_mode is {mode})")
            conn.execute("PRAGMA synchronous = NORMAL")  # durable against process crashes in WAL mode
            conn.execute("PRAGMA foreign_keys = ON")
            # temp_store stays FILE: savepoint sub-journals of big jobs grow slowly in memory (5x slower).
        return conn

    # -- lifecycle ------------------------------------------------------------------------------------
    async def open(self) -> None:
        """Create the file if needed, run pending migrations and seed the bundled templates."""
        if self._writer is not None:
            return
        if self.path == ":memory:":
            # Readers need their own connections to the same database, so "memory" is a private temp file.
            self._tmpdir = tempfile.mkdtemp(prefix="inbox-sqlite-")
            self._file = Path(self._tmpdir) / "inbox.db"
        else:
            self._file = Path(self.path)
        file = self._file

        def connect() -> sqlite3.Connection:
            # A private temp file for ":memory:" is new by design; only a real path is worth a warning.
            self.created_new = prepare_sqlite_file(file) and self._tmpdir is None
            return self._connect(read_only=False)

        try:
            conn = await asyncio.to_thread(connect)
        except (sqlite3.Error, OSError) as exc:
            raise StoreError(f"cannot open database {file}: {exc}") from exc
        self._closed = False
        self._identity = _file_identity(file)
        self._replaced = None
        self._writer = Writer(conn, self._check_file)
        self._writer.thread.start()
        self._readers = ThreadPoolExecutor(max_workers=READER_THREADS, thread_name_prefix="inbox-sqlite-read")
        try:
            await self.run_write(_migrate)
            await self.run_write(_seed_templates)
            await self.run_write(self._load_last_created)
        except BaseException:
            await self.close()
            raise

    async def close(self) -> None:
        """Commit queued writes, stop the writer and close every connection."""
        writer, readers = self._writer, self._readers
        if writer is None:
            return
        self._closed = True
        writer.queue.put(STOP)
        await asyncio.to_thread(writer.thread.join)
        if readers is not None:
            await asyncio.to_thread(readers.shutdown, True)
        with self._reader_lock:
            conns, self._reader_conns = self._reader_conns, []
        for conn in conns:
            conn.close()
        self._writer = None
        self._readers = None
        self._loop_conn = None
        self._local = threading.local()
        if self._tmpdir is not None:
            shutil.rmtree(self._tmpdir, ignore_errors=True)
            self._tmpdir = None

    def _load_last_created(self, conn: sqlite3.Connection) -> None:
        # One index seek per user (the list index leads with user_id) instead of a scan of every row.
        row = conn.execute(
            "SELECT max((SELECT max(created_at) FROM inbox_notifications AS n WHERE n.user_id = u.id)) FROM users AS u"
        ).fetchone()
        self._last_created = opt_dt(row[0])

    # -- users and tokens -----------------------------------------------------------------------------
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

        def job(conn: sqlite3.Connection) -> None:
            try:
                conn.execute(
                    f"INSERT INTO users ({USER_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        user.id.bytes,
                        user.username,
                        user.email,
                        user.name,
                        json.dumps(list(user.roles)),
                        int(user.is_system),
                        user.status,
                        to_us(user.created_at),
                    ),
                )
            except sqlite3.IntegrityError as exc:
                if "users.username" in str(exc):
                    raise DuplicateUserError(f"username {username!r} is already taken") from exc
                raise

        await self.run_write(job)
        return user

    async def get_user(self, user_id: uuid.UUID) -> User | None:
        """A user by id, or None."""

        def job(conn: sqlite3.Connection) -> User | None:
            row = conn.execute(f"SELECT {USER_COLS} FROM users WHERE id = ?", (user_id.bytes,)).fetchone()
            return None if row is None else user_from_row(row)

        return self.run_bounded_read(job)

    async def get_user_by_username(self, username: str) -> User | None:
        """A user by username, case-insensitively (the column has COLLATE NOCASE)."""

        def job(conn: sqlite3.Connection) -> User | None:
            row = conn.execute(f"SELECT {USER_COLS} FROM users WHERE username = ?", (username,)).fetchone()
            return None if row is None else user_from_row(row)

        return await self.run_read(job)

    async def list_users(self) -> list[User]:
        """Every user, oldest first (id breaks ties, as in the PostgreSQL backend)."""

        def job(conn: sqlite3.Connection) -> list[User]:
            rows = conn.execute(f"SELECT {USER_COLS} FROM users ORDER BY created_at, id").fetchall()
            return [user_from_row(r) for r in rows]

        return await self.run_read(job)

    async def delete_user(self, user_id: uuid.UUID) -> bool:
        """Delete a user; foreign keys cascade to tokens, preferences, messages and inbox rows."""

        def job(conn: sqlite3.Connection) -> bool:
            return conn.execute("DELETE FROM users WHERE id = ?", (user_id.bytes,)).rowcount > 0

        return await self.run_write(job)

    async def create_api_token(self, token: ApiToken) -> None:
        """Store a token (its id and the SHA-256 of its secret)."""

        def job(conn: sqlite3.Connection) -> None:
            try:
                conn.execute(
                    "INSERT INTO api_keys (id, user_id, hashed_secret, created_at, expires_at, last_used)"
                    " VALUES (?, ?, ?, ?, ?, ?)",
                    (
                        token.id,
                        token.user_id.bytes,
                        token.hashed_secret,
                        to_us(token.created_at),
                        opt_us(token.expires_at),
                        opt_us(token.last_used),
                    ),
                )
            except sqlite3.IntegrityError as exc:
                raise StoreError(f"cannot store token {token.id}: {exc}") from exc

        await self.run_write(job)

    async def get_api_token(self, token_id: str) -> ApiToken | None:
        """A token by id, or None."""

        def job(conn: sqlite3.Connection) -> ApiToken | None:
            row = conn.execute(f"SELECT {TOKEN_COLS} FROM api_keys WHERE id = ?", (token_id,)).fetchone()
            return None if row is None else token_from_row(row)

        return self.run_bounded_read(job)

    async def delete_api_token(self, token_id: str) -> bool:
        """Revoke a token. False when unknown."""

        def job(conn: sqlite3.Connection) -> bool:
            return conn.execute("DELETE FROM api_keys WHERE id = ?", (token_id,)).rowcount > 0

        return await self.run_write(job)

    async def list_api_tokens(self, user_id: uuid.UUID) -> list[ApiToken]:
        """A user's tokens, oldest first."""

        def job(conn: sqlite3.Connection) -> list[ApiToken]:
            rows = conn.execute(
                f"SELECT {TOKEN_COLS} FROM api_keys WHERE user_id = ? ORDER BY created_at, id", (user_id.bytes,)
            ).fetchall()
            return [token_from_row(r) for r in rows]

        return await self.run_read(job)

    async def touch_api_token(self, token_id: str, when: datetime) -> None:
        """Record that a token was used at `when` (callers throttle this)."""

        def job(conn: sqlite3.Connection) -> None:
            conn.execute("UPDATE api_keys SET last_used = ? WHERE id = ?", (to_us(when), token_id))

        await self.run_write(job)

    # -- inbox notifications --------------------------------------------------------------------------
    async def list_inbox(
        self,
        user_id: uuid.UUID,
        flt: InboxFilter,
        *,
        before: InboxNotification | None = None,
        limit: int = PAGE_SIZE,
    ) -> list[InboxNotification]:
        """A user's notifications newest first, filtered, strictly older than `before` (created_at, id)."""
        sql = _list_sql(len(flt.targets), len(flt.templates), flt.read_status, before is not None)
        params: list[Any] = [user_id.bytes]
        if before is not None:
            params += [to_us(before.created_at), before.id.bytes]
        params += _filter_params(flt)
        params.append(limit if limit > 0 else PAGE_SIZE)  # Coder: COALESCE(NULLIF(limit, 0), 25)

        def job(conn: sqlite3.Connection) -> list[InboxNotification]:
            return [inbox_from_row(r) for r in conn.execute(sql, params).fetchall()]

        return await self.run_read(job)

    async def inbox_page_json(
        self,
        user_id: uuid.UUID,
        flt: InboxFilter,
        *,
        before: InboxNotification | None = None,
        limit: int = PAGE_SIZE,
    ) -> tuple[bytes, int]:
        """The list page rendered to wire JSON by SQLite, and the unread count, in one reader hop."""
        sql = _list_sql(len(flt.targets), len(flt.templates), flt.read_status, before is not None).replace(
            f"SELECT {INBOX_COLS} FROM", f"SELECT {INBOX_WIRE_JSON} FROM", 1
        )
        params: list[Any] = [user_id.bytes]
        if before is not None:
            params += [to_us(before.created_at), before.id.bytes]
        params += _filter_params(flt)
        params.append(limit if limit > 0 else PAGE_SIZE)

        def job(conn: sqlite3.Connection) -> tuple[bytes, int]:
            items = [row[0] for row in conn.execute(sql, params).fetchall()]
            count = conn.execute("SELECT n FROM inbox_unread_counts WHERE user_id = ?", (user_id.bytes,)).fetchone()
            return go_escape(("[" + ",".join(items) + "]").encode()), 0 if count is None else int(count[0])

        # Unfiltered and unread-only pages walk an index for exactly `limit` rows; the other filters
        # may skip over many rows first, so they go to a reader thread.
        if not flt.targets and not flt.templates and flt.read_status is not ReadStatus.READ:
            return self.run_bounded_read(job)
        return await self.run_read(job)

    async def count_unread(self, user_id: uuid.UUID) -> int:
        """The user's total unread count (kept by triggers in inbox_unread_counts)."""

        def job(conn: sqlite3.Connection) -> int:
            row = conn.execute("SELECT n FROM inbox_unread_counts WHERE user_id = ?", (user_id.bytes,)).fetchone()
            return 0 if row is None else int(row[0])

        return self.run_bounded_read(job)

    async def get_inbox_notification(self, notification_id: uuid.UUID) -> InboxNotification | None:
        """One notification by id (any user), or None."""

        def job(conn: sqlite3.Connection) -> InboxNotification | None:
            row = conn.execute(
                f"SELECT {INBOX_COLS} FROM inbox_notifications WHERE id = ?", (notification_id.bytes,)
            ).fetchone()
            return None if row is None else inbox_from_row(row)

        return self.run_bounded_read(job)

    async def set_read_at(self, notification_id: uuid.UUID, read_at: datetime | None) -> InboxNotification | None:
        """Set or clear read_at; returns the updated row, or None when unknown."""

        def job(conn: sqlite3.Connection) -> InboxNotification | None:
            rows = conn.execute(
                f"UPDATE inbox_notifications SET read_at = ?, read_at_wire = ? WHERE id = ? RETURNING {INBOX_COLS}",
                (opt_us(read_at), read_at_wire(read_at), notification_id.bytes),
            ).fetchall()
            return inbox_from_row(rows[0]) if rows else None

        return await self.run_write(job)

    async def mark_all_read(self, user_id: uuid.UUID, read_at: datetime) -> int:
        """Stamp read_at on the user's unread rows only; returns how many changed."""

        def job(conn: sqlite3.Connection) -> int:
            # INDEXED BY: without statistics the planner would walk all of the user's rows.
            return conn.execute(
                "UPDATE inbox_notifications INDEXED BY inbox_notifications_unread SET read_at = ?, read_at_wire = ?"
                " WHERE user_id = ? AND read_at IS NULL",
                (to_us(read_at), read_at_wire(read_at), user_id.bytes),
            ).rowcount

        return await self.run_write(job)

    async def insert_inbox_notifications(self, notifications: Sequence[InboxNotification]) -> None:
        """Insert rows directly (seeding, benchmarks, tests). Existing ids are left alone."""
        params = [inbox_params(n) for n in notifications]
        if not params:
            return

        newest = max(n.created_at for n in notifications)

        def job(conn: sqlite3.Connection) -> None:
            conn.executemany(SQL_INSERT_INBOX, params)
            if self._last_created is None or newest > self._last_created:
                self._last_created = newest  # deliveries after these rows sort above them

        await self.run_write(job)

    # -- templates ------------------------------------------------------------------------------------
    async def list_templates(self, kind: str | None = None) -> list[NotificationTemplate]:
        """Templates of one kind (or all), ordered by name in byte order (SQLite's BINARY collation)."""

        def job(conn: sqlite3.Connection) -> list[NotificationTemplate]:
            if kind is None:
                cur = conn.execute(f"SELECT {TEMPLATE_COLS} FROM notification_templates ORDER BY name, id")
            else:
                cur = conn.execute(
                    f"SELECT {TEMPLATE_COLS} FROM notification_templates WHERE kind = ? ORDER BY name, id",
                    (kind,),
                )
            return [template_from_row(r) for r in cur.fetchall()]

        return await self.run_read(job)

    async def get_template(self, template_id: uuid.UUID) -> NotificationTemplate | None:
        """One template, or None."""

        def job(conn: sqlite3.Connection) -> NotificationTemplate | None:
            row = conn.execute(
                f"SELECT {TEMPLATE_COLS} FROM notification_templates WHERE id = ?", (template_id.bytes,)
            ).fetchone()
            return None if row is None else template_from_row(row)

        return self.run_bounded_read(job)

    async def set_template_method(self, template_id: uuid.UUID, method: str) -> bool | None:
        """Route a template to a method ("" = default): True if changed, False if not, None if unknown."""
        if method and method not in {m.value for m in NotificationMethod}:
            raise StoreError(f"invalid notification method {method!r}")
        stored = method or None

        def job(conn: sqlite3.Connection) -> bool | None:
            row = conn.execute(
                "SELECT method FROM notification_templates WHERE id = ?", (template_id.bytes,)
            ).fetchone()
            if row is None:
                return None
            if row[0] == stored:
                return False
            conn.execute("UPDATE notification_templates SET method = ? WHERE id = ?", (stored, template_id.bytes))
            return True

        return await self.run_write(job)

    # -- preferences ----------------------------------------------------------------------------------
    async def get_preferences(self, user_id: uuid.UUID) -> list[NotificationPreference]:
        """Every explicit preference row of the user (in template id order)."""

        def job(conn: sqlite3.Connection) -> list[NotificationPreference]:
            rows = conn.execute(
                "SELECT template_id, disabled, updated_at FROM notification_preferences WHERE user_id = ?",
                (user_id.bytes,),
            ).fetchall()
            return [
                NotificationPreference(template_id=as_uuid(r[0]), disabled=bool(r[1]), updated_at=from_us(r[2]))
                for r in rows
            ]

        return await self.run_read(job)

    async def upsert_preferences(self, user_id: uuid.UUID, disabled: Mapping[uuid.UUID, bool]) -> None:
        """Merge rows atomically; raises UnknownTemplateError (changing nothing) on an unknown template id."""
        if not disabled:
            return
        ids = list(disabled)
        now = to_us(now_utc())
        params = [(user_id.bytes, t.bytes, int(disabled[t]), now) for t in ids]

        def job(conn: sqlite3.Connection) -> None:
            known = _existing_template_ids(conn, ids)
            missing = [t for t in ids if t not in known]
            if missing:
                raise UnknownTemplateError(missing)
            try:
                conn.executemany(
                    "INSERT INTO notification_preferences (user_id, template_id, disabled, updated_at)"
                    " VALUES (?, ?, ?, ?) ON CONFLICT (user_id, template_id)"
                    " DO UPDATE SET disabled = excluded.disabled, updated_at = excluded.updated_at",
                    params,
                )
            except sqlite3.IntegrityError as exc:
                raise StoreError(f"cannot store preferences of user {user_id}: {exc}") from exc

        await self.run_write(job)

    # -- deployment settings --------------------------------------------------------------------------
    async def get_site_config(self, key: str) -> str | None:
        """The raw stored value of a site_configs key, or None."""

        def job(conn: sqlite3.Connection) -> str | None:
            row = conn.execute("SELECT value FROM site_configs WHERE key = ?", (key,)).fetchone()
            return None if row is None else str(row[0])

        return self.run_bounded_read(job)

    async def set_site_config(self, key: str, value: str) -> None:
        """Store a site_configs value."""

        def job(conn: sqlite3.Connection) -> None:
            conn.execute(
                "INSERT INTO site_configs (key, value) VALUES (?, ?)"
                " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (key, value),
            )

        await self.run_write(job)

    # -- notification messages ------------------------------------------------------------------------
    async def enqueue_messages(self, messages: Sequence[NotificationMessage]) -> list[uuid.UUID]:
        """Insert queued messages in one transaction, applying Coder's enqueue rules per message.

        Skipped silently: the user disabled the template, or it is disabled by default and the user has no
        row, or the dedupe_hash already exists. An unknown template id raises UnknownTemplateError and
        nothing is inserted (Coder fails on the foreign key). Returns the ids that were inserted.
        """
        if not messages:
            return []
        params = [
            (
                m.id.bytes,
                m.template_id.bytes,
                m.user_id.bytes,
                str(m.method),
                str(m.status),
                json.dumps(m.payload),
                targets_json(m.targets),
                m.created_by,
                m.dedupe_hash,
                to_us(m.created_at),
                m.attempt_count,
                opt_us(m.next_retry_after),
                m.status_reason,
                json.dumps(m.extra),
            )
            for m in messages
        ]
        template_ids = list(dict.fromkeys(m.template_id for m in messages))

        def job(conn: sqlite3.Connection) -> list[uuid.UUID]:
            known = _existing_template_ids(conn, template_ids)
            missing = [t for t in template_ids if t not in known]
            if missing:
                raise UnknownTemplateError(missing)
            inserted: list[uuid.UUID] = []
            try:
                for m, p in zip(messages, params, strict=True):
                    if conn.execute(SQL_ENQUEUE, p).rowcount > 0:
                        inserted.append(m.id)
            except sqlite3.IntegrityError as exc:
                raise StoreError(f"cannot enqueue notification messages: {exc}") from exc
            return inserted

        return await self.run_write(job)

    async def lease_messages(self, *, limit: int, lease_seconds: float, now: datetime) -> list[NotificationMessage]:
        """Lease up to `limit` due messages, oldest first, so that only one notifier delivers each.

        Due: pending, temporary_failure with next_retry_after <= now, or leased with leased_until < now.
        Leasing sets status leased and leased_until = now + lease_seconds; attempt_count is left alone; it
        grows when an attempt ends (sent or failed), as Coder's BulkMarkNotificationMessages* queries do.
        Messages whose template the user has disabled since enqueue become `inhibited` and are not returned.
        """
        if limit <= 0:
            return []
        now_us = to_us(now)
        until_us = now_us + round(lease_seconds * 1_000_000)

        def job(conn: sqlite3.Connection) -> list[NotificationMessage]:
            leased: list[NotificationMessage] = []
            while len(leased) < limit:
                want = limit - len(leased)
                rows = conn.execute(SQL_DUE, (now_us, want)).fetchall()
                inhibit = [(now_us, r[0]) for r in rows if r[-1]]
                take = [r for r in rows if not r[-1]]
                if inhibit:
                    conn.executemany(
                        "UPDATE notification_messages SET status = 'inhibited', status_reason = ?,"
                        " leased_until = NULL, updated_at = ? WHERE id = ?",
                        [(INHIBITED_REASON, at, mid) for at, mid in inhibit],
                    )
                if take:
                    conn.executemany(
                        "UPDATE notification_messages SET status = 'leased', leased_until = ?,"
                        " updated_at = ? WHERE id = ?",
                        [(until_us, now_us, r[0]) for r in take],
                    )
                for r in take:
                    message = message_from_row(r)
                    message.status = MessageStatus.LEASED
                    leased.append(message)
                if len(rows) < want or not inhibit:
                    break  # no more due rows (inhibited ones are gone, so looping again finds new ones)
            return leased

        return await self.run_write(job)

    async def deliver_inbox_many(
        self, deliveries: Sequence[tuple[uuid.UUID, InboxNotification]]
    ) -> list[InboxNotification | None]:
        """Insert the rows and mark their messages sent in one write job (one transaction), then publish.

        created_at is stamped on the writer thread, the only one that inserts, against the newest row so
        far (see server/store/inbox_clock.py); subscribers are told only after the commit.
        """
        if not deliveries:
            return []
        rows = [(message_id, n, inbox_params(n)) for message_id, n in deliveries]

        def job(conn: sqlite3.Connection) -> list[InboxNotification | None]:
            results: list[InboxNotification | None] = []
            last = self._last_created
            for message_id, n, row in rows:
                at = self._clock.stamp(last, n.created_at)
                if at != n.created_at:
                    n = replace(n, created_at=at)
                    row = inbox_params(n)
                inserted = conn.execute(SQL_INSERT_INBOX, row).rowcount > 0
                # Marked sent either way: an existing row means an earlier attempt already delivered it.
                _mark_sent(conn, message_id)
                if inserted:
                    last = at
                results.append(n if inserted else None)
            self._last_created = last  # a rolled-back batch only leaves a gap: still monotonic
            return results

        results = await self.run_write(job)
        for n in results:
            if n is not None:
                await self.pubsub.publish(n)
        return results

    async def renew_leases(self, message_ids: Sequence[uuid.UUID], *, lease_seconds: float, now: datetime) -> int:
        """Extend the lease of messages still leased to `now + lease_seconds`."""
        if not message_ids:
            return 0
        until_us = to_us(now) + round(lease_seconds * 1_000_000)
        params = [(until_us, m.bytes) for m in message_ids]

        def job(conn: sqlite3.Connection) -> int:
            cur = conn.executemany(
                "UPDATE notification_messages SET leased_until = ? WHERE id = ? AND status = 'leased'", params
            )
            return cur.rowcount

        return await self.run_write(job)

    async def mark_message_sent(self, message_id: uuid.UUID) -> None:
        """Mark an out-of-band (smtp/webhook) message delivered."""

        def job(conn: sqlite3.Connection) -> None:
            _mark_sent(conn, message_id)

        await self.run_write(job)

    async def mark_message_failed(self, message_id: uuid.UUID, reason: str, *, retry_after: datetime | None) -> None:
        """Record a failed attempt: temporary_failure retried after `retry_after`, or permanent_failure."""
        status = MessageStatus.PERMANENT_FAILURE if retry_after is None else MessageStatus.TEMPORARY_FAILURE
        params = (str(status), reason, opt_us(retry_after), to_us(now_utc()), message_id.bytes)

        def job(conn: sqlite3.Connection) -> None:
            conn.execute(
                "UPDATE notification_messages SET status = ?, status_reason = ?, next_retry_after = ?,"
                " attempt_count = attempt_count + 1, leased_until = NULL, updated_at = ? WHERE id = ?",
                params,
            )

        await self.run_write(job)

    async def get_message(self, message_id: uuid.UUID) -> NotificationMessage | None:
        """One message by id (tests and diagnostics)."""

        def job(conn: sqlite3.Connection) -> NotificationMessage | None:
            row = conn.execute(
                f"SELECT {MESSAGE_COLS} FROM notification_messages WHERE id = ?", (message_id.bytes,)
            ).fetchone()
            return None if row is None else message_from_row(row)

        return await self.run_read(job)

    async def count_messages(self, status: str | None = None) -> int:
        """How many messages are in the queue, optionally with one status."""

        def job(conn: sqlite3.Connection) -> int:
            if status is None:
                row = conn.execute("SELECT count(*) FROM notification_messages").fetchone()
            else:
                row = conn.execute(
                    "SELECT count(*) FROM notification_messages WHERE status = ?", (str(status),)
                ).fetchone()
            return int(row[0])

        return await self.run_read(job)

    async def purge_messages(self, older_than: datetime) -> int:
        """Delete messages created before `older_than` (Coder keeps 7 days)."""

        def job(conn: sqlite3.Connection) -> int:
            return conn.execute("DELETE FROM notification_messages WHERE created_at < ?", (to_us(older_than),)).rowcount

        return await self.run_write(job)

    # -- health ---------------------------------------------------------------------------------------
    async def ping(self) -> None:
        """A trivial query on a reader thread, and on a fresh connection to the file at the path.

        Open connections keep working on a database file that was deleted or replaced (they hold the old
        inode), so only a new connection notices that the path no longer leads to this database.
        """
        file = self._file
        if file is None:
            raise StoreError("the store is not open")
        uri = file.resolve().as_uri() + "?mode=ro"

        def job(conn: sqlite3.Connection) -> None:
            conn.execute("SELECT 1 FROM site_configs LIMIT 1").fetchall()
            fresh = sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_MS / 1000)
            try:
                fresh.execute("SELECT 1 FROM site_configs LIMIT 1").fetchall()
            except sqlite3.Error as exc:
                raise sqlite3.OperationalError(f"{file.name}: {exc}") from exc
            finally:
                fresh.close()

        await self.run_read(job)


def _file_identity(path: Path) -> tuple[int, int]:
    info = os.stat(path)
    return info.st_dev, info.st_ino


# -- jobs shared by several methods -------------------------------------------------------------------
def _existing_template_ids(conn: sqlite3.Connection, ids: Iterable[uuid.UUID]) -> set[uuid.UUID]:
    wanted = [t.bytes for t in ids]
    found: set[uuid.UUID] = set()
    for start in range(0, len(wanted), 500):  # stay far below SQLite's bound-parameter limit
        chunk = wanted[start : start + 500]
        rows = conn.execute(
            f"SELECT id FROM notification_templates WHERE id IN ({', '.join('?' * len(chunk))})", chunk
        ).fetchall()
        found.update(as_uuid(r[0]) for r in rows)
    return found


def _mark_sent(conn: sqlite3.Connection, message_id: uuid.UUID) -> None:
    conn.execute(
        "UPDATE notification_messages SET status = 'sent', status_reason = '', leased_until = NULL,"
        " next_retry_after = NULL, attempt_count = attempt_count + 1, updated_at = ? WHERE id = ?",
        (to_us(now_utc()), message_id.bytes),
    )


def _migrate(conn: sqlite3.Connection) -> list[int]:
    """Apply bundled migrations not yet recorded in schema_migrations; returns the versions applied."""
    conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)"
    )
    done = {r[0] for r in conn.execute("SELECT version FROM schema_migrations")}
    applied: list[int] = []
    for version, name, script in migrations("sqlite"):
        if version in done:
            continue
        for statement in _split_statements(script):
            conn.execute(statement)
        conn.execute(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
            (version, name, to_us(now_utc())),
        )
        applied.append(version)
    if applied:
        log.info("applied SQLite migrations %s", applied)
    return applied


def _seed_templates(conn: sqlite3.Connection) -> int:
    """Upsert the bundled templates; an owner's method choice survives (see SQL_SEED_TEMPLATE)."""
    rows = [
        (
            uuid.UUID(t["id"]).bytes,
            t["name"],
            t["title_template"],
            t["body_template"],
            t.get("actions") or "[]",
            t.get("group") or "",
            t.get("method") or None,
            t.get("kind") or "system",
            int(bool(t.get("enabled_by_default", True))),
        )
        for t in template_rows()
    ]
    conn.executemany(SQL_SEED_TEMPLATE, rows)
    return len(rows)
