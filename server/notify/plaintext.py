"""Markdown to plain text, as Coder's `PlaintextFromMarkdown` does it (spec section 5.5).

Coder renders the markdown with glamour (goldmark underneath) using a style table with every decoration
removed, word-wrap off, and trims the result. This module parses with markdown-it-py and walks the tree
the way glamour's ANSI renderer walks goldmark's, so the blank lines, list layout and link forms match:

- paragraphs end with a newline; a paragraph or heading that is not its parent's first child starts with
  one more (so paragraphs are separated by a blank line and a heading by a single newline);
- lists and block quotes start with a newline; a list ends with one; items are joined by newlines with no
  bullet (ordered items keep `N. `); a nested list is indented by four spaces;
- `[text](url)` becomes `text (url)`, `![alt](src)` becomes `alt (src)`; emphasis, strike-through and code
  markers vanish; soft line breaks stay newlines; raw HTML tags are dropped.

One deliberate difference: a bare URL (or `<url>`) is printed once, not as `url (url)`.
"""

from __future__ import annotations

import functools
import importlib.util
import re

from markdown_it import MarkdownIt
from markdown_it.tree import SyntaxTreeNode

# glamour's escapeReplacer: these backslash escapes lose their backslash; any other escape keeps it
# (goldmark hands glamour the raw source text).
_ESCAPABLE = frozenset("\\`*_{}[]<>()#+-.!|")
_TAG = re.compile(r"<[^>]*>")
_LIST_LEVEL_INDENT = 4  # Coder's plaintextStyle.List.LevelIndent
_TASK_MARKER = re.compile(r"^\[[ xX]\] ")


def _url_as_written(url: str) -> str:
    return url


def _text_as_written(link: str) -> str:
    return link


def _any_link(url: str) -> bool:
    return True


@functools.cache
def _parser() -> MarkdownIt:
    # goldmark with glamour's extensions: CommonMark + GFM (tables, strike-through, autolinks).
    md = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
    if importlib.util.find_spec("linkify_it") is not None:  # optional: bare URLs become links
        md.enable("linkify")
        md.options["linkify"] = True
    # Keep escapes and entities as separate tokens so they can be treated as glamour does.
    md.disable("text_join")
    # goldmark keeps destinations as written: no percent-encoding, no scheme blocking.
    md.normalizeLink = _url_as_written  # type: ignore[method-assign]
    md.normalizeLinkText = _text_as_written  # type: ignore[method-assign]
    md.validateLink = _any_link  # type: ignore[method-assign]
    return md


def plaintext_from_markdown(md: str) -> str:
    """Convert rendered template markdown to the plain text Coder sends for `format=plaintext`."""
    tree = SyntaxTreeNode(_parser().parse(md))
    return _blocks(tree.children).strip()


# -- blocks ----------------------------------------------------------------------------------------


def _indent(text: str, width: int) -> str:
    """Indent every line, empty ones too (muesli/reflow's indent writer does the same)."""
    if width == 0 or not text:
        return text
    pad = " " * width
    out: list[str] = []
    at_line_start = True
    for ch in text:
        if at_line_start:
            out.append(pad)
            at_line_start = False
        if ch == "\n":
            at_line_start = True
        out.append(ch)
    return "".join(out)


def _blocks(nodes: list[SyntaxTreeNode], *, in_item: bool = False, marker: str = "") -> str:
    return "".join(_block(node, first=i == 0, in_item=in_item, marker=marker) for i, node in enumerate(nodes))


def _block(node: SyntaxTreeNode, *, first: bool, in_item: bool, marker: str) -> str:
    kind = node.type
    if kind == "paragraph":
        text = _inline_of(node)
        if in_item:
            # A paragraph inside a list item is written straight into the list; a continuation
            # paragraph starts on its own line, aligned after the item marker.
            return text if first else "\n" + " " * len(marker) + text
        lead = "" if first else "\n"
        return lead + (text + "\n" if text.strip() else "")
    if kind == "heading":
        return ("" if first else "\n") + _inline_of(node)
    if kind == "blockquote":
        return "\n" + _blocks(node.children)
    if kind in ("bullet_list", "ordered_list"):
        return "\n" + _list(node, nested=in_item or _inside_list(node))
    if kind in ("code_block", "fence"):
        return "\n" + _unescape_text(node.content)
    if kind == "html_block":
        return _TAG.sub("", node.content)
    if kind == "table":
        return "\n" + _table(node) + "\n"
    # hr and anything else without visible text
    return ""


