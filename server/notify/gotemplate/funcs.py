"""The builtin functions (Go's text/template/funcs.go): each takes the evaluated arguments; errors are plain
messages that the executor places."""

from __future__ import annotations

import json
import re
import urllib.parse
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from server.notify.gotemplate.values import (
    MISSING,
    NO_VALUE,
    StringMap,
    format_value,
    from_data,
    go_float,
    go_type,
    is_int,
    is_true,
)


class FuncError(Exception):
    """A builtin refused its arguments; the executor adds the position."""


def _basic_kind(v: Any) -> str | None:
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int):
        return "int"
    if isinstance(v, float):
        return "float"
    if isinstance(v, str):
        return "string"
    return None


def is_nil(v: Any) -> bool:
    """Go's nil: the missing value or None."""
    return v is MISSING or v is None


def _eq(*args: Any) -> bool:
    if len(args) < 2:
        raise FuncError("missing argument for comparison")
    a1, k1 = args[0], _basic_kind(args[0])
    for a2 in args[1:]:
        k2 = _basic_kind(a2)
        if k1 != k2:
            if not is_nil(a1) and not is_nil(a2):
                raise FuncError(f"incompatible types for comparison: {go_type(a1)} and {go_type(a2)}")
            truth = False
        elif k1 is not None:
            truth = a1 == a2
        elif is_nil(a1) or is_nil(a2):
            truth = is_nil(a1) and is_nil(a2)
        else:
            raise FuncError(f"non-comparable type {format_value(a2)}: {go_type(a2)}")
        if truth:
            return True
    return False


def _lt(a: Any, b: Any) -> bool:
    k1, k2 = _basic_kind(a), _basic_kind(b)
    if k1 is None or k2 is None or k1 == "bool":
        raise FuncError("invalid type for comparison")
    if k1 != k2:
        raise FuncError(f"incompatible types for comparison: {go_type(a)} and {go_type(b)}")
    return bool(a < b)


def _le(a: Any, b: Any) -> bool:
    return _lt(a, b) or _eq(a, b)


def _len(v: Any) -> int:
    if isinstance(v, str):
        return len(v.encode())  # Go's len of a string counts bytes
    if isinstance(v, Mapping | list | tuple):
        return len(v)
    if is_nil(v):
        raise FuncError("len of nil pointer")
    raise FuncError(f"len of type {go_type(v)}")


def _index_arg(i: Any, size: int) -> int:
    if is_nil(i):
        raise FuncError("cannot index slice/array with nil")
    if not is_int(i):
        raise FuncError(f"cannot index slice/array with type {go_type(i)}")
    if i < 0 or i > size:
        raise FuncError(f"index out of range: {i}")
    return int(i)


def _index(item: Any, *indexes: Any) -> Any:
    if is_nil(item):
        raise FuncError("index of untyped nil")
    for i in indexes:
        if item is None:
            raise FuncError("index of nil pointer")
        if isinstance(item, list | tuple | str):
            x = _index_arg(i, len(item))
            seq: Sequence[Any] = item.encode() if isinstance(item, str) else item
            if x >= len(seq):
                raise FuncError(f"reflect: slice index out of range: {x}")
            item = seq[x] if isinstance(item, str) else from_data(seq[x])
        elif isinstance(item, Mapping):
            if is_nil(i):
                raise FuncError("value is nil; should be of type string")
            if not isinstance(i, str):
                raise FuncError(f"value has type {go_type(i)}; should be string")
            # A missing key gives the zero value of the element type: "" for Labels, nil for Data.
            item = from_data(item[i]) if i in item else "" if isinstance(item, StringMap) else None
        else:
            raise FuncError(f"can't index item of type {go_type(item)}")
    return item


def _slice(item: Any, *indexes: Any) -> Any:
    if is_nil(item):
        raise FuncError("slice of untyped nil")
    if len(indexes) > 3:
        raise FuncError(f"too many slice indexes: {len(indexes)}")
    if not isinstance(item, list | tuple | str):
        raise FuncError(f"can't slice item of type {go_type(item)}")
    if isinstance(item, str) and len(indexes) == 3:
        raise FuncError("cannot 3-index slice a string")
    seq = item.encode() if isinstance(item, str) else list(item)
    idx = [0, len(seq), len(seq)]
    for n, i in enumerate(indexes):
        idx[n] = _index_arg(i, len(seq))
    if idx[0] > idx[1]:
        raise FuncError(f"invalid slice index: {idx[0]} > {idx[1]}")
    if len(indexes) == 3 and idx[1] > idx[2]:
        raise FuncError(f"invalid slice index: {idx[1]} > {idx[2]}")
    part = seq[idx[0] : idx[1]]
    return part.decode(errors="replace") if isinstance(part, bytes) else part


def _sprint(args: Sequence[Any], *, always_space: bool = False) -> str:
    """`fmt.Sprint`: a space between two operands when neither is a string."""
    out: list[str] = []
    prev_string = False
    for n, a in enumerate(args):
        is_string = isinstance(a, str)
        if n and (always_space or (not is_string and not prev_string)):
            out.append(" ")
        out.append("<nil>" if is_nil(a) else format_value(a))
        prev_string = is_string
    return "".join(out)


