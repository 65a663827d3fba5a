"""What every out-of-band dispatch method (smtp, webhook) receives and how it reports failure.

The notifier renders a queued message once into a `RenderedMessage` and hands it to the method of the
message. A method either returns (delivered) or raises `DispatchError`; the notifier owns retries, so a
method only says whether trying again could help.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

PAYLOAD_VERSION = "1.2"  # types.MessagePayload version Coder enqueues today


@dataclass(slots=True)
class RenderedMessage:
    """One notification message with its title and body rendered, ready to leave the server."""

    message_id: uuid.UUID
    template_id: uuid.UUID
    notification_name: str
    user_id: uuid.UUID
    user_email: str
    user_name: str
    user_username: str
    title: str  # markdown
    body: str  # markdown
    title_plaintext: str
    body_plaintext: str
    actions: list[dict[str, str]] = field(default_factory=list)  # [{"label", "url"}]
    labels: dict[str, str] = field(default_factory=dict)
    data: dict[str, Any] | None = None
    targets: list[uuid.UUID] | None = None
    created_at: datetime | None = None

    def payload(self) -> dict[str, Any]:
        """Coder's `types.MessagePayload` for this message, in Go's field order."""
        return {
            "_version": PAYLOAD_VERSION,
            "notification_name": self.notification_name,
            "notification_template_id": str(self.template_id),
            "user_id": str(self.user_id),
            "user_email": self.user_email,
            "user_name": self.user_name,
            "user_username": self.user_username,
            "actions": [{"label": a.get("label", ""), "url": a.get("url", "")} for a in self.actions],
            "labels": dict(sorted(self.labels.items())),  # Go encodes maps with sorted keys
            "data": self.data,
            "targets": None if self.targets is None else [str(t) for t in self.targets],
        }


class DispatchError(Exception):
    """A delivery attempt failed. `temporary` failures are retried with backoff; others are final."""

    def __init__(self, message: str, *, temporary: bool) -> None:
        super().__init__(message)
        self.temporary = temporary


class DispatchMethod(Protocol):
    """An out-of-band delivery method."""

    async def dispatch(self, msg: RenderedMessage) -> None:
        """Deliver one message, or raise DispatchError."""

    async def aclose(self) -> None:
        """Release connections (called once at shutdown)."""
