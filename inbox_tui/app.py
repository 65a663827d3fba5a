"""The Textual application: owns the API client, the inbox state and feed, keys, alerts and the failure toasts,
and handles what the inbox screen posts (inbox_tui/messages.py).

`run_app(connection, demo=...)` is what `inbox-tui` calls. `InboxApp` can also be built with a fixed
`InboxState` and no client (snapshot tests, fixtures): then nothing talks to a server.
"""

from __future__ import annotations

import asyncio
import gc
import os
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Protocol
from urllib.parse import urlsplit

from textual import events
from textual.app import App
from textual.binding import BindingType
from textual.command import Provider
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from inbox_tui import messages
from inbox_tui.alerts import ALERT_DESCRIPTIONS, Alert, AlertSettings
from inbox_tui.api.client import CoderClient
from inbox_tui.api.errors import describe_error
from inbox_tui.api.models import InboxNotification
from inbox_tui.config import ALERT_MODES, DEFAULT_CHECK_INTERVAL
from inbox_tui.feed import InboxFeed
from inbox_tui.keymap import SPECS_BY_ID, bindings, parse_keys
from inbox_tui.screens.inbox import InboxContext, InboxScreen
from inbox_tui.state import Filters, InboxState
from inbox_tui.templates import TemplateCatalog
from inbox_tui.terminal_title import POP_TITLE, PUSH_TITLE, title_sequence, title_text
from inbox_tui.widgets.header import InboxHeader, Link
from inbox_tui.widgets.inbox_list import Clock, system_clock

if TYPE_CHECKING:
    from rich.console import RenderableType
    from textual.theme import Theme

    from inbox_tui.api.models import NotificationTemplate  # issue 11: defined when first used
    from inbox_tui.config import Config
    from inbox_tui.first_page import FirstPage
    from inbox_tui.ui_state import UiState


def _compose() -> Screen[Any]:
    from inbox_tui.screens.compose import ComposeScreen

    return ComposeScreen()


def _preferences() -> Screen[Any]:
    from inbox_tui.screens.preferences import PreferencesScreen

    return PreferencesScreen()


def _admin() -> Screen[Any]:
    from inbox_tui.screens.admin import AdminScreen

    return AdminScreen()


# Screens opened by name (`open_screen('compose')`): name -> a factory that imports its module when first
# called (start-up never waits for these) and builds the screen; it reaches the client through `app.client`.
NAMED_SCREENS: dict[str, Callable[[], Screen[Any]]] = {
    "compose": _compose,
    "preferences": _preferences,
    "admin": _admin,
}

# What each worker group was doing, for the toast when it fails (Coder's web inbox wording where it has one).
FAILURE_TITLES: dict[str, str] = {
    "load": "Error loading notifications.",
    "more": "Error loading more notifications.",
    "read": "Error on marking notification as read.",
    "mark-all": "Error on marking all notifications as read.",
    "resync": "Error catching up with the server.",
    "stale-check": "Error checking for read changes made elsewhere.",
    "templates": "Error loading templates.",
    "watch": "Live updates stopped.",
    "alert": "The alert command failed.",
    "browser": "Could not open the browser.",
}
# How long start-up waits for the first page before drawing the screen without it.
PREFETCH_WAIT = 0.25

# After this many new rows (a burst, paging), long-lived objects are frozen out of garbage collection again,
# at most once every FREEZE_EVERY seconds.
FREEZE_AFTER_ROWS = 500
FREEZE_EVERY = 300.0

# Failures nobody needs a toast for (the header or the list already says it). A failed read-marks check
# is retried by the next tick, focus or frame; while the server is down the header says so.
QUIET_GROUPS = {"template-names", "stale-check", "paused-check"}

# Text browsers take over the terminal the inbox is drawn on: never launch one.
_CONSOLE_BROWSERS = {"www-browser", "links", "links2", "elinks", "lynx", "w3m", "browsh"}


def _app_commands() -> type[Provider]:
    from inbox_tui.screens.palette import AppCommands

    return AppCommands


class ConnectionLike(Protocol):
    """What run_app needs from inbox_tui.connection.Connection."""

    url: str
    token: str
    source: str

    def client(self, *, timeout: float = 10.0) -> CoderClient:
        """A new API client for the connection (the local server's goes through its Unix socket)."""
        ...


