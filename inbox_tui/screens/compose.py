"""The custom notification form: a title, a Markdown message with a live preview, sent to yourself.

Validation mirrors the server's (`codersdk.CustomNotificationRequest.Validate`, spec §15) as you type:
both fields non-empty after trimming whitespace, the title at most 120 bytes and the message at most 2,000
bytes of UTF-8 (exactly the limit is allowed). Anything the server still refuses lands on the field its
message names (`content.title`, `content.message`); everything else is said under the form. Nothing typed
is lost on a refusal. ctrl+e edits the message in `$VISUAL` / `$EDITOR`.

Coder says "sent" even when nothing will arrive: the form warns when Custom Notification is off in the
user's preferences or delivery is paused (`api.send_warnings`), and says that the same title and message
within a minute are deduplicated.
"""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import ClassVar, Literal

from textual import on, work
from textual.app import ComposeResult, SuspendNotSupported
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static, TextArea

from inbox_tui.api.client import CoderClient
from inbox_tui.api.errors import ApiError
from inbox_tui.keymap import KeySpec
from inbox_tui.screens.confirm import UnsavedChangesScreen
from inbox_tui.widgets.byte_counter import ByteCounter, byte_length
from inbox_tui.widgets.footer import KeyFooter
from inbox_tui.widgets.markdown_preview import MarkdownPreview
from inbox_tui.widgets.status_line import StatusLine

TITLE_LIMIT = 120
MESSAGE_LIMIT = 2000
SENT_MESSAGE = "A custom notification has been sent."  # the Coder CLI's words
INVALID_MESSAGE = "Not sent: fix the fields marked above."
# Coder's enqueuer drops a message identical to one sent to the same user in the last minute.
DEDUPE_NOTE = "The same title and message again within a minute arrive once (deduplicated)."

Field = Literal["title", "message"]

_GROUP = "Compose"
# The editors bind ctrl+e (end of line) themselves; the form's send and editor keys must win while they
# have focus (priority).
KEYS: tuple[KeySpec, ...] = (
    KeySpec("compose_send", "ctrl+s", "send", "Send", "screen", _GROUP, show=True, priority=True),
    KeySpec(
        "compose_editor", "ctrl+e", "external_editor", "Edit in $EDITOR", "screen", _GROUP, show=True, priority=True
    ),
    KeySpec("compose_close", "escape", "close", "Close", "screen", _GROUP, show=True, key_display="esc"),
)


# Go's unicode.IsSpace, which strings.TrimSpace uses (Python's str.strip also drops \x1c-\x1f; Go keeps them).
GO_SPACE = "\t\n\v\f\r \x85\xa0\u1680" + "".join(map(chr, range(0x2000, 0x200B))) + "\u2028\u2029\u202f\u205f\u3000"


def is_blank(text: str) -> bool:
    """Empty after Go's strings.TrimSpace, as Coder checks it."""
    return not text.strip(GO_SPACE)


def validate(title: str, message: str) -> dict[Field, str]:
    """What the server would refuse, by field (empty: nothing)."""
    problems: dict[Field, str] = {}
    if is_blank(title):
        problems["title"] = "A title is required."
    elif byte_length(title) > TITLE_LIMIT:
        problems["title"] = f"The title is {byte_length(title):,} bytes; the server takes at most {TITLE_LIMIT}."
    if is_blank(message):
        problems["message"] = "A message is required."
    elif byte_length(message) > MESSAGE_LIMIT:
        problems["message"] = (
            f"The message is {byte_length(message):,} bytes; the server takes at most {MESSAGE_LIMIT:,}."
        )
    return problems


_FIELD_NAMES: dict[str, Field] = {
    "content.title": "title",
    "title": "title",
    "content.message": "message",
    "message": "message",
}


def server_field_errors(error: ApiError) -> dict[Field, str]:
    """The fields a refusal names: validations by field, else the fields mentioned in its detail."""
    out: dict[Field, str] = {}
    for name, detail in error.validations:
        target = _FIELD_NAMES.get(name.strip().lower())
        if target is not None:
            out[target] = detail or error.message
    if error.status == 400 and error.detail:
        for name in re.findall(r"content\.(title|message)", error.detail):
            target = _FIELD_NAMES[f"content.{name}"]
            out.setdefault(target, error.detail)
    return out


def editor_command() -> list[str]:
    """`$VISUAL`, else `$EDITOR` (split like a shell line), else the first of nano / vi found; [] if none."""
    for variable in ("VISUAL", "EDITOR"):
        value = os.environ.get(variable, "").strip()
        if value:
            return shlex.split(value)
    for fallback in ("nano", "vi"):
        if shutil.which(fallback):
            return [fallback]
    return []


