"""Deployment notification settings: the notifier pause flag (spec section 11)."""

from __future__ import annotations

import json

from server.api.common import database_errors, field_of
from server.context import AppContext
from server.errors import ApiError, forbidden
from server.http import Request, Response, empty_response, json_response
from server.records import User

SETTINGS_KEY = "notifications_settings"


async def read_paused(ctx: AppContext) -> bool:
    """Whether the notifier is paused, from the stored settings (`{}` when never set)."""
    with database_errors("Failed to fetch current notifications settings."):
        raw = await ctx.store.get_site_config(SETTINGS_KEY) or "{}"
    try:
        value = json.loads(raw)
    except ValueError:
        raise ApiError(500, "Failed to unmarshal notifications settings.") from None
    return bool(value.get("notifier_paused", False)) if isinstance(value, dict) else False


async def get_settings(ctx: AppContext, req: Request, user: User) -> Response:
    """GET /notifications/settings: any authenticated user."""
    return json_response({"notifier_paused": await read_paused(ctx)})


async def put_settings(ctx: AppContext, req: Request, user: User) -> Response:
    """PUT /notifications/settings: 304 when byte-identical (checked before authorization), owners only."""
    body = await req.json_object()
    paused = field_of(body, "notifier_paused", bool, "NotificationsSettings", False)
    canonical = json.dumps({"notifier_paused": paused}, separators=(",", ":"))
    with database_errors("Failed to fetch current notifications settings."):
        current = await ctx.store.get_site_config(SETTINGS_KEY) or "{}"
    if current == canonical:
        return empty_response(304)
    if not user.is_owner:
        raise forbidden()
    with database_errors("Failed to update notifications settings."):
        await ctx.store.set_site_config(SETTINGS_KEY, canonical)
    if not paused:
        ctx.dispatcher.wake()
    return json_response({"notifier_paused": paused})
