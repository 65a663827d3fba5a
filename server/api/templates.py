"""Notification templates and dispatch methods (spec sections 8 and 9)."""

from __future__ import annotations

from server.api.common import database_errors, field_of, path_uuid
from server.context import AppContext
from server.errors import ApiError, forbidden, not_found
from server.http import Request, Response, empty_response, json_response
from server.records import NotificationMethod, User
from server.wire import template_json

# `inbox` is an implicit target and is never offered (Coder filters it out).
AVAILABLE_METHODS = [m.value for m in NotificationMethod if m is not NotificationMethod.INBOX]


async def _templates_of(ctx: AppContext, kind: str) -> Response:
    with database_errors(f'Failed to retrieve "{kind}" notifications templates.'):
        rows = await ctx.store.list_templates(kind)
    # A nil Go slice encodes as null when a kind has no templates.
    return json_response([template_json(t) for t in rows] if rows else None)


async def system_templates(ctx: AppContext, req: Request, user: User) -> Response:
    """GET /notifications/templates/system."""
    return await _templates_of(ctx, "system")


async def custom_templates(ctx: AppContext, req: Request, user: User) -> Response:
    """GET /notifications/templates/custom."""
    return await _templates_of(ctx, "custom")


async def dispatch_methods(ctx: AppContext, req: Request, user: User) -> Response:
    """GET /notifications/dispatch-methods: one object (swagger wrongly says an array)."""
    return json_response({"available": AVAILABLE_METHODS, "default": ctx.config.notifications_method})


async def update_template_method(ctx: AppContext, req: Request, user: User) -> Response:
    """PUT /notifications/templates/{notification_template}/method: owners route a template to a method."""
    template_id = path_uuid(req.path_params["notification_template"])
    if not user.is_owner:
        raise forbidden()
    template = await ctx.store.get_template(template_id)
    if template is None:
        raise not_found()
    body = await req.json_object()
    method = field_of(body, "method", str, "UpdateNotificationTemplateMethod", "")
    valid = [m.value for m in NotificationMethod]
    if method != "" and method not in valid:
        raise ApiError(
            400,
            "Invalid request to update notification template method",
            validations=[("method", f"{method!r} is not a valid method; {', '.join(valid)} are the available options")],
        )
    changed = await ctx.store.set_template_method(template_id, method)
    if changed is None:
        raise not_found()
    if not changed:
        return empty_response(304)
    ctx.enqueuer.forget_templates()
    return json_response({"message": "Successfully updated notification template method."})
