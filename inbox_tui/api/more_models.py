"""The wire models the inbox's first frame does not need: templates, preferences, settings, dispatch
methods and the user (codersdk types). `inbox_tui.api.models` re-exports them, loading this module only
when one is first used: each frozen dataclass costs ~0.5 ms to define, start-up time (issue 11).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from inbox_tui.api.times import parse_time


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
