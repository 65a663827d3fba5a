"""The `?` screen: every key in force (after the config file's remaps), grouped, with its binding id."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static

from inbox_tui.keymap import SPECS, display_keys, effective_keys


def help_text(keymap: Mapping[str, str]) -> Content:
    """The key table: group headings, then `keys  description  (binding id)` rows."""
    keys = effective_keys(keymap)
    numbered = [spec for spec in SPECS if spec.id.startswith("open_action_")]
    # Nine "open action N" rows say one thing; list them one by one only once someone remapped them.
    fold = all(keys[spec.id] == spec.keys for spec in numbered)
    rows: list[Content] = []
    group = ""
    for spec in SPECS:
        if fold and spec.id.startswith("open_action_"):
            if spec.id != "open_action_1":
                continue
            shown, description, binding_id = "1…9", "Open action N", "open_action_1 … open_action_9"
        else:
            shown, description, binding_id = display_keys(keys[spec.id]), spec.description, spec.id
        if spec.group != group:
            group = spec.group
            if rows:
                rows.append(Content(""))
            rows.append(Content(group).stylize(".help-screen--group"))
        rows.append(
            Content.assemble(
                (f"  {shown:<14}", ".help-screen--key"),
                f"{description:<30}",
                (binding_id, ".help-screen--muted"),
            )
        )
    rows.append(Content(""))
    rows.append(
        Content('Remap any key by its id in the config file, e.g. [keys] toggle_read = "x". Esc closes.').stylize(
            ".help-screen--muted"
        )
    )
    return Content("\n").join(rows)


class HelpScreen(ModalScreen[None]):
    """Key help."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {"help-screen--group", "help-screen--key", "help-screen--muted"}

    DEFAULT_CSS = """
    HelpScreen {
        align: center middle;
        & > Vertical {
            width: 90;
            max-width: 100%;
            height: 90%;
            border: thick $primary 60%;
            background: $surface;
            padding: 0 1;
        }
        & #help-title { text-style: bold; padding: 0 0 1 0; }
        & > .help-screen--group { color: $text-accent; text-style: bold; }
        & > .help-screen--key { text-style: bold; }
        & > .help-screen--muted { color: $text-muted; }
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark", "close", "Close", id="help_close"),
    ]

    def __init__(self, keymap: Mapping[str, str]) -> None:
        super().__init__()
        self.keymap = dict(keymap)

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("Keys", id="help-title", markup=False)
            with VerticalScroll():
                yield Static(help_text(self.keymap), id="help-keys")

    def action_close(self) -> None:
        """Back to the inbox."""
        self.dismiss(None)
