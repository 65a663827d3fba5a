"""Shared by the template-engine tests: a payload shaped like Coder's and a one-call render."""

from __future__ import annotations

from typing import Any

from server.notify.catalogue import load_bundled_templates
from server.notify.gotemplate import render
from server.records import NotificationTemplate

BASE = "http://test.com"


TEMPLATES: dict[str, NotificationTemplate] = {t.name: t for t in load_bundled_templates()}


def payload(labels: dict[str, str] | None = None, data: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    """A payload shaped like Coder's types.MessagePayload, for user bob."""
    out: dict[str, Any] = {
        "Version": "1.2",
        "NotificationName": "",
        "NotificationTemplateID": "",
        "UserID": "6f1c3e0a-5d8a-4a4e-9a59-0b8b7c7f3f10",
        "UserEmail": "bob@coder.com",
        "UserName": "Bobby",
        "UserUsername": "bob",
        "Labels": labels or {},
        "Data": data,
    }
    out.update(extra)
    return out


def r(source: str, labels: dict[str, str] | None = None, data: dict[str, Any] | None = None, **extra: Any) -> str:
    """Render `source` against `payload(labels, data, **extra)` with the test base URL, in 2024."""
    return render(source, payload(labels, data, **extra), base_url=BASE, current_year=2024)
