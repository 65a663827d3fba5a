"""The delivery layer's reading of the stored notification settings (server.notify.settings)."""

from __future__ import annotations

import pytest

from server.notify.settings import SettingsUnreadableError, paused_in, settings_json


def test_pause_flag_is_read_as_json_not_as_a_substring() -> None:
    """Any JSON spelling of the flag counts (the notifier once matched the compact text only)."""
    assert paused_in('{"notifier_paused": true}') is True
    assert paused_in('{ "notifier_paused" : true , "other": 1 }') is True
    assert paused_in('{"notifier_paused":false,"note":"\\"notifier_paused\\":true"}') is False


def test_never_set_or_not_an_object_is_not_paused() -> None:
    """No stored settings, `{}`, and JSON that is not an object all mean "running"."""
    assert paused_in(None) is False
    assert paused_in("") is False
    assert paused_in("{}") is False
    assert paused_in("[true]") is False


def test_unreadable_settings_raise() -> None:
    """Text that is not JSON raises, so the handler can answer Coder's 500."""
    with pytest.raises(SettingsUnreadableError):
        paused_in("{notifier_paused: true")


def test_stored_form_is_compact() -> None:
    """The stored form is byte-stable, which the PUT handler's 304 relies on."""
    assert settings_json(True) == '{"notifier_paused":true}'
    assert settings_json(False) == '{"notifier_paused":false}'
