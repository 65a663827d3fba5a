"""Who am I, and build info: what clients call to log in."""

from __future__ import annotations

from server import __version__
from server.api.common import resolve_user_param
from server.context import AppContext
from server.http import Request, Response, json_response
from server.records import User
from server.wire import user_json


async def get_user(ctx: AppContext, req: Request, user: User) -> Response:
    """GET /users/{user} (`me` included)."""
    return json_response(user_json(await resolve_user_param(ctx, user, req.path_params["user"])))


async def buildinfo(ctx: AppContext) -> Response:
    """GET /buildinfo (no authentication, as in Coder)."""
    return json_response(
        {
            "external_url": "https://github.com/coder/coder",
            "version": f"v2.99.0-inbox-server+{__version__}",
            "dashboard_url": ctx.access_url,
            "workspace_proxy": False,
            "agent_api_version": "",
            "provisioner_api_version": "",
            "upgrade_message": "",
            "deployment_id": ctx.deployment_id,
            "webpush_public_key": "",
            "telemetry": False,
        }
    )
