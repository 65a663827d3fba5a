"""Every key of the inbox, with a binding id that the config file's `[keys]` table can remap.

    [keys]
    toggle_read = "x"            # one key
    cursor_down = ["j", "down"]  # or several
    quit = "q,ctrl+q"            # comma-separated works too

The footer, the `?` help screen and the command palette are all built from the specs here. The other
screens (preferences, compose, admin, the small modals) put ids on their own bindings; `[keys]` remaps
those too.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Literal, NamedTuple

from textual.binding import Binding, BindingType
from textual.keys import format_key

Scope = Literal["list", "screen", "app"]


class KeySpec(NamedTuple):
    """One remappable key: its id, default keys, the action it runs and where it lives."""

    id: str
    keys: str
    action: str
    description: str
    scope: Scope
    group: str
    show: bool = False
    palette: bool = True
    key_display: str | None = None
    # Wins over the focused widget's own binding of the same key (an editor's ctrl+e, say).
    priority: bool = False

    def binding(self) -> Binding:
        """The Textual binding, the one way every screen builds its keys (the keymap may remap the id)."""
        return Binding(
            self.keys,
            self.action,
            self.description,
            show=self.show,
            id=self.id,
            key_display=self.key_display,
            priority=self.priority,
        )


_NAV = "Moving"
_ITEM = "The highlighted notification"
_INBOX = "The inbox"
_VIEW = "View"
_APP = "Application"

SPECS: tuple[KeySpec, ...] = (
    KeySpec("cursor_down", "j", "cursor_down", "Down", "list", _NAV, palette=False),
    KeySpec("cursor_up", "k", "cursor_up", "Up", "list", _NAV, palette=False),
    KeySpec("top", "g", "top", "Newest", "list", _NAV),
    KeySpec("bottom", "G", "bottom", "Oldest (loads all pages)", "screen", _NAV),
    KeySpec("half_page_down", "ctrl+d", "half_page_down", "Half page down", "list", _NAV, palette=False),
    KeySpec("half_page_up", "ctrl+u", "half_page_up", "Half page up", "list", _NAV, palette=False),
    KeySpec("next_unread", "n", "next_unread", "Next unread", "screen", _NAV),
    KeySpec("previous_unread", "N", "previous_unread", "Previous unread", "screen", _NAV),
    KeySpec("preview", "enter", "select", "Preview", "list", _ITEM, show=True, key_display="⏎"),
    KeySpec("toggle_read", "r", "toggle_read", "Read/unread", "screen", _ITEM, show=True),
    KeySpec("toggle_select", "v,space", "toggle_select", "Select (r acts on all)", "screen", _ITEM),
    KeySpec("open_first_action", "o", "open_action(1)", "Open", "screen", _ITEM, show=True),
    *(
        KeySpec(f"open_action_{n}", str(n), f"open_action({n})", f"Open action {n}", "screen", _ITEM)
        for n in range(1, 10)
    ),
    KeySpec("copy_url", "y", "copy_url", "Copy URL (3y: link 3's)", "screen", _ITEM),
    KeySpec("copy_id", "Y", "copy_id", "Copy notification id", "screen", _ITEM),
    KeySpec("close", "escape", "close", "Close preview / clear search", "screen", _ITEM, palette=False),
    KeySpec("mark_all_read", "A", "mark_all_read", "All read", "screen", _INBOX, show=True),
    KeySpec("search", "slash", "search", "Search", "screen", _INBOX, show=True, key_display="/"),
    KeySpec("unread_only", "u", "unread_only", "Unread only", "screen", _INBOX, show=True),
    KeySpec("filters", "f", "filters", "Filters", "screen", _INBOX, show=True),
    KeySpec("resync", "R", "resync", "Resync", "screen", _INBOX),
    KeySpec("compact", "C", "compact", "Compact rows (title only)", "screen", _VIEW),
    KeySpec("preview_position", "p", "preview_position", "Preview right/bottom", "screen", _VIEW),
    KeySpec("compose", "c", "open_screen('compose')", "Compose", "app", _APP),
    KeySpec("preferences", "s", "open_screen('preferences')", "Preferences", "app", _APP),
    KeySpec("admin", "a", "open_screen('admin')", "Admin", "app", _APP),
    KeySpec("help", "question_mark", "help", "Help", "app", _APP, show=True, key_display="?"),
    KeySpec("command_palette", "ctrl+p", "command_palette", "Commands", "app", _APP, palette=False, priority=True),
    KeySpec("quit", "q", "quit", "Quit", "app", _APP, show=True),
)

SPECS_BY_ID: dict[str, KeySpec] = {spec.id: spec for spec in SPECS}

# Where the other screens live: their classes' BINDINGS carry ids too (preferences_save, help_close, ...).
_SCREEN_PACKAGES = ("inbox_tui.screens", "inbox_tui.widgets")


@cache
def screen_binding_ids() -> frozenset[str]:
    """The binding ids of every other screen and widget (preferences, compose, admin, the modals).

    Imported here, on first use, rather than at the top: those modules import this one, and the inbox
    should not pay for importing every screen at start-up when the `[keys]` table only names inbox keys.
    """
    import importlib
    import inspect
    import pkgutil

    ids: set[str] = set()
    for package_name in _SCREEN_PACKAGES:
        package = importlib.import_module(package_name)
        for info in pkgutil.iter_modules(package.__path__):
            try:
                module = importlib.import_module(f"{package_name}.{info.name}")
            except ModuleNotFoundError:
                continue  # a screen left out of this build has no keys to remap
            for value in vars(module).values():
                if not inspect.isclass(value) or value.__module__ != module.__name__:
                    continue
                for item in value.__dict__.get("BINDINGS", ()):
                    if isinstance(item, Binding) and item.id:
                        ids.add(item.id)
    return frozenset(ids - SPECS_BY_ID.keys())


def is_binding_id(binding_id: str) -> bool:
    """True for any binding id of the app: the inbox's (SPECS) or another screen's."""
    return binding_id in SPECS_BY_ID or binding_id in screen_binding_ids()


def bindings(scope: Scope) -> list[BindingType]:
    """The bindings of one scope (the list widget, the inbox screen, the app)."""
    return [spec.binding() for spec in SPECS if spec.scope == scope]


def list_bindings() -> list[BindingType]:
    """Bindings of the notification list widget."""
    return bindings("list")


_MODIFIERS = frozenset({"ctrl", "shift", "alt", "meta", "super", "hyper"})
# Names Textual gives keys beyond its Keys enum: the printable characters' names and a few aliases.
_EXTRA_KEY_NAMES = frozenset({"enter", "tab", "space", "backspace", "minus", "plus"})


@cache
def _key_names() -> frozenset[str]:
    from textual.keys import Keys, _character_to_key

    names = {key.value for key in Keys if not key.value.startswith("<")}
    names.update(_character_to_key(chr(code)) for code in range(33, 127))
    return frozenset(names | _EXTRA_KEY_NAMES)


def is_key(key: str) -> bool:
    """True for a key Textual can deliver: "x", "G", "ctrl+x", "question_mark", "pagedown", "f5", ..."""
    *modifiers, base = key.split("+")
    if any(modifier not in _MODIFIERS for modifier in modifiers):
        return False
    if len(base) == 1:
        return base.isprintable() and not base.isspace()
    return base in _key_names() or f"ctrl+{base}" in _key_names()


def parse_keys(
    table: Mapping[str, object], origins: Mapping[str, str] | None = None
) -> tuple[dict[str, str], list[str]]:
    """Validate a `[keys]` table into a Textual keymap (binding id -> comma-separated keys).

    Every binding id of the app is accepted, the other screens' too (`preferences_save`, `help_close`, ...):
    Textual applies the keymap to whichever screen is showing. Returns the usable entries and a readable
    problem for each entry that is not (unknown id, bad value, a key Textual cannot deliver, a key that
    another inbox binding keeps), so the app can start with the good ones and say what it ignored.
    `origins` names where each entry was written ("config.toml line 12"), for the problems.
    """
    keymap: dict[str, str] = {}
    problems: list[str] = []

    def where(binding_id: str) -> str:
        origin = (origins or {}).get(binding_id)
        return f"{origin}: " if origin else ""

    for binding_id, value in table.items():
        if not is_binding_id(binding_id):
            problems.append(f"{where(binding_id)}unknown key binding id {binding_id!r}")
            continue
        if isinstance(value, str):
            keys = [k.strip() for k in value.split(",")]
        elif isinstance(value, list) and all(isinstance(k, str) for k in value):
            keys = [str(k).strip() for k in value]
        else:
            problems.append(f"{where(binding_id)}{binding_id}: expected a key or a list of keys, got {value!r}")
            continue
        if not keys or any(not k or " " in k for k in keys):
            problems.append(f"{where(binding_id)}{binding_id}: {value!r} is not a valid key list")
            continue
        unknown = [k for k in keys if not is_key(k)]
        if unknown:
            problems.append(f"{where(binding_id)}{binding_id}: {', '.join(map(repr, unknown))} is not a key")
            continue
        keymap[binding_id] = ",".join(keys)
    for binding_id, clash in _clashes(keymap).items():
        problems.append(f"{where(binding_id)}{binding_id} = {keymap.pop(binding_id)!r}: {clash}")
    return keymap, problems


def _clashes(keymap: Mapping[str, str]) -> dict[str, str]:
    """Remapped inbox bindings whose keys another inbox binding also holds, with why.

    The list's, the screen's and the app's bindings are all live on the inbox at once, so one key bound
    twice silently does only one of the two (`quit = "j"`: j moves down and nothing quits). Such entries are
    dropped until none clash, which keeps the defaults they would have replaced; swapping two keys is fine.
    """
    remapped = {binding_id: keys for binding_id, keys in keymap.items() if binding_id in SPECS_BY_ID}
    found: dict[str, str] = {}
    while True:
        holders: dict[str, list[str]] = {}
        for spec in SPECS:
            keys = remapped.get(spec.id, spec.keys) if spec.id not in found else spec.keys
            for key in keys.split(","):
                holders.setdefault(key, []).append(spec.id)
        new = {}
        for key, ids in holders.items():
            if len(ids) < 2:
                continue
            for binding_id in ids:
                if binding_id in remapped and binding_id not in found:
                    others = ", ".join(
                        f"{SPECS_BY_ID[other].description} ({other})" for other in ids if other != binding_id
                    )
                    new[binding_id] = f"{display_keys(key)} is already bound to {others}"
        if not new:
            return found
        found.update(new)


def effective_keys(keymap: Mapping[str, str]) -> dict[str, str]:
    """Binding id -> the keys in force (the keymap's, else the default)."""
    return {spec.id: keymap.get(spec.id, spec.keys) for spec in SPECS}


def display_keys(keys: str) -> str:
    """Keys as people read them: "question_mark" -> "?", several joined with "/"."""
    return "/".join(format_key(key.strip()) for key in keys.split(",") if key.strip())
