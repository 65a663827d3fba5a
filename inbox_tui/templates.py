"""The server's notification templates, fetched once: names for the inbox (scope line, preview) and the
list for the filter screen. No Textual."""

from __future__ import annotations

from typing import TYPE_CHECKING

from inbox_tui.api.client import CoderClient

if TYPE_CHECKING:  # the later models load after the inbox's first frame (issue 11)
    from inbox_tui.api.more_models import NotificationTemplate


class TemplateCatalog:
    """Templates of one server (`client` None: a fixed inbox, there are none)."""

    def __init__(self, client: CoderClient | None) -> None:
        self.client = client
        self.templates: list[NotificationTemplate] | None = None
        self.names: dict[str, str] = {}

    async def load(self) -> list[NotificationTemplate]:
        """The server's templates (system and custom), fetched once."""
        if self.templates is None:
            if self.client is None:
                return []
            templates = await self.client.templates()
            self.templates = templates
            self.names = {t.id: t.name for t in templates}
        return self.templates
