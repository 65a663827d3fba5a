"""In-process publish/subscribe for the single-process SQLite backend.

One server process owns the SQLite file, so a dictionary of listeners per user is all the "channel"
`inbox_notification:owner:<user uuid>` needs. Everything runs on the event loop thread.
"""

from __future__ import annotations

import logging
import uuid

from server.records import InboxNotification
from server.store.base import InboxListener, InboxPubsub, Unsubscribe

log = logging.getLogger(__name__)


class LocalPubsub(InboxPubsub):
    """Listeners keyed by user id; publish calls each listener's `on_notification` synchronously."""

    def __init__(self) -> None:
        self._listeners: dict[uuid.UUID, list[InboxListener]] = {}

    def listener_count(self, user_id: uuid.UUID | None = None) -> int:
        """How many listeners are subscribed (to one user, or in total)."""
        if user_id is not None:
            return len(self._listeners.get(user_id, ()))
        return sum(len(v) for v in self._listeners.values())

    async def publish(self, notification: InboxNotification) -> None:
        """Hand the notification to every listener of its owner; a failing listener doesn't stop the rest."""
        # Iterate a copy: a listener may unsubscribe itself (or another) while being called.
        for listener in tuple(self._listeners.get(notification.user_id, ())):
            try:
                listener.on_notification(notification)
            except Exception:
                log.exception("inbox listener failed for user %s", notification.user_id)

    async def subscribe(self, user_id: uuid.UUID, listener: InboxListener) -> Unsubscribe:
        """Subscribe at once; the returned callable unsubscribes and is safe to call more than once."""
        self._listeners.setdefault(user_id, []).append(listener)
        done = False

        def unsubscribe() -> None:
            nonlocal done
            if done:
                return
            done = True
            listeners = self._listeners.get(user_id)
            if listeners is None:
                return
            # Remove this subscription by identity: the same listener object may be subscribed twice.
            for index, existing in enumerate(listeners):
                if existing is listener:
                    del listeners[index]
                    break
            if not listeners:
                del self._listeners[user_id]

        return unsubscribe
