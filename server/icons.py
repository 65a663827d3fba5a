"""Fallback icons for inbox notifications stored with an empty icon (spec section 12).

Coder's `ensureNotificationIcon` (coderd/inboxnotifications.go) fills an empty icon on every output path
from a template -> constant map; the web UI draws each constant as a lucide icon.
"""

from __future__ import annotations

import uuid

DEFAULT_ICON_WORKSPACE = "DEFAULT_ICON_WORKSPACE"
DEFAULT_ICON_ACCOUNT = "DEFAULT_ICON_ACCOUNT"
DEFAULT_ICON_TEMPLATE = "DEFAULT_ICON_TEMPLATE"
DEFAULT_ICON_OTHER = "DEFAULT_ICON_OTHER"

_WORKSPACE_TEMPLATES = (
    "281fdf73-c6d6-4cbb-8ff5-888baf8a2fff",  # Workspace Created
    "d089fe7b-d5c5-4c0c-aaf5-689859f7d392",  # Workspace Manually Updated
    "f517da0b-cdc9-410f-ab89-a86107c420ed",  # Workspace Deleted
    "381df2a9-c0c0-4749-420f-80a9280c66f9",  # Workspace Autobuild Failed
    "0ea69165-ec14-4314-91f1-69566ac3c5a0",  # Workspace Marked as Dormant
    "c34a0c09-0704-4cac-bd1c-0c0146811c2b",  # Workspace Updated Automatically
    "51ce2fdf-c9ca-4be1-8d70-628674f9bc42",  # Workspace Marked for Deletion
    "6f6cb984-c167-4fa5-bb87-1058dd642779",  # Workspace Autostop Reminder
    "2faeee0f-26cb-4e96-821c-85ccb9f71513",  # Workspace Manual Build Failed
    "a9d027b4-ac49-4fb1-9f6d-45af15f64e7a",  # Workspace Out Of Memory
    "f047f6a3-5713-40f7-85aa-0394cce9fa3a",  # Workspace Out Of Disk
)
_ACCOUNT_TEMPLATES = (
    "4e19c0ac-94e1-4532-9515-d1801aa283b2",  # User account created
    "f44d9314-ad03-4bc8-95d0-5cad491da6b6",  # User account deleted
    "b02ddd82-4733-4d02-a2d7-c36f3598997d",  # User account suspended
    "9f5af851-8408-4e73-a7a1-c6502ba46689",  # User account activated
    "6a2f0609-9b69-4d36-a989-9f5925b6cbff",  # Your account has been suspended
    "1a6a6bea-ee0a-43e2-9e7c-eabdb53730e4",  # Your account has been activated
    "62f86a30-2330-4b61-a26d-311ff3b608cf",  # One-Time Passcode
)
_TEMPLATE_TEMPLATES = (
    "29a09665-2a4c-403f-9648-54301670e7be",  # Template Deleted
    "f40fae84-55a2-42cd-99fa-b41c1ca64894",  # Template Deprecated
    "34a20db2-e9cc-4a93-b0e4-8569699d7a00",  # Report: Workspace Builds Failed
)
# Coder lists these two explicitly with OTHER; every other template gets OTHER by default anyway.
_OTHER_TEMPLATES = (
    "764031be-4863-4220-867b-6ce1a1b7a5f5",  # Chats Auto-Archived
    "b789bd75-d7c6-4cab-9757-1147ab184903",  # Chat Shared
)

FALLBACK_ICONS: dict[uuid.UUID, str] = {
    uuid.UUID(template_id): icon
    for ids, icon in (
        (_WORKSPACE_TEMPLATES, DEFAULT_ICON_WORKSPACE),
        (_ACCOUNT_TEMPLATES, DEFAULT_ICON_ACCOUNT),
        (_TEMPLATE_TEMPLATES, DEFAULT_ICON_TEMPLATE),
        (_OTHER_TEMPLATES, DEFAULT_ICON_OTHER),
    )
    for template_id in ids
}
"""Template id -> fallback icon, as Coder's `fallbackIcons` map."""


def fallback_icon(template_id: uuid.UUID) -> str:
    """The icon Coder shows for a notification of this template that has none; OTHER if unknown."""
    return FALLBACK_ICONS.get(template_id, DEFAULT_ICON_OTHER)


def ensure_icon(icon: str, template_id: uuid.UUID) -> str:
    """Coder's `ensureNotificationIcon`: a stored icon is kept; an empty one gets the fallback."""
    return icon if icon else fallback_icon(template_id)
