"""`format=plaintext` conversion against Coder's own expectations (spec section 5.5)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from server.notify.plaintext import plaintext_from_markdown

REPO = Path(__file__).parents[2]
BUNDLED_VECTORS = REPO / "tests" / "data" / "plaintext-vectors.json"
SHARED_VECTORS = REPO / ".." / "shared" / "spec" / "plaintext-vectors.json"


def _load(path: Path) -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = json.loads(path.read_text(encoding="utf-8"))
    return data


VECTORS = _load(BUNDLED_VECTORS)


def test_bundled_vectors_are_the_shared_ones() -> None:
    if not SHARED_VECTORS.exists():
        pytest.skip("shared/ is not beside this checkout")
    assert _load(SHARED_VECTORS) == VECTORS
    assert len(VECTORS) == 39


@pytest.mark.parametrize("vector", VECTORS, ids=[f"{v['case']}-{v['field']}" for v in VECTORS])
def test_webhook_golden_vectors(vector: dict[str, Any]) -> None:
    assert plaintext_from_markdown(vector["markdown"]) == vector["plaintext"]


CODER_FULL_INPUT = """# Provide the machine image
See the [registry](https://container.registry.blah/namespace) for options.

![Minion](https://octodex.github.com/images/minion.png)

**This is bold text.**
__This is bold text.__
*This is italic text.*
> Blockquotes can also be nested.
~~Strikethrough.~~

1. Lorem ipsum dolor sit amet.
2. Consectetur adipiscing elit.
3. Integer molestie lorem at massa.

`There are also code tags!`"""

CODER_FULL_OUTPUT = (
    "Provide the machine image\nSee the registry (https://container.registry.blah/namespace) for options.\n"
    "\nMinion (https://octodex.github.com/images/minion.png)\n\nThis is bold text.\nThis is bold text.\n"
    "This is italic text.\n\nBlockquotes can also be nested.\nStrikethrough.\n\n"
    "1. Lorem ipsum dolor sit amet.\n2. Consectetur adipiscing elit.\n3. Integer molestie lorem at massa.\n"
    "\nThere are also code tags!"
)


@pytest.mark.parametrize(
    ("markdown", "plaintext"),
    [
        ("# Notification Title", "Notification Title"),
        ("This is the __content__.", "This is the content."),
        (
            "This is a simple description, so nothing changes.",
            "This is a simple description, so nothing changes.",
        ),
        (CODER_FULL_INPUT, CODER_FULL_OUTPUT),
    ],
)
def test_coder_examples(markdown: str, plaintext: str) -> None:
    assert plaintext_from_markdown(markdown) == plaintext


@pytest.mark.parametrize(
    ("markdown", "plaintext"),
    [
        ("## Heading\nbody", "Heading\nbody"),
        ("intro\n- a\n- b", "intro\n\na\nb"),
        ("* a\n* b\n\nafter", "a\nb\n\nafter"),
        ("3. c\n4. d", "3. c\n4. d"),
        ("- a\n  - b\n  - c\n- d", "a\n    b\n    c\nd"),
        ("> quoted\n> more", "quoted\nmore"),
        ("[only an anchor](#x)", "only an anchor"),
        ("`co*de*`, *em*, ~~gone~~", "co*de*, em, gone"),
        ("a \\* b \\$ c", "a * b \\$ c"),
        ("Tom &amp; Jerry", "Tom & Jerry"),
        ("<b>bold</b> html", "bold html"),
        ("before\n\n---\n\nafter", "before\n\nafter"),
        ("see <https://coder.com>", "see https://coder.com"),
        ("   \n\n  ", ""),
    ],
)
def test_glamour_layout_rules(markdown: str, plaintext: str) -> None:
    assert plaintext_from_markdown(markdown) == plaintext
