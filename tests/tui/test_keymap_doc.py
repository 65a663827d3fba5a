"""docs/keymap.md is generated from the code: regenerate it and compare, so the page cannot drift."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

from textual.binding import Binding

from inbox_tui.keymap import SPECS
from inbox_tui.keymap import bindings as scope_bindings
from inbox_tui.screens import admin, compose, confirm, preferences, preview

ROOT = Path(__file__).resolve().parents[2]


def generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("keymap_doc", ROOT / "scripts" / "keymap_doc.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_keymap_doc_is_current() -> None:
    rendered = generator().render()
    on_disk = (ROOT / "docs" / "keymap.md").read_text(encoding="utf-8")
    assert on_disk == rendered, "docs/keymap.md is out of date: run `python scripts/keymap_doc.py`"


def test_every_binding_id_is_listed_once() -> None:
    text = generator().render()
    ids = [spec.id for spec in SPECS]
    for keys in (preferences.KEYS, confirm.UNSAVED_KEYS, compose.KEYS, admin.KEYS, preview.KEYS):
        ids += [spec.id for spec in keys]
    for binding_id in ids:
        assert text.count(f"| `{binding_id}` |") == 1, binding_id


def test_screen_bindings_come_from_their_key_specs() -> None:
    # The compose form's send and editor keys win over its editors' own (priority).
    assert {s.id for s in compose.KEYS if s.priority} == {"compose_send", "compose_editor"}
    assert [b.id for b in scope_bindings("app") if isinstance(b, Binding) and b.priority] == ["command_palette"]
    for screen, keys in (
        (preferences.PreferencesScreen, preferences.KEYS),
        (confirm.UnsavedChangesScreen, confirm.UNSAVED_KEYS),
        (compose.ComposeScreen, compose.KEYS),
        (admin.AdminScreen, admin.KEYS),
        (preview.PreviewScreen, preview.KEYS),
    ):
        bindings = [b for b in screen.BINDINGS if isinstance(b, Binding)]
        assert [(b.id, b.key, b.action, b.priority) for b in bindings] == [
            (s.id, s.keys, s.action, s.priority) for s in keys
        ]
        seen: set[str] = set()
        for binding in bindings:
            for key in binding.key.split(","):
                assert key not in seen, f"{screen.__name__}: {key} bound twice"
                seen.add(key)


def test_check_mode_reports_drift(tmp_path: Path) -> None:
    module = generator()
    module.DOC = tmp_path / "keymap.md"
    assert module.main(["--check"]) == 1
    assert module.main([]) == 0
    assert module.main(["--check"]) == 0
