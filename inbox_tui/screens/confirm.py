"""Questions in a small modal: y/N (No is the default: Enter and Escape both say no), and unsaved changes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, TypeVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

from inbox_tui.keymap import KeySpec

T = TypeVar("T")


class QuestionScreen(ModalScreen[T]):
    """A question in a small modal, answered by keys; subclasses bind keys to `answer(<value>)`."""

    DEFAULT_CSS = """
    QuestionScreen {
        align: center middle;
        & > Vertical {
            width: 64;
            max-width: 100%;
            height: auto;
            padding: 1 2;
            border: thick $warning 60%;
            background: $surface;
        }
        & .question { text-style: bold; }
        & .hint { color: $text-muted; margin: 1 0 0 0; }
    }
    """

    DEFAULT_HINT = ""

    def __init__(self, question: str, hint: str = "") -> None:
        super().__init__()
        self.question = question
        self.hint = hint or self.DEFAULT_HINT

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Content(self.question), classes="question")
            yield Static(Content(self.hint), classes="hint")

    def action_answer(self, answer: T) -> None:
        """Close with the answer."""
        self.dismiss(answer)


class ConfirmScreen(QuestionScreen[bool]):
    """Ask before a bulk action; dismisses with True only for `y`."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer(True)", "Yes", id="confirm_yes"),
        Binding("n,escape,enter", "answer(False)", "No", id="confirm_no"),
    ]
    DEFAULT_HINT = "y = yes   n / Enter / Esc = no"


# Keys of the question asked when leaving preferences or compose with unsaved work.
UNSAVED_KEYS: tuple[KeySpec, ...] = (
    KeySpec("unsaved_save", "s", "answer('save')", "Save (or send), then leave", "screen", "Leaving with changes"),
    KeySpec("unsaved_discard", "d", "answer('discard')", "Leave without saving", "screen", "Leaving with changes"),
    KeySpec("unsaved_stay", "escape,n", "answer('stay')", "Stay", "screen", "Leaving with changes"),
)


class UnsavedChangesScreen(QuestionScreen[str]):
    """Asked when leaving with unsaved work; dismisses with "save", "discard" or "stay"."""

    BINDINGS: ClassVar[list[BindingType]] = [spec.binding() for spec in UNSAVED_KEYS]
    DEFAULT_HINT = "s = save and leave   d = discard   n / Esc = stay"


def leave_or_ask(screen: Screen[Any], unsaved: int, what: str, save_and_leave: Callable[[], object]) -> None:
    """Close `screen`, or, with `unsaved` changes (`what`: "change", "template method"), ask first.

    The one leave-with-unsaved-work rule of the screens that save with ctrl+s (preferences, admin): save and
    leave, discard and leave, or stay.
    """
    if not unsaved:
        screen.dismiss(None)
        return

    def answered(answer: str | None) -> None:
        if answer == "save":
            save_and_leave()
        elif answer == "discard":
            screen.dismiss(None)

    question = f"{unsaved} unsaved {what}{'s' if unsaved != 1 else ''}. Save before leaving?"
    screen.app.push_screen(UnsavedChangesScreen(question), answered)
