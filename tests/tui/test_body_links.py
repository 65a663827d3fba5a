"""Links written in a message body are numbered after the actions, so `o`, `1`-`9` and `y` reach them."""

from __future__ import annotations

from inbox_tui.api.models import InboxAction
from inbox_tui.app import InboxApp, fixed_clock
from inbox_tui.links import body_links, notification_links
from inbox_tui.state import InboxState
from inbox_tui.widgets.header import Link
from inbox_tui.widgets.preview import action_lines
from tests.tui.factories import NOW, make
from tests.tui.helpers import wait_for

BODY = (
    "Build done. See the [build log](https://ci.example/build/1) and <https://ci.example/artifacts>.\n\n"
    "Not these: [script](javascript:alert(1)), [relative](/x), `[code](https://code.example)`, and the action "
    "again: [open](https://coder.example/ws)."
)


def test_body_links_are_http_links_in_order() -> None:
    assert body_links(BODY) == [
        ("build log", "https://ci.example/build/1"),
        ("https://ci.example/artifacts", "https://ci.example/artifacts"),
        ("open", "https://coder.example/ws"),
    ]
    assert body_links("no links at all") == []


def test_actions_come_first_and_a_url_is_numbered_once() -> None:
    item = make(1, content=BODY, actions=(InboxAction("Open workspace", "https://coder.example/ws"),))
    assert [(link.url, link.source) for link in notification_links(item)] == [
        ("https://coder.example/ws", "action"),
        ("https://ci.example/build/1", "body"),
        ("https://ci.example/artifacts", "body"),
    ]


def test_the_preview_lists_body_links_instead_of_no_actions() -> None:
    text = action_lines(make(1, content="[build log](https://ci.example/1)")).plain
    assert "No actions." not in text
    assert " 1  build log · link in the message" in text
    assert "https://ci.example/1" in text


async def test_keys_reach_body_links() -> None:
    item = make(1, content=BODY)
    app = InboxApp(initial=InboxState.from_notifications([item]), clock=fixed_clock(NOW), link=Link("live"))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("y")
        assert app.clipboard == "https://ci.example/build/1"
        await pilot.press("2")  # no browser here: opening copies the link instead (after the count's pause)
        await wait_for(pilot, lambda: app.clipboard == "https://ci.example/artifacts", "link 2 opened")
        assert app.state.by_id[item.id].is_read  # opening a link marks it read, as an action does
        await pilot.press("5")
        await wait_for(pilot, lambda: any("has 3 links" in n.message for n in app._notifications), "the warning")