class InboxApp(App[None]):
    """inbox-tui."""

    CSS_PATH = Path(__file__).with_name("app.tcss")
    TITLE = "inbox-tui"
    BINDINGS: ClassVar[list[BindingType]] = bindings("app")
    COMMANDS = App.COMMANDS | {_app_commands}

    def __init__(
        self,
        client: CoderClient | None = None,
        *,
        initial: InboxState | None = None,
        clock: Clock = system_clock,
        keys: Mapping[str, object] | None = None,
        key_origins: Mapping[str, str] | None = None,
        alert: AlertSettings | None = None,
        link: Link | None = None,
        watch: bool = True,
        owns_client: bool = False,
        source: str = "",
        terminal_write: Callable[[str], None] | None = None,
        filters: Filters | None = None,
        remembered: UiState | None = None,
        state_path: Path | None = None,
        theme: str | None = None,
        check_interval: float = DEFAULT_CHECK_INTERVAL,
        first_page: FirstPage | None = None,
        terminal_title: bool = False,
        mark_read_on_preview: bool = False,
    ) -> None:
        """Build the app.

        client: the API client (None: a fixed inbox from `initial`, nothing is fetched).
        initial: a loaded state to show instead of fetching the first page.
        clock: the time used for relative times and optimistic read stamps (tests freeze it).
        keys: the config file's `[keys]` table (binding id -> key(s)).
        key_origins: where each `[keys]` entry was written ("config.toml line 12"), for warnings.
        alert: how to alert while unfocused (the config file's setting).
        link: the connection state shown before the watch reports.
        watch: follow the live stream (off for tests that want a still inbox).
        owns_client: close the client on exit. source: where the connection came from, for the header.
        terminal_write: where escape sequences for alerts go (default: the terminal).
        filters: the filters to start with, when no `initial` state is given (default: the remembered ones).
        remembered: the remembered UI state (`UiState.load()`): the app starts from it (compact mode,
            preview position, filters, and the alert mode and theme when one was chosen in the app, which
            beat `alert` and `theme`) and writes every change back to the state file. None: defaults,
            nothing is written.
        state_path: the state file to write (default: `ui_state_path()`; the demo has its own).
        theme: the config file's theme (a name Textual does not know is ignored).
        check_interval: seconds between checks for read changes made elsewhere (0: no timer; focus,
            disagreeing frames and reconnects still check).
        first_page: the first page as `inbox-tui` fetched it before Textual loaded (issue 11); shown
            instead of asking the client when it is for the start-up filters and arrived.
        terminal_title: keep the terminal's title at the unread count and deployment (`(3) inbox · local`),
            through `terminal_write`; the previous title is pushed at start and popped at exit (issue 11).
        mark_read_on_preview: opening the preview (`enter`) marks the notification read (the config file's
            switch; issue 11).
        """
        super().__init__()
        self.client = client
        self.remembered = remembered
        self.state_path = state_path  # None: the default state file
        if filters is None and remembered is not None:
            filters = remembered.filters
        self.state = initial if initial is not None else InboxState(filters=filters or Filters())
        self.clock = clock
        self.feed = InboxFeed(client, self.state, clock)
        table = dict(keys or {})
        # The other screens' ids are checked once the inbox is on screen: checking them imports every
        # screen module, which start-up should not wait for (nothing but the inbox is shown at first).
        self._screen_keys = {k: v for k, v in table.items() if k not in SPECS_BY_ID}
        self._key_origins = dict(key_origins or {})
        self.keymap_overrides, self.keymap_problems = parse_keys(
            {k: v for k, v in table.items() if k in SPECS_BY_ID}, self._key_origins
        )
        self.set_keymap(self.keymap_overrides)
        self.config_alert = alert or AlertSettings()
        self.alert_settings = self.config_alert
        if remembered is not None and remembered.alert is not None:
            chosen = AlertSettings.from_config(remembered.alert, self.config_alert.command)
            if chosen.mode == remembered.alert:  # "command" without a command keeps the config's mode
                self.alert_settings = chosen
        self.compact = remembered.compact if remembered is not None else False
        self.preview_position = remembered.preview_position if remembered is not None else "right"
        if theme and theme in self.available_themes:
            self.theme = theme
        self.config_theme = self.theme
        if remembered is not None and remembered.theme and remembered.theme in self.available_themes:
            self.theme = remembered.theme
        self._state_error: str | None = None
        self.quitting = False
        self.link = link or (Link("connecting") if client is not None else Link("offline"))
        self.watch_enabled = watch and client is not None
        self.check_interval = check_interval
        self.owns_client = owns_client
        self.source = source
        self.catalog = TemplateCatalog(client)
        self.alerts: list[Alert] = []
        self._terminal_write = terminal_write
        self._names_requested = False
        self._paused_requested = False
        self._grown = 0
        self._frozen_at: float | None = None
        # run_app: the garbage collector is off for start-up; start_up_done turns it back on.
        self.collector_paused = False
        self.first_page = first_page  # the first page fetched before Textual loaded
        self.terminal_title = terminal_title
        self.mark_read_on_preview = mark_read_on_preview
        self._title: str | None = None  # the title last written (None: the terminal's own is in place)
        self.focus_reported = False  # an AppFocus/AppBlur has arrived: the terminal reports focus changes
        self._tmux_hint_shown = False

    def get_default_screen(self) -> Screen[Any]:
        return InboxScreen(self.inbox_context())

    def inbox_context(self) -> InboxContext:
        """What the inbox screen is given: it reaches nothing else of the app (it posts messages)."""
        return InboxContext(
            feed=self.feed,
            templates=self.catalog,
            keymap=self.keymap_overrides,
            link=self.link,
            source=self.source,
            watch=self.watch_enabled,
            check_interval=self.check_interval,
            compact=self.compact,
            preview_position=self.preview_position,
            mark_read_on_preview=self.mark_read_on_preview,
        )

    def on_mount(self) -> None:
        self.theme_changed_signal.subscribe(self, self._theme_changed)
        self.update_title()
        if self._screen_keys:
            self.call_after_refresh(self._apply_screen_keys)
        else:
            self._report_key_problems()

    def _apply_screen_keys(self) -> None:
        """Remap the other screens' keys (preferences, compose, admin, the modals) from `[keys]`."""
        keymap, problems = parse_keys(self._screen_keys, self._key_origins)
        self._screen_keys = {}
        self.keymap_overrides.update(keymap)
        self.keymap_problems.extend(problems)
        self.set_keymap(self.keymap_overrides)
        self._report_key_problems()

    def _report_key_problems(self) -> None:
        if self.keymap_problems:
            self.notify(
                "; ".join(self.keymap_problems) + ". Those entries are ignored.",
                title="Config [keys]",
                severity="warning",
                timeout=10,
                markup=False,
            )

    async def on_load(self) -> None:
        # Ask for the first page before the screen is built, and give it a moment: a local server answers
        # in milliseconds, and then the first frame already shows the inbox instead of "Loading…" (one
        # layout and paint fewer). A slow server gets PREFETCH_WAIT, then the screen shows it loading.
        # issue 11: the page fetched before Textual loaded, if it is for these filters; else the client's.
        first_page, self.first_page = self.first_page, None
        future = self.feed.prefetch(first_page)
        if future is not None:
            await asyncio.wait([future], timeout=PREFETCH_WAIT)

    def first_page_shown(self) -> None:
        """Called once the inbox has painted its first page: now fetch what can wait (template names)."""
        if self._frozen_at is None:
            self._freeze_long_lived()
        self.start_up_done()
        if self.client is not None and self.templates is None and not self._names_requested:
            self._names_requested = True
            self.run_worker(self.load_templates(), group="template-names", exit_on_error=False)
        screen = self.inbox_screen
        if self.client is not None and not self._paused_requested and screen is not None:
            self._paused_requested = True  # issue 11: is delivery paused? (after the first frame)
            screen.check_paused()

    def start_up_done(self) -> None:
        """The first page is painted (or failed to load): turn the collector back on if start-up paused it.

        What exists now lives as long as the app; it is frozen first, so the collector never rescans it.
        """
        if self.collector_paused:
            self.collector_paused = False
            if self._frozen_at is None:
                self._freeze_long_lived()
            gc.enable()

    def inbox_grew(self, added: int) -> None:
        """Many notifications were added (a burst, paging): let the collector stop rescanning them."""
        self._grown += added
        now = time.monotonic()
        if self._grown >= FREEZE_AFTER_ROWS and (self._frozen_at is None or now - self._frozen_at >= FREEZE_EVERY):
            self._freeze_long_lived()

    def _freeze_long_lived(self) -> None:
        # Full collections rescan every live object: Textual's own hundreds of thousands plus the inbox,
        # tens of milliseconds each, which shows up as stutter while a burst arrives. What exists once
        # the inbox is painted lives as long as the app, so the collector can leave it out. Bounded: this
        # runs after the first page and then at most once every FREEZE_EVERY seconds.
        gc.freeze()
        self._grown = 0
        self._frozen_at = time.monotonic()

    async def on_unmount(self) -> None:
        if self._title is not None:
            self.write_terminal(POP_TITLE)  # the title the terminal had before (the driver is still open)
            self._title = None
        self.start_up_done()
        if self._frozen_at is not None:
            # Hand what was frozen back to the collector: the app's objects die with it (tests, embedders).
            gc.unfreeze()
        if self.owns_client and self.client is not None:
            await self.client.aclose()

    def on_app_focus(self, event: events.AppFocus) -> None:
        """The terminal has focus again: what changed elsewhere meanwhile should show at once."""
        self.focus_reported = True
        screen = self.inbox_screen
        if screen is not None:
            screen.check_read_marks("focus")

    def on_app_blur(self, event: events.AppBlur) -> None:
        """The terminal reports focus changes (tmux with focus-events on, most terminals)."""
        self.focus_reported = True

    @property
    def inbox_screen(self) -> InboxScreen | None:
        """The inbox screen (the bottom of the stack)."""
        for screen in self.screen_stack:
            if isinstance(screen, InboxScreen):
                return screen
        return None

    # ----- what the inbox screen tells the app (inbox_tui/messages.py) ---------------------------

    def on_first_page_shown(self, _message: messages.FirstPageShown) -> None:
        self.first_page_shown()

    def on_first_page_failed(self, _message: messages.FirstPageFailed) -> None:
        self.start_up_done()

    def on_inbox_grew(self, message: messages.InboxGrew) -> None:
        self.inbox_grew(message.added)

    def on_new_unread(self, message: messages.NewUnread) -> None:
        self.hint_focus_events()
        self.alert_new(message.notifications)

    def hint_focus_events(self) -> None:
        """At the first arrival: inside tmux, with no focus change ever reported, say once why alerts
        cannot fire (tmux's default `focus-events off`; docs/configuration.md, "tmux")."""
        if self._tmux_hint_shown:
            return
        self._tmux_hint_shown = True
        from inbox_tui.tmux import focus_events_hint

        hint = focus_events_hint(os.environ, self.focus_reported, self.alert_settings.mode != "off")
        if hint is not None:
            self.notify(hint, title="tmux", severity="warning", timeout=15, markup=False)

    def on_filters_changed(self, message: messages.FiltersChanged) -> None:
        self.remember_filters(message.filters)

    def on_view_changed(self, message: messages.ViewChanged) -> None:
        if message.compact != self.compact:
            self.set_compact(message.compact)
        if message.preview_position != self.preview_position:
            self.set_preview_position(message.preview_position)

    def on_link_changed(self, message: messages.LinkChanged) -> None:
        self.link = message.link
        self.update_title()

    def on_inbox_header_unread_changed(self, _message: InboxHeader.UnreadChanged) -> None:
        self.update_title()

    def update_title(self) -> None:
        """Write the terminal title (`(3) inbox · local`) if its text changed; the first write pushes the
        terminal's own title, which exit pops."""
        if not self.terminal_title:
            return
        # The state's count, not the message's: the header's first (initial) report is 0 before it is told.
        text = title_text(max(0, self.state.unread_count), self.source)
        if text == self._title:
            return
        if self._title is None:
            self.write_terminal(PUSH_TITLE)
        self._title = text
        self.write_terminal(title_sequence(text))

    def on_delivery_paused_changed(self, message: messages.DeliveryPausedChanged) -> None:
        screen = self.inbox_screen
        if screen is not None:
            screen.show_paused(message.paused)

    def on_worker_failed(self, message: messages.WorkerFailed) -> None:
        self.report_failure(message.group, message.error)

    # ----- workers: the one place their failures are reported -------------------------------------

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """The app's own workers (template names, alert commands, the browser): say what went wrong."""
        if event.state is WorkerState.ERROR:
            error = event.worker.error
            assert error is not None
            self.report_failure(event.worker.group, error)

    def report_failure(self, group: str, error: BaseException) -> None:
        """A toast saying what failed (worker groups with nothing to say are quiet)."""
        if group in QUIET_GROUPS:
            return
        self.notify(
            describe_error(error),
            title=FAILURE_TITLES.get(group, "Something went wrong."),
            severity="error",
            timeout=8,
            markup=False,
        )

    # ----- templates ------------------------------------------------------------------------------

    @property
    def templates(self) -> list[NotificationTemplate] | None:
        """The server's templates once fetched (None before)."""
        return self.catalog.templates

    @property
    def template_names(self) -> dict[str, str]:
        """Template id -> name, once fetched."""
        return self.catalog.names

    async def load_templates(self) -> list[NotificationTemplate]:
        """The server's templates (system and custom), fetched once."""
        return await self.catalog.load()

    # ----- screens and keys -----------------------------------------------------------------------

    def action_help(self) -> None:
        """Show every key in force."""
        from inbox_tui.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen) and not self.quitting:
            self.push_screen(HelpScreen(self.keymap_overrides))

    def exit(self, result: None = None, return_code: int = 0, message: RenderableType | None = None) -> None:
        """Quit; keys still queued behind `q` no longer open screens (they would mount half torn down)."""
        self.quitting = True
        super().exit(result, return_code, message)

    def action_open_screen(self, name: str) -> None:
        """Open a screen another part of the app provides (compose, preferences, admin) by name."""
        if self.quitting:
            return
        factory = NAMED_SCREENS.get(name)
        if factory is None:
            self.notify(f"No screen called {name!r}.", severity="warning", markup=False)
            return
        if self.client is None:
            self.notify(f"{name.capitalize()} needs a server connection.", severity="warning", markup=False)
            return
        try:
            screen = factory()
        except ModuleNotFoundError as exc:
            # A screen module of our own left out of this build; a missing dependency is a real error.
            if not (exc.name or "").startswith("inbox_tui."):
                raise
            self.notify(f"{name.capitalize()} is not available in this build.", severity="warning", markup=False)
            return
        self.push_screen(screen)

    # ----- opening URLs ---------------------------------------------------------------------------

    def open_url(self, url: str, *, new_tab: bool = True) -> None:
        """Open a link in a browser; where none can open (SSH, no display), copy it and say so."""
        scheme = urlsplit(url).scheme.lower()
        if scheme not in ("http", "https"):
            self._copy_instead(url, f"not opening a {scheme or 'relative'} link")
            return
        if not self._browser_available():
            self._copy_instead(url, "no browser here")
            return
        self.run_worker(lambda: self._open_in_browser(url), thread=True, group="browser", exit_on_error=False)

    def _open_in_browser(self, url: str) -> None:
        import webbrowser  # on first use: not part of the first frame

        if not webbrowser.open(url, new=2):
            self.call_from_thread(self._copy_instead, url, "the browser did not start")

    def _copy_instead(self, url: str, reason: str) -> None:
        self.copy_to_clipboard(url)
        self.notify(f"{url}\n({reason}; copied to the clipboard)", title="Link copied", markup=False)

    def _browser_available(self) -> bool:
        if self.is_headless:
            return False
        env = os.environ
        if sys.platform.startswith("linux") or sys.platform.startswith("freebsd"):
            if not (env.get("DISPLAY") or env.get("WAYLAND_DISPLAY") or env.get("BROWSER")):
                return False
        elif env.get("SSH_CONNECTION") and not env.get("BROWSER"):
            return False
        import webbrowser

        try:
            browser = webbrowser.get()
        except webbrowser.Error:
            return False
        name = Path(str(getattr(browser, "name", ""))).name
        return name not in _CONSOLE_BROWSERS

    # ----- remembered state -----------------------------------------------------------------------

    def remember(self, **changes: Any) -> None:
        """Record a change of the remembered state (`remember(compact=True)`) in the state file."""
        if self.remembered is not None:
            self._store(self.remembered.update(**changes))

    def remember_filters(self, filters: Filters) -> None:
        """The inbox switched filters (unread-only among them): remember them for the next run."""
        if self.remembered is not None:
            self._store(self.remembered.with_filters(filters))

    def _store(self, updated: UiState) -> None:
        # A file that cannot be written never stops the app: the change still applies to this run, and a
        # warning says it will not be remembered (once, until a write succeeds again).
        if updated == self.remembered:
            return
        self.remembered = updated
        try:
            updated.save(self.state_path)
        except OSError as exc:
            if self._state_error is None:
                where = f" {exc.filename}" if exc.filename else ""
                self.notify(
                    f"Could not write{where}: {exc.strerror or exc}. The change applies until you quit.",
                    title="View settings not remembered",
                    severity="warning",
                    timeout=8,
                    markup=False,
                )
            self._state_error = str(exc)
            return
        self._state_error = None

    def set_compact(self, compact: bool) -> None:
        """Record compact mode (the inbox screen has already switched its list)."""
        self.compact = compact
        self.remember(compact=compact)

    def set_preview_position(self, position: str) -> None:
        """Record where the preview goes, "right" or "bottom" (the inbox screen moves it)."""
        if position not in ("right", "bottom"):
            raise ValueError(f"preview position must be right or bottom, not {position!r}")
        self.preview_position = position
        self.remember(preview_position=position)

    def _theme_changed(self, theme: Theme) -> None:
        # Choosing the config file's theme (or Textual's default) again means "follow the config file".
        self.remember(theme=None if theme.name == self.config_theme else theme.name)

    def action_set_alert(self, mode: str) -> None:
        """Choose how new notifications are announced while the terminal is unfocused; remembered."""
        if mode not in ALERT_MODES:
            self.notify(f"No alert mode called {mode!r}.", severity="warning", markup=False)
            return
        command = self.config_alert.command
        if mode == "command" and not (command or "").strip():
            self.notify(
                'Set alert_command in the config file first (see docs/configuration.md), then choose "command".',
                title="No alert command",
                severity="warning",
                markup=False,
            )
            return
        self.alert_settings = AlertSettings.from_config(mode, command)
        # Choosing the config file's mode again means "follow the config file" from the next run on.
        self.remember(alert=None if mode == self.config_alert.mode else mode)
        self.notify(f"New notifications while unfocused: {ALERT_DESCRIPTIONS[mode]}.", title=f"Alert: {mode}")

    # ----- alerts ---------------------------------------------------------------------------------

    def alert_new(self, notifications: Sequence[InboxNotification]) -> None:
        """New notifications arrived: alert if the terminal is not focused (one alert per batch)."""
        if self.app_focus or self.alert_settings.mode == "off":
            return
        from inbox_tui.alerts import escape_sequence, run_command, summarize

        alert = summarize(notifications)
        if alert is None:
            return
        self.alerts = [*self.alerts[-19:], alert]
        mode = self.alert_settings.mode
        if mode == "command":
            command = self.alert_settings.command or ""
            self.run_worker(run_command(command, alert), group="alert", exit_on_error=False)
            return
        self.write_terminal(escape_sequence(mode, alert))

    def write_terminal(self, sequence: str) -> None:
        """Write raw escape sequences (bell, OSC 9/777) to the terminal."""
        if not sequence:
            return
        if self._terminal_write is not None:
            self._terminal_write(sequence)
        elif not self.is_headless and self._driver is not None:
            # App.bell and App.copy_to_clipboard write through the driver the same way.
            self._driver.write(sequence)


