"""send_warnings against a real server: preference off, delivery paused, both, neither, a server that fails."""

from __future__ import annotations

from inbox_tui.api.client import CoderClient
from inbox_tui.api.models import CUSTOM_TEMPLATE_ID
from inbox_tui.api.send_warnings import DELIVERY_PAUSED, PREFERENCE_OFF, send_warnings
from tests.live_server import LiveServer


async def test_nothing_to_warn_about(live_server: LiveServer) -> None:
    async with CoderClient(live_server.url, live_server.member_token) as member:
        assert await send_warnings(member) == []


async def test_preference_off_and_delivery_paused(live_server: LiveServer) -> None:
    async with (
        CoderClient(live_server.url, live_server.member_token) as member,
        CoderClient(live_server.url, live_server.owner_token) as owner,
    ):
        await member.update_preferences({CUSTOM_TEMPLATE_ID: True})
        assert await send_warnings(member) == [PREFERENCE_OFF]
        await owner.set_paused(True)
        assert await send_warnings(member) == [PREFERENCE_OFF, DELIVERY_PAUSED]
        assert await send_warnings(owner) == [DELIVERY_PAUSED]  # the owner's own preference is on
        await member.update_preferences({CUSTOM_TEMPLATE_ID: False})  # an explicit "on" row
        assert await send_warnings(member) == [DELIVERY_PAUSED]


async def test_a_server_that_cannot_answer_gives_no_warning(live_server: LiveServer) -> None:
    """The checks never stop a send: a failed one is left out."""
    async with CoderClient(live_server.url, "bad-token") as stranger:
        assert await send_warnings(stranger) == []
