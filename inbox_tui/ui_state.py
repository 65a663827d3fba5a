"""Remembered UI state: what the inbox looked like when it was last closed (no Textual here).

Theme, compact mode, preview position, unread-only, alert mode and the last filters are kept in a small
JSON file in the platformdirs user state dir (`config.ui_state_path()`, moved with `INBOX_TUI_STATE_DIR`).
The file is a convenience, never a source of errors: a missing, unreadable or corrupt file, or a field of
the wrong type, falls back to the default for that field. Writes are atomic, so a crash never leaves half
a file behind.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from inbox_tui.config import ALERT_MODES, ui_state_path, write_atomic
from inbox_tui.state import READ_STATUSES, Filters, ReadStatus

STATE_VERSION = 1
PREVIEW_POSITIONS = ("right", "bottom")
DEFAULT_PREVIEW_POSITION = "right"

# Fields written by this version; anything else found in the file is kept as it was (a newer version's).
_KNOWN = {"version", "theme", "compact", "preview_position", "unread_only", "alert", "filters"}


def _str_or_none(value: Any) -> str | None:
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


def _bool(value: Any, default: bool) -> bool:
    return value if isinstance(value, bool) else default


def _ids(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list):
        return ()
    out: list[str] = []
    for item in value:
        if isinstance(item, str) and item.strip() and item.strip() not in out:
            out.append(item.strip())
    return tuple(out)


@dataclass(frozen=True, slots=True)
class UiState:
    """The remembered state.

    `None` for theme and alert means "use the config file's setting": they are only set when a different
    one was chosen in the app, and choosing the config file's value again clears them. `unread_only`
    mirrors the filters' read status (the `u` toggle); the filters are what the inbox restores.
    """

    theme: str | None = None
    compact: bool = False
    preview_position: str = DEFAULT_PREVIEW_POSITION
    unread_only: bool = False
    alert: str | None = None
    read_status: ReadStatus = "all"
    templates: tuple[str, ...] = ()
    targets: tuple[str, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    @classmethod
    def from_json(cls, data: Any) -> UiState:
        """Parse a decoded file; every field that is missing or malformed gets its default."""
        if not isinstance(data, dict):
            return cls()
        preview = data.get("preview_position")
        alert = data.get("alert")
        filters = data.get("filters")
        if not isinstance(filters, dict):
            filters = {}
        read_status = filters.get("read_status")
        status: ReadStatus = "all"
        for known in READ_STATUSES:
            if read_status == known:
                status = known
        return cls(
            theme=_str_or_none(data.get("theme")),
            compact=_bool(data.get("compact"), False),
            preview_position=preview if preview in PREVIEW_POSITIONS else DEFAULT_PREVIEW_POSITION,
            unread_only=_bool(data.get("unread_only"), False),
            alert=alert if alert in ALERT_MODES else None,
            read_status=status,
            templates=_ids(filters.get("templates")),
            targets=_ids(filters.get("targets")),
            extra={k: v for k, v in data.items() if k not in _KNOWN},
        )

    def to_json(self) -> dict[str, Any]:
        """The document written to the file."""
        data: dict[str, Any] = dict(self.extra)
        data.update(
            {
                "version": STATE_VERSION,
                "theme": self.theme,
                "compact": self.compact,
                "preview_position": self.preview_position,
                "unread_only": self.unread_only,
                "alert": self.alert,
                "filters": {
                    "read_status": self.read_status,
                    "templates": list(self.templates),
                    "targets": list(self.targets),
                },
            }
        )
        return data

    @property
    def filters(self) -> Filters:
        """The last filters, as the inbox state uses them."""
        return Filters(read_status=self.read_status, templates=self.templates, targets=self.targets)

    def with_filters(self, filters: Filters) -> UiState:
        """A copy remembering other filters (`unread_only` follows their read status)."""
        return replace(
            self,
            read_status=filters.read_status,
            templates=tuple(filters.templates),
            targets=tuple(filters.targets),
            unread_only=filters.read_status == "unread",
        )

    def update(self, **changes: Any) -> UiState:
        """A copy with some fields changed (`state.update(theme="nord")`)."""
        return replace(self, **changes)

    @classmethod
    def load(cls, path: Path | None = None) -> UiState:
        """Read the state file; anything unusable (missing, unreadable, not JSON) gives the defaults."""
        target = path or ui_state_path()
        try:
            data = json.loads(target.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return cls()
        return cls.from_json(data)

    def save(self, path: Path | None = None) -> Path:
        """Write the state file atomically; returns its path. Raises OSError if it cannot be written."""
        target = path or ui_state_path()
        write_atomic(target, json.dumps(self.to_json(), indent=2, sort_keys=True) + "\n")
        return target


def state_file() -> Path:
    """Where the state is remembered (`$INBOX_TUI_STATE_DIR/ui-state.json` when the variable is set)."""
    return ui_state_path()
