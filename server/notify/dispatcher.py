"""The notifier: leases queued messages, renders them and hands them to their dispatch method.

Coder polls every 15 s; ours is woken at once by the enqueuer and keeps a periodic sweep as a safety net
(retries that fall due, messages left leased by a crashed process, resume after a pause elsewhere).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timedelta

from server.config import ServerConfig
from server.logs import fields
from server.notify.enqueue import template_context
from server.notify.gotemplate import TemplateRenderError, TemplateSyntaxError, render
from server.notify.hooks import NO_HOOKS, NotificationHooks
from server.notify.methods.base import DispatchError, DispatchMethod, RenderedMessage
from server.notify.plaintext import plaintext_from_markdown
from server.notify.settings import SettingsUnreadableError, notifier_paused
from server.records import (
    InboxNotification,
    NotificationMessage,
    NotificationMethod,
    NotificationTemplate,
    now_utc,
)
from server.store.base import DatabaseReplacedError, Store
from server.store.faults import MESSAGES_LEASED, fault_point

log = logging.getLogger(__name__)

# Leases are short, so a crashed replica's messages are picked up by another within seconds (Coder's 2 min
# lease kept messages waiting that long); a send that takes longer keeps its lease renewed while in flight.
SHORT_LEASE_SECONDS = 5.0
MAX_OUT_OF_BAND_IN_FLIGHT = 32
PURGE_AFTER = timedelta(days=7)
PURGE_EVERY_SECONDS = 3600.0


class Dispatcher:
    """One per server process; several processes on one PostgreSQL database share the queue safely."""

    def __init__(
        self,
        config: ServerConfig,
        store: Store,
        methods: Mapping[NotificationMethod, DispatchMethod],
        *,
        clock: Callable[[], datetime] = now_utc,
    ) -> None:
        self.config = config
        self.clock = clock  # the wall clock (tests step it back)
        self.store = store
        self.methods = dict(methods)
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._in_flight: set[asyncio.Task[None]] = set()
        self._sending: set[uuid.UUID] = set()  # leased out-of-band messages not finished yet
        self._renewer: asyncio.Task[None] | None = None
        self._out_of_band = asyncio.Semaphore(MAX_OUT_OF_BAND_IN_FLIGHT)
        self._last_purge = 0.0
        self.delivered = 0  # inbox rows written by this process (diagnostics, tests)
        # Rounds finished (each leases what is due unless paused): a round that ends after an enqueue proves
        # the notifier has looked at that message (the status endpoint shows it).
        self.rounds = 0
        self.metrics: NotificationHooks = NO_HOOKS  # Prometheus hooks with --prometheus-enable

    def wake(self) -> None:
        """Ask for a dispatch round now (called after every enqueue and on resume)."""
        self._wake.set()

    async def start(self) -> None:
        """Start the loop; it delivers whatever is already due."""
        self._task = asyncio.create_task(self._run(), name="notifier")
        self._renewer = asyncio.create_task(self._renew_leases(), name="notifier-leases")
        self.wake()

    @property
    def lease_seconds(self) -> float:
        """How long a lease lasts before another notifier may take the message over."""
        return min(self.config.lease_seconds, SHORT_LEASE_SECONDS)

    async def _renew_leases(self) -> None:
        """Renew the lease of every out-of-band send in flight, three times per lease period."""
        while True:
            await asyncio.sleep(self.lease_seconds / 3)
            if not self._sending:
                continue
            try:
                await self.store.renew_leases(list(self._sending), lease_seconds=self.lease_seconds, now=now_utc())
            except asyncio.CancelledError:
                raise
            except DatabaseReplacedError:
                pass
            except Exception:
                log.exception("cannot renew the leases of %d sends in flight", len(self._sending))

    async def stop(self) -> None:
        """Stop the loop and wait for out-of-band sends in flight."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._in_flight:
            await asyncio.wait(self._in_flight, timeout=5)
        if self._renewer is not None:
            self._renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._renewer
            self._renewer = None
        for method in self.methods.values():
            await method.aclose()

    async def _paused(self) -> bool:
        try:
            return await notifier_paused(self.store)
        except SettingsUnreadableError:
            return False  # unreadable settings never stop delivery (as a missing flag)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            # asyncio.timeout, not wait_for: Python 3.11's wait_for swallows a cancel that arrives as the
            # event is set (stop() right after a wake), and the notifier would never stop.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.config.fetch_interval):
                    await self._wake.wait()
            self._wake.clear()
            try:
                if loop.time() - self._last_purge > PURGE_EVERY_SECONDS:
                    self._last_purge = loop.time()
                    await self.store.purge_messages(now_utc() - PURGE_AFTER)
                # Keep going while full batches come back, so a burst drains without waiting for a wake.
                while not await self._paused():
                    leased = await self.store.lease_messages(
                        limit=self.config.lease_count, lease_seconds=self.lease_seconds, now=now_utc()
                    )
                    if not leased:
                        break
                    fault_point(MESSAGES_LEASED)
                    await self._dispatch_batch(leased)
                    if len(leased) < self.config.lease_count:
                        break
            except asyncio.CancelledError:
                raise
            except DatabaseReplacedError:
                pass  # the store said so once, loudly; every write fails until a restart: just keep sweeping
            except Exception:
                log.exception("notifier round failed; retrying on the next wake")
                await asyncio.sleep(0.5)
                self.wake()
            self.rounds += 1

    async def _dispatch_batch(self, messages: list[NotificationMessage]) -> None:
        templates: dict[object, NotificationTemplate | None] = {}
        inbox: list[tuple[NotificationMessage, InboxNotification]] = []
        for message in messages:
            self.metrics.leased(message)
            if message.template_id not in templates:
                templates[message.template_id] = await self.store.get_template(message.template_id)
            template = templates[message.template_id]
            if template is None:
                self.metrics.failed(message, permanent=True)
                await self.store.mark_message_failed(message.id, "template no longer exists", retry_after=None)
                continue
            try:
                if message.method is NotificationMethod.INBOX:
                    title, body = self.render_content(message, template)
                    inbox.append((message, self._inbox_notification(message, title, body)))
                else:
                    self._send_out_of_band(message, self.render(message, template))
            except (TemplateSyntaxError, TemplateRenderError) as exc:
                log.error("message %s: cannot render template %s: %s", message.id, template.name, exc)
                self.metrics.failed(message, permanent=True)
                await self.store.mark_message_failed(message.id, f"render: {exc}", retry_after=None)
        if inbox:
            await self._deliver_inbox(inbox)

    def render_content(self, message: NotificationMessage, template: NotificationTemplate) -> tuple[str, str]:
        """Title and body (markdown) rendered with the message payload, at dispatch time as Coder does."""
        context = template_context(message.payload)
        base_url = self.config.access_url.rstrip("/")
        return (
            render(template.title_template, context, base_url=base_url),
            render(template.body_template, context, base_url=base_url),
        )

    def render(self, message: NotificationMessage, template: NotificationTemplate) -> RenderedMessage:
        """Everything an out-of-band method sends, plain-text variants included."""
        payload = message.payload
        title, body = self.render_content(message, template)
        return RenderedMessage(
            message_id=message.id,
            template_id=message.template_id,
            notification_name=str(payload.get("notification_name", template.name)),
            user_id=message.user_id,
            user_email=str(payload.get("user_email", "")),
            user_name=str(payload.get("user_name", "")),
            user_username=str(payload.get("user_username", "")),
            title=title,
            body=body,
            title_plaintext=plaintext_from_markdown(title),
            body_plaintext=plaintext_from_markdown(body),
            actions=[dict(a) for a in payload.get("actions") or []],
            labels=dict(payload.get("labels") or {}),
            data=dict(payload.get("data") or {}),
            targets=list(message.targets) if message.targets is not None else None,
            created_at=message.created_at,
        )

    def _inbox_notification(self, message: NotificationMessage, title: str, body: str) -> InboxNotification:
        # The inbox row takes the message's id; Coder inserts it with an empty icon (fallbacks apply on output).
        return InboxNotification(
            id=message.id,
            user_id=message.user_id,
            template_id=message.template_id,
            targets=message.targets,
            title=title,
            content=body,
            icon="",
            actions=tuple(
                {"label": str(a.get("label", "")), "url": str(a.get("url", ""))}
                for a in message.payload.get("actions") or []
            ),
            read_at=None,
            created_at=self.clock(),  # the store moves it forward if the clock is behind the newest row
        )

    async def _deliver_inbox(self, batch: list[tuple[NotificationMessage, InboxNotification]]) -> None:
        # The store publishes the new rows itself, in the same transaction where it can (PostgreSQL), so a
        # committed row always reaches the watchers of every replica.
        started = time.perf_counter()
        try:
            stored = await self.store.deliver_inbox_many([(m.id, n) for m, n in batch])
        except DatabaseReplacedError:
            raise
        except Exception as exc:
            log.exception("inbox delivery of %d messages failed", len(batch))
            for message, _ in batch:
                await self._failed(message, str(exc), temporary=True)
            return
        self.metrics.inbox_delivered([m for m, _ in batch], time.perf_counter() - started)
        self.delivered += sum(1 for n in stored if n is not None)

    def _send_out_of_band(self, message: NotificationMessage, rendered: RenderedMessage) -> None:
        self._sending.add(message.id)  # its lease is renewed until the attempt is recorded
        task = asyncio.create_task(self._send(message, rendered), name=f"dispatch-{message.id}")
        self._in_flight.add(task)
        task.add_done_callback(self._in_flight.discard)
        task.add_done_callback(lambda _: self._sending.discard(message.id))

    async def _send(self, message: NotificationMessage, rendered: RenderedMessage) -> None:
        method = self.methods.get(message.method)
        if method is None:
            log.error("message %s: method %s is not configured", message.id, message.method.value)
            self.metrics.failed(message, permanent=True)
            await self.store.mark_message_failed(
                message.id, f"method {message.method.value} is not configured", retry_after=None
            )
            return
        async with self._out_of_band:
            try:
                await method.dispatch(rendered)
            except DispatchError as exc:
                log.warning(
                    "message %s: %s dispatch failed: %s", message.id, message.method.value, exc,
                    extra=_delivery_fields(message, error=str(exc)),
                )  # fmt: skip
                await self._failed(message, str(exc), temporary=exc.temporary)
                return
            except Exception as exc:
                log.exception(
                    "message %s: %s dispatch crashed", message.id, message.method.value,
                    extra=_delivery_fields(message, error=repr(exc)),
                )  # fmt: skip
                await self._failed(message, str(exc), temporary=True)
                return
        self.metrics.dispatched(message)
        await self._record(self.store.mark_message_sent(message.id))
        log.debug("notification dispatched", extra=_delivery_fields(message))

    async def _record(self, update: Awaitable[None]) -> None:
        """Write one dispatch outcome; the metrics count the writes in flight (pending_updates)."""
        self.metrics.update_pending(1)
        try:
            await update
        finally:
            self.metrics.update_pending(-1)

    async def _failed(self, message: NotificationMessage, reason: str, *, temporary: bool) -> None:
        # attempt_count grows when an attempt ends: this failure is attempt number attempt_count + 1.
        # (max(1, attempt_count) counted the first two failures alike: --max-send-attempts 5 gave 6 tries.)
        attempts = message.attempt_count + 1
        if not temporary or attempts >= self.config.max_send_attempts:
            self.metrics.failed(message, permanent=True)
            await self._record(self.store.mark_message_failed(message.id, reason, retry_after=None))
            return
        self.metrics.failed(message, permanent=False)
        delay = self.config.retry_interval * (2 ** (attempts - 1))
        await self._record(
            self.store.mark_message_failed(message.id, reason, retry_after=now_utc() + timedelta(seconds=delay))
        )
        asyncio.get_running_loop().call_later(delay, self.wake)


def _delivery_fields(message: NotificationMessage, error: str = "") -> dict[str, object]:
    """The structured fields of one delivery event (never the rendered title or body)."""
    values: dict[str, object] = {
        "message_id": str(message.id),
        "method": message.method.value,
        "template_id": str(message.template_id),
        "attempt": message.attempt_count + 1,  # the count grows when an attempt ends
    }
    if error:
        values["error"] = error
    return fields(**values)
