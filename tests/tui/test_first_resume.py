"""The inbox screen's first resume skips Textual's full restyle (issue 11): styles stay current all the same."""

from __future__ import annotations

from typing import Any

import pytest
from textual import events
from textual.css.stylesheet import Stylesheet
from textual.dom import DOMNode

from inbox_tui.app import InboxApp, fixed_clock
from inbox_tui.state import InboxState
from inbox_tui.widgets.header import InboxHeader, Link
from tests.tui.factories import NOW, sample_inbox
from tests.tui.helpers import inbox_screen

SIZE = (120, 30)


def sample_app() -> InboxApp:
    return InboxApp(initial=InboxState.from_notifications(sample_inbox()), clock=fixed_clock(NOW), link=Link("live"))


def styled(app: InboxApp) -> dict[int, tuple[Any, ...]]:
    """Every node's CSS rules and its component classes' rules, by node."""
    return {
        id(node): (
            node,
            node.styles.base.get_rules(),
            {name: styles.base.get_rules() for name, styles in node._component_styles.items()},
        )
        for node in app.screen.walk_children(with_self=True)
    }


@pytest.fixture
def header_styled(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """When the header is styled: "mount" (its first time), then "again"."""
    calls: list[str] = []
    apply = Stylesheet.apply

    def counting(self: Stylesheet, node: DOMNode, *args: Any, **kwargs: Any) -> None:
        if isinstance(node, InboxHeader):
            calls.append("again" if calls else "mount")
        apply(self, node, *args, **kwargs)

    monkeypatch.setattr(Stylesheet, "apply", counting)
    return calls


async def test_start_up_styles_each_node_once(header_styled: list[str]) -> None:
    app = sample_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert inbox_screen(app).inbox.has_focus
        assert header_styled == ["mount"]


async def test_later_resumes_restyle(header_styled: list[str]) -> None:
    app = sample_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        # Textual resumes a screen with a restyle when it asks for one (e.g. switching modes): still honoured.
        app.screen.post_message(events.ScreenResume())
        await pilot.pause()
        assert header_styled == ["mount", "again"]


@pytest.mark.parametrize("size", [SIZE, (60, 20), (40, 15)])
async def test_styles_are_current_without_the_restyle(size: tuple[int, int]) -> None:
    app = sample_app()
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        before = styled(app)
        app.stylesheet.update_nodes(app.screen.walk_children(with_self=True), animate=False)
        after = styled(app)
        assert before.keys() == after.keys()
        for key, (node, rules, components) in before.items():
            assert (rules, components) == after[key][1:], node