def _eval_args(args: Sequence[Any]) -> str:
    """text/template's evalArgs: like Sprint, but a nil argument prints `<no value>`."""
    if len(args) == 1 and isinstance(args[0], str):
        return args[0]
    return _sprint([NO_VALUE if is_nil(a) else a for a in args])


_PRINTF_RE = re.compile(r"%([-+# 0]*)(\*|\d+)?(?:\.(\*|\d*))?([a-zA-Z%])")


def _sprintf(fmt: str, *args: Any) -> str:
    """A subset of `fmt.Sprintf`: verbs v s d q t f e g x X c %, flags, width and precision."""
    out: list[str] = []
    argi = 0
    last = 0
    for m in _PRINTF_RE.finditer(fmt):
        out.append(fmt[last : m.start()])
        last = m.end()
        flags, width, prec, verb = m.group(1), m.group(2), m.group(3), m.group(4)
        if verb == "%":
            out.append("%")
            continue
        if argi >= len(args):
            out.append(f"%!{verb}(MISSING)")
            continue
        a = args[argi]
        argi += 1
        kind = _basic_kind(a)
        bad = f"%!{verb}({go_type(a)}={format_value(a)})"
        if verb == "v" or (verb == "s" and kind == "string"):
            text = format_value(a) if not is_nil(a) else "<nil>"
            if verb == "s" and prec:
                text = text[: int(prec)]
        elif verb == "s":
            text = bad
        elif verb == "q" and kind == "string":
            text = json.dumps(a, ensure_ascii=False)
        elif verb == "t" and kind == "bool":
            text = format_value(a)
        elif verb in "dxXc" and kind == "int":
            spec = {"d": "d", "x": "x", "X": "X"}.get(verb)
            text = chr(a) if verb == "c" else format(a, ("+" if "+" in flags else "") + str(spec))
        elif verb in "xX" and kind == "string":
            text = a.encode().hex()
            text = text.upper() if verb == "X" else text
        elif verb in "feEgG" and kind == "float":
            p = "" if prec is None else "." + (prec or "0")
            if verb in "gG" and prec is None:
                text = go_float(a)
            else:
                text = format(a, ("+" if "+" in flags else "") + (p or ".6") + verb)
        else:
            text = bad
        if width and width != "*":
            w = int(width)
            if "-" in flags:
                text = text.ljust(w)
            elif "0" in flags and kind in ("int", "float"):
                sign = text[0] if text[:1] in "+-" else ""
                text = sign + text[len(sign) :].rjust(w - len(sign), "0")
            else:
                text = text.rjust(w)
        out.append(text)
    out.append(fmt[last:])
    if argi < len(args):
        extra = ", ".join(f"{go_type(a)}={format_value(a)}" for a in args[argi:])
        out.append(f"%!(EXTRA {extra})")
    return "".join(out)


def _html(*args: Any) -> str:
    s = _eval_args(args)
    table = {'"': "&#34;", "'": "&#39;", "&": "&amp;", "<": "&lt;", ">": "&gt;", "\0": "\ufffd"}
    return "".join(table.get(c, c) for c in s)


def _js(*args: Any) -> str:
    s = _eval_args(args)
    table = {
        "\\": "\\\\",
        "'": "\\'",
        '"': '\\"',
        "<": "\\u003C",
        ">": "\\u003E",
        "&": "\\u0026",
        "=": "\\u003D",
    }
    out: list[str] = []
    for c in s:
        if c in table:
            out.append(table[c])
        elif ord(c) < 0x20 or (ord(c) >= 0x80 and not c.isprintable()):
            out.append(f"\\u{ord(c):04X}")
        else:
            out.append(c)
    return "".join(out)


def _urlquery(*args: Any) -> str:
    # url.QueryEscape: space becomes "+", only letters, digits and -_.~ stay as they are.
    return urllib.parse.quote_plus(_eval_args(args), safe="")


# name -> (function, minimum argument count, maximum argument count or None for variadic)
BUILTINS: dict[str, tuple[Callable[..., Any], int, int | None]] = {
    "and": (lambda *a: a[-1], 1, None),  # evaluated lazily in Exec.call
    "or": (lambda *a: a[-1], 1, None),
    "not": (lambda a: not is_true(a), 1, 1),
    "len": (_len, 1, 1),
    "index": (_index, 1, None),
    "slice": (_slice, 1, None),
    "eq": (_eq, 1, None),
    "ne": (lambda a, b: not _eq(a, b), 2, 2),
    "lt": (_lt, 2, 2),
    "le": (_le, 2, 2),
    "gt": (lambda a, b: not _le(a, b), 2, 2),
    "ge": (lambda a, b: not _lt(a, b), 2, 2),
    "print": (lambda *a: _sprint(a), 0, None),
    "println": (lambda *a: _sprint(a, always_space=True) + "\n", 0, None),
    "printf": (_sprintf, 1, None),
    "urlquery": (_urlquery, 0, None),
    "html": (_html, 0, None),
    "js": (_js, 0, None),
    "base_url": (lambda: "", 0, 0),  # replaced per render
    "current_year": (lambda: "", 0, 0),
}
FUNC_NAMES = frozenset(BUILTINS)
