"""The SQLite store's single writer thread: jobs from the event loop run in batched transactions on one
connection, and their results are settled back on the loop that asked."""

from __future__ import annotations

import asyncio
import logging
import queue
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from server.store.base import StoreError

log = logging.getLogger("server.store.sqlite")  # the store's logger, as before the writer had its own module

MAX_BATCH: Final = 1_000  # jobs per transaction; bounds the latency of the first job in a burst


@dataclass(slots=True)
class WriteJob:
    """One write: a function of the writer's connection, and the future (on `loop`) that gets its result."""

    fn: Callable[[sqlite3.Connection], Any]
    future: asyncio.Future[Any]
    loop: asyncio.AbstractEventLoop


STOP: Final = object()  # queued by close(): the writer finishes what came before, then exits
_Outcome = tuple[WriteJob, Any, BaseException | None]


def _settle(outcomes: list[_Outcome]) -> None:
    """Resolve futures on their event loop; a caller that was cancelled meanwhile is skipped."""
    for job, result, exc in outcomes:
        if job.future.done():
            continue
        if exc is None:
            job.future.set_result(result)
        else:
            job.future.set_exception(exc)


class Writer:
    """The single writer thread and its connection."""

    def __init__(self, conn: sqlite3.Connection, check_file: Callable[[], BaseException | None]) -> None:
        self.conn = conn
        self.check_file = check_file  # before each commit: is the open file still the one at the path?
        self.queue: queue.SimpleQueue[WriteJob | object] = queue.SimpleQueue()
        self.commit_count = 0  # transactions committed
        self.job_count = 0  # jobs run
        self.thread = threading.Thread(target=self._main, name="inbox-sqlite-writer", daemon=True)

    def _main(self) -> None:
        stop = False
        while not stop:
            batch: list[WriteJob] = []
            item = self.queue.get()
            while True:
                if item is STOP:
                    stop = True  # nothing can be queued after the stop marker (close() sets the flag first)
                    break
                assert isinstance(item, WriteJob)
                batch.append(item)
                if len(batch) >= MAX_BATCH:
                    break
                try:
                    item = self.queue.get_nowait()
                except queue.Empty:
                    break
            pending = batch
            while pending:
                outcomes, pending = self._transaction(pending)
                self._resolve(outcomes)
        try:
            self.conn.execute("PRAGMA optimize")
        except sqlite3.Error:
            log.debug("PRAGMA optimize failed on close", exc_info=True)
        self.conn.close()

    def _transaction(self, jobs: list[WriteJob]) -> tuple[list[_Outcome], list[WriteJob]]:
        """Run jobs in one transaction. Returns their outcomes and the jobs left if it broke midway."""
        conn = self.conn
        outcomes: list[_Outcome] = []
        # A lone job needs no savepoint (its failure rolls back the transaction, which is only itself), and
        # skipping it spares big bulk inserts the savepoint's sub-journal.
        savepoints = len(jobs) > 1
        try:
            conn.execute("BEGIN IMMEDIATE")
        except BaseException as exc:
            return [(job, None, exc) for job in jobs], []
        for index, job in enumerate(jobs):
            self.job_count += 1
            if savepoints:
                conn.execute("SAVEPOINT job")
            try:
                result = job.fn(conn)
            except BaseException as exc:
                if not conn.in_transaction:
                    # The error ended the whole transaction (e.g. disk full): jobs run so far are lost too.
                    lost = StoreError(f"transaction aborted by another write: {exc}")
                    failed: list[_Outcome] = [(j, None, lost) for j, _, _ in outcomes]
                    return [*failed, (job, None, exc)], jobs[index + 1 :]
                if not savepoints:
                    conn.execute("ROLLBACK")
                    return [(job, None, exc)], []
                conn.execute("ROLLBACK TO job")
                conn.execute("RELEASE job")
                outcomes.append((job, None, exc))
            else:
                if savepoints:
                    conn.execute("RELEASE job")
                outcomes.append((job, result, None))
        # One stat per batch: never acknowledge a write that went into a file no longer at the path.
        gone = self.check_file()
        if gone is not None:
            conn.execute("ROLLBACK")
            return [(job, None, gone) for job, _, _ in outcomes], []
        try:
            conn.execute("COMMIT")
        except BaseException as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            return [(job, None, exc) for job, _, _ in outcomes], []
        self.commit_count += 1
        return outcomes, []

    @staticmethod
    def _resolve(outcomes: list[_Outcome]) -> None:
        by_loop: dict[asyncio.AbstractEventLoop, list[_Outcome]] = {}
        for outcome in outcomes:
            by_loop.setdefault(outcome[0].loop, []).append(outcome)
        for loop, items in by_loop.items():
            try:
                loop.call_soon_threadsafe(_settle, items)
            except RuntimeError:  # the caller's loop is closed: nobody is waiting any more
                log.debug("dropping %d write results for a closed event loop", len(items))
