"""Deployment notification settings: the notifier pause flag (spec section 11)."""

from __future__ import annotations

from server.api.common import database_errors, field_of
from server.context import AppContext
from server.errors import ApiError, forbidden
from server.http import Request, Response, empty_response, json_response
from server.notify.settings import (
    SettingsUnreadableError,
    paused_in,
    set_notifier_paused,
    settings_json,
    stored_settings,
)
from server.records import User


async def read_paused(ctx: AppContext) -> bool:
    """Whether the notifier is paused, from the stored settings (`{}` when never set)."""
    with database_errors("Failed to fetch current notifications settings."):
        raw = await stored_settings(ctx.store)
    try:
        return paused_in(raw)
    except SettingsUnreadableError:
        raise ApiError(500, "Failed to unmarshal notifications settings.") from None


async def get_settings(ctx: AppContext, req: Request, user: User) -> Response:
    """GET /notifications/settings: any authenticated user."""
    return json_response({"notifier_paused": await read_paused(ctx)})


async def put_settings(ctx: AppContext, req: Request, user: User) -> Response:
    """PUT /notifications/settings: 304 when byte-identical (checked before authorization), owners only."""
    body = await req.json_object()
    paused = field_of(body, "notifier_paused", bool, "NotificationsSettings", False)
    with database_errors("Failed to fetch current notifications settings."):
        current = await stored_settings(ctx.store)
    if current == settings_json(paused):
        return empty_response(304)
    if not user.is_owner:
        raise forbidden()
    with database_errors("Failed to update notifications settings."):
        await set_notifier_paused(ctx.store, paused)
    if not paused:
        ctx.dispatcher.wake()
    return json_response({"notifier_paused": paused})
