"""Issue 12 section 5: a SQLite database file removed or replaced under a running server.

Before, writes kept answering 204 into the unlinked file (lost on restart). Now the server compares the
file at the path with the one it has open before acknowledging a write batch, answers 503 in Coder's
shape from then on, and says so in its log.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from tests.live_server import LiveServer
from tests.server.helpers import client

CUSTOM = {"content": {"title": "after", "message": "m"}}


async def _post(server: LiveServer, title: str) -> httpx.Response:
    async with client(server, server.member_token) as c:
        return await c.post("/notifications/custom", json={"content": {"title": title, "message": "m"}})


def _remove(db: Path) -> None:
    db.unlink()


def _replace(db: Path) -> None:
    # An older copy moved over the path (a restore gone wrong): a different file, same name.
    copy = db.with_name("copy.db")
    shutil.copyfile(db, copy)
    os.replace(copy, db)


@pytest.mark.parametrize(
    ("change", "word"), [(_remove, "removed"), (_replace, "replaced")], ids=["removed", "replaced"]
)
async def test_writes_after_the_file_changed_get_503(tmp_path: Path, change: Callable[[Path], None], word: str) -> None:
    server = LiveServer(tmp_path / "server").start()
    try:
        assert (await _post(server, "before")).status_code == 204
        db = Path(server.db_path)
        change(db)
        for i in range(3):
            response = await _post(server, f"after {i}")
            assert response.status_code == 503, response.text
            body = response.json()
            assert body["message"].startswith(f"The database file was {word}"), body
            assert set(body) == {"message", "detail"}
        async with client(server, server.member_token) as c:
            # Other writes too (mark-all-as-read), never a 204 into a file that is not at the path.
            response = await c.put("/notifications/inbox/mark-all-as-read")
            assert response.status_code == 503, response.text
    finally:
        server.stop()
    log = server.log_path.read_text()
    assert any("[error]" in line and str(db) in line and word in line for line in log.splitlines()), log
    assert log.count("Traceback") == 0, log
