"""Matching typed ids and template names (inbox_tui/api/lookup.py); the live paths are in test_cli_ids_live.py."""

from __future__ import annotations

from inbox_tui.api.lookup import is_uuid, match_notification_prefix, match_template
from inbox_tui.api.models import InboxNotification, NotificationTemplate
from tests.client.fakes import notification_json


def _template(template_id: str, name: str) -> NotificationTemplate:
    return NotificationTemplate.from_json({"id": template_id, "name": name})


TEMPLATES = [
    _template("39b1e189-c857-4b0c-877a-511144c18516", "Custom Notification"),
    _template("39b2aaaa-0000-4000-8000-000000000000", "Workspace  Deleted"),
    _template("c425f63e-716a-4bf4-ae24-78348f706c3f", "Troubleshooting Notification"),
]


def test_whole_uuids_only() -> None:
    assert is_uuid("39b1e189-c857-4b0c-877a-511144c18516")
    assert is_uuid("39b1e189c8574b0c877a511144c18516")
    assert not is_uuid("39b1e189")
    assert not is_uuid("{39b1e189-c857-4b0c-877a-511144c18516}")
    assert not is_uuid("39b1e189-c857-4b0c-877a-511144c1851z")


def test_template_by_name_case_and_spacing_insensitive_then_by_id_prefix() -> None:
    assert [t.name for t in match_template(" custom NOTIFICATION ", TEMPLATES)] == ["Custom Notification"]
    assert [t.name for t in match_template("workspace deleted", TEMPLATES)] == ["Workspace  Deleted"]
    assert [t.name for t in match_template("c425", TEMPLATES)] == ["Troubleshooting Notification"]
    assert len(match_template("39b", TEMPLATES)) == 2
    assert match_template("Nope", TEMPLATES) == []
    assert match_template("00000000-0000-4000-8000-000000000000", TEMPLATES) == []


def test_notification_prefix_is_case_insensitive() -> None:
    inbox = [
        InboxNotification.from_json({**notification_json(0), "id": "87ce1432-0000-4000-8000-000000000001"}),
        InboxNotification.from_json({**notification_json(1), "id": "87cf0000-0000-4000-8000-000000000002"}),
    ]
    assert [n.id[-1] for n in match_notification_prefix("87CE", inbox)] == ["1"]
    assert len(match_notification_prefix("87c", inbox)) == 2
    assert match_notification_prefix("88", inbox) == []
