"""Settings, templates, dispatch methods and the template method PUT (spec sections 8, 9, 11)."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

from tests.live_server import LiveServer
from tests.server.helpers import client

SPEC_TEMPLATES = Path(__file__).parents[2] / "server" / "data" / "notification-templates.json"
OOM = "a9d027b4-ac49-4fb1-9f6d-45af15f64e7a"


async def test_settings_round_trip_and_304(live_server: LiveServer) -> None:
    async with client(live_server) as c:
        assert (await c.get("/notifications/settings")).json() == {"notifier_paused": False}
        # Fresh deployments store "{}", so the first PUT of false is a write, not a 304.
        first = await c.put("/notifications/settings", json={"notifier_paused": False})
        assert first.status_code == 200 and first.json() == {"notifier_paused": False}
        same = await c.put("/notifications/settings", json={"notifier_paused": False})
        assert same.status_code == 304 and same.content == b""
        paused = await c.put("/notifications/settings", json={"notifier_paused": True})
        assert paused.status_code == 200 and paused.json() == {"notifier_paused": True}
        assert (await c.get("/notifications/settings")).json() == {"notifier_paused": True}


async def test_member_cannot_change_settings_but_gets_304_for_the_current_value(
    live_server: LiveServer,
) -> None:
    async with client(live_server) as owner:
        await owner.put("/notifications/settings", json={"notifier_paused": False})
    async with client(live_server, live_server.member_token) as c:
        refused = await c.put("/notifications/settings", json={"notifier_paused": True})
        assert refused.status_code == 403
        assert refused.json()["message"] == "Forbidden."
        assert refused.json()["detail"].startswith("You don't have permission")
        assert (await c.put("/notifications/settings", json={"notifier_paused": False})).status_code == 304
        assert (await c.get("/notifications/settings")).json() == {"notifier_paused": False}


async def test_settings_bad_bodies(live_server: LiveServer) -> None:
    async with client(live_server) as c:
        bad = await c.put("/notifications/settings", content=b"{not json")
        assert bad.status_code == 400 and bad.json()["message"] == "Request body must be valid JSON."
        wrong = await c.put("/notifications/settings", json={"notifier_paused": "yes"})
        assert wrong.status_code == 400
        array = await c.put("/notifications/settings", json=[True])
        assert array.status_code == 400
        assert (await c.get("/notifications/settings")).json() == {"notifier_paused": False}


async def test_templates_match_the_catalogue(live_server: LiveServer) -> None:
    expected = json.loads(SPEC_TEMPLATES.read_text())
    async with client(live_server, live_server.member_token) as c:
        system = (await c.get("/notifications/templates/system")).json()
        custom = (await c.get("/notifications/templates/custom")).json()
    assert system == expected["system"]
    assert custom == expected["custom"]
    assert len(system) + len(custom) == 37
    names = [t["name"] for t in system]
    assert names == sorted(names, key=lambda n: n.encode())


async def test_dispatch_methods_default(live_server: LiveServer) -> None:
    async with client(live_server, live_server.member_token) as c:
        response = await c.get("/notifications/dispatch-methods")
    assert response.json() == {"available": ["smtp", "webhook"], "default": "smtp"}


async def test_dispatch_methods_reflect_webhook_configuration(tmp_path: Path) -> None:
    server = LiveServer(
        tmp_path, args=["--notifications-method", "webhook", "--webhook-url", "http://127.0.0.1:9/hook"]
    ).start()
    try:
        async with client(server) as c:
            assert (await c.get("/notifications/dispatch-methods")).json()["default"] == "webhook"
    finally:
        server.stop()


async def test_template_method_put(live_server: LiveServer) -> None:
    path = f"/notifications/templates/{OOM}/method"
    async with client(live_server, live_server.member_token) as member:
        assert (await member.put(path, json={"method": "webhook"})).status_code == 403
    async with client(live_server) as c:
        ok = await c.put(path, json={"method": "webhook"})
        assert ok.status_code == 200
        assert ok.json() == {"message": "Successfully updated notification template method."}
        assert (await c.put(path, json={"method": "webhook"})).status_code == 304
        system = (await c.get("/notifications/templates/system")).json()
        assert next(t for t in system if t["id"] == OOM)["method"] == "webhook"
        bad = await c.put(path, json={"method": "pigeon"})
        assert bad.status_code == 400
        assert bad.json()["validations"][0]["field"] == "method"
        unknown = await c.put(f"/notifications/templates/{uuid.uuid4()}/method", json={"method": "smtp"})
        assert unknown.status_code == 404
        not_uuid = await c.put("/notifications/templates/nope/method", json={"method": "smtp"})
        assert not_uuid.status_code == 400 and not_uuid.json()["message"] == 'Invalid UUID "nope".'
        reset = await c.put(path, json={"method": ""})
        assert reset.status_code == 200
