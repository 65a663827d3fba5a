"""Command palette: the inbox's actions, aware of what is highlighted (its actions appear by label)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.content import Content
from textual.markup import escape

from inbox_tui.alerts import ALERT_DESCRIPTIONS
from inbox_tui.config import ALERT_MODES
from inbox_tui.keymap import SPECS, display_keys, effective_keys
from inbox_tui.links import notification_links
from inbox_tui.screens.inbox import InboxScreen
from inbox_tui.widgets.render import clean_line


@dataclass(frozen=True, slots=True)
class PaletteCommand:
    """One entry: what it says, which action it runs, and on which node namespace."""

    name: str
    help: str
    action: str


class InboxCommands(Provider):
    """The same actions as the keys, plus the highlighted notification's actions by name."""

    def _commands(self) -> Iterator[PaletteCommand]:
        screen = self.screen
        inbox_screen = screen if isinstance(screen, InboxScreen) else None
        keymap = getattr(self.app, "keymap_overrides", {})
        keys = effective_keys(keymap)
        notification = inbox_screen.inbox.notification if inbox_screen is not None else None
        for spec in SPECS:
            if not spec.palette:
                continue
            if spec.scope != "app" and inbox_screen is None:
                continue
            if spec.id.startswith("open_action_") or spec.id == "open_first_action":
                continue  # listed by label below
            if spec.scope == "list":
                runner = f"inbox_list:{spec.action}"
            elif spec.scope == "screen":
                runner = f"screen.{spec.action}"
            else:
                runner = f"app.{spec.action}"
            yield PaletteCommand(spec.description, f"{display_keys(keys[spec.id])}  ({spec.id})", runner)
        # How to announce arrivals while unfocused: one entry per mode, remembered like the keys' toggles.
        settings = getattr(self.app, "alert_settings", None)
        current = getattr(settings, "mode", None)
        for mode in ALERT_MODES:
            now = " (now)" if mode == current else ""
            yield PaletteCommand(f"Alert: {mode}", f"{ALERT_DESCRIPTIONS[mode]}{now}", f"app.set_alert('{mode}')")
        if notification is not None:
            for number, item in enumerate(notification_links(notification)[:9], 1):
                label = clean_line(item.label) or item.url
                yield PaletteCommand(
                    f"Open: {label}",
                    f"{number}  {clean_line(item.url)}",
                    f"screen.open_action({number})",
                )

    async def _run(self, runner: str) -> None:
        if runner.startswith("inbox_list:"):
            screen = self.screen
            if isinstance(screen, InboxScreen):
                await screen.inbox.run_action(runner.removeprefix("inbox_list:"))
            return
        await self.app.run_action(runner)

    async def discover(self) -> Hits:
        for command in self._commands():
            yield DiscoveryHit(
                Content(command.name),
                partial(self._run, command.action),
                text=command.name,
                help=escape(command.help),
            )

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for command in self._commands():
            score, offsets = matcher.fuzzy_search.match(matcher.query, command.name)
            if score > 0:
                # Labels may come from the server: build the highlight on plain Content, never markup.
                display = Content(command.name)
                for offset in offsets:
                    display = display.stylize(matcher.match_style, offset, offset + 1)
                yield Hit(
                    score,
                    display,
                    partial(self._run, command.action),
                    text=command.name,
                    help=escape(command.help),
                )
