"""Typed models of the wire format (codersdk types), tolerant of what real Coder deployments send.

Parsing accepts the quirks of real servers: `null` where a list is expected, template `actions` as a JSON
string, missing fields on older servers, frames that end with a newline.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from inbox_tui.api.more_models import DispatchMethods as DispatchMethods
    from inbox_tui.api.more_models import NotificationPreference as NotificationPreference
    from inbox_tui.api.more_models import NotificationSettings as NotificationSettings
    from inbox_tui.api.more_models import NotificationTemplate as NotificationTemplate
    from inbox_tui.api.more_models import TemplateAction as TemplateAction
    from inbox_tui.api.more_models import User as User
    from inbox_tui.api.more_models import is_template_enabled as is_template_enabled

from inbox_tui.api.times import format_time as format_time
from inbox_tui.api.times import parse_time as parse_time

ICON_WORKSPACE = "DEFAULT_ICON_WORKSPACE"
ICON_ACCOUNT = "DEFAULT_ICON_ACCOUNT"
ICON_TEMPLATE = "DEFAULT_ICON_TEMPLATE"
ICON_OTHER = "DEFAULT_ICON_OTHER"

CUSTOM_TEMPLATE_ID = "39b1e189-c857-4b0c-877a-511144c18516"
TEST_TEMPLATE_ID = "c425f63e-716a-4bf4-ae24-78348f706c3f"


class InboxAction(NamedTuple):
    """A rendered action button."""

    label: str
    url: str


class InboxNotification(NamedTuple):
    """codersdk.InboxNotification."""

    id: str
    user_id: str
    template_id: str
    targets: tuple[str, ...] | None
    title: str
    content: str
    icon: str
    actions: tuple[InboxAction, ...]
    read_at: datetime | None
    created_at: datetime

    @property
    def is_read(self) -> bool:
        """True once read_at is set."""
        return self.read_at is not None

    def with_read_at(self, read_at: datetime | None) -> InboxNotification:
        """A copy with another read_at (optimistic updates)."""
        return self._replace(read_at=read_at)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> InboxNotification:
        """Parse one notification object."""
        raw_targets = data.get("targets")
        raw_actions = data.get("actions") or []
        if isinstance(raw_actions, str):
            raw_actions = json.loads(raw_actions or "[]") or []
        created = parse_time(data.get("created_at")) or datetime.now(UTC)
        return cls(
            id=str(data["id"]),
            user_id=str(data.get("user_id", "")),
            template_id=str(data.get("template_id", "")),
            targets=None if raw_targets is None else tuple(str(t) for t in raw_targets),
            title=str(data.get("title") or ""),
            content=str(data.get("content") or ""),
            icon=str(data.get("icon") or ""),
            actions=tuple(
                InboxAction(label=str(a.get("label", "")), url=str(a.get("url", "")))
                for a in raw_actions
                if isinstance(a, dict)
            ),
            read_at=parse_time(data.get("read_at")),
            created_at=created,
        )

    def to_json(self) -> dict[str, Any]:
        """The wire shape (used by `inbox-tui list --json` and `watch --json`)."""
        return {
            "id": self.id,
            "user_id": self.user_id,
            "template_id": self.template_id,
            "targets": None if self.targets is None else list(self.targets),
            "title": self.title,
            "content": self.content,
            "icon": self.icon,
            "actions": [{"label": a.label, "url": a.url} for a in self.actions],
            "read_at": None if self.read_at is None else format_time(self.read_at),
            "created_at": format_time(self.created_at),
        }


class InboxPage(NamedTuple):
    """ListInboxNotificationsResponse."""

    notifications: tuple[InboxNotification, ...]
    unread_count: int

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> InboxPage:
        """Parse a list response; older servers may send `null` for an empty list."""
        return cls(
            notifications=tuple(InboxNotification.from_json(n) for n in (data.get("notifications") or [])),
            unread_count=int(data.get("unread_count") or 0),
        )


class InboxEvent(NamedTuple):
    """GetInboxNotificationResponse / UpdateInboxNotificationReadStatusResponse."""

    notification: InboxNotification
    unread_count: int

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> InboxEvent:
        """Parse a watch frame or a read-status response."""
        return cls(
            notification=InboxNotification.from_json(data["notification"]),
            unread_count=int(data.get("unread_count") or 0),
        )


# Defined in more_models and loaded on first use (issue 11: start-up defines only what the first frame needs).
_LATER = frozenset(
    {
        "DispatchMethods",
        "NotificationPreference",
        "NotificationSettings",
        "NotificationTemplate",
        "TemplateAction",
        "User",
        "is_template_enabled",
    }
)


def __getattr__(name: str) -> Any:
    if name in _LATER:
        from inbox_tui.api import more_models

        return getattr(more_models, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
