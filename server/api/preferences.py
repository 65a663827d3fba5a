"""User notification preferences (spec section 10)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from server.api.common import database_errors, resolve_user_param
from server.context import AppContext
from server.errors import MSG_BAD_JSON, ApiError
from server.http import Request, Response, json_response
from server.records import User
from server.store.base import UnknownTemplateError
from server.uuids import UUIDParseError, parse_uuid
from server.wire import preferences_json

MAX_VALIDATIONS = 10


def _unknown_validations(template_ids: Sequence[uuid.UUID]) -> list[tuple[str, str]]:
    """One validation per unknown id, at most MAX_VALIDATIONS, then one saying how many more."""
    shown = [("template_disabled_map", f"notification template {tid} does not exist") for tid in template_ids]
    if len(shown) > MAX_VALIDATIONS:
        more = len(shown) - MAX_VALIDATIONS
        shown = [*shown[:MAX_VALIDATIONS], ("template_disabled_map", f"and {more} more unknown notification templates")]
    return shown


async def get_preferences(ctx: AppContext, req: Request, user: User) -> Response:
    """GET /users/{user}/notifications/preferences: explicit rows only, null when none."""
    target = await resolve_user_param(ctx, user, req.path_params["user"])
    with database_errors("Failed to retrieve user notification preferences."):
        rows = await ctx.store.get_preferences(target.id)
    return json_response(preferences_json(rows))


async def put_preferences(ctx: AppContext, req: Request, user: User) -> Response:
    """PUT /users/{user}/notifications/preferences: a merge of the listed templates, all or nothing."""
    target = await resolve_user_param(ctx, user, req.path_params["user"])
    body = await req.json_object()
    raw_map = body.get("template_disabled_map")
    if raw_map is None:
        raw_map = {}
    if not isinstance(raw_map, dict):
        raise ApiError(
            400,
            MSG_BAD_JSON,
            "json: cannot unmarshal into Go struct field "
            "UpdateUserNotificationPreferences.template_disabled_map of type map[string]bool",
        )
    if raw_map:
        with database_errors("Failed to update user notifications preferences."):
            known = len(await ctx.store.list_templates())
        if len(raw_map) > known:
            # Deviation: Coder would try them all; a map naming more templates than exist cannot be
            # right, and refusing it at once keeps the cost of a huge map to one parse.
            raise ApiError(
                400,
                "Too many notification templates.",
                f"template_disabled_map has {len(raw_map)} entries; there are only {known} notification templates.",
            )
    changes: dict[uuid.UUID, bool] = {}
    for key, value in raw_map.items():
        if not isinstance(value, bool):
            raise ApiError(
                400,
                MSG_BAD_JSON,
                "json: cannot unmarshal into Go struct field "
                "UpdateUserNotificationPreferences.template_disabled_map of type bool",
            )
        try:
            changes[parse_uuid(key)] = value
        except UUIDParseError as exc:
            raise ApiError(400, "Unable to parse notification template UUID.", str(exc)) from None
    if changes:
        try:
            with database_errors("Failed to update user notifications preferences.", (UnknownTemplateError,)):
                await ctx.store.upsert_preferences(target.id, changes)
        except UnknownTemplateError as exc:
            # Deviation: Coder fails the foreign key with a 500; an unknown id is the client's mistake.
            raise ApiError(
                400, "Invalid notification template ID.", validations=_unknown_validations(exc.template_ids)
            ) from None
    with database_errors("Failed to retrieve user notifications preferences."):
        rows = await ctx.store.get_preferences(target.id)
    return json_response(preferences_json(rows))
