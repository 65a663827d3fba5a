"""`inbox-server serve --demo`: seed realistic notifications and keep producing new ones."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import uuid
from datetime import timedelta
from typing import Any

from server.context import AppContext
from server.notify.enqueue import template_context
from server.notify.gotemplate import TemplateError, render, render_actions
from server.records import InboxFilter, InboxNotification, User, now_utc

log = logging.getLogger(__name__)

DEMO_INTERVAL_SECONDS = 6.0
SEED_COUNT = 48
_ALL = InboxFilter()

WORKSPACES = ["api-dev", "frontend", "ml-notebook", "docs-preview", "payments", "infra-sandbox"]
TEMPLATES = ["docker-go", "python-ml", "kubernetes", "node-18", "aws-linux"]
PEOPLE = ["alice", "bob", "carol", "dmitri", "eve"]

# (template id, labels, data)
Sample = tuple[str, dict[str, str], dict[str, Any]]


def samples(rng: random.Random) -> list[Sample]:
    """One sample of every demo notification, with the labels and data its template reads (all of them:
    a label a template reads but the sample lacks renders Go's `<no value>`, in a link too)."""
    ws, tpl, who = rng.choice(WORKSPACES), rng.choice(TEMPLATES), rng.choice(PEOPLE)
    return [
        ("f517da0b-cdc9-410f-ab89-a86107c420ed", {"name": ws, "reason": "autodeleted due to dormancy"}, {}),
        (
            "381df2a9-c0c0-4749-420f-80a9280c66f9",
            {"name": ws, "reason": "required parameter 'region' is missing"},
            {},
        ),
        (
            "c34a0c09-0704-4cac-bd1c-0c0146811c2b",
            {
                "name": ws,
                "template_version_name": f"v{rng.randint(1, 9)}.{rng.randint(0, 20)}",
                "template_version_message": "Bump the Go toolchain",
            },
            {},
        ),
        ("a9d027b4-ac49-4fb1-9f6d-45af15f64e7a", {"workspace": ws, "threshold": "90%"}, {}),
        (
            "f047f6a3-5713-40f7-85aa-0394cce9fa3a",
            {"workspace": ws},
            {"volumes": [{"path": "/home/coder", "threshold": "95%"}]},
        ),
        (
            "2faeee0f-26cb-4e96-821c-85ccb9f71513",
            {
                "name": ws,
                "template_name": tpl,
                "template_version_name": "main",
                "initiator": who,
                "workspace_owner_username": who,
                "workspace_build_number": str(rng.randint(2, 80)),
            },
            {},
        ),
        (
            "f40fae84-55a2-42cd-99fa-b41c1ca64894",
            {"template": tpl, "message": "Use python-ml-v2", "organization": "coder"},
            {},
        ),
        ("29a09665-2a4c-403f-9648-54301670e7be", {"name": tpl, "initiator": who}, {}),
        (
            "4e19c0ac-94e1-4532-9515-d1801aa283b2",
            {"created_account_name": who, "created_account_user_name": who, "initiator": "admin"},
            {},
        ),
        (
            "b789bd75-d7c6-4cab-9757-1147ab184903",
            {"initiator": who, "chat_title": "Flaky CI on main", "chat_id": str(uuid.uuid4())},
            {},
        ),
        (
            "2a74f3d3-ab09-4123-a4a5-ca238f4f65a1",
            {
                "task": f"fix-{ws}",
                "task_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                "workspace": ws,
                "pause_reason": "idle for 30 minutes",
            },
            {},
        ),
        ("c425f63e-716a-4bf4-ae24-78348f706c3f", {}, {"timestamp": now_utc().isoformat()}),
    ]


def _sample(rng: random.Random) -> Sample:
    return rng.choice(samples(rng))


async def _users(ctx: AppContext) -> list[User]:
    return [u for u in await ctx.store.list_users() if not u.is_system]


async def seed(ctx: AppContext, user: User, rng: random.Random, count: int = SEED_COUNT) -> None:
    """Insert `count` rendered notifications spread over the last two days, a third of them read."""
    now = now_utc()
    rows: list[InboxNotification] = []
    base_url = ctx.access_url
    for i in range(count):
        template_id, labels, data = _sample(rng)
        template = await ctx.store.get_template(uuid.UUID(template_id))
        if template is None:
            continue
        payload = {
            "labels": labels,
            "data": data,
            "user_id": str(user.id),
            "user_email": user.email,
            "user_name": user.name or user.username,
            "user_username": user.username,
            "notification_name": template.name,
        }
        context = template_context(payload)
        created = now - timedelta(minutes=5 + i * 55 + rng.randint(0, 40))
        try:
            title = render(template.title_template, context, base_url=base_url)
            content = render(template.body_template, context, base_url=base_url)
            actions = tuple(render_actions(template.actions, context, base_url=base_url))
        except TemplateError:
            log.exception("demo: cannot render %s", template.name)
            continue
        rows.append(
            InboxNotification(
                id=uuid.uuid4(),
                user_id=user.id,
                template_id=template.id,
                targets=None,
                title=title,
                content=content,
                icon="",
                actions=actions,
                read_at=created + timedelta(minutes=3) if i % 3 == 2 else None,
                created_at=created,
            )
        )
    await ctx.store.insert_inbox_notifications(rows)


async def _produce(ctx: AppContext) -> None:
    try:
        await _produce_forever(ctx)
    except asyncio.CancelledError:
        raise
    except Exception:
        log.exception("demo: producer stopped")


async def _produce_forever(ctx: AppContext) -> None:
    rng = random.Random()
    for user in await _users(ctx):
        if not await ctx.store.list_inbox(user.id, _ALL, limit=1):
            await seed(ctx, user, rng)
    while True:
        await asyncio.sleep(DEMO_INTERVAL_SECONDS * rng.uniform(0.5, 1.5))
        template_id, labels, data = _sample(rng)
        for user in await _users(ctx):
            with contextlib.suppress(Exception):
                await ctx.enqueuer.enqueue(
                    user=user,
                    template_id=uuid.UUID(template_id),
                    labels=labels,
                    data={**data, "demo_ts": now_utc().isoformat()},
                    created_by="demo",
                    targets=None,
                )


async def start_demo(ctx: AppContext) -> None:
    """Start producing demo notifications in the background (an `on_ready` hook)."""
    task = asyncio.create_task(_produce(ctx), name="demo")
    ctx.extras["demo_task"] = task
