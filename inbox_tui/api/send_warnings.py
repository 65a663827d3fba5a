"""Why a custom notification that was accepted may not arrive, as far as a client can know (no Textual).

`POST /notifications/custom` answers 204 whenever the request is valid: the message is only enqueued.
It then never reaches the inbox when the Custom Notification template is turned off in the sender's
preferences (Coder stores it as inhibited), and it waits in the queue while an owner has paused delivery
(`notifier_paused`; the settings endpoint is readable by every user). A third case, the same title and
message again within the same minute (deduplicated, still 204), leaves no trace a client can read, so
it is documented where the user meets it (`send --help`, the compose help) instead.

The checks are best effort: a server that refuses or lacks an endpoint gives no warning, never an error,
so Coder's exit status and message stay as they are. The CLI prints the warnings on stderr; the compose
form can show the same texts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from inbox_tui.api.errors import ApiError
from inbox_tui.api.models import CUSTOM_TEMPLATE_ID

if TYPE_CHECKING:
    # The CLI imports this module at start; the inbox's first frame needs none of these (more_models).
    from inbox_tui.api.client import CoderClient
    from inbox_tui.api.more_models import NotificationPreference, NotificationTemplate

WARNING_PREFERENCE_OFF = "preference-off"
WARNING_DELIVERY_PAUSED = "delivery-paused"

DEDUPE_NOTE = (
    "The same title and message sent again within the same minute is deduplicated: it is accepted "
    "(and reported as sent) but delivered only once."
)


@dataclass(frozen=True, slots=True)
class SendWarning:
    """One reason a sent notification will not arrive (or not yet): a stable `code` and a sentence."""

    code: str
    message: str


PREFERENCE_OFF = SendWarning(
    WARNING_PREFERENCE_OFF,
    "Custom Notification is turned off in your notification preferences: this notification will not reach "
    "your inbox (turn it on in Preferences, `s` in the inbox).",
)
DELIVERY_PAUSED = SendWarning(
    WARNING_DELIVERY_PAUSED,
    "Notification delivery is paused on this deployment: this notification will arrive only after an owner "
    "resumes it (`inbox-tui resume`).",
)


def custom_enabled(
    preferences: Mapping[str, NotificationPreference], custom_templates: Sequence[NotificationTemplate]
) -> bool:
    """Whether Custom Notification reaches the caller: their preference, else the template's default."""
    # Here, not at import: cli.py imports this module, and the inbox's first frame needs none of the
    # later models (issue 11; tests/client/test_first_page.py).
    from inbox_tui.api.more_models import is_template_enabled

    template = next((t for t in custom_templates if t.id == CUSTOM_TEMPLATE_ID), None)
    if template is None:
        pref = preferences.get(CUSTOM_TEMPLATE_ID)
        return pref is None or not pref.disabled
    return is_template_enabled(template, dict(preferences))


async def _preference_off(client: CoderClient) -> bool:
    preferences = await client.preferences()
    row = preferences.get(CUSTOM_TEMPLATE_ID)
    if row is not None:  # an explicit choice decides; the template's default is needed only without one
        return row.disabled
    return not custom_enabled(preferences, await client.custom_templates())


async def custom_send_warnings(client: CoderClient) -> list[SendWarning]:
    """The warnings that apply now to a custom notification sent by the caller (each check best effort)."""
    warnings: list[SendWarning] = []
    try:
        if await _preference_off(client):
            warnings.append(PREFERENCE_OFF)
    except ApiError:
        pass  # an older server, or preferences we may not read: no warning rather than a false one
    try:
        if (await client.settings()).notifier_paused:
            warnings.append(DELIVERY_PAUSED)
    except ApiError:
        pass
    return warnings
