"""Remembered UI state: round trip, the state dir override, and files that must never crash the app."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from inbox_tui import config as cfg
from inbox_tui.state import Filters
from inbox_tui.ui_state import UiState, state_file

TEMPLATE = "39b1e189-c857-4b0c-877a-511144c18516"
TARGET = "d5a0c3a1-5c0e-4a6b-9a6e-2f7e0c8b9d11"


@pytest.fixture(autouse=True)
def state_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "state"
    monkeypatch.setenv(cfg.ENV_STATE_DIR, str(path))
    return path


def test_missing_file_gives_defaults(state_dir: Path) -> None:
    assert not state_file().exists()
    state = UiState.load()
    assert state == UiState()
    assert state.filters == Filters()
    assert state.preview_position == "right" and state.theme is None and state.alert is None


def test_round_trip_in_the_state_dir(state_dir: Path) -> None:
    state = UiState(theme="nord", compact=True, preview_position="bottom", unread_only=True, alert="osc9")
    state = state.with_filters(Filters(read_status="unread", templates=(TEMPLATE,), targets=(TARGET,)))
    path = state.save()
    assert path == state_dir / "ui-state.json" == state_file()
    loaded = UiState.load()
    assert loaded == state
    assert loaded.filters == Filters(read_status="unread", templates=(TEMPLATE,), targets=(TARGET,))
    on_disk = json.loads(path.read_text())
    assert on_disk["version"] == 1 and on_disk["filters"]["templates"] == [TEMPLATE]


def test_update_returns_a_copy() -> None:
    state = UiState()
    changed = state.update(theme="textual-light", compact=True)
    assert state.theme is None and not state.compact
    assert changed.theme == "textual-light" and changed.compact


@pytest.mark.parametrize(
    "text",
    [
        "{not json",
        "",
        "[1, 2, 3]",
        "null",
        '"a string"',
        "\x00\xff garbage",
    ],
)
def test_corrupt_files_fall_back_to_defaults(state_dir: Path, text: str) -> None:
    state_dir.mkdir(parents=True)
    state_file().write_text(text, encoding="utf-8", errors="surrogateescape")
    assert UiState.load() == UiState()


def test_not_utf8_falls_back(state_dir: Path) -> None:
    state_dir.mkdir(parents=True)
    state_file().write_bytes(b"\xff\xfe{\x00")
    assert UiState.load() == UiState()


def test_a_bad_field_only_resets_that_field(state_dir: Path) -> None:
    state_dir.mkdir(parents=True)
    state_file().write_text(
        json.dumps(
            {
                "theme": 42,
                "compact": "yes",
                "preview_position": "left",
                "unread_only": True,
                "alert": "siren",
                "filters": {"read_status": "maybe", "templates": [TEMPLATE, 7, "", TEMPLATE], "targets": "x"},
            }
        )
    )
    state = UiState.load()
    assert state.theme is None
    assert state.compact is False
    assert state.preview_position == "right"
    assert state.unread_only is True  # the good field survives
    assert state.alert is None
    assert state.filters == Filters(read_status="all", templates=(TEMPLATE,), targets=())


def test_unknown_fields_are_kept_when_rewritten(state_dir: Path) -> None:
    state_dir.mkdir(parents=True)
    state_file().write_text(json.dumps({"version": 2, "split_ratio": 0.4, "compact": True}))
    state = UiState.load()
    assert state.compact
    state.update(theme="nord").save()
    on_disk = json.loads(state_file().read_text())
    assert on_disk["split_ratio"] == 0.4 and on_disk["theme"] == "nord" and on_disk["version"] == 1


def test_a_directory_in_the_way_is_not_a_crash(state_dir: Path) -> None:
    state_file().mkdir(parents=True)
    assert UiState.load() == UiState()
    with pytest.raises(OSError):
        UiState(compact=True).save()


def test_write_is_atomic_no_temp_files_left(state_dir: Path) -> None:
    UiState(compact=True).save()
    UiState(compact=False, theme="nord").save()
    assert sorted(p.name for p in state_dir.iterdir()) == ["ui-state.json"]


def test_undecodable_file_falls_back(state_dir: Path) -> None:
    # Permission tricks cannot fail for root (CI runs as root); bytes that are not UTF-8 fail for anyone.
    UiState(compact=True).save()
    state_file().write_bytes(b"\xff\xfe{not utf-8")
    assert UiState.load() == UiState()


def test_explicit_path(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere" / "state.json"
    UiState(unread_only=True).save(target)
    assert UiState.load(target).unread_only
