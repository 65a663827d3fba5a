"""A cheap bound on JSON nesting, checked before a body is decoded (deep nesting is a RecursionError)."""

from __future__ import annotations

import re

MAX_JSON_DEPTH = 64

_ESCAPE = re.compile(rb"\\.", re.DOTALL)
# Escapes are gone, so a string is a quote, no quotes, a quote: linear even when one is unterminated.
_STRING = re.compile(rb'"[^"]*"')
# Both bracket kinds count alike; every other byte is dropped.
_BRACKETS = bytes.maketrans(b"{}", b"[]")
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")


def too_deep(raw: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether `raw` opens more than `limit` nested arrays/objects anywhere (strings ignored).

    Each pass deletes the innermost pairs, so a balanced structure of depth d empties in d passes; all
    the work is in C (regex, translate, replace), at most `limit` + 1 passes over the brackets.
    """
    if raw.count(b"[") + raw.count(b"{") <= limit:
        return False
    brackets = _STRING.sub(b"", _ESCAPE.sub(b"", raw)).translate(_BRACKETS, _NOT_BRACKETS)
    if len(brackets) // 2 <= limit:
        return False
    for passes in range(limit):
        reduced = brackets.replace(b"[]", b"")
        if not reduced:
            return False
        if len(reduced) == len(brackets):
            # Unbalanced (invalid anyway): openers never closed still nest, and the decoder would recurse.
            return passes + reduced.count(b"[") > limit
        brackets = reduced
    return True  # still nested after `limit` levels were peeled off
