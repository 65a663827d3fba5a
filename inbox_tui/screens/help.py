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
from inbox_tui.widgets.scrolling import scroll

# Below this many columns the binding ids are left out, so that rows do not wrap (a side pane).
IDS_FROM_WIDTH = 76


def help_text(keymap: Mapping[str, str], show_ids: bool = True) -> Content:
    """The key table: group headings, then `keys  description  (binding id)` rows (ids only when wide)."""
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
            shown, description, binding_id = "1…9", "Open action N", "open_action_1…9"
        else:
            shown, description, binding_id = display_keys(keys[spec.id]), spec.description, spec.id
        if spec.group != group:
            group = spec.group
            if rows:
                rows.append(Content(""))
            rows.append(Content(group).stylize(".help-screen--group"))
        if show_ids:
            row = Content.assemble(
                (f"  {shown:<14}", ".help-screen--key"),
                f"{description:<30}",
                (binding_id, ".help-screen--muted"),
            )
        else:
            row = Content.assemble((f" {shown:<10}", ".help-screen--key"), description)
        rows.append(row)
    rows.append(Content(""))
    rows.append(
        Content(
            "Counts: 5j, 3k, 3G (row 3), 2ctrl+d, 2n, 3o (open link 3), 3y (copy link 3's URL). "
            "A digit with no key after it (0.6 s) opens link N; esc drops a count."
        ).stylize(".help-screen--muted")
    )
    ids = "by its id" if show_ids else "by its id (docs/keymap.md)"
    rows.append(
        Content(f'Remap any key {ids} in the config file, e.g. [keys] toggle_read = "x". Esc closes.').stylize(
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
        # The list's own keys scroll the table too: the hand is already on j/k.
        Binding("j,down", "scroll('down')", "Scroll down", id="help_down"),
        Binding("k,up", "scroll('up')", "Scroll up", id="help_up"),
        Binding("g,home", "scroll('home')", "Top", id="help_top"),
        Binding("G,end", "scroll('end')", "Bottom", id="help_bottom"),
        Binding("pagedown,ctrl+d,space", "scroll('page_down')", "Page down", id="help_page_down"),
        Binding("pageup,ctrl+u", "scroll('page_up')", "Page up", id="help_page_up"),
    ]

    def __init__(self, keymap: Mapping[str, str]) -> None:
        super().__init__()
        self.keymap = dict(keymap)

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("Keys", id="help-title", markup=False)
            with VerticalScroll():
                yield Static(help_text(self.keymap), id="help-keys")

    def on_resize(self) -> None:
        """Drop the binding-id column in a narrow pane rather than wrap every row."""
        self.query_one("#help-keys", Static).update(help_text(self.keymap, self.size.width >= IDS_FROM_WIDTH))

    def action_scroll(self, where: str) -> None:
        """Scroll the key table: down, up, home, end, page_down or page_up."""
        scroll(self.query_one(VerticalScroll), where)

    def action_close(self) -> None:
        """Back to the inbox."""
        self.dismiss(None)
