"""The deployment's notification settings (spec section 11): the notifier pause flag, stored as site config.

The delivery layer owns the key and its format; the HTTP handler (`server.api.settings`) adds Coder's
304/403 rules on top.
"""

from __future__ import annotations

import json

from server.store.base import Store

SETTINGS_KEY = "notifications_settings"


class SettingsUnreadableError(ValueError):
    """The stored settings are not JSON (Coder answers 500 "Failed to unmarshal ...")."""


def settings_json(paused: bool) -> str:
    """The stored form of the settings: compact JSON, so an unchanged PUT is byte-identical."""
    return json.dumps({"notifier_paused": paused}, separators=(",", ":"))


def paused_in(raw: str | None) -> bool:
    """The pause flag in stored settings (`None` or `{}` when never set); raises SettingsUnreadableError."""
    try:
        value = json.loads(raw or "{}")
    except ValueError:
        raise SettingsUnreadableError("notifications settings are not JSON") from None
    return bool(value.get("notifier_paused", False)) if isinstance(value, dict) else False


async def stored_settings(store: Store) -> str:
    """The stored settings as written (`{}` when never set)."""
    return await store.get_site_config(SETTINGS_KEY) or "{}"


async def notifier_paused(store: Store) -> bool:
    """Whether the notifier is paused; raises SettingsUnreadableError when the stored value is not JSON."""
    return paused_in(await store.get_site_config(SETTINGS_KEY))


async def set_notifier_paused(store: Store, paused: bool) -> None:
    """Store the pause flag (the caller wakes the notifier on resume)."""
    await store.set_site_config(SETTINGS_KEY, settings_json(paused))
