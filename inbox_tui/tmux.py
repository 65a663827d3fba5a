"""tmux and focus events: tmux's default `focus-events off` hides whether the inbox's pane is focused.

Without focus reports the inbox takes itself to be focused all the time, so arrival alerts (which fire only
while unfocused) never fire. Inside tmux, when no focus change has ever arrived by the first new
notification, the inbox says so once (docs/configuration.md, "tmux"). No Textual here.
"""

from __future__ import annotations

from collections.abc import Mapping

FOCUS_EVENTS_HINT = (
    "tmux is not sending focus events: arrival alerts cannot tell when this pane is in the background"
    " — `set -g focus-events on`"
)


def focus_events_hint(environ: Mapping[str, str], focus_reported: bool, alerts_on: bool) -> str | None:
    """The hint to show at the first arrival, or None: not in tmux ($TMUX unset), a focus change has
    already arrived (tmux passes them on), or alerts are off (nothing depends on focus then)."""
    if not environ.get("TMUX") or focus_reported or not alerts_on:
        return None
    return FOCUS_EVENTS_HINT
