"""Whether Custom Notification reaches the caller (inbox_tui/api/send_warnings.py); live: test_cli_send_live.py."""

from __future__ import annotations

from inbox_tui.api.models import CUSTOM_TEMPLATE_ID, NotificationPreference, NotificationTemplate
from inbox_tui.api.send_warnings import custom_enabled


def _custom(enabled_by_default: bool) -> NotificationTemplate:
    return NotificationTemplate.from_json(
        {"id": CUSTOM_TEMPLATE_ID, "name": "Custom Notification", "enabled_by_default": enabled_by_default}
    )


def _pref(disabled: bool) -> dict[str, NotificationPreference]:
    return {CUSTOM_TEMPLATE_ID: NotificationPreference(id=CUSTOM_TEMPLATE_ID, disabled=disabled, updated_at=None)}


def test_an_explicit_preference_wins_over_the_default() -> None:
    assert not custom_enabled(_pref(True), [_custom(True)])
    assert custom_enabled(_pref(False), [_custom(False)])


def test_without_a_preference_the_template_default_decides() -> None:
    assert custom_enabled({}, [_custom(True)])
    assert not custom_enabled({}, [_custom(False)])
    assert custom_enabled({}, [])  # a server that does not list it: no warning rather than a false one
