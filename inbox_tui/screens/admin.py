"""Deployment notification administration: pause/resume the notifier, dispatch methods, template methods, test.

Owners can change things; everyone else sees what they may see (whether the notifier is paused, the
available and default dispatch methods, each template's method) read-only, and is offered no key or
control that would only be refused. The role comes from `/users/me` (or the user the app already has) and
only decides what is offered: the server has the last word, and when it refuses (403, e.g. a role revoked
since the app started) Coder's message is shown where it happened and the screen turns read-only.

One save model with the preferences: template methods are edits, sent with ctrl+s, and leaving with
unsaved edits asks first. Pausing or resuming delivery changes the whole deployment at once, so it asks
before doing it.
"""

from __future__ import annotations

from dataclasses import replace
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Select, Static, Switch

from inbox_tui import messages
from inbox_tui.api.client import CoderClient
from inbox_tui.api.errors import ApiError
from inbox_tui.api.models import DispatchMethods, NotificationSettings, NotificationTemplate, User
from inbox_tui.keymap import KeySpec
from inbox_tui.screens.confirm import ConfirmScreen, leave_or_ask
from inbox_tui.widgets.footer import KeyFooter
from inbox_tui.widgets.status_line import StatusLine

TEST_SENT = "Test notification sent."  # Coder's web UI toasts
TEST_FAILED = "Failed to send test notification."
PAUSED_TEXT = "Paused: new notifications are queued and delivered on resume."
RUNNING_TEXT = "Running: notifications are delivered as they come."

_GROUP = "Admin"
KEYS: tuple[KeySpec, ...] = (
    KeySpec("admin_save", "ctrl+s", "save", "Save", "screen", _GROUP, show=True),
    KeySpec("admin_pause", "p", "toggle_pause", "Pause/resume", "screen", _GROUP, show=True),
    KeySpec("admin_test", "t", "send_test", "Test notification", "screen", _GROUP, show=True),
    KeySpec("admin_reload", "ctrl+r", "reload", "Reload from the server", "screen", _GROUP),
    KeySpec("admin_next", "j", "app.focus_next", "Next control", "screen", _GROUP),
    KeySpec("admin_previous", "k", "app.focus_previous", "Previous control", "screen", _GROUP),
    KeySpec("admin_close", "escape,q", "close", "Close", "screen", _GROUP, show=True, key_display="esc"),
)


def method_options(methods: DispatchMethods | None, current: str) -> list[tuple[str, str]]:
    """Select options: the deployment default ("") first, then each available method (and the current one)."""
    default = methods.default if methods is not None and methods.default else ""
    options = [(f"default ({default})" if default else "default", "")]
    available = list(methods.available) if methods is not None else []
    if current and current not in available:
        available.append(current)
    options.extend((method, method) for method in available)
    return options


class MethodSelect(Select[str]):
    """The method of one template."""

    def __init__(self, template: NotificationTemplate, methods: DispatchMethods | None, *, disabled: bool) -> None:
        super().__init__(
            method_options(methods, template.method),
            value=template.method,
            allow_blank=False,
            type_to_search=False,
            compact=True,
            disabled=disabled,
            id=f"m-{template.id}",
        )
        self.template_id = template.id
        self.saved = template.method  # what the server has
        self.error = ""  # why the last save of this row failed

    @property
    def pending(self) -> str | None:
        """The method picked and not saved yet (None: the row matches the server)."""
        value = self.value
        return value if isinstance(value, str) and value != self.saved else None


