"""Inbox notifications: list, mark all as read, read status (spec sections 4, 6, 7)."""

from __future__ import annotations

from server.api.common import database_errors, field_of, path_uuid
from server.context import AppContext
from server.errors import not_found
from server.http import JSON_CONTENT_TYPE, Request, Response, empty_response, json_response
from server.query import LIST_PARAMS, parse_inbox_query
from server.records import User, now_utc
from server.wire import inbox_notification_json


async def list_inbox_notifications(ctx: AppContext, req: Request, user: User) -> Response:
    """GET /notifications/inbox: 25 newest first, filtered; the unread count is the unfiltered total."""
    query = parse_inbox_query(req.query_string, allow=LIST_PARAMS)
    before = None
    if query.starting_before is not None:
        with database_errors("Failed to get filtered inbox notifications."):
            found = await ctx.store.get_inbox_notification(query.starting_before)
        # Unknown or invisible cursors are silently ignored, as Coder does.
        if found is not None and (found.user_id == user.id or user.is_owner):
            before = found
    with database_errors("Failed to get filtered inbox notifications."):
        page, unread = await ctx.store.inbox_page_json(user.id, query.filter, before=before)
    body = b'{"notifications":' + page + b',"unread_count":' + str(unread).encode() + b"}\n"
    return Response(200, body, [(b"content-type", JSON_CONTENT_TYPE)])


async def mark_all_as_read(ctx: AppContext, req: Request, user: User) -> Response:
    """PUT /notifications/inbox/mark-all-as-read: only the caller's unread rows; the body is ignored."""
    with database_errors("Failed to mark all unread notifications as read."):
        await ctx.store.mark_all_read(user.id, now_utc())
    return empty_response(204)


async def update_read_status(ctx: AppContext, req: Request, user: User) -> Response:
    """PUT /notifications/inbox/{id}/read-status."""
    notification_id = path_uuid(req.path_params["id"])
    body = await req.json_object()
    is_read = field_of(body, "is_read", bool, "UpdateInboxNotificationReadStatusRequest", False)
    with database_errors("Failed to update inbox notification read status."):
        existing = await ctx.store.get_inbox_notification(notification_id)
    # Deviation: Coder answers 500 for an unknown or foreign id; a client's mistake deserves a 404.
    if existing is None or (existing.user_id != user.id and not user.is_owner):
        raise not_found()
    with database_errors("Failed to update inbox notification read status."):
        updated = await ctx.store.set_read_at(notification_id, now_utc() if is_read else None)
    if updated is None:
        raise not_found()
    with database_errors("Failed to call count unread inbox notifications."):
        unread = await ctx.store.count_unread(user.id)
    return json_response({"notification": inbox_notification_json(updated), "unread_count": unread})
