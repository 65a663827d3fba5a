"""Typed models of the wire format (codersdk types), tolerant of what real Coder deployments send.

Parsing accepts the quirks of real servers: `null` where a list is expected, template `actions` as a JSON
string, missing fields on older servers, frames that end with a newline.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

ICON_WORKSPACE = "DEFAULT_ICON_WORKSPACE"
ICON_ACCOUNT = "DEFAULT_ICON_ACCOUNT"
ICON_TEMPLATE = "DEFAULT_ICON_TEMPLATE"
ICON_OTHER = "DEFAULT_ICON_OTHER"

CUSTOM_TEMPLATE_ID = "39b1e189-c857-4b0c-877a-511144c18516"
TEST_TEMPLATE_ID = "c425f63e-716a-4bf4-ae24-78348f706c3f"


def parse_time(value: Any) -> datetime | None:
    """Parse Go's RFC 3339 timestamps (nanoseconds allowed) into aware datetimes; None for null/empty."""
    if not value or not isinstance(value, str):
        return None
    text = value.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    # Go may send up to 9 fractional digits; Python takes at most 6.
    if "." in text:
        head, _, rest = text.partition(".")
        digits = ""
        i = 0
        while i < len(rest) and rest[i].isdigit():
            digits += rest[i]
            i += 1
        text = f"{head}.{(digits + '000000')[:6]}{rest[i:]}"
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


def format_time(value: datetime) -> str:
    """Format like Go's time.Time JSON for UTC: RFC 3339 with microseconds and a Z."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True, slots=True)
class InboxAction:
    """A rendered action button."""

    label: str
    url: str


@dataclass(frozen=True, slots=True)
class InboxNotification:
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
        return replace(self, read_at=read_at)

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


@dataclass(frozen=True, slots=True)
class InboxPage:
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


@dataclass(frozen=True, slots=True)
class InboxEvent:
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


@dataclass(frozen=True, slots=True)
class TemplateAction:
    """An action of a template, still as template source."""

    label: str
    url: str


@dataclass(frozen=True, slots=True)
class NotificationTemplate:
    """codersdk.NotificationTemplate."""

    id: str
    name: str
    title_template: str
    body_template: str
    actions: tuple[TemplateAction, ...]
    group: str
    method: str
    kind: str
    enabled_by_default: bool

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> NotificationTemplate:
        """Parse a template; `actions` is a JSON string on the wire (a list is accepted too)."""
        raw = data.get("actions") or "[]"
        try:
            items = json.loads(raw) if isinstance(raw, str) else raw
        except ValueError:
            items = []
        return cls(
            id=str(data["id"]),
            name=str(data.get("name") or ""),
            title_template=str(data.get("title_template") or ""),
            body_template=str(data.get("body_template") or ""),
            actions=tuple(
                TemplateAction(label=str(a.get("label", "")), url=str(a.get("url", "")))
                for a in (items or [])
                if isinstance(a, dict)
            ),
            group=str(data.get("group") or ""),
            method=str(data.get("method") or ""),
            kind=str(data.get("kind") or "system"),
            enabled_by_default=bool(data.get("enabled_by_default", True)),
        )


@dataclass(frozen=True, slots=True)
class NotificationPreference:
    """codersdk.NotificationPreference: an explicit choice for one template."""

    id: str
    disabled: bool
    updated_at: datetime | None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> NotificationPreference:
        """Parse one preference row."""
        return cls(
            id=str(data["id"]),
            disabled=bool(data.get("disabled", False)),
            updated_at=parse_time(data.get("updated_at")),
        )


@dataclass(frozen=True, slots=True)
class NotificationSettings:
    """codersdk.NotificationsSettings."""

    notifier_paused: bool


@dataclass(frozen=True, slots=True)
class DispatchMethods:
    """codersdk.NotificationMethodsResponse."""

    available: tuple[str, ...]
    default: str


@dataclass(frozen=True, slots=True)
class User:
    """The codersdk.User fields the inbox uses."""

    id: str
    username: str
    email: str = ""
    name: str = ""
    roles: tuple[str, ...] = field(default_factory=tuple)

    @property
    def is_owner(self) -> bool:
        """Site owners may pause, resume and test delivery."""
        return "owner" in self.roles

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> User:
        """Parse codersdk.User; roles are objects with a `name` in Coder."""
        roles: list[str] = []
        for role in data.get("roles") or []:
            if isinstance(role, dict):
                roles.append(str(role.get("name", "")))
            else:
                roles.append(str(role))
        return cls(
            id=str(data.get("id", "")),
            username=str(data.get("username", "")),
            email=str(data.get("email") or ""),
            name=str(data.get("name") or ""),
            roles=tuple(roles),
        )


def is_template_enabled(template: NotificationTemplate, preferences: dict[str, NotificationPreference]) -> bool:
    """Coder's rule: an explicit preference row wins, else the template's enabled_by_default."""
    pref = preferences.get(template.id)
    if pref is not None:
        return not pref.disabled
    return template.enabled_by_default