class ComposeScreen(ModalScreen[bool]):
    """Send yourself a custom notification; dismisses with True once sent."""

    BINDINGS: ClassVar[list[BindingType]] = [spec.binding() for spec in KEYS]
    AUTO_FOCUS = "#compose-title"
    VERTICAL_BREAKPOINTS = [(0, "-short"), (30, "-tall")]

    DEFAULT_CSS = """
    ComposeScreen {
        align: center middle;
        & > #compose-dialog {
            width: 120;
            max-width: 100%;
            height: 90%;
            min-height: 18;
            border: thick $primary 60%;
            background: $surface;
            padding: 0 1;
        }
        & #compose-heading { text-style: bold; }
        & #compose-recipient { color: $text-muted; }
        & #compose-dedupe { color: $text-muted; margin: 0 0 1 0; }
        & #compose-warnings { margin: 0 0 1 0; }
        & .compose-label { height: 1; width: 1fr; }
        & .compose-label Label { width: 1fr; text-style: bold; }
        & #compose-title { margin: 0; }
        & #compose-editors { height: 1fr; min-height: 5; }
        & #compose-message { width: 1fr; height: 1fr; }
        & #compose-preview { width: 1fr; height: 1fr; border: round $foreground 20%; border-title-color: $text-muted; }
        & .-invalid { border: tall $error; }
        & .compose-error { padding: 0 1; }
        & #compose-status { margin: 1 0 0 0; }
        /* A short pane (60x20) keeps the room for the message: no recipient line, a one-row title. */
        &.-short #compose-dialog { height: 100%; min-height: 0; }
        &.-short #compose-recipient { display: none; }
        &.-short #compose-title { border: none; height: 1; padding: 0 1; background: $boost; }
        &.-short #compose-title.-invalid { border: none; background: $error 30%; }
        &.-short #compose-editors { min-height: 4; }
    }
    """

    def __init__(self, client: CoderClient | None = None, *, title: str = "", message: str = "") -> None:
        """`client` defaults to the app's (`app.client`); `title` and `message` prefill the form."""
        super().__init__()
        self._client = client
        self._initial_title = title
        self._initial_message = message
        self.sending = False
        self.sent = False
        self.warnings: list[str] = []
        # Set while the status line says what is wrong with the fields; cleared once they are right.
        self._fields_notice = False
        # A field's "required" error waits until it was edited or a send was tried (no shouting at a blank form).
        self.touched: set[Field] = set()
        if title:
            self.touched.add("title")
        if message:
            self.touched.add("message")

    @property
    def client(self) -> CoderClient:
        """The API client: the one given, else the app's."""
        client = self._client if self._client is not None else getattr(self.app, "client", None)
        if client is None:
            raise RuntimeError("the compose screen needs a server connection")
        assert isinstance(client, CoderClient)
        return client

    # ----- layout ---------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        with Vertical(id="compose-dialog"):
            yield Static("New custom notification", id="compose-heading", markup=False)
            yield Static(
                "It goes to your own inbox (and the deployment's default method), like `coder notifications custom`.",
                id="compose-recipient",
                markup=False,
            )
            yield Static(DEDUPE_NOTE, id="compose-dedupe", markup=False)
            yield StatusLine(id="compose-warnings")
            with Horizontal(classes="compose-label"):
                yield Label("Title")
                yield ByteCounter(TITLE_LIMIT, id="title-counter")
            # select_on_focus off: tabbing back into the title must not make the next key replace it.
            yield Input(
                self._initial_title,
                placeholder="What happened, in a line",
                id="compose-title",
                select_on_focus=False,
            )
            yield StatusLine(id="title-error", classes="compose-error")
            with Horizontal(classes="compose-label"):
                yield Label("Message (Markdown)")
                yield ByteCounter(MESSAGE_LIMIT, id="message-counter")
            with Horizontal(id="compose-editors"):
                yield TextArea(
                    self._initial_message,
                    id="compose-message",
                    soft_wrap=True,
                    tab_behavior="focus",
                    placeholder="The body, in Markdown (ctrl+e opens $EDITOR)",
                )
                preview = MarkdownPreview(self._initial_message, id="compose-preview")
                preview.border_title = "Preview"
                yield preview
            yield StatusLine(id="message-error", classes="compose-error")
            yield StatusLine(id="compose-status")
        yield KeyFooter()

    def on_mount(self) -> None:
        self._check()
        self._load_warnings()

    @work(group="compose-warnings", exit_on_error=False)
    async def _load_warnings(self) -> None:
        """Say up front when what is sent will not arrive (preference off, delivery paused)."""
        from inbox_tui.api.send_warnings import custom_send_warnings

        self.warnings = [warning.message for warning in await custom_send_warnings(self.client)]
        self.query_one("#compose-warnings", StatusLine).show("\n".join(f"⚠ {w}" for w in self.warnings), "warning")

    @property
    def title_input(self) -> Input:
        """The title field."""
        return self.query_one("#compose-title", Input)

    @property
    def message_area(self) -> TextArea:
        """The message editor."""
        return self.query_one("#compose-message", TextArea)

    @property
    def status(self) -> StatusLine:
        """The line under the form."""
        return self.query_one("#compose-status", StatusLine)

    # ----- validation -----------------------------------------------------------------------------

    def _check(self, server: dict[Field, str] | None = None) -> dict[Field, str]:
        """Count bytes, show what is wrong with each touched field (or what the server said); return it all."""
        title = self.title_input.value
        message = self.message_area.text
        self.query_one("#title-counter", ByteCounter).count(title)
        self.query_one("#message-counter", ByteCounter).count(message)
        problems = validate(title, message)
        fields: tuple[tuple[Field, Input | TextArea], ...] = (
            ("title", self.title_input),
            ("message", self.message_area),
        )
        for field, widget in fields:
            text = (server or {}).get(field) or (problems.get(field) if field in self.touched else None)
            self.query_one(f"#{field}-error", StatusLine).show(text or "", "error")
            widget.set_class(bool(text), "-invalid")
        if self._fields_notice and not problems and not server:
            self._fields_notice = False
            self.status.show("", "info")  # the fields are right now: "fix the fields" no longer holds
        return problems

    @on(Input.Changed, "#compose-title")
    def title_changed(self) -> None:
        """Live counter and validation."""
        self.touched.add("title")
        self._check()

    @on(TextArea.Changed, "#compose-message")
    def message_changed(self) -> None:
        """Live counter, validation and preview."""
        self.touched.add("message")
        self._check()
        self.query_one(MarkdownPreview).set_text(self.message_area.text)

    @on(Input.Submitted, "#compose-title")
    def title_submitted(self) -> None:
        """Enter in the title moves on to the message."""
        self.message_area.focus()

    # ----- sending --------------------------------------------------------------------------------

    def action_send(self) -> None:
        """Validate, then send; invalid fields keep the focus and nothing goes out."""
        if self.sending:
            return
        self.touched.update(("title", "message"))
        problems = self._check()
        if problems:
            (self.title_input if "title" in problems else self.message_area).focus()
            self.status.show(INVALID_MESSAGE, "error")
            self._fields_notice = True
            return
        self.sending = True
        self.send(self.title_input.value, self.message_area.text)

    @work(group="compose-send", exit_on_error=False)
    async def send(self, title: str, message: str) -> None:
        """POST /notifications/custom; refusals go beside the fields they name."""
        self.status.show("Sending…", "busy")
        try:
            await self.client.send_custom(title, message)
        except ApiError as error:
            fields = server_field_errors(error)
            if fields:
                self._check(server=fields)
                self.status.show(f"Not sent: {error.message}", "error")
                self._fields_notice = True
                (self.title_input if "title" in fields else self.message_area).focus()
            else:
                self.status.show_error(error, "Not sent; your text is kept.")
            return
        finally:
            self.sending = False
        self.sent = True
        if self.warnings:
            self.app.notify("\n".join((SENT_MESSAGE, *self.warnings)), title="Sent", severity="warning", markup=False)
        else:
            self.app.notify(SENT_MESSAGE, title="Sent")
        self.dismiss(True)

    # ----- $EDITOR --------------------------------------------------------------------------------

    def action_external_editor(self) -> None:
        """Edit the message in `$VISUAL` / `$EDITOR` on a temporary .md file; the form waits meanwhile."""
        command = editor_command()
        if not command:
            self.status.show("No editor found: set $EDITOR (or $VISUAL).", "error")
            return
        before = self.message_area.text
        fd, name = tempfile.mkstemp(prefix="inbox-tui-message-", suffix=".md")
        path = Path(name)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(before)
            try:
                code = self._run_editor([*command, str(path)])
            except OSError as exc:
                self.status.show(f"Could not start {command[0]}: {exc.strerror or exc}", "error")
                return
            if code is None:
                return
            if code != 0:
                self.status.show(f"{command[0]} exited with status {code}; the message is unchanged.", "warning")
                return
            after = path.read_text(encoding="utf-8", errors="replace")
        finally:
            with contextlib.suppress(OSError):
                path.unlink()
        # Editors end files with a newline; keep the message as it was unless the user added more.
        if after.endswith("\n") and not before.endswith("\n"):
            after = after[:-1]
        if after != before:
            self.message_area.text = after
        self.status.show("", "info")
        self.message_area.focus()

    def _run_editor(self, argv: list[str]) -> int | None:
        """Run the editor with the terminal handed over; the exit code, or None if it could not run."""
        try:
            with self.app.suspend():
                return subprocess.run(argv, check=False).returncode
        except SuspendNotSupported:
            if not self.app.is_headless:
                self.status.show("This terminal cannot hand over to an editor; type the message here.", "error")
                return None
        # Headless (tests, scripts): there is no terminal to hand over, so the editor runs as it is.
        return subprocess.run(argv, check=False, stdin=subprocess.DEVNULL, capture_output=True).returncode

    # ----- leaving --------------------------------------------------------------------------------

    @property
    def has_unsaved_changes(self) -> bool:
        """True while something is typed and not sent (the app may ask before quitting)."""
        return not self.sent and not (is_blank(self.title_input.value) and is_blank(self.message_area.text))

    def action_close(self) -> None:
        """Close; if something is typed, ask first (nothing is lost by accident)."""
        if not self.has_unsaved_changes:
            self.dismiss(False)
            return

        def answered(answer: str | None) -> None:
            if answer == "save":
                self.action_send()
            elif answer == "discard":
                self.dismiss(False)

        self.app.push_screen(
            UnsavedChangesScreen(
                "Discard this notification?", hint="s = send it   d = discard   n / Esc = keep editing"
            ),
            answered,
        )
