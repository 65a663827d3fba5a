"""`send` says when nothing will arrive (issue 11), against a real server; Coder's message and status stay."""

from __future__ import annotations

from inbox_tui.api.client import CoderClient
from inbox_tui.api.models import CUSTOM_TEMPLATE_ID
from tests.client.test_cli_live import as_user, cli, delivered, env
from tests.live_server import LiveServer

__all__ = ["env"]  # the fixture, imported for the tests below

SENT = "A custom notification has been sent.\n"
OFF = (
    "warning: Custom Notification is turned off in your notification preferences: this notification will not "
    "reach your inbox (turn it on in Preferences, `s` in the inbox).\n"
)
PAUSED = (
    "warning: Notification delivery is paused on this deployment: this notification will arrive only after an "
    "owner resumes it (`inbox-tui resume`).\n"
)


async def test_preference_off_warns_and_keeps_exit_0(live_server: LiveServer, env: dict[str, str]) -> None:
    member = as_user(live_server, live_server.member_token)
    assert cli(env, "send", "Before", "on", *member).stderr == SENT
    async with CoderClient(live_server.url, live_server.member_token) as client:
        await client.update_preferences({CUSTOM_TEMPLATE_ID: True})
    done = cli(env, "send", "Lost", "nobody will see this", *member)
    assert (done.returncode, done.stdout, done.stderr) == (0, "", SENT + OFF)


async def test_paused_delivery_warns_then_arrives_after_resume(live_server: LiveServer, env: dict[str, str]) -> None:
    member = as_user(live_server, live_server.member_token)
    async with CoderClient(live_server.url, live_server.owner_token) as owner:
        await owner.set_paused(True)
        done = cli(env, "send", "Queued", "waits for resume", *member)
        assert (done.returncode, done.stderr) == (0, SENT + PAUSED)
        await owner.set_paused(False)
    async with CoderClient(live_server.url, live_server.member_token) as client:
        await delivered(client, "Queued")
    after = cli(env, "send", "Live again", "arrives", *member)
    assert after.stderr == SENT


async def test_both_warnings_in_order(live_server: LiveServer, env: dict[str, str]) -> None:
    async with CoderClient(live_server.url, live_server.owner_token) as owner:
        await owner.update_preferences({CUSTOM_TEMPLATE_ID: True})
        await owner.set_paused(True)
        done = cli(env, "custom", "Nothing", "at all", *as_user(live_server, live_server.owner_token))
        await owner.set_paused(False)
    assert (done.returncode, done.stderr) == (0, SENT + OFF + PAUSED)


def test_send_help_documents_the_dedupe_window(env: dict[str, str]) -> None:
    done = cli(env, "send", "--help")
    text = " ".join(done.stdout.split())
    assert "The same title and message sent again within the same minute is deduplicated" in text
    assert "delivery paused" in text
