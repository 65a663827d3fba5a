"""Styling the inbox screen once at start-up (issue 11: first frame faster).

Textual styles a screen's nodes as they mount, then again twice before the first frame: the focused list
when AUTO_FOCUS focuses it (a `:focus` restyle of the list and its 12 component classes), and every node
when the screen is first resumed (36 nodes, 22 of them component classes). Neither can change anything at
start-up, and together they cost ~6 ms of a ~40 ms run to the first frame:

- On a screen's first resume nothing can be stale: it comes right after the screen mounted, each node was
  styled as it mounted, and every change since (classes, focus, theme) restyled the nodes it touched at
  once. Later resumes (a restyle asked for when switching modes, say) keep theirs.
- The widget AUTO_FOCUS will focus right after mounting can be styled as focused when it mounts: its focus
  then changes nothing, so Textual does not restyle it.
"""

from __future__ import annotations

from typing import Any
from weakref import WeakSet

from textual import events
from textual.screen import Screen
from textual.widget import Widget

_resumed: WeakSet[Screen[Any]] = WeakSet()


def skip_first_restyle(screen: Screen[Any], event: events.ScreenResume) -> None:
    """Turn off the restyle of `screen`'s first resume (call from its `on_screen_resume`, which runs first)."""
    if screen in _resumed:
        return
    _resumed.add(screen)
    event.refresh_styles = False


def mount_focused(screen: Screen[Any], widget: Widget) -> Widget:
    """`widget`, styled as focused when it mounts, for a screen whose AUTO_FOCUS selects it (call in compose).

    Only while nothing has focus and the app has (AUTO_FOCUS then focuses the first focusable match right
    after the screen's widgets mount). Textual's own focus still happens (Focus event, bindings, `focused`).
    """
    if screen.focused is None and screen.app.app_focus and widget.can_focus:
        widget.set_reactive(Widget.has_focus, True)
    return widget
