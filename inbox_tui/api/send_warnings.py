"""What a client can know in advance about a custom notification that will not arrive (no Textual).

Coder answers a custom notification with "sent" even when nothing will reach the inbox soon: the user has
turned Custom Notification off in their preferences, or an owner has paused delivery (it then waits in the
queue until resumed). The third case, the same title and message again within a minute (deduplicated), is
documented where the user sends, not checked: the server alone knows what it sent.
"""

from __future__ import annotations

import asyncio

from inbox_tui.api.client import CoderClient
from inbox_tui.api.errors import ApiError
from inbox_tui.api.models import CUSTOM_TEMPLATE_ID

PREFERENCE_OFF = "Custom Notification is turned off in your notification preferences: it will not arrive."
DELIVERY_PAUSED = "Delivery is paused on this deployment: it arrives only after an owner resumes it."


async def send_warnings(client: CoderClient) -> list[str]:
    """Warnings for a custom notification sent now (empty: nothing known against it).

    Reads `GET /notifications/settings` (readable by every user) and the user's preference rows, at once.
    A check that fails is left out: a warning must never stop a send. Custom Notification is on by default
    (`enabled_by_default`), so only an explicit row turns it off and the templates need not be fetched.
    """
    settings, rows = await asyncio.gather(client.settings(), client.preferences(), return_exceptions=True)
    warnings: list[str] = []
    if not isinstance(rows, BaseException):
        row = rows.get(CUSTOM_TEMPLATE_ID)
        if row is not None and row.disabled:
            warnings.append(PREFERENCE_OFF)
    elif not isinstance(rows, ApiError):
        raise rows
    if not isinstance(settings, BaseException):
        if settings.notifier_paused:
            warnings.append(DELIVERY_PAUSED)
    elif not isinstance(settings, ApiError):
        raise settings
    return warnings
