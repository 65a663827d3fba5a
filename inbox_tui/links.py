"""The links of a notification: its actions, then the links written in its message body (link hints).

A body such as "see the [build log](https://ci/1)" has no action, yet the link is what the reader wants:
numbering body links after the actions lets `o`, `1`-`9` and `y` reach them too. Only absolute http(s)
links are taken from the body (a message is untrusted text); actions are kept as the server sent them,
since opening one already refuses other schemes.
"""

from __future__ import annotations

from typing import Literal, NamedTuple

from inbox_tui.api.models import InboxNotification

LinkSource = Literal["action", "body"]


class NotificationLink(NamedTuple):
    """One numbered link: an action button, or a link found in the message."""

    label: str
    url: str
    source: LinkSource


def body_links(markdown: str) -> list[tuple[str, str]]:
    """(text, url) of each http(s) link in a Markdown body, in order: `[text](url)`, `<url>` autolinks."""
    if "http" not in markdown:
        return []  # most bodies have none: skip the parser
    from markdown_it import MarkdownIt  # only when a body may have links (start-up does not need it)

    found: list[tuple[str, str]] = []
    for block in MarkdownIt("commonmark").parse(markdown):
        children = block.children or []
        index = 0
        while index < len(children):
            token = children[index]
            index += 1
            if token.type != "link_open":
                continue
            href = str(token.attrGet("href") or "")
            text: list[str] = []
            while index < len(children) and children[index].type != "link_close":
                text.append(children[index].content)
                index += 1
            if href.lower().startswith(("http://", "https://")):
                found.append(("".join(text).strip() or href, href))
    return found


def notification_links(notification: InboxNotification) -> list[NotificationLink]:
    """The actions, then the body's links not already among them (one number per distinct URL)."""
    links = [NotificationLink(a.label, a.url, "action") for a in notification.actions]
    seen = {a.url for a in notification.actions}
    for text, url in body_links(notification.content):
        if url not in seen:
            seen.add(url)
            links.append(NotificationLink(text, url, "body"))
    return links