def _inside_list(node: SyntaxTreeNode) -> bool:
    parent = node.parent
    while parent is not None:
        if parent.type in ("bullet_list", "ordered_list"):
            return True
        parent = parent.parent
    return False


def _list(node: SyntaxTreeNode, *, nested: bool) -> str:
    ordered = node.type == "ordered_list"
    start = int(str(node.attrs.get("start", 1))) if ordered else 1
    items = node.children
    parts: list[str] = []
    for i, item in enumerate(items):
        marker = f"{start + i}. " if ordered else ""
        body = _blocks(item.children, in_item=True, marker=marker)
        body = _TASK_MARKER.sub("", body, count=1)  # task items: the checkbox style is empty
        last_is_list = bool(item.children) and item.children[-1].type in ("bullet_list", "ordered_list")
        post = "" if last_is_list or i == len(items) - 1 else "\n"
        parts.append(marker + body + post)
    return _indent("".join(parts) + "\n", _LIST_LEVEL_INDENT if nested else 0)


def _table(node: SyntaxTreeNode) -> str:
    # glamour draws a table; without decorations the readable equivalent is one row per line.
    rows: list[str] = []
    for section in node.children:
        for row in section.children:
            rows.append(" | ".join(_inline_of(cell).strip() for cell in row.children))
    return "\n".join(rows)


# -- inlines ---------------------------------------------------------------------------------------


def _inline_of(node: SyntaxTreeNode) -> str:
    return "".join(_inline(child) for child in _inline_children(node))


def _inline_children(node: SyntaxTreeNode) -> list[SyntaxTreeNode]:
    # Block nodes hold one `inline` node whose children are the inline tokens.
    out: list[SyntaxTreeNode] = []
    for child in node.children:
        if child.type == "inline":
            out.extend(child.children)
        else:
            out.append(child)
    return out


def _unescape_text(text: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text) and text[i + 1] in _ESCAPABLE:
            out.append(text[i + 1])
            i += 2
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def _plain(node: SyntaxTreeNode) -> str:
    """The bare text of an inline subtree (goldmark's Node.Text), for images and strike-through."""
    if node.type in ("text", "code_inline"):
        return node.content
    if node.type == "text_special":
        return _special(node)
    if node.type in ("softbreak", "hardbreak"):
        return "\n"
    return "".join(_plain(child) for child in node.children)


def _special(node: SyntaxTreeNode) -> str:
    if node.info == "escape":
        escaped = node.markup[1:] if node.markup.startswith("\\") else node.content
        return escaped if escaped in _ESCAPABLE else node.markup
    return node.content  # entities are decoded, as html.UnescapeString does


def _href(url: str) -> str:
    # glamour prints " (url)" unless the destination is only a fragment.
    if url.startswith("#"):
        return ""
    return f" ({url})"


def _inline(node: SyntaxTreeNode) -> str:
    kind = node.type
    if kind == "text":
        return node.content
    if kind == "text_special":
        return _special(node)
    if kind in ("softbreak", "hardbreak"):
        return "\n"
    if kind == "code_inline":
        return node.content
    if kind in ("em", "strong"):
        return "".join(_inline(child) for child in node.children)
    if kind == "s":
        return "".join(_plain(child) for child in node.children)
    if kind == "link":
        text = "".join(_inline(child) for child in node.children)
        href = str(node.attrs.get("href", ""))
        if node.markup in ("autolink", "linkify") and href.removeprefix("mailto:") == text:
            return text  # a bare URL or <url>: printing it twice helps nobody
        return text + _href(href)
    if kind == "image":
        alt = "".join(_plain(child) for child in node.children)
        src = str(node.attrs.get("src", ""))
        return alt + (f" ({src})" if src else "")
    if kind == "html_inline":
        return _TAG.sub("", node.content)
    return "".join(_inline(child) for child in node.children)
