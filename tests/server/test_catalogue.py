"""The bundled template catalogue (spec section 8.2)."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

from server.notify.catalogue import load_bundled_templates
from server.records import (
    TEMPLATE_CUSTOM_NOTIFICATION,
    TEMPLATE_ONE_TIME_PASSCODE,
    TEMPLATE_TEST_NOTIFICATION,
    NotificationTemplate,
)

REPO = Path(__file__).parents[2]


def test_loads_all_37_templates() -> None:
    templates = load_bundled_templates()
    assert len(templates) == 37
    assert all(isinstance(t, NotificationTemplate) for t in templates)
    assert len({t.id for t in templates}) == 37
    kinds = [t.kind for t in templates]
    assert kinds.count("system") == 36
    assert kinds.count("custom") == 1
    assert all(t.method == "" for t in templates)


def test_rows_match_the_data_file() -> None:
    raw = json.loads((REPO / "server" / "data" / "notification-templates.json").read_text(encoding="utf-8"))
    rows = raw["system"] + raw["custom"]
    templates = load_bundled_templates()
    assert [str(t.id) for t in templates] == [r["id"] for r in rows]
    for t, r in zip(templates, rows, strict=True):
        assert (t.name, t.title_template, t.body_template, t.actions) == (
            r["name"],
            r["title_template"],
            r["body_template"],
            r["actions"],
        )
        assert (t.group, t.method, t.kind, t.enabled_by_default) == (
            r["group"],
            r["method"],
            r["kind"],
            r["enabled_by_default"],
        )


def test_well_known_templates() -> None:
    by_id = {t.id: t for t in load_bundled_templates()}
    test = by_id[TEMPLATE_TEST_NOTIFICATION]
    assert test.name == "Troubleshooting Notification"
    assert test.group == "Notification Events"
    assert test.title_template == "A test notification"
    assert test.body_template == "This is a test notification."
    assert test.actions == (
        '[{"url": "{{base_url}}/deployment/notifications?tab=settings", "label": "View notification settings"}]'
    )
    custom = by_id[TEMPLATE_CUSTOM_NOTIFICATION]
    assert (custom.name, custom.kind, custom.group) == ("Custom Notification", "custom", "Custom Events")
    assert (custom.title_template, custom.body_template, custom.actions) == (
        "{{.Labels.custom_title}}",
        "{{.Labels.custom_message}}",
        "[]",
    )
    assert by_id[TEMPLATE_ONE_TIME_PASSCODE].name == "One-Time Passcode"
    disabled = {t.name for t in by_id.values() if not t.enabled_by_default}
    assert disabled == {
        "Workspace Created",
        "Workspace Manually Updated",
        "Task Working",
        "Task Idle",
        "Task Completed",
        "Task Failed",
    }
    assert by_id[uuid.UUID("f517da0b-cdc9-410f-ab89-a86107c420ed")].name == "Workspace Deleted"


def test_each_call_returns_a_fresh_list_of_the_same_records() -> None:
    first, second = load_bundled_templates(), load_bundled_templates()
    assert first == second
    assert first is not second
    first.clear()
    assert len(load_bundled_templates()) == 37
