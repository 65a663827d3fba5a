"""`inbox-tui templates [--json]`: every notification template, and whether it is on for the caller."""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from inbox_tui.api.errors import ApiError
from inbox_tui.commands.output import CommandFailed, out
from inbox_tui.text import clean_line

if TYPE_CHECKING:
    from inbox_tui.api.client import CoderClient
    from inbox_tui.api.more_models import NotificationPreference, NotificationTemplate
    from inbox_tui.connection import Connection

HEADERS = ("ID", "NAME", "GROUP", "KIND", "ENABLED")


def template_records(
    templates: Sequence[NotificationTemplate], preferences: Mapping[str, NotificationPreference]
) -> list[dict[str, Any]]:
    """One JSON object per template: id, name, group, kind, method, enabled_by_default, enabled (for me)."""
    from inbox_tui.api.more_models import is_template_enabled  # not at import: cli.py imports this module

    return [
        {
            "id": t.id,
            "name": t.name,
            "group": t.group,
            "kind": t.kind,
            "method": t.method,
            "enabled_by_default": t.enabled_by_default,
            "enabled": is_template_enabled(t, dict(preferences)),
        }
        for t in templates
    ]


def template_table(records: Sequence[Mapping[str, Any]]) -> list[str]:
    """Aligned columns with a header line; names and groups are single, terminal-safe lines."""
    rows = [HEADERS] + [
        (
            str(r["id"]),
            clean_line(str(r["name"])),
            clean_line(str(r["group"])) or "-",
            clean_line(str(r["kind"])),
            "yes" if r["enabled"] else "no",
        )
        for r in records
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(HEADERS) - 1)]
    return ["  ".join([*(cell.ljust(w) for cell, w in zip(row, widths, strict=False)), row[-1]]) for row in rows]


async def cmd_templates(args: argparse.Namespace, connection: Connection, client: CoderClient) -> int:
    """`templates`: id, name, group, kind and enabled-for-me (your preferences) of every template."""
    try:
        templates = await client.templates()
        preferences = await client.preferences()
    except ApiError as exc:
        raise CommandFailed("unable to list templates: " + str(exc)) from exc
    records = template_records(templates, preferences)
    if args.json:
        out(json.dumps(records))
        return 0
    for line in template_table(records):
        out(line)
    return 0
