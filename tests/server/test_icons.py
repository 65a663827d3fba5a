"""Icon fallbacks (spec section 12), mirroring Coder's TestInboxNotifications_ensureNotificationIcon."""

from __future__ import annotations

import uuid

import pytest

from server.icons import (
    DEFAULT_ICON_ACCOUNT,
    DEFAULT_ICON_OTHER,
    DEFAULT_ICON_TEMPLATE,
    DEFAULT_ICON_WORKSPACE,
    ensure_icon,
    fallback_icon,
)
from server.notify.catalogue import load_bundled_templates
from server.records import TEMPLATE_CUSTOM_NOTIFICATION, TEMPLATE_TEST_NOTIFICATION

WORKSPACE_CREATED = uuid.UUID("281fdf73-c6d6-4cbb-8ff5-888baf8a2fff")
USER_ACCOUNT_CREATED = uuid.UUID("4e19c0ac-94e1-4532-9515-d1801aa283b2")
TEMPLATE_DELETED = uuid.UUID("29a09665-2a4c-403f-9648-54301670e7be")
CHAT_SHARED = uuid.UUID("b789bd75-d7c6-4cab-9757-1147ab184903")
UNKNOWN_TEMPLATE = uuid.UUID("00000000-0000-4000-8000-0000000000bb")  # fixed: parameters are the same in every run


@pytest.mark.parametrize(
    ("icon", "template_id", "expected"),
    [
        ("", WORKSPACE_CREATED, DEFAULT_ICON_WORKSPACE),
        ("", USER_ACCOUNT_CREATED, DEFAULT_ICON_ACCOUNT),
        ("", TEMPLATE_DELETED, DEFAULT_ICON_TEMPLATE),
        ("", CHAT_SHARED, DEFAULT_ICON_OTHER),
        ("", TEMPLATE_TEST_NOTIFICATION, DEFAULT_ICON_OTHER),
        ("https://cdn.coder.com/icon_notif.png", TEMPLATE_DELETED, "https://cdn.coder.com/icon_notif.png"),
        ("", UNKNOWN_TEMPLATE, DEFAULT_ICON_OTHER),
    ],
    ids=[
        "WorkspaceCreated",
        "UserAccountCreated",
        "TemplateDeleted",
        "ChatShared",
        "TestNotification",
        "TestExistingIcon",
        "UnknownTemplate",
    ],
)
def test_ensure_icon(icon: str, template_id: uuid.UUID, expected: str) -> None:
    assert ensure_icon(icon, template_id) == expected


def test_constants_are_coders_strings() -> None:
    assert DEFAULT_ICON_WORKSPACE == "DEFAULT_ICON_WORKSPACE"
    assert DEFAULT_ICON_ACCOUNT == "DEFAULT_ICON_ACCOUNT"
    assert DEFAULT_ICON_TEMPLATE == "DEFAULT_ICON_TEMPLATE"
    assert DEFAULT_ICON_OTHER == "DEFAULT_ICON_OTHER"


def test_every_bundled_template_has_the_spec_fallback() -> None:
    # Spec 8.2's table, by template group: Workspace -> WORKSPACE, User -> ACCOUNT, the three template
    # reports -> TEMPLATE, everything else (prebuilds, tasks, chats, AI budgets, test, custom) -> OTHER.
    template_group_with_template_icon = {
        "Template Deleted",
        "Template Deprecated",
        "Report: Workspace Builds Failed",
    }
    templates = load_bundled_templates()
    assert len(templates) == 37
    for t in templates:
        if t.group == "Workspace Events":
            expected = DEFAULT_ICON_WORKSPACE
        elif t.group == "User Events":
            expected = DEFAULT_ICON_ACCOUNT
        elif t.name in template_group_with_template_icon:
            expected = DEFAULT_ICON_TEMPLATE
        else:
            expected = DEFAULT_ICON_OTHER
        assert fallback_icon(t.id) == expected, t.name
    assert fallback_icon(TEMPLATE_CUSTOM_NOTIFICATION) == DEFAULT_ICON_OTHER
