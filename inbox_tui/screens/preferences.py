"""Notification preferences: a switch per template and per group, saved as one merge of what changed.

What a switch shows follows Coder's rule (`is_template_enabled`): an explicit preference row wins, else the
template's `enabled_by_default`, so switching on a default-off template (Workspace Created, Task Working,
...) writes an explicit `disabled: false` row, which is how Coder opts a user in. Saving sends only the
templates whose switch differs from what the server has; the server merges them into the user's rows.
A failed save keeps every local edit and marks the rows that were not saved.

Which groups appear follows Coder's web settings page (spec §17).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static, Switch

from inbox_tui.api.client import CoderClient
from inbox_tui.api.errors import ApiError
from inbox_tui.api.models import (
    DispatchMethods,
    NotificationPreference,
    NotificationTemplate,
    User,
    is_template_enabled,
)
from inbox_tui.keymap import KeySpec
from inbox_tui.screens.confirm import leave_or_ask
from inbox_tui.widgets.footer import KeyFooter
from inbox_tui.widgets.status_line import StatusLine

_GROUP = "Preferences"
KEYS: tuple[KeySpec, ...] = (
    KeySpec("preferences_save", "ctrl+s", "save", "Save", "screen", _GROUP, show=True),
    KeySpec("preferences_close", "escape,q", "close", "Close", "screen", _GROUP, show=True, key_display="esc"),
    KeySpec("preferences_reload", "ctrl+r", "reload", "Reload from the server", "screen", _GROUP),
    KeySpec("preferences_next", "j,down", "app.focus_next", "Next switch", "screen", _GROUP),
    KeySpec("preferences_previous", "k,up", "app.focus_previous", "Previous switch", "screen", _GROUP),
)
# The question asked when leaving a screen with unsaved work (preferences, compose).

# Coder's web UI hides the test template's group from everyone.
HIDDEN_GROUPS = frozenset({"Notification Events"})
# Groups only users who may create templates see, and groups only users who may create users see.
TEMPLATE_ADMIN_GROUPS = frozenset({"Template Events"})
USER_ADMIN_GROUPS = frozenset({"User Events", "AI Cost Control Admin Events"})
# Coder role names that carry those permissions (owners have all of them).
TEMPLATE_ADMIN_ROLES = frozenset({"owner", "template-admin"})
USER_ADMIN_ROLES = frozenset({"owner", "user-admin"})
UNGROUPED = "Other"


def group_visible(group: str, user: User) -> bool:
    """Coder's rule for the settings page. "Task Events" is shown: AI tasks count as enabled here."""
    if group in HIDDEN_GROUPS:
        return False
    if group in TEMPLATE_ADMIN_GROUPS:
        return bool(TEMPLATE_ADMIN_ROLES.intersection(user.roles))
    if group in USER_ADMIN_GROUPS:
        return bool(USER_ADMIN_ROLES.intersection(user.roles))
    return True


def method_of(template: NotificationTemplate, methods: DispatchMethods | None) -> tuple[str, bool]:
    """How the template is delivered besides the inbox: (method, True when it is the deployment default)."""
    if template.method:
        return template.method, False
    if methods is not None and methods.default:
        return methods.default, True
    return "default", True


