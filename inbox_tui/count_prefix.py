"""Count prefixes, as in vim: digits typed before a key repeat it or pick its target.

`5j` moves five rows down, `3k` three up, `3G` highlights row 3 (loading older pages if needed), `2ctrl+d`
moves two half pages, `2n` goes to the second next unread, `3o` opens link 3, `3y` copies link 3's URL.

A digit alone still opens link N, as before counts existed: when no key follows within `OPEN_DELAY`
seconds, the pending count opens that link (`12` then a pause opens link 12). Esc drops a pending count;
any other key drops it and does what it always does. No Textual here: the screen feeds keys in and acts on
what comes out.
"""

from __future__ import annotations

OPEN_DELAY = 0.6
"""Seconds a pending count waits for a key before it opens link N."""
MAX_DIGITS = 4
"""Longer counts are cut (no inbox needs row 10000 typed out)."""

COUNTED_IDS = frozenset(
    {
        "cursor_down",
        "cursor_up",
        "bottom",
        "half_page_down",
        "half_page_up",
        "next_unread",
        "previous_unread",
        "open_first_action",
        "copy_url",
    }
)
"""Binding ids that take a count (the keys in force for them come from the keymap)."""


class CountPrefix:
    """The digits typed so far (a plain class: one field needs no dataclass, which costs start-up time)."""

    __slots__ = ("digits",)

    def __init__(self) -> None:
        """No digits yet."""
        self.digits = ""

    @property
    def pending(self) -> bool:
        """True while a count is being typed."""
        return bool(self.digits)

    def accepts(self, key: str) -> bool:
        """Whether `key` is a digit that goes into the count (a leading 0 is not a count)."""
        return len(key) == 1 and key.isdigit() and (key != "0" or self.pending)

    def push(self, key: str) -> None:
        """Add one digit (see `accepts`)."""
        if len(self.digits) < MAX_DIGITS:
            self.digits += key

    def take(self) -> int | None:
        """The count typed (then forgotten), or None when there is none."""
        digits, self.digits = self.digits, ""
        return int(digits) if digits else None

    def clear(self) -> None:
        """Forget the digits typed."""
        self.digits = ""