class AdminScreen(ModalScreen[None]):
    """Notifier pause, dispatch methods, template methods and the test notification.

    Modal (drawn over the whole terminal) so the inbox's own keys stay out of the way while it is open.
    """

    BINDINGS: ClassVar[list[BindingType]] = [spec.binding() for spec in KEYS]
    # Below 90 columns the template names share the row with the method instead of a fixed 44 columns.
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (90, "-wide")]

    DEFAULT_CSS = """
    AdminScreen {
        layout: vertical;
        background: $background;
        & #admin-title { height: 1; background: $panel; text-style: bold; padding: 0 1; }
        & #admin-role { padding: 0 1; }
        & #admin-body { height: 1fr; padding: 0 1; }
        & .admin-section { text-style: bold; color: $text-accent; margin: 1 0 0 0; }
        & .admin-row { height: auto; min-height: 1; }
        & Switch { border: none; padding: 0; height: 1; width: 6; margin: 0 1 0 0; background: transparent; }
        & Switch:focus { border: none; }
        & #admin-paused-label { width: 1fr; }
        & #admin-methods { height: auto; }
        & #admin-test { min-width: 26; height: 1; border: none; margin: 0 2 0 0; }
        & #admin-test:focus { background: $accent 40%; }
        & .admin-group { color: $text-muted; text-style: bold; margin: 1 0 0 0; }
        & .admin-template { height: 1; }
        & .admin-template:focus-within, & .admin-row:focus-within { background: $accent 25%; }
        & .admin-template-name { width: 44; }
        & MethodSelect { width: 24; margin: 0 2 0 0; }
        & .admin-template StatusLine { width: 1fr; }
        & .admin-hint { color: $text-muted; }
        & .admin-template StatusLine.-warning { text-style: bold; }
        &.-narrow .admin-template-name { width: 1fr; text-wrap: nowrap; text-overflow: ellipsis; margin: 0 1 0 0; }
        &.-narrow MethodSelect { width: 18; margin: 0 1 0 0; }
        &.-narrow .admin-template StatusLine { width: auto; max-width: 10; }
    }
    """

    def __init__(self, client: CoderClient | None = None, user: User | None = None) -> None:
        """`client` defaults to the app's (`app.client`); `user` is fetched from `/users/me` when not given."""
        super().__init__()
        self._client = client
        self.user = user
        self.settings: NotificationSettings | None = None
        self.methods: DispatchMethods | None = None
        self.templates: list[NotificationTemplate] = []
        self.refused = False  # the server said 403 to this user: read-only from now on
        self.busy: set[str] = set()

    @property
    def client(self) -> CoderClient:
        """The API client: the one given, else the app's."""
        client = self._client if self._client is not None else getattr(self.app, "client", None)
        if client is None:
            raise RuntimeError("the admin screen needs a server connection")
        assert isinstance(client, CoderClient)
        return client

    @property
    def can_admin(self) -> bool:
        """Offer the owner controls: the user is an owner and the server has not refused them."""
        return self.user is not None and self.user.is_owner and not self.refused

    # ----- layout ---------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Static("Notification administration", id="admin-title", markup=False)
        yield StatusLine("Loading…", id="admin-role")
        with VerticalScroll(id="admin-body") as body:
            body.can_focus = False
            yield Static("Delivery", classes="admin-section", markup=False)
            with Horizontal(classes="admin-row"):
                yield Switch(False, animate=False, id="admin-paused", disabled=True)
                yield Static("…", id="admin-paused-label", markup=False)
            yield StatusLine(id="paused-status")
            yield Static("Dispatch methods", classes="admin-section", markup=False)
            yield Static("…", id="admin-methods", markup=False)
            yield StatusLine(id="methods-status")
            yield Static("Test notification", classes="admin-section owner-only", markup=False)
            with Horizontal(classes="admin-row owner-only"):
                yield Button("Send test notification", id="admin-test", disabled=True, compact=True)
                yield StatusLine(id="test-status")
            yield Static("Template methods", classes="admin-section", markup=False)
            yield Static(
                "Where each template is delivered besides the inbox; default follows the deployment default.",
                classes="admin-hint",
                markup=False,
            )
            yield Vertical(id="admin-templates")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.load()

    @property
    def role_line(self) -> StatusLine:
        """The line under the title."""
        return self.query_one("#admin-role", StatusLine)

    # ----- loading --------------------------------------------------------------------------------

    @work(exclusive=True, group="admin-load", exit_on_error=False)
    async def load(self) -> None:
        """Fetch the user (if needed), settings, dispatch methods and templates; each section says its own errors."""
        client = self.client
        self.role_line.show("Loading…", "busy")
        if self.user is None:
            try:
                self.user = await client.me()
            except ApiError as error:
                self.role_line.show_error(error, "Could not load your account. ctrl+r tries again.")
                return
        try:
            self.settings = await client.settings()
            self.query_one("#paused-status", StatusLine).clear()
        except ApiError as error:
            self.settings = None
            self.query_one("#paused-status", StatusLine).show_error(error)
        try:
            self.methods = await client.dispatch_methods()
            self.query_one("#methods-status", StatusLine).clear()
        except ApiError as error:
            self.methods = None
            self.query_one("#methods-status", StatusLine).show_error(error)
        templates_error: ApiError | None = None
        try:
            self.templates = await client.templates()
        except ApiError as error:
            templates_error = error
        self._show_role()
        self._show_settings()
        self._show_methods()
        await self._build_templates(templates_error)
        if self.app.focused is None:
            self.focus_next()

    def _show_role(self) -> None:
        user = self.user
        if user is None:
            return
        who = user.username or "you"
        if self.can_admin:
            self.role_line.show(f"Signed in as {who} (owner): you can change these settings.")
        elif self.refused:
            pass  # the refusal message stays up
        else:
            self.role_line.show(
                f"Signed in as {who}: read-only. Only owners can pause delivery, change template methods "
                "or send a test notification.",
                "warning",
            )
        self.query_one("#admin-test", Button).disabled = not self.can_admin
        self.query_one("#admin-paused", Switch).disabled = not self.can_admin or self.settings is None
        for select in self.query(MethodSelect):
            select.disabled = not self.can_admin
        # Members are offered only what they can do: no test section, no owner keys in the footer.
        for part in self.query(".owner-only"):
            part.display = self.can_admin
        self.refresh_bindings()

    def _show_settings(self) -> None:
        switch = self.query_one("#admin-paused", Switch)
        label = self.query_one("#admin-paused-label", Static)
        if self.settings is None:
            label.update(Content("Unknown (the settings could not be read)."))
            switch.disabled = True
            return
        paused = self.settings.notifier_paused
        with self.prevent(Switch.Changed):
            switch.value = paused
        label.update(Content(PAUSED_TEXT if paused else RUNNING_TEXT))

    def _show_methods(self) -> None:
        text = self.query_one("#admin-methods", Static)
        if self.methods is None:
            text.update(Content("Unknown (the dispatch methods could not be read)."))
            return
        available = ", ".join(self.methods.available) or "none"
        text.update(
            Content(
                f"Available: {available}\nDefault:   {self.methods.default or 'none'}\n"
                "The inbox always gets a copy; it is not listed (as in Coder)."
            )
        )

    async def _build_templates(self, error: ApiError | None) -> None:
        holder = self.query_one("#admin-templates", Vertical)
        # A reload keeps the methods picked and not saved yet, as the preferences keep their edits.
        kept = {select.template_id: select.pending for select in self.pending}
        await holder.remove_children()
        if error is not None:
            line = StatusLine()
            await holder.mount(line)
            line.show_error(error, "Could not load the templates. ctrl+r tries again.")
            return
        rows: list[Static | Horizontal] = []
        group = None
        for template in sorted(self.templates, key=lambda t: ((t.group or "Other").casefold(), t.name.casefold())):
            if template.group != group:
                group = template.group
                rows.append(Static(Content(group or "Other"), classes="admin-group"))
            rows.append(
                Horizontal(
                    Static(Content(template.name or template.id), classes="admin-template-name"),
                    MethodSelect(template, self.methods, disabled=not self.can_admin),
                    StatusLine(id=f"ms-{template.id}"),
                    classes="admin-template",
                )
            )
        await holder.mount_all(rows)
        for select in self.query(MethodSelect):
            method = kept.get(select.template_id)
            if method is not None and method != select.saved:
                with self.prevent(Select.Changed):
                    select.value = method
                self._show_pending(select)

    # ----- refusals -------------------------------------------------------------------------------

    def _refused(self, error: ApiError, where: StatusLine, what: str) -> None:
        """Say what the server said where it happened; a 403 turns the whole screen read-only."""
        where.show_error(error, what)
        if error.status == 403:
            self.refused = True
            self.role_line.show(
                f"The server refused: {error.message} Showing read-only; your role may have changed.", "error"
            )
            self._show_role()

    # ----- pause / resume -------------------------------------------------------------------------

    @on(Switch.Changed, "#admin-paused")
    def paused_switched(self, event: Switch.Changed) -> None:
        """The owner flipped the switch: ask first, it changes the whole deployment."""
        if self.settings is not None and event.value != self.settings.notifier_paused:
            self._confirm_pause(event.value)

    def action_toggle_pause(self) -> None:
        """Pause when running, resume when paused (after asking)."""
        if self.settings is None or not self.can_admin:
            return
        self.query_one("#admin-paused", Switch).value = not self.settings.notifier_paused

    def _confirm_pause(self, paused: bool) -> None:
        if paused:
            question = "Pause delivery for the whole deployment? New notifications wait in the queue until resumed."
        else:
            question = "Resume delivery for the whole deployment? Everything queued meanwhile goes out now."

        def answered(yes: bool | None) -> None:
            if yes:
                self.set_paused(paused)
            else:
                self._show_settings()  # the switch goes back to what the server has

        self.app.push_screen(ConfirmScreen(question), answered)

    @work(group="admin-pause", exit_on_error=False)
    async def set_paused(self, paused: bool) -> None:
        """PUT the settings (304, already so, is success), then read them back."""
        status = self.query_one("#paused-status", StatusLine)
        status.show("Pausing…" if paused else "Resuming…", "busy")
        try:
            await self.client.set_paused(paused)
            self.settings = await self.client.settings()
        except ApiError as error:
            self._refused(error, status, "Could not pause delivery." if paused else "Could not resume delivery.")
            self._show_settings()  # the switch goes back to what the server has
            return
        self._show_settings()
        self.post_message(messages.DeliveryPausedChanged(self.settings.notifier_paused))  # the inbox's header
        done = self.settings.notifier_paused == paused
        status.show("Notifications are now paused." if paused else "Notifications are now resumed.", "success")
        if not done:
            status.show("The server kept the previous state.", "warning")

    # ----- test notification ----------------------------------------------------------------------

    @on(Button.Pressed, "#admin-test")
    def test_pressed(self) -> None:
        """The button."""
        self.action_send_test()

    def action_send_test(self) -> None:
        """Send the test notification to yourself."""
        if not self.can_admin or "test" in self.busy:
            return
        self.busy.add("test")
        self.send_test()

    @work(group="admin-test", exit_on_error=False)
    async def send_test(self) -> None:
        """POST /notifications/test."""
        status = self.query_one("#test-status", StatusLine)
        status.show("Sending…", "busy")
        try:
            await self.client.send_test()
        except ApiError as error:
            self._refused(error, status, TEST_FAILED)
            return
        finally:
            self.busy.discard("test")
        paused = self.settings is not None and self.settings.notifier_paused
        note = " It is queued while delivery is paused." if paused else ""
        status.show(TEST_SENT + note, "success")
        self.app.notify(TEST_SENT + note, title="Admin")

    # ----- template methods -----------------------------------------------------------------------

    @on(Select.Changed)
    def method_changed(self, event: Select.Changed) -> None:
        """A template's method was picked: an edit, sent with ctrl+s (as in the preferences)."""
        select = event.select
        if not isinstance(select, MethodSelect):
            return
        select.error = ""
        self._show_pending(select)
        self._show_summary()

    def _show_pending(self, select: MethodSelect) -> None:
        status = self.query_one(f"#ms-{select.template_id}", StatusLine)
        if select.error:
            status.show(f"✗ not saved: {select.error}", "error")
        elif select.pending is not None:
            status.show("● unsaved", "warning")
        else:
            status.clear()

    @property
    def pending(self) -> list[MethodSelect]:
        """The template rows whose method differs from the server's."""
        return [select for select in self.query(MethodSelect) if select.pending is not None]

    @property
    def has_unsaved_changes(self) -> bool:
        """True while some template method is picked and not saved (the app may ask before quitting)."""
        return bool(self.pending)

    def _show_summary(self) -> None:
        count = len(self.pending)
        if count:
            noun = "change" if count == 1 else "changes"
            self.role_line.show(f"{count} unsaved template method {noun}; ctrl+s saves.", "warning")
        else:
            self._show_role()

    def action_save(self) -> None:
        """Send the template methods that changed."""
        if not self.can_admin:
            return
        self._save(close_after=False)

    def _save(self, *, close_after: bool) -> None:
        if "methods" in self.busy:
            self.role_line.show("Still saving the last changes…", "busy")
            return
        pending = [(select, select.pending) for select in self.pending]
        if not pending:
            if close_after:
                self.dismiss(None)
            else:
                self.role_line.show("Nothing to save: the server already has these methods.", "info")
            return
        self.busy.add("methods")
        self.save_methods([(select, method) for select, method in pending if method is not None], close_after)

    @work(group="admin-method", exit_on_error=False)
    async def save_methods(self, changes: list[tuple[MethodSelect, str]], close_after: bool) -> None:
        """PUT each changed template method; a refusal keeps the edit and says why beside it."""
        saved = 0
        try:
            for select, method in changes:
                status = self.query_one(f"#ms-{select.template_id}", StatusLine)
                status.show("Saving…", "busy")
                try:
                    await self.client.set_template_method(select.template_id, method)
                except ApiError as error:
                    select.error = error.message or error.describe()
                    self._refused(error, status, "")
                    if error.status == 403:
                        break
                    continue
                select.saved = method
                saved += 1
                self.templates = [
                    replace(t, method=method) if t.id == select.template_id else t for t in self.templates
                ]
                status.show("Saved.", "success")
        finally:
            self.busy.discard("methods")
        if self.refused:
            return
        if close_after and not self.pending:
            self.app.notify(f"Saved {saved} template method{'s' if saved != 1 else ''}.", title="Admin")
            self.dismiss(None)
            return
        if self.pending:
            self.role_line.show(
                "Some template methods were not saved; your choices are kept. ctrl+s tries again.", "error"
            )
        else:
            self.role_line.show(f"Saved {saved} template method{'s' if saved != 1 else ''}.", "success")

    # ----- other keys -----------------------------------------------------------------------------

    def action_reload(self) -> None:
        """Fetch everything again."""
        self.load()

    def action_close(self) -> None:
        """Back to where we came from; with unsaved template methods, ask first."""
        unsaved = len(self.pending) if self.can_admin else 0
        leave_or_ask(self, unsaved, "template method", lambda: self._save(close_after=True))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Owner actions are not offered (nor shown in the footer) to anyone else."""
        if action in ("toggle_pause", "send_test", "save"):
            return self.can_admin
        return True
