"""Enqueue as Coder's enqueuer does: build the payload, pick the methods, one queued message per method."""

from __future__ import annotations

import hashlib
import logging
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import orjson

from server.config import ServerConfig
from server.notify.gotemplate import render_actions
from server.records import (
    TEMPLATE_ONE_TIME_PASSCODE,
    NotificationMessage,
    NotificationMethod,
    NotificationTemplate,
    User,
    new_message_id,
    now_utc,
)
from server.store.base import Store

log = logging.getLogger(__name__)

PAYLOAD_VERSION = "1.2"


class NoSuchTemplateError(LookupError):
    """The message names a notification template that does not exist (the handler answers Coder's 400)."""

    def __init__(self, template_id: uuid.UUID) -> None:
        super().__init__(f"template {template_id} does not exist")
        self.template_id = template_id


def template_context(payload: Mapping[str, Any]) -> dict[str, Any]:
    """The data a Go template sees, built from a message payload (Coder's types.MessagePayload)."""
    return {
        "Labels": payload.get("labels") or {},
        "Data": payload.get("data") or {},
        "UserID": payload.get("user_id", ""),
        "UserEmail": payload.get("user_email", ""),
        "UserName": payload.get("user_name", ""),
        "UserUsername": payload.get("user_username", ""),
        "NotificationName": payload.get("notification_name", ""),
        "NotificationTemplateID": payload.get("notification_template_id", ""),
        "Actions": payload.get("actions") or [],
        "Targets": payload.get("targets") or [],
    }


def dedupe_hash(
    template_id: uuid.UUID,
    user_id: uuid.UUID,
    method: str,
    payload: Mapping[str, Any],
    targets: Sequence[uuid.UUID] | None,
    *,
    now: datetime | None = None,
) -> str:
    """md5 of template, user, method, payload, targets and the UTC day: same message, same day, once.

    `now` (default: the current time) picks the day.
    """
    day = (now or now_utc()).astimezone(UTC).strftime("%Y-%m-%d")
    parts = [
        str(template_id),
        str(user_id),
        method,
        orjson.dumps(payload, option=orjson.OPT_SORT_KEYS).decode(),
        ",".join(str(t) for t in targets or ()),
        day,
    ]
    return hashlib.md5("|".join(parts).encode(), usedforsecurity=False).hexdigest()


class Enqueuer:
    """Turns "notify user U of template T" into queued messages, then wakes the dispatcher."""

    TEMPLATE_TTL_SECONDS = 1.0

    def __init__(self, config: ServerConfig, store: Store, wake: Callable[[], None]) -> None:
        self.config = config
        self.store = store
        self.wake = wake
        self._templates: dict[uuid.UUID, tuple[float, NotificationTemplate | None]] = {}

    def forget_templates(self) -> None:
        """Drop cached templates (after an owner changed a template's method in this process)."""
        self._templates.clear()

    async def _template(self, template_id: uuid.UUID) -> NotificationTemplate | None:
        # Templates change only when an owner routes one to a method; a second of staleness is fine
        # and saves a read on every send.
        now = time.monotonic()
        cached = self._templates.get(template_id)
        if cached is not None and cached[0] > now:
            return cached[1]
        template = await self.store.get_template(template_id)
        self._templates[template_id] = (now + self.TEMPLATE_TTL_SECONDS, template)
        return template

    def methods_for(self, template: NotificationTemplate) -> list[NotificationMethod]:
        """The template's method, else the default when it is configured; plus inbox unless excluded."""
        methods: list[NotificationMethod] = []
        if template.method:
            methods.append(NotificationMethod(template.method))
        else:
            default = NotificationMethod(self.config.notifications_method)
            if (default is NotificationMethod.SMTP and self.config.smtp.configured) or (
                default is NotificationMethod.WEBHOOK and self.config.webhook.configured
            ):
                methods.append(default)
        if (
            self.config.inbox_enabled
            and NotificationMethod.INBOX not in methods
            and template.id != TEMPLATE_ONE_TIME_PASSCODE
        ):
            methods.append(NotificationMethod.INBOX)
        return methods

    async def enqueue(
        self,
        *,
        user: User,
        template_id: uuid.UUID,
        labels: Mapping[str, str],
        data: Mapping[str, Any],
        created_by: str,
        targets: Sequence[uuid.UUID] | None,
    ) -> list[uuid.UUID]:
        """Queue one message per method; silently skipped ones (preferences, dedupe) are not returned."""
        template = await self._template(template_id)
        if template is None:
            raise NoSuchTemplateError(template_id)
        payload: dict[str, Any] = {
            "_version": PAYLOAD_VERSION,
            "notification_name": template.name,
            "notification_template_id": str(template.id),
            "user_id": str(user.id),
            "user_email": user.email,
            "user_name": user.name or user.username,
            "user_username": user.username,
            "actions": [],
            "labels": dict(labels),
            "data": dict(data),
            "targets": [str(t) for t in targets] if targets is not None else None,
        }
        payload["actions"] = render_actions(
            template.actions, template_context(payload), base_url=self.config.access_url.rstrip("/")
        )
        created_at = now_utc()
        target_tuple = tuple(targets) if targets is not None else None
        messages = [
            NotificationMessage(
                id=new_message_id(),
                template_id=template.id,
                user_id=user.id,
                method=method,
                payload=payload,
                targets=target_tuple,
                created_by=created_by,
                dedupe_hash=dedupe_hash(template.id, user.id, method.value, payload, targets, now=created_at),
                created_at=created_at,
            )
            for method in self.methods_for(template)
        ]
        inserted = await self.store.enqueue_messages(messages)
        if inserted:
            self.wake()
        return inserted
