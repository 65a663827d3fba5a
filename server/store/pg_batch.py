"""Group commit for the PostgreSQL store: concurrent calls of one kind share a single statement.

Concurrent `publish` calls (outside deliveries, which NOTIFY in their own transaction) would each be a
round trip and a commit that takes the global notify lock.
Calls made while a statement is in flight (or in the same event-loop tick) are collected and sent
together as the next statement, so a burst of N publishes costs a handful of statements, while a lone
call still goes out at once. Each caller gets its own result, as if it had run alone.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")


class GroupCommit(Generic[T, R]):
    """Coalesce concurrent `submit(item)` calls into `run_batch(items)` statements.

    `run_batch` returns one result per item, in order. When a batch fails, its items are retried one by
    one with `run_one`, so one bad item (say, a user deleted meanwhile) fails only its own caller.
    """

    def __init__(
        self,
        run_batch: Callable[[list[T]], Awaitable[list[R]]],
        run_one: Callable[[T], Awaitable[R]],
        *,
        max_batch: int = 500,
        name: str = "group-commit",
    ) -> None:
        self._run_batch = run_batch
        self._run_one = run_one
        self._max_batch = max_batch
        self._name = name
        self._pending: list[tuple[T, asyncio.Future[R]]] = []
        self._task: asyncio.Task[None] | None = None

    async def submit(self, item: T) -> R:
        """Run `item` in the next statement; returns its result once that statement has committed."""
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._pending.append((item, future))
        if self._task is None:
            # The flusher starts on the next loop iteration: callers of this tick join the first batch.
            self._task = asyncio.create_task(self._flush(), name=self._name)
        return await future

    async def drain(self) -> None:
        """Wait until nothing is pending or in flight (before closing the pool)."""
        while self._task is not None:
            await asyncio.shield(self._task)

    async def _flush(self) -> None:
        try:
            while self._pending:
                batch = self._pending[: self._max_batch]
                del self._pending[: self._max_batch]
                await self._run(batch)
        finally:
            self._task = None

    async def _run(self, batch: list[tuple[T, asyncio.Future[R]]]) -> None:
        items = [item for item, _ in batch]
        try:
            results = await (self._run_batch(items) if len(items) > 1 else self._single(items[0]))
        except Exception as exc:
            if len(batch) == 1:
                _fail(batch[0][1], exc)
                return
            log.warning("%s: a batch of %d failed (%s); retrying one by one", self._name, len(batch), exc)
            for item, future in batch:
                try:
                    result = await self._run_one(item)
                except Exception as one_exc:
                    _fail(future, one_exc)
                else:
                    _resolve(future, result)
            return
        for (_, future), result in zip(batch, results, strict=True):
            _resolve(future, result)

    async def _single(self, item: T) -> list[R]:
        return [await self._run_one(item)]


def _resolve(future: asyncio.Future[R], result: R) -> None:
    if not future.done():  # a cancelled caller: the work was done all the same
        future.set_result(result)


def _fail(future: asyncio.Future[R], exc: BaseException) -> None:
    if not future.done():
        future.set_exception(exc)
