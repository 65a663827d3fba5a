"""The inbox screen's first ScreenResume without Textual's full restyle (issue 11: first frame faster).

When a screen is made active, Textual restyles every node on it (`Screen._on_screen_resume` with
`refresh_styles`): styles may have gone stale while another screen was on top (a theme change, say). On a
screen's first resume nothing can be stale: it comes right after the screen mounted, each node was styled
as it mounted, and every change since (classes, focus, theme) restyled the nodes it touched at once.
Restyling them all again cost ~4.5 ms of the first frame at start-up (36 nodes, 22 of them component
classes). Later resumes (back from a modal, another screen) keep the restyle.
"""

from __future__ import annotations

from typing import Any
from weakref import WeakSet

from textual import events
from textual.screen import Screen

_resumed: WeakSet[Screen[Any]] = WeakSet()


def skip_first_restyle(screen: Screen[Any], event: events.ScreenResume) -> None:
    """Turn off the restyle of `screen`'s first resume (call from its `on_screen_resume`, which runs first)."""
    if screen in _resumed:
        return
    _resumed.add(screen)
    event.refresh_styles = False
