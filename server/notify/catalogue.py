"""The 37 notification templates Coder ships, as `notification_templates` rows (spec section 8.2).

The data file is `GET /notifications/templates/{system,custom}` output from a Coder database with every
migration applied, so the rows match Coder byte for byte (titles, bodies, actions jsonb text).
"""

from __future__ import annotations

import functools
import uuid
from typing import Any

from server.bundled import template_rows
from server.records import NotificationTemplate


def _template(row: dict[str, Any]) -> NotificationTemplate:
    return NotificationTemplate(
        id=uuid.UUID(row["id"]),
        name=row["name"],
        title_template=row["title_template"],
        body_template=row["body_template"],
        actions=row["actions"],
        group=row["group"],
        method=row["method"],
        kind=row["kind"],
        enabled_by_default=row["enabled_by_default"],
    )


@functools.cache
def _load() -> tuple[NotificationTemplate, ...]:
    return tuple(_template(row) for row in template_rows())


def load_bundled_templates() -> list[NotificationTemplate]:
    """Every bundled template, system ones first, each list in the file's (Coder's name) order.

    Parsed once; each call returns a new list of the same frozen records, so callers may reorder it.
    """
    return list(_load())
