"""Render docs/keymap.md from the key definitions in the code, so the page cannot drift from the keys.

    python scripts/keymap_doc.py           # rewrite docs/keymap.md
    python scripts/keymap_doc.py --check   # exit 1 if docs/keymap.md is out of date

Sources: `inbox_tui.keymap.SPECS` (the inbox, by group), then every screen or widget class in
`inbox_tui.screens` and `inbox_tui.widgets` whose BINDINGS carry ids (the preferences, compose and admin
screens and the small modal screens), in module order. tests/tui/test_keymap_doc.py runs `render()`.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

from textual.binding import Binding
from textual.dom import DOMNode
from textual.keys import format_key

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "keymap.md"
PACKAGES = ("inbox_tui.screens", "inbox_tui.widgets")
# Headings for the screens people know by name, in this order; any other class follows under its docstring.
TITLES: dict[str, str] = {
    "PreferencesScreen": "Preferences",
    "ComposeScreen": "Compose (custom notification)",
    "AdminScreen": "Admin (notifier, dispatch methods, test notification)",
    "UnsavedChangesScreen": "Leaving preferences or compose with unsaved work",
    "FilterScreen": "Filters",
    "ConfirmScreen": "Confirmations (mark all read)",
    "PreviewScreen": "Full-screen preview (narrow terminals)",
    "HelpScreen": "Help",
}

HEADER = """\
# Keys

Every key of inbox-tui, by **binding id**. Generated from the code by `python scripts/keymap_doc.py`;
`tests/tui/test_keymap_doc.py` fails when this page is out of date, so it always matches the keys in force
by default.

Remap a key by its binding id in the config file's `[keys]` table (see `docs/configuration.md`); every id
on this page can be remapped, the other screens' too (`preferences_save`, `help_close`, ...):

```toml
[keys]
toggle_read = "x"            # one key
cursor_down = ["j", "down"]  # or several
quit = "q,ctrl+q"            # comma-separated works too
```

Keys are written as Textual names (`ctrl+s`, `escape`, `question_mark`); what the footer shows is in
parentheses where it differs. The `?` screen lists the keys in force after your remaps.

An entry that cannot work as written is ignored, with a warning at start that names its line: an unknown
binding id, a name Textual cannot deliver (`"jj"`), or a key another main-screen binding keeps
(`quit = "j"` would leave `j` moving down and nothing quitting, so `q` stays). To move a key that is
taken, remap both: `toggle_read = "q"` with `quit = "r"` swaps them.

Beyond the loaded pages: `G` loads every older page (progress shows under the list; the list stays usable;
`esc` stops it, keeping what was loaded) and then highlights the oldest; `n` loads older pages until it
finds an unread one, and says "No unread notification further down" only at the end.

Counts, as in vim: digits before a key repeat it or pick its target. `5j`, `3k` move five down, three up;
`3G` highlights row 3 (loading older pages when needed); `2ctrl+d` moves two half pages; `2n` goes to the
second next unread; `3o` opens link 3 and `3y` copies link 3's URL (links are the actions, then the links
written in the message). The count shows under the list while you type it. A digit with no key after it
opens link N after 0.6 s, as the digits always did (`1`-`9` are the `open_action_N` keys; `12` then a
pause opens link 12); `esc` drops a count, and any other key drops it and does what it always does.
"""


def keys_cell(keys: str) -> str:
    """`j`, `down (↓)`: each default key, with its footer form where that differs."""
    cells = []
    for key in (k.strip() for k in keys.split(",")):
        if not key:
            continue
        shown = format_key(key)
        cells.append(f"`{key}` ({shown})" if shown != key and "+" not in key else f"`{key}`")
    return ", ".join(cells)


def table(rows: Iterable[tuple[str, str, str]]) -> list[str]:
    """A Markdown table of (id, keys, description)."""
    lines = ["| Binding id | Default keys | What it does |", "|---|---|---|"]
    for binding_id, keys, description in rows:
        text = description.replace("|", "\\|")
        lines.append(f"| `{binding_id}` | {keys_cell(keys)} | {text} |")
    return lines


def inbox_sections() -> Iterator[tuple[str, list[tuple[str, str, str]]]]:
    """The inbox keys from inbox_tui.keymap, one section per group, in definition order."""
    from inbox_tui.keymap import SPECS

    groups: dict[str, list[tuple[str, str, str]]] = {}
    for spec in SPECS:
        groups.setdefault(spec.group, []).append((spec.id, spec.keys, spec.description))
    yield from groups.items()


def _classes() -> Iterator[type[DOMNode]]:
    for package_name in PACKAGES:
        package = importlib.import_module(package_name)
        for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
            module = importlib.import_module(f"{package_name}.{info.name}")
            for value in vars(module).values():
                if inspect.isclass(value) and issubclass(value, DOMNode) and value.__module__ == module.__name__:
                    yield value


def _title(cls: type[DOMNode]) -> str:
    if cls.__name__ in TITLES:
        return TITLES[cls.__name__]
    doc = inspect.getdoc(cls)
    return f"{cls.__name__}: {doc.splitlines()[0].rstrip('.')}" if doc else cls.__name__


def screen_sections(known: set[str]) -> Iterator[tuple[str, list[tuple[str, str, str]]]]:
    """Every other class with ids on its bindings; the named screens first (TITLES order)."""
    found: list[tuple[type[DOMNode], list[tuple[str, str, str]]]] = []
    for cls in _classes():
        rows = []
        for item in cls.__dict__.get("BINDINGS", []):
            if isinstance(item, Binding) and item.id and item.id not in known:
                rows.append((item.id, item.key, item.description))
                known.add(item.id)
        if rows:
            found.append((cls, rows))
    order = list(TITLES)
    found.sort(key=lambda item: order.index(item[0].__name__) if item[0].__name__ in order else len(order))
    for cls, rows in found:
        yield _title(cls), rows


def render() -> str:
    """The whole page."""
    from inbox_tui.keymap import SPECS

    lines = [HEADER, "## Main screen", ""]
    for group, rows in inbox_sections():
        lines += [f"### {group}", "", *table(rows), ""]
    lines += ["## Other screens", ""]
    for title, rows in screen_sections({spec.id for spec in SPECS}):
        lines += [f"### {title}", "", *table(rows), ""]
    return "\n".join(lines).rstrip("\n") + "\n"


def main(argv: list[str]) -> int:
    """Write the page, or with --check say whether it is current (exit 1 if not)."""
    text = render()
    shown = DOC.relative_to(ROOT) if DOC.is_relative_to(ROOT) else DOC
    if "--check" in argv:
        if not DOC.exists() or DOC.read_text(encoding="utf-8") != text:
            print(f"{shown} is out of date: run python scripts/keymap_doc.py", file=sys.stderr)
            return 1
        return 0
    DOC.write_text(text, encoding="utf-8")
    print(f"wrote {shown}")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    raise SystemExit(main(sys.argv[1:]))
