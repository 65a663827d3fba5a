"""Start-up styles each node of the inbox screen once (issue 11): no restyle on the list's first focus or on
the screen's first resume, and the styles are what a full restyle gives all the same."""

from __future__ import annotations

from typing import Any

import pytest
from textual import events
from textual.css.stylesheet import Stylesheet
from textual.dom import DOMNode

from inbox_tui.app import InboxApp, fixed_clock
from inbox_tui.state import InboxState
from inbox_tui.widgets.header import InboxHeader, Link
from inbox_tui.widgets.inbox_list import InboxList
from tests.tui.factories import NOW, sample_inbox
from tests.tui.helpers import inbox_screen

SIZE = (120, 30)


def sample_app(items: bool = True) -> InboxApp:
    state = InboxState.from_notifications(sample_inbox() if items else [])
    return InboxApp(initial=state, clock=fixed_clock(NOW), link=Link("live"))


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
def applied(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The header and the list, each time Textual styles them."""
    calls: list[str] = []
    apply = Stylesheet.apply

    def counting(self: Stylesheet, node: DOMNode, *args: Any, **kwargs: Any) -> None:
        if isinstance(node, InboxHeader | InboxList):
            calls.append(type(node).__name__)
        apply(self, node, *args, **kwargs)

    monkeypatch.setattr(Stylesheet, "apply", counting)
    return calls


async def test_start_up_styles_each_node_once(applied: list[str]) -> None:
    app = sample_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        inbox = inbox_screen(app).inbox
        assert app.screen.focused is inbox and inbox.has_focus
        assert sorted(applied) == ["InboxHeader", "InboxList"]


async def test_a_later_resume_restyles(applied: list[str]) -> None:
    app = sample_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        applied.clear()
        # Textual resumes a screen with a restyle when it asks for one (switching modes): still honoured.
        app.screen.post_message(events.ScreenResume())
        await pilot.pause()
        assert sorted(applied) == ["InboxHeader", "InboxList"]


async def test_focus_moves_as_before() -> None:
    app = sample_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        inbox = inbox_screen(app).inbox
        await pilot.press("slash")  # search takes focus, the list loses it (and its :focus look)
        await pilot.pause()
        assert not inbox.has_focus and not inbox.has_pseudo_class("focus")
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen.focused is inbox and inbox.has_pseudo_class("focus")


@pytest.mark.parametrize("items", [True, False])
@pytest.mark.parametrize("size", [SIZE, (60, 20), (40, 15)])
async def test_styles_are_current_without_the_restyles(size: tuple[int, int], items: bool) -> None:
    app = sample_app(items)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        before = styled(app)
        app.stylesheet.update_nodes(app.screen.walk_children(with_self=True), animate=False)
        after = styled(app)
        assert before.keys() == after.keys()
        for key, (node, rules, components) in before.items():
            assert (rules, components) == after[key][1:], node
