"""The `check_interval` setting and the exact unread count in the header (no server needed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from inbox_tui import config as cfg
from inbox_tui.app import InboxApp, fixed_clock
from inbox_tui.state import InboxState
from inbox_tui.widgets.header import InboxHeader, Link
from tests.tui.factories import NOW, sample_inbox


def test_check_interval_defaults_to_fifteen_seconds() -> None:
    assert cfg.Config.from_dict({}).check_interval == 15.0
    assert "check_interval" not in cfg.Config().to_dict()


@pytest.mark.parametrize(("value", "seconds"), [(30, 30.0), (0.2, 0.2), (0, 0.0)])
def test_check_interval_takes_seconds_fractions_and_zero(value: float, seconds: float, tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(f"check_interval = {value}\n")
    config = cfg.load_config(path)
    assert config.check_interval == seconds
    cfg.save_config(config, path)
    assert cfg.load_config(path).check_interval == seconds


@pytest.mark.parametrize(
    "text", ["check_interval = -1", 'check_interval = "15"', "check_interval = true", "check_interval = nan"]
)
def test_a_bad_check_interval_names_the_key(text: str, tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(text + "\n")
    with pytest.raises(cfg.ConfigError, match="check_interval"):
        cfg.load_config(path)


async def test_the_header_shows_the_exact_count() -> None:
    state = InboxState.from_notifications(sample_inbox(), unread_count=312)
    app = InboxApp(initial=state, clock=fixed_clock(NOW), link=Link("live"))
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.pause()
        header = app.query_one(InboxHeader)
        assert header.unread == 312
        assert header.render().plain.startswith(" Inbox  312  unread")
