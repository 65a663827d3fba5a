"""Command palette: the same actions as the keys, split by who runs them.

`AppCommands` (in `InboxApp.COMMANDS`, offered on every screen): the app's keys and the alert modes.
`InboxCommands` (in `InboxScreen.COMMANDS`): the inbox screen's and list's keys, plus the highlighted
notification's actions by label. Neither imports the app or the inbox screen (imports point down): what
they need of the screen is the `PaletteScreen` protocol.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Protocol, runtime_checkable

from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.content import Content
from textual.markup import escape

from inbox_tui.alerts import ALERT_DESCRIPTIONS
from inbox_tui.config import ALERT_MODES
from inbox_tui.keymap import SPECS, KeySpec, display_keys, effective_keys
from inbox_tui.links import notification_links
from inbox_tui.widgets.inbox_list import InboxList
from inbox_tui.widgets.render import clean_line


@dataclass(frozen=True, slots=True)
class PaletteCommand:
    """One entry: what it says, which action it runs, and on which node namespace."""

    name: str
    help: str
    action: str


@runtime_checkable
class PaletteScreen(Protocol):
    """What the inbox screen's commands need of the screen they were opened on."""

    @property
    def inbox(self) -> InboxList:
        """The list widget (the highlighted notification, the list's own actions)."""
        ...

    @property
    def keymap(self) -> Mapping[str, str]:
        """The `[keys]` remaps in force."""
        ...


def _entry(spec: KeySpec, keys: Mapping[str, str], runner: str) -> PaletteCommand:
    return PaletteCommand(spec.description, f"{display_keys(keys[spec.id])}  ({spec.id})", runner)


class _Commands(Provider):
    """A fixed list of commands, discovered and fuzzy-searched (labels may come from the server)."""

    def _commands(self) -> Iterator[PaletteCommand]:
        raise NotImplementedError

    async def _run(self, runner: str) -> None:
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


class AppCommands(_Commands):
    """The app's keys (compose, preferences, admin, help, quit) and how to announce arrivals."""

    def _commands(self) -> Iterator[PaletteCommand]:
        keys = effective_keys(getattr(self.app, "keymap_overrides", {}))
        for spec in SPECS:
            if spec.palette and spec.scope == "app":
                yield _entry(spec, keys, f"app.{spec.action}")
        # How to announce arrivals while unfocused: one entry per mode, remembered like the keys' toggles.
        settings = getattr(self.app, "alert_settings", None)
        current = getattr(settings, "mode", None)
        for mode in ALERT_MODES:
            now = " (now)" if mode == current else ""
            yield PaletteCommand(f"Alert: {mode}", f"{ALERT_DESCRIPTIONS[mode]}{now}", f"app.set_alert('{mode}')")


class InboxCommands(_Commands):
    """The inbox screen's and list's keys, plus the highlighted notification's actions by label."""

    def _commands(self) -> Iterator[PaletteCommand]:
        screen = self.screen
        if not isinstance(screen, PaletteScreen):
            return
        keys = effective_keys(screen.keymap)
        for spec in SPECS:
            if not spec.palette or spec.scope == "app":
                continue
            if spec.id.startswith("open_action_") or spec.id == "open_first_action":
                continue  # listed by label below
            runner = f"inbox_list:{spec.action}" if spec.scope == "list" else f"screen.{spec.action}"
            yield _entry(spec, keys, runner)
        notification = screen.inbox.notification
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
            if isinstance(screen, PaletteScreen):
                await screen.inbox.run_action(runner.removeprefix("inbox_list:"))
            return
        await self.app.run_action(runner)
