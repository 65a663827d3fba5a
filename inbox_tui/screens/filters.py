"""The filter picker: read status, templates (from the server's list) and targets.

Templates are ORed and targets ANDed, as the server filters them (spec §4). Targets can be picked from
those seen on loaded notifications (labelled by their newest notification) or typed as UUIDs.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, RadioButton, RadioSet, SelectionList, Static
from textual.widgets.selection_list import Selection

from inbox_tui.api.models import InboxNotification, NotificationTemplate
from inbox_tui.state import READ_STATUSES, Filters, ReadStatus
from inbox_tui.widgets.footer import KeyFooter
from inbox_tui.widgets.render import clean_line

_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")

TemplateLoader = Callable[[], Awaitable[list[NotificationTemplate]]]


def known_targets(notifications: Sequence[InboxNotification]) -> dict[str, str]:
    """Target id -> title of the newest loaded notification that has it (input is newest first)."""
    out: dict[str, str] = {}
    for notification in notifications:
        for target in notification.targets or ():
            out.setdefault(target, clean_line(notification.title))
    return out


def parse_targets(text: str) -> tuple[list[str], list[str]]:
    """UUIDs typed by hand (comma or space separated) -> (valid, invalid)."""
    valid: list[str] = []
    invalid: list[str] = []
    for item in re.split(r"[\s,]+", text.strip()):
        if not item:
            continue
        (valid if _UUID.match(item) else invalid).append(item.lower())
    return valid, invalid


class FilterScreen(ModalScreen[Filters | None]):
    """Pick filters; dismisses with the new Filters, or None when cancelled."""

    # A short pane (60x15) cannot show the whole form: it scrolls to the focused field, lists get shorter.
    VERTICAL_BREAKPOINTS = [(0, "-short"), (30, "-tall")]

    DEFAULT_CSS = """
    FilterScreen {
        align: center middle;
        & > VerticalScroll {
            width: 96;
            max-width: 100%;
            height: auto;
            max-height: 100%;
            border: thick $primary 60%;
            background: $surface;
            padding: 0 1;
        }
        & .filter-heading { text-style: bold; margin: 1 0 0 0; }
        & RadioSet { width: 100%; layout: horizontal; }
        & #filter-templates { height: auto; max-height: 16; min-height: 3; }
        &.-short #filter-templates { max-height: 6; }
        &.-short #filter-targets { max-height: 4; }
        &.-short .filter-heading { margin: 0; }
        & #filter-targets { height: auto; max-height: 8; }
        & #filter-error { color: $text-error; height: auto; }
        & > .filter-screen--muted { color: $text-muted; }
        & #filter-buttons { height: auto; align: right middle; margin: 1 0 0 0; }
        & #filter-buttons Button { margin: 0 0 0 1; }
    }
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = {"filter-screen--muted"}

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="filters_cancel", show=True, key_display="esc"),
        Binding("ctrl+s", "apply", "Apply", id="filters_apply", show=True),
    ]

    def __init__(
        self,
        filters: Filters,
        *,
        load_templates: TemplateLoader | None,
        templates: Sequence[NotificationTemplate] | None = None,
        targets: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__()
        self.filters = filters
        self._load_templates = load_templates
        self._templates = list(templates) if templates is not None else None
        self._targets = dict(targets or {})

    def compose(self) -> ComposeResult:
        with VerticalScroll(can_focus=False):
            yield Static("Filters", classes="filter-heading", markup=False)
            yield Label("Read status", classes="filter-heading")
            with RadioSet(id="filter-read-status"):
                for status in READ_STATUSES:
                    yield RadioButton(
                        status.capitalize(),
                        value=self.filters.read_status == status,
                        name=status,
                        id=f"read-status-{status}",
                    )
            yield Label("Templates (any of)", classes="filter-heading")
            yield SelectionList[str](id="filter-templates")
            yield Label("Targets (all of)", classes="filter-heading")
            yield SelectionList[str](id="filter-targets")
            yield Input(
                placeholder="other target UUIDs, comma separated",
                id="filter-target-input",
                value=", ".join(t for t in self.filters.targets if t not in self._targets),
            )
            yield Static("", id="filter-error", markup=False)
            with Horizontal(id="filter-buttons"):
                yield Button("Clear", id="filter-clear")
                yield Button("Cancel", id="filter-cancel")
                yield Button("Apply", id="filter-apply", variant="primary")
        yield KeyFooter()

    def on_mount(self) -> None:
        targets = self.query_one("#filter-targets", SelectionList)
        chosen = set(self.filters.targets)
        targets.add_options(
            Selection(Content(f"{tid[:8]}…  {title}"), tid, tid in chosen) for tid, title in self._targets.items()
        )
        if not self._targets:
            targets.display = False
        if self._templates is not None:
            self._show_templates(self._templates)
        elif self._load_templates is not None:
            self.query_one("#filter-templates", SelectionList).loading = True
            self._fetch_templates()
        self.query_one("#filter-read-status", RadioSet).focus()

    @work(group="templates", exclusive=True, exit_on_error=False)
    async def _fetch_templates(self) -> None:
        assert self._load_templates is not None
        try:
            templates = await self._load_templates()
        finally:
            self.query_one("#filter-templates", SelectionList).loading = False
        self._templates = templates
        self._show_templates(templates)

    def _show_templates(self, templates: Sequence[NotificationTemplate]) -> None:
        chosen = set(self.filters.templates)
        listing = self.query_one("#filter-templates", SelectionList)
        listing.clear_options()
        ordered = sorted(templates, key=lambda t: (t.group.casefold(), t.name.casefold()))
        listing.add_options(
            Selection(
                Content(f"{clean_line(t.name)}  ").append_text(clean_line(t.group), ".filter-screen--muted"),
                t.id,
                t.id in chosen,
            )
            for t in ordered
        )
        # Keep ids chosen before that the server no longer lists, so applying does not drop them silently.
        missing = [tid for tid in self.filters.templates if tid not in {t.id for t in templates}]
        listing.add_options(Selection(Content(f"unknown template {tid}"), tid, True) for tid in missing)

    def _read_status(self) -> str:
        pressed = self.query_one("#filter-read-status", RadioSet).pressed_button
        return pressed.name if pressed is not None and pressed.name else "all"

    def _collect(self) -> Filters | None:
        typed, invalid = parse_targets(self.query_one("#filter-target-input", Input).value)
        error = self.query_one("#filter-error", Static)
        if invalid:
            error.update(Content(f"Not a UUID: {', '.join(invalid)}"))
            return None
        error.update("")
        templates = tuple(self.query_one("#filter-templates", SelectionList).selected)
        if self._templates is None:
            # Templates never loaded: keep what was chosen before.
            templates = self.filters.templates
        picked = list(self.query_one("#filter-targets", SelectionList).selected)
        targets = tuple(dict.fromkeys([*picked, *typed]))
        status = self._read_status()
        read_status: ReadStatus = "all"
        for candidate in READ_STATUSES:
            if candidate == status:
                read_status = candidate
        return Filters(read_status=read_status, templates=templates, targets=targets)

    def action_apply(self) -> None:
        """Close with the chosen filters (unless a typed target is not a UUID)."""
        filters = self._collect()
        if filters is not None:
            self.dismiss(filters)

    def action_cancel(self) -> None:
        """Close without changing anything."""
        self.dismiss(None)

    @on(Button.Pressed, "#filter-apply")
    def _apply_pressed(self) -> None:
        self.action_apply()

    @on(Button.Pressed, "#filter-cancel")
    def _cancel_pressed(self) -> None:
        self.action_cancel()

    @on(Button.Pressed, "#filter-clear")
    def _clear_pressed(self) -> None:
        self.dismiss(Filters())

    @on(Input.Submitted, "#filter-target-input")
    def _submitted(self) -> None:
        self.action_apply()