@dataclass(slots=True)
class PreferencesModel:
    """Templates on show, the server's rows, and the local edits not yet saved (no Textual, no I/O)."""

    templates: list[NotificationTemplate]
    saved: dict[str, NotificationPreference] = field(default_factory=dict)
    wanted: dict[str, bool] = field(default_factory=dict)  # template id -> enabled, only where it differs
    errors: dict[str, str] = field(default_factory=dict)  # template id -> why it was not saved

    @classmethod
    def for_user(
        cls,
        templates: Iterable[NotificationTemplate],
        saved: Mapping[str, NotificationPreference],
        user: User,
    ) -> PreferencesModel:
        """The templates this user sees on Coder's settings page."""
        shown = [t for t in templates if group_visible(t.group, user)]
        return cls(templates=shown, saved=dict(saved))

    @property
    def by_id(self) -> dict[str, NotificationTemplate]:
        """Templates by id."""
        return {t.id: t for t in self.templates}

    def groups(self) -> list[tuple[str, list[NotificationTemplate]]]:
        """(group name, its templates) sorted by group name, templates in the server's order (by name)."""
        grouped: dict[str, list[NotificationTemplate]] = {}
        for template in self.templates:
            grouped.setdefault(template.group or UNGROUPED, []).append(template)
        return sorted(grouped.items(), key=lambda item: item[0].casefold())

    def saved_enabled(self, template_id: str) -> bool:
        """What the server has (Coder's rule)."""
        return is_template_enabled(self.by_id[template_id], self.saved)

    def enabled(self, template_id: str) -> bool:
        """What the switch shows: the local edit, else the server's state."""
        if template_id in self.wanted:
            return self.wanted[template_id]
        return self.saved_enabled(template_id)

    def set_enabled(self, template_id: str, enabled: bool) -> None:
        """A local edit; switching back to the server's state is no change at all."""
        self.errors.pop(template_id, None)
        if enabled == self.saved_enabled(template_id):
            self.wanted.pop(template_id, None)
        else:
            self.wanted[template_id] = enabled

    def group_counts(self, templates: Sequence[NotificationTemplate]) -> tuple[int, int]:
        """(switched on, total) in a group."""
        return sum(1 for t in templates if self.enabled(t.id)), len(templates)

    @property
    def dirty(self) -> bool:
        """True while some edit is not saved."""
        return bool(self.wanted)

    def changes(self) -> dict[str, bool]:
        """The body's template_disabled_map: only the templates that differ from the server."""
        return {template_id: not enabled for template_id, enabled in self.wanted.items()}

    def saved_ok(self, rows: Mapping[str, NotificationPreference], sent: Mapping[str, bool]) -> None:
        """The server accepted `sent` and answered with all rows; edits made meanwhile stay pending."""
        self.saved = dict(rows)
        for template_id, disabled in sent.items():
            self.errors.pop(template_id, None)
            if self.wanted.get(template_id) == (not disabled):
                del self.wanted[template_id]
        # A row that now matches the server (e.g. changed elsewhere) is no longer an edit.
        for template_id in list(self.wanted):
            if template_id in self.by_id and self.wanted[template_id] == self.saved_enabled(template_id):
                del self.wanted[template_id]

    def save_failed(self, sent: Mapping[str, bool], reason: str) -> None:
        """Nothing was saved: keep the edits and remember why beside each one."""
        for template_id in sent:
            if template_id in self.wanted:
                self.errors[template_id] = reason

    def reloaded(self, templates: Iterable[NotificationTemplate], rows: Mapping[str, NotificationPreference]) -> None:
        """Fresh data from the server; edits to templates that still exist are kept."""
        self.templates = list(templates)
        self.saved = dict(rows)
        known = self.by_id
        for template_id in list(self.wanted):
            if template_id not in known or self.wanted[template_id] == self.saved_enabled(template_id):
                del self.wanted[template_id]
                self.errors.pop(template_id, None)


class TemplateSwitch(Switch):
    """The switch of one template."""

    def __init__(self, template_id: str, value: bool) -> None:
        super().__init__(value, animate=False, id=f"t-{template_id}")
        self.template_id = template_id


class GroupSwitch(Switch):
    """The switch of a whole group: on when every template in it is on."""

    def __init__(self, group: str, index: int, value: bool) -> None:
        super().__init__(value, animate=False, id=f"g-{index}")
        self.group = group


