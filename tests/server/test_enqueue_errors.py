"""The enqueuer's domain errors: it knows no HTTP, the handler maps them to Coder's answers."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from server.config import ServerConfig
from server.notify.enqueue import Enqueuer, NoSuchTemplateError
from server.store.sqlite import SqliteStore


async def test_unknown_template_raises_a_domain_error(tmp_path: Path) -> None:
    """An unknown template id raises NoSuchTemplateError naming it, and nothing is queued."""
    store = SqliteStore(str(tmp_path / "x.db"))
    await store.open()
    try:
        user = await store.create_user(username="alice", email="alice@example.com", name="Alice", roles=[])
        woken: list[None] = []
        enqueuer = Enqueuer(ServerConfig(db=""), store, lambda: woken.append(None))
        missing = uuid.uuid4()
        with pytest.raises(NoSuchTemplateError) as caught:
            await enqueuer.enqueue(user=user, template_id=missing, labels={}, data={}, created_by="test", targets=None)
        assert caught.value.template_id == missing
        assert str(caught.value) == f"template {missing} does not exist"
        assert woken == []
    finally:
        await store.close()
