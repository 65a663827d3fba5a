"""The inbox list filters take any number of values on every backend (issue 12, section 2).

SQLite answered ~1,000 targets with "Expression tree is too large" (one parameter and one AND term per
value); each filter is now one bound array.
"""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

import pytest

from server.records import TEMPLATE_CUSTOM_NOTIFICATION, TEMPLATE_TEST_NOTIFICATION, InboxFilter
from server.store.base import Store
from tests.server.store.test_store_contract import T0, make_user, notification


@pytest.mark.parametrize("count", [998, 1001, 5000])
async def test_many_targets_and_templates(store: Store, count: int) -> None:
    alice = await make_user(store)
    a, b = uuid.uuid4(), uuid.uuid4()
    both = notification(alice, at=T0 + timedelta(seconds=1), targets=(a, b))
    only_a = notification(alice, at=T0 + timedelta(seconds=2), targets=(a,), template=TEMPLATE_TEST_NOTIFICATION)
    untargeted = notification(alice, at=T0 + timedelta(seconds=3), targets=None)
    await store.insert_inbox_notifications([both, only_a, untargeted])

    async def ids(flt: InboxFilter) -> list[uuid.UUID]:
        listed = [n.id for n in await store.list_inbox(alice.id, flt)]
        page, _ = await store.inbox_page_json(alice.id, flt)
        assert [uuid.UUID(item["id"]) for item in json.loads(page)] == listed
        return listed

    # Contains-all over `count` values (repeats are allowed, as in a URL); one unknown value spoils it.
    repeated = (a, b) * (count // 2) + (a,) * (count % 2)
    assert await ids(InboxFilter(targets=repeated)) == [both.id]
    assert await ids(InboxFilter(targets=(a,) * count)) == [only_a.id, both.id]
    assert await ids(InboxFilter(targets=(*repeated, uuid.uuid4()))) == []
    # Any-of: `count` unknown template ids plus the two real ones.
    unknown = tuple(uuid.uuid4() for _ in range(count))
    assert await ids(InboxFilter(templates=(*unknown, TEMPLATE_TEST_NOTIFICATION))) == [only_a.id]
    assert await ids(InboxFilter(templates=(*unknown, TEMPLATE_CUSTOM_NOTIFICATION))) == [untargeted.id, both.id]
    assert await ids(InboxFilter(templates=unknown)) == []
    assert await ids(InboxFilter(targets=(a,), templates=(*unknown, TEMPLATE_TEST_NOTIFICATION))) == [only_a.id]
