"""`inbox-server serve --demo`: realistic seed data, and new notifications keep coming."""

from __future__ import annotations

import random
import uuid
from pathlib import Path
from typing import Any

from server.demo import SEED_COUNT, _sample, samples
from server.notify.catalogue import load_bundled_templates
from server.notify.enqueue import template_context
from server.notify.gotemplate import render, render_actions
from tests.live_server import LiveServer
from tests.server.helpers import inbox, wait_for


def test_every_demo_sample_renders_completely() -> None:
    """Title, body and every action (label and URL) of every demo sample: no `<no value>` anywhere."""
    templates = {t.id: t for t in load_bundled_templates()}
    for seed in range(20):
        every = samples(random.Random(seed))
        assert len({template_id for template_id, _, _ in every}) == len(every) >= 12
        for template_id, labels, data in every:
            template = templates[uuid.UUID(template_id)]
            context = template_context(
                {"labels": labels, "data": data, "user_username": "ada", "user_name": "Ada", "user_email": "a@x"}
            )
            rendered = [
                render(source, context, base_url="http://x")
                for source in (template.title_template, template.body_template)
            ]
            for action in render_actions(template.actions, context, base_url="http://x"):
                rendered += [action["label"], action["url"]]
            for text in rendered:
                assert "<no value>" not in text, (template.name, text)


def test_a_random_demo_sample_is_one_of_them() -> None:
    rng = random.Random(7)
    ids = {template_id for template_id, _, _ in samples(random.Random(7))}
    assert {_sample(rng)[0] for _ in range(200)} == ids


async def test_demo_seeds_and_keeps_producing(tmp_path: Path) -> None:
    server = LiveServer(tmp_path, args=["--demo"]).start()
    try:

        async def seeded() -> dict[str, Any] | None:
            page = await inbox(server)
            return page if len(page["notifications"]) == 25 else None

        first = await wait_for(seeded, within=20)
        assert 0 < first["unread_count"] < SEED_COUNT
        templates = {n["template_id"] for n in first["notifications"]}
        assert len(templates) >= 4
        newest = first["notifications"][0]["id"]

        async def produced() -> bool:
            return (await inbox(server))["notifications"][0]["id"] != newest

        await wait_for(produced, within=30)
    finally:
        server.stop()
