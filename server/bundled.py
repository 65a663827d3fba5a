"""Data files shipped inside the package: the SQL migrations of each store backend and Coder's templates.

One loader for each, shared by the SQLite and PostgreSQL stores and the template catalogue. Imports
nothing from `server`, so any layer may use it.
"""

from __future__ import annotations

import functools
import json
import re
from importlib import resources
from typing import Any, Literal

_MIGRATION_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


def migrations(backend: Literal["sqlite", "postgres"]) -> list[tuple[int, str, str]]:
    """A backend's migrations (`server/store/migrations/<backend>/NNNN_name.sql`) as (version, file name, SQL),
    in version order."""
    folder = resources.files("server.store").joinpath("migrations", backend)
    found: list[tuple[int, str, str]] = []
    for entry in folder.iterdir():
        match = _MIGRATION_NAME.match(entry.name)
        if match:
            found.append((int(match.group(1)), entry.name, entry.read_text(encoding="utf-8")))
    found.sort()
    return found


@functools.cache
def _template_file() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(
        resources.files("server.data").joinpath("notification-templates.json").read_text(encoding="utf-8")
    )
    return data


def template_rows() -> list[dict[str, Any]]:
    """The rows of `server/data/notification-templates.json`: system templates, then custom ones, each list in
    the file's order. The file's other keys (its `_source`) are not rows. Parsed once; callers must not mutate
    the rows."""
    data = _template_file()
    return [*data["system"], *data["custom"]]
