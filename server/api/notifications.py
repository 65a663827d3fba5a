"""Sending: the test notification (owners) and custom notifications (spec sections 14 and 15)."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from server.api.common import database_replaced, field_of
from server.context import AppContext
from server.errors import ApiError, forbidden, internal_error
from server.http import Request, Response, empty_response
from server.notify.enqueue import NoSuchTemplateError
from server.records import TEMPLATE_CUSTOM_NOTIFICATION, TEMPLATE_TEST_NOTIFICATION, User, now_utc
from server.store.base import DatabaseReplacedError

# Go's strings.TrimSpace trims Unicode White_Space; Python's str.strip() also trims \x1c-\x1f.
GO_SPACE = "".join(c for c in map(chr, range(0x3001)) if c.isspace() and c not in "\x1c\x1d\x1e\x1f")

log = logging.getLogger(__name__)

MAX_TITLE_BYTES = 120
MAX_MESSAGE_BYTES = 2000


async def _enqueue_to_self(
    ctx: AppContext,
    user: User,
    failure: str,
    *,
    template_id: uuid.UUID,
    labels: dict[str, str],
    data: dict[str, Any],
    created_by: str,
) -> None:
    """Enqueue one notification to `user`; errors become Coder's 400 (unknown template) or 500 (`failure`)."""
    try:
        await ctx.enqueuer.enqueue(
            user=user, template_id=template_id, labels=labels, data=data, created_by=created_by, targets=None
        )
    except NoSuchTemplateError as exc:
        raise ApiError(400, "Unknown notification template.", str(exc)) from None
    except ApiError:
        raise
    except DatabaseReplacedError as exc:
        raise database_replaced(exc) from exc
    except Exception as exc:
        log.exception(failure)
        raise internal_error(failure) from exc


async def post_test_notification(ctx: AppContext, req: Request, user: User) -> Response:
    """POST /notifications/test: owners only; enqueued to the caller, the timestamp defeats dedupe."""
    if not user.is_owner:
        raise forbidden()
    await _enqueue_to_self(
        ctx,
        user,
        "Failed to send test notification",
        template_id=TEMPLATE_TEST_NOTIFICATION,
        labels={},
        data={"timestamp": now_utc().isoformat()},
        created_by="send-test-notification",
    )
    return empty_response(204)


def _unstorable(value: str) -> str:
    """Why a decoded JSON string cannot be stored as text on every backend, or ''."""
    if "\x00" in value:
        return "must not contain a NUL character (\\u0000)"
    try:
        value.encode()
    except UnicodeEncodeError:
        return "must be valid Unicode (a lone surrogate such as \\ud800 is not)"
    return ""


def validate_custom(body: dict[str, Any]) -> tuple[str, str]:
    """codersdk.CustomNotificationRequest.Validate, with Go's type errors for wrong JSON types."""
    content = body.get("content")
    if content is None:
        raise ApiError(400, "Invalid request body", "content is required")
    if not isinstance(content, dict):
        field_of(body, "content", dict, "CustomNotificationRequest", None)
    title = field_of(content, "title", str, "CustomNotificationRequest.content", "")
    message = field_of(content, "message", str, "CustomNotificationRequest.content", "")
    problems = [
        (f"content.{name}", why)
        for name, value in (("title", title), ("message", message))
        if (why := _unstorable(value))
    ]
    if problems:
        # Deviation: Go would store U+FFFD for a lone surrogate; PostgreSQL cannot store NUL at all.
        raise ApiError(400, "Invalid request body", "; ".join(f"'{f}' {why}" for f, why in problems), problems)
    if not title.strip(GO_SPACE) or not message.strip(GO_SPACE):
        raise ApiError(400, "Invalid request body", "provide a non-empty 'content.title' and 'content.message'")
    if len(title.encode()) > MAX_TITLE_BYTES:
        raise ApiError(400, "Invalid request body", "'content.title' must be less than 120 characters")
    if len(message.encode()) > MAX_MESSAGE_BYTES:
        raise ApiError(400, "Invalid request body", "'content.message' must be less than 2000 characters")
    return title, message


async def post_custom_notification(ctx: AppContext, req: Request, user: User) -> Response:
    """POST /notifications/custom: any non-system user, always to themselves."""
    title, message = validate_custom(await req.json_object())
    if user.is_system:
        raise ApiError(403, "Forbidden", "System users cannot send custom notifications.")
    # Identical content within one minute is deduplicated (silently, still 204), as in Coder.
    minute = now_utc().replace(second=0, microsecond=0)
    await _enqueue_to_self(
        ctx,
        user,
        "Failed to send custom notification",
        template_id=TEMPLATE_CUSTOM_NOTIFICATION,
        labels={"custom_title": title, "custom_message": message},
        data={"dedupe_bypass_ts": minute.isoformat()},
        created_by=str(user.id),
    )
    return empty_response(204)
