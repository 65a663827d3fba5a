"""The embedded default's local owner token never expires (issue 12, section 7): the client keeps using it."""

from __future__ import annotations

from pathlib import Path

from inbox_tui import embedded
from server.store.sqlite import SqliteStore


async def _expiries(db: Path) -> list[object]:
    store = SqliteStore(str(db))
    await store.open()
    try:
        owner = await store.get_user_by_username("owner")
        assert owner is not None
        return [t.expires_at for t in await store.list_api_tokens(owner.id)]
    finally:
        await store.close()


async def test_local_owner_tokens_never_expire(tmp_path: Path) -> None:
    db, token_file = tmp_path / "inbox.db", tmp_path / "token"
    first = embedded.ensure_local_owner(db, token_file, username="owner")
    assert await _expiries(db) == [None]
    token_file.unlink()  # a lost token file: a further token for the same user, also without expiry
    second = embedded.ensure_local_owner(db, token_file, username="owner")
    assert second != first
    assert await _expiries(db) == [None, None]