class PreferencesScreen(ModalScreen[None]):
    """The user's notification preferences.

    Modal (drawn over the whole terminal) so the inbox's own keys, `q` quit among them, cannot act while
    edits are unsaved.
    """

    BINDINGS: ClassVar[list[BindingType]] = [spec.binding() for spec in KEYS]
    AUTO_FOCUS = "Switch"

    # Side panes are first-class: below 80 columns "(default)" goes, below 60 the method column goes.
    HORIZONTAL_BREAKPOINTS = [
        (0, "-narrow"),
        (60, "-medium"),
        (80, "-wide"),
        (110, "-very-wide"),
    ]

    DEFAULT_CSS = """
    PreferencesScreen {
        layout: vertical;
        background: $background;
        & #prefs-title { height: 1; background: $panel; text-style: bold; padding: 0 1; }
        & #prefs-status { padding: 0 1; }
        & #prefs-body { height: 1fr; padding: 0 1; }
        & .prefs-group { height: auto; margin: 1 0 0 0; }
        & .prefs-row, & .prefs-group-row { height: 1; width: 1fr; }
        & .prefs-row:focus-within, & .prefs-group-row:focus-within { background: $accent 25%; }
        & Switch { border: none; padding: 0; height: 1; width: 6; margin: 0 1 0 0; background: transparent; }
        & Switch:focus { border: none; }
        & .prefs-state { width: 5; text-style: bold; }
        & .prefs-state.-off { color: $text-muted; text-style: none; }
        & .prefs-group-row .prefs-name { text-style: bold; color: $text-accent; }
        /* One line per row: a long name ends in an ellipsis instead of running into the next column. */
        & .prefs-name, & .prefs-method, & .prefs-default, & .prefs-note, & .prefs-count {
            text-wrap: nowrap; text-overflow: ellipsis; height: 1;
        }
        & .prefs-name { width: 1fr; margin: 0 1 0 0; }
        & .prefs-count { width: auto; max-width: 16; color: $text-muted; }
        & .prefs-method { width: 8; color: $text; }
        & .prefs-default { width: 10; color: $text-muted; }
        & .prefs-method.-default { color: $text-muted; }
        & .prefs-note { width: 12; }
        & .prefs-note.-unsaved { color: $text-warning; }
        & .prefs-note.-failed { color: $text-error; }
        & GroupSwitch.-mixed > .switch--slider { color: $warning; }
        &.-very-wide .prefs-note { width: 34; }
        &.-medium .prefs-default { display: none; }
        &.-narrow .prefs-method, &.-narrow .prefs-default { display: none; }
        &.-narrow .prefs-note { width: auto; max-width: 10; }
        &.-narrow #prefs-body { padding: 0; }
    }
    """

    def __init__(self, client: CoderClient | None = None, user: User | None = None) -> None:
        """`client` defaults to the app's (`app.client`); `user` is fetched from `/users/me` when not given."""
        super().__init__()
        self._client = client
        self.user = user
        self.model: PreferencesModel | None = None
        self.methods: DispatchMethods | None = None
        self.saving = False
        self._groups: list[tuple[str, list[NotificationTemplate]]] = []

    @property
    def client(self) -> CoderClient:
        """The API client: the one given, else the app's."""
        client = self._client if self._client is not None else getattr(self.app, "client", None)
        if client is None:
            raise RuntimeError("the preferences screen needs a server connection")
        assert isinstance(client, CoderClient)
        return client

    # ----- layout ---------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Static("Notification preferences", id="prefs-title", markup=False)
        yield StatusLine("Loading…", id="prefs-status")
        body = VerticalScroll(id="prefs-body")
        body.can_focus = False
        yield body
        yield KeyFooter()

    def on_mount(self) -> None:
        self.status.show("Loading…", "busy")
        self.load()

    @property
    def status(self) -> StatusLine:
        """The line under the title."""
        return self.query_one("#prefs-status", StatusLine)

    # ----- loading --------------------------------------------------------------------------------

    @work(exclusive=True, group="preferences-load", exit_on_error=False)
    async def load(self) -> None:
        """Fetch the user (if needed), templates, the user's rows and the dispatch methods."""
        client = self.client
        try:
            if self.user is None:
                self.user = await client.me()
            templates = await client.templates()
            rows = await client.preferences()
        except ApiError as error:
            self.status.show_error(error, "Could not load the preferences. ctrl+r tries again.")
            return
        try:
            self.methods = await client.dispatch_methods()
        except ApiError:
            self.methods = None  # only decorates the rows; the switches work without it
        if self.model is None:
            self.model = PreferencesModel.for_user(templates, rows, self.user)
        else:
            shown = [t for t in templates if group_visible(t.group, self.user)]
            self.model.reloaded(shown, rows)
        await self._build()
        self._show_summary()

    async def _build(self) -> None:
        """(Re)draw every group and row from the model."""
        model = self.model
        assert model is not None
        self._groups = model.groups()
        body = self.query_one("#prefs-body", VerticalScroll)
        await body.remove_children()
        sections: list[Vertical] = []
        for index, (group, templates) in enumerate(self._groups):
            on, total = model.group_counts(templates)
            header = Horizontal(
                GroupSwitch(group, index, on == total),
                Static("", classes="prefs-state", id=f"gs-{index}", markup=False),
                Static(Content(group), classes="prefs-name"),
                Static("", classes="prefs-count", id=f"count-{index}", markup=False),
                classes="prefs-group-row",
            )
            rows = [self._row(template) for template in templates]
            sections.append(Vertical(header, *rows, classes="prefs-group"))
        if not sections:
            sections.append(Vertical(Static("No templates to show.", markup=False), classes="prefs-group"))
        await body.mount_all(sections)
        for index in range(len(self._groups)):
            self._refresh_group(index)
        for template in model.templates:
            self._refresh_note(template.id)
        switches = self.query(Switch)
        if switches and not isinstance(self.focused, Switch):
            switches.first().focus()

    def _row(self, template: NotificationTemplate) -> Horizontal:
        assert self.model is not None
        method, is_default = method_of(template, self.methods)
        return Horizontal(
            TemplateSwitch(template.id, self.model.enabled(template.id)),
            Static("", classes="prefs-state", id=f"s-{template.id}", markup=False),
            Static(Content(template.name or template.id), classes="prefs-name"),
            Static(Content(method), classes="prefs-method -default" if is_default else "prefs-method"),
            Static("(default)" if is_default else "", classes="prefs-default", markup=False),
            Static("", classes="prefs-note", id=f"n-{template.id}", markup=False),
            classes="prefs-row",
        )

    # ----- showing the model ----------------------------------------------------------------------

    def _refresh_group(self, index: int) -> None:
        assert self.model is not None
        _group, templates = self._groups[index]
        on, total = self.model.group_counts(templates)
        switch = self.query_one(f"#g-{index}", GroupSwitch)
        with self.prevent(Switch.Changed):
            switch.value = on == total
        switch.set_class(0 < on < total, "-mixed")
        if on == total:
            text = "all on"
        elif on == 0:
            text = "all off"
        else:
            text = f"{on} of {total} on"
        self.query_one(f"#count-{index}", Static).update(Content(text))
        self._show_state(f"#gs-{index}", "on" if on == total else "off" if on == 0 else "some")

    def _refresh_note(self, template_id: str) -> None:
        assert self.model is not None
        note = self.query_one(f"#n-{template_id}", Static)
        error = self.model.errors.get(template_id)
        pending = template_id in self.model.wanted
        if error:
            text = f"✗ not saved: {error}"
        elif pending:
            text = "● unsaved"
        else:
            text = ""
        note.set_class(bool(error), "-failed")
        note.set_class(pending and not error, "-unsaved")
        note.update(Content(text))
        note.tooltip = error or None
        self._show_state(f"#s-{template_id}", "on" if self.model.enabled(template_id) else "off")

    def _show_state(self, selector: str, text: str) -> None:
        """The switch's state as a word too: a monochrome terminal shows no slider colour."""
        state = self.query_one(selector, Static)
        state.set_class(text == "off", "-off")
        state.update(Content(text))

    def _show_summary(self) -> None:
        if self.model is None:
            return
        count = len(self.model.wanted)
        if self.model.errors:
            return  # the save error stays up until the next save or edit clears it
        if count:
            noun = "change" if count == 1 else "changes"
            self.status.show(f"{count} unsaved {noun}; ctrl+s saves.", "warning")
        else:
            on = sum(1 for t in self.model.templates if self.model.enabled(t.id))
            self.status.show(f"{on} of {len(self.model.templates)} notifications on. Space toggles, ctrl+s saves.")

    def _group_index(self, template_id: str) -> int:
        for index, (_group, templates) in enumerate(self._groups):
            if any(t.id == template_id for t in templates):
                return index
        raise KeyError(template_id)

    # ----- edits ----------------------------------------------------------------------------------

    @on(Switch.Changed)
    def switch_changed(self, event: Switch.Changed) -> None:
        """A template or group switch was flipped by the user."""
        model = self.model
        if model is None:
            return
        if isinstance(event.switch, TemplateSwitch):
            template_id = event.switch.template_id
            model.set_enabled(template_id, event.value)
            self._refresh_note(template_id)
            self._refresh_group(self._group_index(template_id))
        elif isinstance(event.switch, GroupSwitch):
            index = int((event.switch.id or "g-0")[2:])
            _group, templates = self._groups[index]
            with self.prevent(Switch.Changed):
                for template in templates:
                    model.set_enabled(template.id, event.value)
                    self.query_one(f"#t-{template.id}", TemplateSwitch).value = event.value
                    self._refresh_note(template.id)
            self._refresh_group(index)
        if not model.errors:
            self._show_summary()

    # ----- saving ---------------------------------------------------------------------------------

    def action_save(self) -> None:
        """Send what changed."""
        self._save(close_after=False)

    def _save(self, *, close_after: bool) -> None:
        if self.model is None:
            return
        if self.saving:
            self.status.show("Still saving the last changes…", "busy")
            return
        if not self.model.dirty:
            if close_after:
                self.dismiss(None)
            else:
                self.status.show("Nothing to save: the server already has these settings.", "info")
            return
        self.saving = True
        self.save(self.model.changes(), close_after)

    @work(group="preferences-save", exit_on_error=False)
    async def save(self, changes: dict[str, bool], close_after: bool) -> None:
        """PUT the changes; on failure keep them and say why beside each row."""
        model = self.model
        assert model is not None
        count = len(changes)
        self.status.show(f"Saving {count} change{'s' if count != 1 else ''}…", "busy")
        try:
            rows = await self.client.update_preferences(changes)
        except ApiError as error:
            model.save_failed(changes, error.message or error.describe())
            self.status.show_error(error, "Not saved; your changes are kept. ctrl+s tries again.")
            for template_id in changes:
                if template_id in model.by_id:
                    self._refresh_note(template_id)
            return
        finally:
            self.saving = False
        model.saved_ok(rows, changes)
        for template in model.templates:
            self._refresh_note(template.id)
        for index in range(len(self._groups)):
            self._refresh_group(index)
        if close_after and not model.dirty:
            self.app.notify(f"Saved {count} change{'s' if count != 1 else ''}.", title="Preferences")
            self.dismiss(None)
            return
        self._show_summary()
        if not model.dirty:
            self.status.show(f"Saved {count} change{'s' if count != 1 else ''}.", "success")

    # ----- other keys -----------------------------------------------------------------------------

    def action_reload(self) -> None:
        """Fetch everything again; unsaved edits are kept."""
        self.status.show("Loading…", "busy")
        self.load()

    def action_close(self) -> None:
        """Leave; with unsaved edits, ask first."""
        unsaved = len(self.model.wanted) if self.model is not None and self.model.dirty else 0
        leave_or_ask(self, unsaved, "change", lambda: self._save(close_after=True))

    @property
    def has_unsaved_changes(self) -> bool:
        """True while some switch differs from what the server has (the app may ask before quitting)."""
        return self.model is not None and self.model.dirty

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Saving is only offered once something is loaded."""
        if action == "save":
            return self.model is not None
        return True
