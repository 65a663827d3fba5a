"""Coder's JSON wire format: Go's encoding (`encode_json`) and the codersdk shapes of records, field order as Go
encodes them. A layer of its own because stored rows carry their pre-rendered wire JSON: the stores, the hub and
the handlers all use it, and it imports nothing from `server.api`.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import orjson

from server.icons import ensure_icon
from server.records import InboxNotification, NotificationPreference, NotificationTemplate, User


def go_escape(encoded: bytes) -> bytes:
    """Go's HTML-safe JSON escaping of already encoded JSON: <, >, &, U+2028 and U+2029."""
    if b"<" in encoded or b">" in encoded or b"&" in encoded:
        encoded = encoded.replace(b"<", b"\\u003c").replace(b">", b"\\u003e").replace(b"&", b"\\u0026")
    if b"\xe2\x80" in encoded:
        encoded = encoded.replace("\u2028".encode(), b"\\u2028").replace("\u2029".encode(), b"\\u2029")
    return encoded


def encode_json(value: Any) -> bytes:
    """Encode like Go's json.Encoder: compact UTF-8 with Go's HTML-safe escaping (orjson does the work)."""
    try:
        return go_escape(orjson.dumps(value))
    except orjson.JSONEncodeError:
        # A lone surrogate (from a JSON body's \ud800) cannot be UTF-8: Go writes U+FFFD in its place.
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
        text = text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
        return go_escape(text.encode())


def go_time(value: datetime) -> str:
    """Go's time.Time JSON (RFC 3339 with trailing zeros of the fraction trimmed), in UTC."""
    value = value.astimezone(UTC)
    text = value.strftime("%Y-%m-%dT%H:%M:%S")
    if value.microsecond:
        text += f".{value.microsecond:06d}".rstrip("0")
    return text + "Z"


def inbox_notification_json(n: InboxNotification) -> dict[str, Any]:
    """codersdk.InboxNotification, with the icon fallback every output path applies."""
    return {
        "id": str(n.id),
        "user_id": str(n.user_id),
        "template_id": str(n.template_id),
        "targets": None if n.targets is None else [str(t) for t in n.targets],
        "title": n.title,
        "content": n.content,
        "icon": ensure_icon(n.icon, n.template_id),
        "actions": [{"label": a.get("label", ""), "url": a.get("url", "")} for a in n.actions],
        "read_at": None if n.read_at is None else go_time(n.read_at),
        "created_at": go_time(n.created_at),
    }


def template_json(t: NotificationTemplate) -> dict[str, Any]:
    """codersdk.NotificationTemplate (`actions` stays a string holding JSON)."""
    return {
        "id": str(t.id),
        "name": t.name,
        "title_template": t.title_template,
        "body_template": t.body_template,
        "actions": t.actions,
        "group": t.group,
        "method": t.method,
        "kind": t.kind,
        "enabled_by_default": t.enabled_by_default,
    }


def preferences_json(rows: list[NotificationPreference]) -> list[dict[str, Any]] | None:
    """[codersdk.NotificationPreference], or null when there are none (a nil Go slice)."""
    if not rows:
        return None
    return [{"id": str(p.template_id), "disabled": p.disabled, "updated_at": go_time(p.updated_at)} for p in rows]


_ROLE_DISPLAY = {"owner": "Owner", "member": "Member"}


def user_json(u: User) -> dict[str, Any]:
    """The codersdk.User fields a notifications client needs."""
    return {
        "id": str(u.id),
        "username": u.username,
        "email": u.email,
        "name": u.name,
        "avatar_url": "",
        "created_at": go_time(u.created_at),
        # No users.updated_at column: a user record here is never edited after creation.
        "updated_at": go_time(u.created_at),
        "last_seen_at": go_time(u.created_at),
        "status": u.status,
        "login_type": "none" if u.is_system else "password",
        "organization_ids": [],
        "roles": [{"name": r, "display_name": _ROLE_DISPLAY.get(r, r.title())} for r in u.roles if r != "member"],
        "has_ai_seat": False,  # codersdk.User requires it; no AI seats here
        "is_system": u.is_system,
    }