def run_app(
    connection: ConnectionLike,
    demo: bool = False,
    *,
    config: Config | None = None,
    collector_paused: bool = False,
    first_page: FirstPage | None = None,
    remembered: UiState | None = None,
) -> None:
    """Run the inbox against a resolved connection (the caller stops any embedded server afterwards).

    collector_paused: the caller turned the garbage collector off for start-up; the app turns it back on
    once the inbox is painted (or the first page failed, or the app ends).
    first_page: the first page being fetched since before Textual loaded (issue 11; see InboxApp).
    config, remembered: the config file and the remembered UI state, when the caller has read them already.
    """
    from inbox_tui.config import load_config, ui_state_path
    from inbox_tui.ui_state import UiState

    cfg = config if config is not None else load_config()
    state_path = ui_state_path(demo=demo)
    if remembered is None:
        remembered = UiState.load(state_path)
    # Plain HTTP (the local server, a local dev server) gets a transport without a verifying SSL context
    # (no CA bundle load at start-up); the local server's client also restarts it before a reconnect.
    client = connection.client()
    # Which deployment this is, in a word for the header: the demo, the embedded server, or the host.
    if demo:
        source = "demo"
    elif connection.source == "embedded":
        source = "local"
    else:
        source = urlsplit(connection.url).hostname or connection.url
    # The remembered state (theme, compact mode, preview position, unread-only, alert mode, filters) is
    # restored before the first paint, and the app writes each change to the state file as it happens.
    app = InboxApp(
        client,
        keys=cfg.keys,
        key_origins=cfg.key_origins,
        alert=AlertSettings.from_config(cfg.alert, cfg.alert_command),
        owns_client=True,
        source=source,
        remembered=remembered,
        state_path=state_path,
        theme=cfg.theme,
        check_interval=cfg.check_interval,
        first_page=first_page,
        terminal_title=cfg.terminal_title,
        mark_read_on_preview=cfg.mark_read_on_preview,
    )
    app.collector_paused = collector_paused
    app.run()


def fixed_clock(moment: datetime) -> Clock:
    """A clock that always says `moment` (snapshots, tests)."""
    return lambda: moment
