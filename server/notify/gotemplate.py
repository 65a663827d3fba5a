"""A Go `text/template` subset, enough to render Coder's notification templates the way Coder does.

Coder renders every title, body and action with `text/template`, option `missingkey=invalid`, against a
`types.MessagePayload` (`coderd/notifications/render/gotmpl.go`). This module reproduces the parts of that
engine the bundled templates use, with Go's semantics:

- actions: text, `{{pipeline}}`, comments, trim markers `{{- ` and ` -}}`, `if`/`else if`/`else`, `with`/
  `else with`/`else`, `range` (lists, maps in key order, ints; `$i, $v :=`; `else`; `break`, `continue`),
  variables (`$`, `$x := ...`, `$x = ...`), pipelines with `|`, parenthesised pipelines and field chains;
- builtins: `and or not len index slice eq ne lt le gt ge print printf println urlquery html js`, plus
  Coder's helpers `base_url` and `current_year`;
- values: a missing map key is Go's invalid value and prints `<no value>`; truth is Go's (empty string,
  0, nil and empty collections are false); `eq` and friends refuse to compare different kinds.

The data is Coder's payload shape: a mapping with `Labels` (strings), `Data` (decoded JSON), `UserName`,
`UserUsername`, `UserEmail`, `UserID`, `NotificationName`, ... The root is a Go struct, so an unknown
top-level field is an error, while unknown keys inside `Labels` or `Data` render `<no value>`. Numbers in
`Data` behave as float64, as they do in Coder, which decodes the stored payload JSON before rendering.
`define`, `template` and `block` are not supported: no notification template uses them.
"""

from __future__ import annotations

import functools
import json
import math
import re
import urllib.parse
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

__all__ = [
    "GoTemplate",
    "TemplateError",
    "TemplateRenderError",
    "TemplateSyntaxError",
    "render",
    "render_actions",
]

NO_VALUE = "<no value>"


class TemplateError(Exception):
    """Base class of the errors this module raises."""


class TemplateSyntaxError(TemplateError):
    """The template source does not parse. The message reads like Go's, with line and column."""

    def __init__(self, message: str, *, name: str, line: int, column: int, offset: int) -> None:
        super().__init__(f"template: {name}:{line}:{column}: {message}")
        self.message = message
        self.name = name
        self.line = line
        self.column = column
        self.offset = offset


class TemplateRenderError(TemplateError):
    """Executing the template failed, e.g. comparing a number with a string or ranging over a string."""


# --------------------------------------------------------------------------------------------------
# Values


class _Missing:
    """Go's invalid `reflect.Value`: what a missing map key evaluates to under `missingkey=invalid`."""

    _instance: _Missing | None = None

    def __new__(cls) -> _Missing:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "<missing>"


MISSING: Any = _Missing()
_NO_FINAL: Any = object()  # "no value piped in from the previous command"


class _StringMap(dict[str, Any]):
    """`map[string]string` (the payload's Labels): indexing a missing key gives "" rather than nil."""


@dataclass(frozen=True, slots=True)
class _Payload:
    """The root value, Coder's `types.MessagePayload` struct."""

    fields: Mapping[str, Any]


# Exported fields of types.MessagePayload and the zero value each has when the caller leaves it out.
_PAYLOAD_ZERO: dict[str, Callable[[], Any]] = {
    "Version": str,
    "NotificationName": str,
    "NotificationTemplateID": str,
    "UserID": str,
    "UserEmail": str,
    "UserName": str,
    "UserUsername": str,
    "Actions": list,
    "Labels": _StringMap,
    "Data": dict,
    "Targets": list,
}


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _from_data(v: Any) -> Any:
    """A value read out of the payload. JSON numbers are float64 in Go once the payload is decoded."""
    if _is_int(v):
        try:
            return float(v)
        except OverflowError as exc:
            raise TemplateRenderError(f"number {v} does not fit a float64") from exc
    return v


def _go_type(v: Any) -> str:
    """The Go type name of a value, for error messages."""
    if v is MISSING:
        return "<nil>"
    if v is None:
        return "interface {}"
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int):
        return "int"
    if isinstance(v, float):
        return "float64"
    if isinstance(v, str):
        return "string"
    if isinstance(v, _StringMap):
        return "map[string]string"
    if isinstance(v, Mapping):
        return "map[string]interface {}"
    if isinstance(v, _Payload):
        return "types.MessagePayload"
    if isinstance(v, list | tuple):
        return "[]interface {}"
    return type(v).__name__


def _go_float(f: float) -> str:
    """Format a float64 as Go's `fmt.Sprint` does: shortest digits, %e form below 1e-4 and from 1e6 up."""
    if math.isnan(f):
        return "NaN"
    if math.isinf(f):
        return "+Inf" if f > 0 else "-Inf"
    if f == 0:
        return "-0" if math.copysign(1.0, f) < 0 else "0"
    sign, digit_tuple, exponent = Decimal(repr(f)).normalize().as_tuple()
    digits = "".join(map(str, digit_tuple))
    assert isinstance(exponent, int)
    point = len(digits) + exponent  # position of the decimal point relative to the digits
    exp = point - 1
    neg = "-" if sign else ""
    # strconv's shortest 'g' (what %v uses) decides with precision 6, so 1234567.0 prints 1.234567e+06.
    if exp < -4 or exp >= 6:
        mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        return f"{neg}{mantissa}e{'-' if exp < 0 else '+'}{abs(exp):02d}"
    if point <= 0:
        return f"{neg}0.{'0' * -point}{digits}"
    if point >= len(digits):
        return f"{neg}{digits}{'0' * (point - len(digits))}"
    return f"{neg}{digits[:point]}.{digits[point:]}"


def _fmt(v: Any, nested: bool = False) -> str:
    """`fmt.Sprint` of one value."""
    if v is MISSING:
        return NO_VALUE if not nested else "<nil>"
    if v is None:
        return "<nil>"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        # Inside a container an int came from the payload JSON, so Go holds it as a float64.
        return _go_float(float(v)) if nested else str(v)
    if isinstance(v, float):
        return _go_float(v)
    if isinstance(v, str):
        return v
    if isinstance(v, Mapping):
        items = sorted(v.items(), key=lambda kv: str(kv[0]))
        return "map[" + " ".join(f"{_fmt(k, True)}:{_fmt(x, True)}" for k, x in items) + "]"
    if isinstance(v, list | tuple):
        return "[" + " ".join(_fmt(x, True) for x in v) + "]"
    if isinstance(v, _Payload):
        return "{" + " ".join(_fmt(v.fields.get(k, MISSING), True) for k in _PAYLOAD_ZERO) + "}"
    return str(v)


def _truth(v: Any) -> bool:
    """Go's `isTrue`: the zero value of any type is false."""
    if v is MISSING or v is None:
        return False
    if isinstance(v, bool):
        return v
    if isinstance(v, int | float):
        return v != 0
    if isinstance(v, str | Mapping | list | tuple):
        return len(v) > 0
    return True


# --------------------------------------------------------------------------------------------------
# Lexer

_SPACE = " \t\r\n"
_KEYWORDS = frozenset({"if", "else", "end", "range", "with", "define", "template", "block", "break", "continue"})
_NUMBER_RE = re.compile(
    r"[+-]?(?:0[xX][0-9a-fA-F_]*(?:\.[0-9a-fA-F_]*)?(?:[pP][+-]?[0-9_]+)?"
    r"|0[oO][0-7_]*|0[bB][01_]*"
    r"|[0-9_]*(?:\.[0-9_]*)?(?:[eE][+-]?[0-9_]+)?)i?"
)


@dataclass(frozen=True, slots=True)
class _Tok:
    kind: str  # text ldelim rdelim space field var ident keyword bool nil dot number string char
    # lparen rparen pipe declare assign charconst eof
    val: str
    pos: int


def _alnum(c: str) -> bool:
    return c == "_" or c.isalpha() or c.isdecimal()


class _Lexer:
    def __init__(self, src: str, name: str) -> None:
        self.src = src
        self.name = name
        self.toks: list[_Tok] = []

    def error(self, msg: str, pos: int) -> TemplateSyntaxError:
        return _syntax_error(self.src, self.name, msg, pos)

    def at_right_delim(self, p: int) -> int:
        """0 if no closing delimiter starts at p, else its length (2, or 4 with a trim marker)."""
        s = self.src
        if s.startswith("}}", p):
            return 2
        if p + 1 < len(s) and s[p] in _SPACE and s[p + 1] == "-" and s.startswith("}}", p + 2):
            return 4
        return 0

    def at_terminator(self, p: int) -> bool:
        s = self.src
        return p >= len(s) or s[p] in _SPACE or s[p] in ".,|:)(" or s.startswith("}}", p)

    def run(self) -> list[_Tok]:
        s, n = self.src, len(self.src)
        pos = 0
        trim_next = False
        while True:
            start = s.find("{{", pos)
            text = s[pos : n if start < 0 else start]
            trim_left = start >= 0 and s.startswith("-", start + 2) and start + 3 < n and s[start + 3] in _SPACE
            if trim_next:
                text = text.lstrip(_SPACE)
            if trim_left:
                text = text.rstrip(_SPACE)
            if text:
                self.toks.append(_Tok("text", text, pos))
            if start < 0:
                self.toks.append(_Tok("eof", "", n))
                return self.toks
            p = start + (4 if trim_left else 2)
            if s.startswith("/*", p):
                end = s.find("*/", p + 2)
                if end < 0:
                    raise self.error("unclosed comment", start)
                width = self.at_right_delim(end + 2)
                if not width:
                    raise self.error("comment ends before closing delimiter", start)
                trim_next = width == 4
                pos = end + 2 + width
                continue
            self.toks.append(_Tok("ldelim", "{{", start))
            pos, trim_next = self.inside_action(p)

    def inside_action(self, p: int) -> tuple[int, bool]:
        s, n = self.src, len(self.src)
        depth = 0
        while True:
            width = self.at_right_delim(p)
            if width:
                if depth:
                    raise self.error("unclosed left paren", p)
                self.toks.append(_Tok("rdelim", "}}", p))
                return p + width, width == 4
            if p >= n:
                raise self.error("unclosed action", p)
            c = s[p]
            if c in _SPACE:
                q = p
                while q < n and s[q] in _SPACE:
                    q += 1
                if s.startswith("-}}", q):
                    q -= 1  # the last space belongs to the trim marker
                if q > p:
                    self.toks.append(_Tok("space", s[p:q], p))
                p = q
            elif c == "=":
                self.toks.append(_Tok("assign", "=", p))
                p += 1
            elif c == ":":
                if not s.startswith(":=", p):
                    raise self.error("expected :=", p)
                self.toks.append(_Tok("declare", ":=", p))
                p += 2
            elif c == "|":
                self.toks.append(_Tok("pipe", "|", p))
                p += 1
            elif c == '"':
                q = p + 1
                while True:
                    if q >= n or s[q] == "\n":
                        raise self.error("unterminated quoted string", p)
                    if s[q] == "\\":
                        if q + 1 >= n or s[q + 1] == "\n":
                            raise self.error("unterminated quoted string", p)
                        q += 2
                        continue
                    if s[q] == '"':
                        break
                    q += 1
                self.toks.append(_Tok("string", s[p : q + 1], p))
                p = q + 1
            elif c == "`":
                q = s.find("`", p + 1)
                if q < 0:
                    raise self.error("unterminated raw quoted string", p)
                self.toks.append(_Tok("string", s[p : q + 1], p))
                p = q + 1
            elif c == "'":
                q = p + 1
                while True:
                    if q >= n or s[q] == "\n":
                        raise self.error("unterminated character constant", p)
                    if s[q] == "\\":
                        q += 2
                        continue
                    if s[q] == "'":
                        break
                    q += 1
                self.toks.append(_Tok("charconst", s[p : q + 1], p))
                p = q + 1
            elif c == "$" or (c == "." and not (p + 1 < n and s[p + 1].isdigit())):
                q = p + 1
                while q < n and _alnum(s[q]):
                    q += 1
                if not self.at_terminator(q):
                    raise self.error(f"bad character {_q(s[q])}", q)
                if c == "$":
                    self.toks.append(_Tok("var", s[p:q], p))
                else:
                    self.toks.append(_Tok("field" if q > p + 1 else "dot", s[p:q], p))
                p = q
            elif c in "+-." or c.isdigit():
                m = _NUMBER_RE.match(s, p)
                q = m.end() if m else p
                if q == p or (q < n and _alnum(s[q])):
                    raise self.error(f"bad number syntax: {_q(s[p : max(q, p + 1)])}", p)
                self.toks.append(_Tok("number", s[p:q], p))
                p = q
            elif _alnum(c):
                q = p
                while q < n and _alnum(s[q]):
                    q += 1
                if not self.at_terminator(q):
                    raise self.error(f"bad character {_q(s[q])}", q)
                word = s[p:q]
                kind = (
                    "keyword"
                    if word in _KEYWORDS
                    else "bool"
                    if word in ("true", "false")
                    else "nil"
                    if word == "nil"
                    else "ident"
                )
                self.toks.append(_Tok(kind, word, p))
                p = q
            elif c == "(":
                depth += 1
                self.toks.append(_Tok("lparen", c, p))
                p += 1
            elif c == ")":
                depth -= 1
                if depth < 0:
                    raise self.error("unexpected right paren", p)
                self.toks.append(_Tok("rparen", c, p))
                p += 1
            elif c.isascii() and c.isprintable():
                self.toks.append(_Tok("char", c, p))
                p += 1
            else:
                raise self.error(f"unrecognized character in action: {_q(c)}", p)


def _q(text: str) -> str:
    """Go's %q, near enough for error messages."""
    return json.dumps(text, ensure_ascii=False)


def _syntax_error(src: str, name: str, msg: str, pos: int) -> TemplateSyntaxError:
    line = src.count("\n", 0, pos) + 1
    column = pos - (src.rfind("\n", 0, pos) + 1) + 1
    return TemplateSyntaxError(msg, name=name, line=line, column=column, offset=pos)


# --------------------------------------------------------------------------------------------------
# Syntax tree


@dataclass(slots=True)
class _Node:
    pos: int
    end: int


@dataclass(slots=True)
class _Text(_Node):
    text: str


@dataclass(slots=True)
class _Pipe(_Node):
    decl: list[str]
    is_assign: bool
    cmds: list[_Command]


@dataclass(slots=True)
class _Command(_Node):
    args: list[_Node]


@dataclass(slots=True)
class _Action(_Node):
    pipe: _Pipe


@dataclass(slots=True)
class _Control(_Node):
    kind: str  # "if", "with" or "range"
    pipe: _Pipe
    body: list[_Node]
    else_body: list[_Node] | None


@dataclass(slots=True)
class _Break(_Node):
    pass


@dataclass(slots=True)
class _Continue(_Node):
    pass


@dataclass(slots=True)
class _FieldRef(_Node):
    idents: list[str]


@dataclass(slots=True)
class _VarRef(_Node):
    name: str
    idents: list[str]


@dataclass(slots=True)
class _Chain(_Node):
    node: _Node
    idents: list[str]


@dataclass(slots=True)
class _FuncRef(_Node):
    name: str


@dataclass(slots=True)
class _DotRef(_Node):
    pass


@dataclass(slots=True)
class _NilLit(_Node):
    pass


@dataclass(slots=True)
class _Const(_Node):
    value: Any
    literal: str  # "bool", "number" or "string": decides what may start a later pipeline stage


_ESCAPES = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v", "\\": "\\"}


def _unquote(text: str) -> str:
    """Go's strconv.Unquote for "..." and `...` string literals."""
    if text[0] == "`":
        return text[1:-1]
    body, out, i = text[1:-1], [], 0
    while i < len(body):
        c = body[i]
        if c != "\\":
            out.append(c)
            i += 1
            continue
        e = body[i + 1]
        if e in _ESCAPES or e in "\"'":
            out.append(_ESCAPES.get(e, e))
            i += 2
        elif e in "xuU":
            width = {"x": 2, "u": 4, "U": 8}[e]
            digits = body[i + 2 : i + 2 + width]
            if len(digits) != width or not all(d in "0123456789abcdefABCDEF" for d in digits):
                raise ValueError("invalid syntax")
            out.append(chr(int(digits, 16)))
            i += 2 + width
        elif e in "01234567":
            digits = body[i + 1 : i + 4]
            if len(digits) != 3 or not all(d in "01234567" for d in digits):
                raise ValueError("invalid syntax")
            out.append(chr(int(digits, 8)))
            i += 4
        else:
            raise ValueError("invalid syntax")
    return "".join(out)


def _parse_number(text: str) -> int | float:
    """The value Go's `idealConstant` gives a number literal: float64 if it has a point or exponent."""
    if text.endswith("i"):
        raise ValueError("complex numbers are not supported")
    if text.startswith("'"):
        ch = _unquote('"' + text[1:-1].replace('"', '\\"') + '"') if "\\" in text else text[1:-1]
        if len(ch) != 1:
            raise ValueError(f"malformed character constant: {text}")
        return ord(ch)
    plain = text.lstrip("+-")
    is_hex = plain[:2] in ("0x", "0X")
    if any(c in plain for c in ("pP" if is_hex else ".eEpP")):
        return float.fromhex(text) if is_hex else float(text)
    # Go still reads a leading 0 as octal (0755); Python's int(x, 0) refuses that form.
    value = int(text.replace("_", ""), 8) if re.fullmatch(r"[+-]?0[0-7_]+", text) else int(text, 0)
    if not -(2**63) <= value < 2**63:
        raise ValueError(f"{text} overflows int")
    return value


class _Parser:
    def __init__(self, src: str, name: str, funcs: frozenset[str]) -> None:
        self.src = src
        self.name = name
        self.funcs = funcs
        self.toks = _Lexer(src, name).run()
        self.i = 0
        self.vars: list[str] = ["$"]
        self.range_depth = 0

    # token helpers -------------------------------------------------------------------------------

    def error(self, msg: str, pos: int) -> TemplateSyntaxError:
        return _syntax_error(self.src, self.name, msg, pos)

    def next(self) -> _Tok:
        tok = self.toks[self.i]
        self.i += 1
        return tok

    def peek(self) -> _Tok:
        return self.toks[self.i]

    def next_non_space(self) -> _Tok:
        tok = self.next()
        while tok.kind == "space":
            tok = self.next()
        return tok

    def peek_non_space(self) -> _Tok:
        j = self.i
        while self.toks[j].kind == "space":
            j += 1
        return self.toks[j]

    def expect_rdelim(self, context: str) -> _Tok:
        tok = self.next_non_space()
        if tok.kind != "rdelim":
            raise self.unexpected(tok, context)
        return tok

    def unexpected(self, tok: _Tok, context: str) -> TemplateSyntaxError:
        if tok.kind == "eof":
            return self.error("unexpected EOF", tok.pos)
        shown = "}}" if tok.kind == "rdelim" else tok.val
        return self.error(f"unexpected {_q(shown)} in {context}", tok.pos)

    # structure -----------------------------------------------------------------------------------

    def parse(self) -> list[_Node]:
        nodes, term, tok = self.item_list()
        if term != "eof":
            raise self.error(f"unexpected {{{{{term}}}}}", tok.pos)
        return nodes

    def item_list(self) -> tuple[list[_Node], str, _Tok]:
        """Items up to `{{end}}`, `{{else}}` or EOF; returns them, which one ended the list, and its token."""
        nodes: list[_Node] = []
        while True:
            tok = self.next()
            if tok.kind == "text":
                nodes.append(_Text(tok.pos, tok.pos + len(tok.val), tok.val))
            elif tok.kind == "eof":
                return nodes, "eof", tok
            elif tok.kind == "ldelim":
                word = self.peek_non_space()
                if word.kind != "keyword":
                    pipe = self.pipeline("command", "rdelim")
                    nodes.append(_Action(tok.pos, pipe.end, pipe))
                    continue
                self.next_non_space()
                if word.val == "end":
                    self.expect_rdelim("end")
                    return nodes, "end", word
                if word.val == "else":
                    follow = self.peek_non_space()
                    if not (follow.kind == "keyword" and follow.val in ("if", "with")):
                        self.expect_rdelim("else")
                    return nodes, "else", word
                if word.val in ("if", "with", "range"):
                    nodes.append(self.control(word))
                elif word.val in ("break", "continue"):
                    self.expect_rdelim(f"{{{{{word.val}}}}}")
                    if not self.range_depth:
                        raise self.error(f"{{{{{word.val}}}}} outside {{{{range}}}}", word.pos)
                    cls = _Break if word.val == "break" else _Continue
                    nodes.append(cls(tok.pos, word.pos + len(word.val)))
                else:
                    raise self.error(f"{{{{{word.val}}}}} is not supported", word.pos)
            else:
                raise self.unexpected(tok, "input")

    def control(self, word: _Tok) -> _Control:
        """`if`, `with` or `range` (keyword already read) through its `{{end}}`."""
        kind = word.val
        mark = len(self.vars)
        pipe = self.pipeline(kind, "rdelim")
        if kind == "range":
            self.range_depth += 1
        body, term, term_tok = self.item_list()
        if kind == "range":
            self.range_depth -= 1
        else_body: list[_Node] | None = None
        if term == "eof":
            raise self.error("unexpected EOF", term_tok.pos)
        if term == "else":
            follow = self.peek_non_space()
            if follow.kind == "keyword" and follow.val in ("if", "with"):
                # {{else if b}} is {{else}}{{if b}}...{{end}} sharing the outer {{end}}.
                if follow.val != kind:
                    raise self.unexpected(follow, "input")
                else_body = [self.control(self.next_non_space())]
            else:
                else_body, term, term_tok = self.item_list()
                if term != "end":
                    raise self.error(
                        "unexpected EOF" if term == "eof" else "expected end; found {{else}}", term_tok.pos
                    )
        del self.vars[mark:]
        return _Control(word.pos, term_tok.pos, kind, pipe, body, else_body)

    def pipeline(self, context: str, end: str) -> _Pipe:
        start = self.peek_non_space().pos
        decl: list[str] = []
        is_assign = False
        while self.peek_non_space().kind == "var":
            save = self.i
            var = self.next_non_space()
            follow = self.peek_non_space()
            if follow.kind in ("declare", "assign"):
                self.next_non_space()
                is_assign = follow.kind == "assign"
                decl.append(var.val)
                self.vars.append(var.val)
                break
            if follow.kind == "char" and follow.val == ",":
                self.next_non_space()
                decl.append(var.val)
                self.vars.append(var.val)
                if context == "range" and len(decl) < 2:
                    if self.peek_non_space().kind in ("var", "rdelim", "rparen"):
                        continue
                    raise self.error("range can only initialize variables", follow.pos)
                raise self.error(f"too many declarations in {context}", follow.pos)
            self.i = save  # a variable used as an operand, not declared
            break
        cmds: list[_Command] = []
        while True:
            tok = self.next_non_space()
            if tok.kind == end:
                if not cmds:
                    raise self.error(f"missing value for {context}", tok.pos)
                for stage, cmd in enumerate(cmds[1:], start=2):
                    first = cmd.args[0]
                    if isinstance(first, _Const | _DotRef | _NilLit):
                        raise self.error(f"non executable command in pipeline stage {stage}", first.pos)
                return _Pipe(start, tok.pos, decl, is_assign, cmds)
            if tok.kind in (
                "bool",
                "charconst",
                "dot",
                "field",
                "ident",
                "number",
                "nil",
                "string",
                "var",
                "lparen",
            ):
                self.i -= 1
                cmds.append(self.command())
            else:
                raise self.unexpected(tok, context)

    def command(self) -> _Command:
        start = self.peek_non_space().pos
        args: list[_Node] = []
        while True:
            while self.peek().kind == "space":
                self.i += 1
            operand = self.operand()
            if operand is not None:
                args.append(operand)
            tok = self.next()
            if tok.kind == "space":
                continue
            if tok.kind in ("rdelim", "rparen"):
                self.i -= 1
            elif tok.kind != "pipe":
                raise self.unexpected(tok, "operand")
            break
        if not args:
            raise self.error("empty command", start)
        return _Command(start, args[-1].end, args)

    def operand(self) -> _Node | None:
        node = self.term()
        if node is None or self.peek().kind != "field":
            return node
        idents: list[str] = []
        while self.peek().kind == "field":
            tok = self.next()
            idents.append(tok.val[1:])
            end = tok.pos + len(tok.val)
        if isinstance(node, _FieldRef):
            return _FieldRef(node.pos, end, node.idents + idents)
        if isinstance(node, _VarRef):
            return _VarRef(node.pos, end, node.name, node.idents + idents)
        if isinstance(node, _Const | _NilLit | _DotRef):
            raise self.error(f"unexpected . after term {_q(self.src[node.pos : node.end])}", node.end)
        return _Chain(node.pos, end, node, idents)

    def term(self) -> _Node | None:
        tok = self.next_non_space()
        end = tok.pos + len(tok.val)
        kind = tok.kind
        if kind == "ident":
            if tok.val not in self.funcs:
                raise self.error(f"function {_q(tok.val)} not defined", tok.pos)
            return _FuncRef(tok.pos, end, tok.val)
        if kind == "dot":
            return _DotRef(tok.pos, end)
        if kind == "nil":
            return _NilLit(tok.pos, end)
        if kind == "var":
            name, *rest = tok.val.split(".")
            if name not in self.vars:
                raise self.error(f"undefined variable {_q(name)}", tok.pos)
            return _VarRef(tok.pos, end, name, rest)
        if kind == "field":
            return _FieldRef(tok.pos, end, [tok.val[1:]])
        if kind == "bool":
            return _Const(tok.pos, end, tok.val == "true", "bool")
        if kind in ("number", "charconst"):
            try:
                return _Const(tok.pos, end, _parse_number(tok.val), "number")
            except ValueError as exc:
                msg = str(exc) if "overflows" in str(exc) or "complex" in str(exc) else None
                raise self.error(msg or f"illegal number syntax: {_q(tok.val)}", tok.pos) from None
        if kind == "string":
            try:
                return _Const(tok.pos, end, _unquote(tok.val), "string")
            except (ValueError, IndexError):
                raise self.error(f"invalid string literal {tok.val}", tok.pos) from None
        if kind == "lparen":
            pipe = self.pipeline("parenthesized pipeline", "rparen")
            pipe.pos, pipe.end = tok.pos, pipe.end + 1
            return pipe
        self.i -= 1
        return None


# --------------------------------------------------------------------------------------------------
# Builtin functions (each takes the evaluated arguments; errors are plain messages)


class _FuncError(Exception):
    pass


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


def _is_nil(v: Any) -> bool:
    return v is MISSING or v is None


def _eq(*args: Any) -> bool:
    if len(args) < 2:
        raise _FuncError("missing argument for comparison")
    a1, k1 = args[0], _basic_kind(args[0])
    for a2 in args[1:]:
        k2 = _basic_kind(a2)
        if k1 != k2:
            if not _is_nil(a1) and not _is_nil(a2):
                raise _FuncError(f"incompatible types for comparison: {_go_type(a1)} and {_go_type(a2)}")
            truth = False
        elif k1 is not None:
            truth = a1 == a2
        elif _is_nil(a1) or _is_nil(a2):
            truth = _is_nil(a1) and _is_nil(a2)
        else:
            raise _FuncError(f"non-comparable type {_fmt(a2)}: {_go_type(a2)}")
        if truth:
            return True
    return False


def _lt(a: Any, b: Any) -> bool:
    k1, k2 = _basic_kind(a), _basic_kind(b)
    if k1 is None or k2 is None or k1 == "bool":
        raise _FuncError("invalid type for comparison")
    if k1 != k2:
        raise _FuncError(f"incompatible types for comparison: {_go_type(a)} and {_go_type(b)}")
    return bool(a < b)


def _le(a: Any, b: Any) -> bool:
    return _lt(a, b) or _eq(a, b)


def _len(v: Any) -> int:
    if isinstance(v, str):
        return len(v.encode())  # Go's len of a string counts bytes
    if isinstance(v, Mapping | list | tuple):
        return len(v)
    if _is_nil(v):
        raise _FuncError("len of nil pointer")
    raise _FuncError(f"len of type {_go_type(v)}")


def _index_arg(i: Any, size: int) -> int:
    if _is_nil(i):
        raise _FuncError("cannot index slice/array with nil")
    if not _is_int(i):
        raise _FuncError(f"cannot index slice/array with type {_go_type(i)}")
    if i < 0 or i > size:
        raise _FuncError(f"index out of range: {i}")
    return int(i)


def _index(item: Any, *indexes: Any) -> Any:
    if _is_nil(item):
        raise _FuncError("index of untyped nil")
    for i in indexes:
        if item is None:
            raise _FuncError("index of nil pointer")
        if isinstance(item, list | tuple | str):
            x = _index_arg(i, len(item))
            seq: Sequence[Any] = item.encode() if isinstance(item, str) else item
            if x >= len(seq):
                raise _FuncError(f"reflect: slice index out of range: {x}")
            item = seq[x] if isinstance(item, str) else _from_data(seq[x])
        elif isinstance(item, Mapping):
            if _is_nil(i):
                raise _FuncError("value is nil; should be of type string")
            if not isinstance(i, str):
                raise _FuncError(f"value has type {_go_type(i)}; should be string")
            # A missing key gives the zero value of the element type: "" for Labels, nil for Data.
            item = _from_data(item[i]) if i in item else "" if isinstance(item, _StringMap) else None
        else:
            raise _FuncError(f"can't index item of type {_go_type(item)}")
    return item


def _slice(item: Any, *indexes: Any) -> Any:
    if _is_nil(item):
        raise _FuncError("slice of untyped nil")
    if len(indexes) > 3:
        raise _FuncError(f"too many slice indexes: {len(indexes)}")
    if not isinstance(item, list | tuple | str):
        raise _FuncError(f"can't slice item of type {_go_type(item)}")
    if isinstance(item, str) and len(indexes) == 3:
        raise _FuncError("cannot 3-index slice a string")
    seq = item.encode() if isinstance(item, str) else list(item)
    idx = [0, len(seq), len(seq)]
    for n, i in enumerate(indexes):
        idx[n] = _index_arg(i, len(seq))
    if idx[0] > idx[1]:
        raise _FuncError(f"invalid slice index: {idx[0]} > {idx[1]}")
    if len(indexes) == 3 and idx[1] > idx[2]:
        raise _FuncError(f"invalid slice index: {idx[1]} > {idx[2]}")
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
        out.append("<nil>" if _is_nil(a) else _fmt(a))
        prev_string = is_string
    return "".join(out)


def _eval_args(args: Sequence[Any]) -> str:
    """text/template's evalArgs: like Sprint, but a nil argument prints `<no value>`."""
    if len(args) == 1 and isinstance(args[0], str):
        return args[0]
    return _sprint([NO_VALUE if _is_nil(a) else a for a in args])


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
        bad = f"%!{verb}({_go_type(a)}={_fmt(a)})"
        if verb == "v" or (verb == "s" and kind == "string"):
            text = _fmt(a) if not _is_nil(a) else "<nil>"
            if verb == "s" and prec:
                text = text[: int(prec)]
        elif verb == "s":
            text = bad
        elif verb == "q" and kind == "string":
            text = json.dumps(a, ensure_ascii=False)
        elif verb == "t" and kind == "bool":
            text = _fmt(a)
        elif verb in "dxXc" and kind == "int":
            spec = {"d": "d", "x": "x", "X": "X"}.get(verb)
            text = chr(a) if verb == "c" else format(a, ("+" if "+" in flags else "") + str(spec))
        elif verb in "xX" and kind == "string":
            text = a.encode().hex()
            text = text.upper() if verb == "X" else text
        elif verb in "feEgG" and kind == "float":
            p = "" if prec is None else "." + (prec or "0")
            if verb in "gG" and prec is None:
                text = _go_float(a)
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
        extra = ", ".join(f"{_go_type(a)}={_fmt(a)}" for a in args[argi:])
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
_BUILTINS: dict[str, tuple[Callable[..., Any], int, int | None]] = {
    "and": (lambda *a: a[-1], 1, None),  # evaluated lazily in _Exec.call
    "or": (lambda *a: a[-1], 1, None),
    "not": (lambda a: not _truth(a), 1, 1),
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
_FUNC_NAMES = frozenset(_BUILTINS)


# --------------------------------------------------------------------------------------------------
# Execution


class _BreakSignal(Exception):
    pass


class _ContinueSignal(Exception):
    pass


@dataclass(slots=True)
class _Exec:
    tmpl: GoTemplate
    helpers: dict[str, str]
    out: list[str] = field(default_factory=list)
    vars: list[list[Any]] = field(default_factory=list)  # [name, value] pairs, innermost last

    def error(self, node: _Node, msg: str) -> TemplateRenderError:
        src = self.tmpl.source
        line = src.count("\n", 0, node.pos) + 1
        column = node.pos - (src.rfind("\n", 0, node.pos) + 1) + 1
        context = src[node.pos : node.end]
        name = self.tmpl.name
        return TemplateRenderError(f"template: {name}:{line}:{column}: executing {_q(name)} at <{context}>: {msg}")

    # walking -------------------------------------------------------------------------------------

    def walk(self, dot: Any, nodes: list[_Node]) -> None:
        for node in nodes:
            if isinstance(node, _Text):
                self.out.append(node.text)
            elif isinstance(node, _Action):
                value = self.pipeline(dot, node.pipe)
                if not node.pipe.decl:
                    self.out.append(_fmt(value))
            elif isinstance(node, _Control):
                if node.kind == "range":
                    self.walk_range(dot, node)
                else:
                    self.walk_if_or_with(dot, node)
            elif isinstance(node, _Break):
                raise _BreakSignal
            elif isinstance(node, _Continue):
                raise _ContinueSignal

    def walk_if_or_with(self, dot: Any, node: _Control) -> None:
        mark = len(self.vars)
        try:
            value = self.pipeline(dot, node.pipe)
            if _truth(value):
                self.walk(value if node.kind == "with" else dot, node.body)
            elif node.else_body is not None:
                self.walk(dot, node.else_body)
        finally:
            del self.vars[mark:]

    def walk_range(self, dot: Any, node: _Control) -> None:
        mark = len(self.vars)
        try:
            value = self.pipeline(dot, node.pipe)
            inner = len(self.vars)
            decl = node.pipe.decl
            items: list[tuple[Any, Any]]
            if isinstance(value, list | tuple):
                items = [(i, _from_data(v)) for i, v in enumerate(value)]
            elif isinstance(value, Mapping):
                items = [(k, _from_data(value[k])) for k in sorted(value, key=str)]
            elif _is_int(value):
                if len(decl) > 1:
                    raise self.error(node.pipe, f"can't use {value} to iterate over more than one variable")
                items = [(i, i) for i in range(value)]
            elif _is_nil(value):
                items = []
            else:
                raise self.error(node.pipe, f"range can't iterate over {_fmt(value)}")
            for key, elem in items:
                if decl:
                    self.vars[-1][1] = elem
                if len(decl) > 1:
                    self.vars[-2][1] = key
                try:
                    self.walk(elem, node.body)
                except _ContinueSignal:
                    pass
                except _BreakSignal:
                    break
                finally:
                    del self.vars[inner:]
            if not items and node.else_body is not None:
                self.walk(dot, node.else_body)
        finally:
            del self.vars[mark:]

    # evaluation ----------------------------------------------------------------------------------

    def pipeline(self, dot: Any, pipe: _Pipe) -> Any:
        value = _NO_FINAL
        for cmd in pipe.cmds:
            value = self.command(dot, cmd, value)
            if value is None:
                value = MISSING  # a nil interface{} is dug out to Go's invalid value
        for name in pipe.decl:
            if pipe.is_assign:
                self.set_var(pipe, name, value)
            else:
                self.vars.append([name, value])
        return value

    def set_var(self, node: _Node, name: str, value: Any) -> None:
        for pair in reversed(self.vars):
            if pair[0] == name:
                pair[1] = value
                return
        raise self.error(node, f"undefined variable: {name}")

    def var_value(self, node: _Node, name: str) -> Any:
        for pair in reversed(self.vars):
            if pair[0] == name:
                return pair[1]
        raise self.error(node, f"undefined variable: {name}")

    def not_a_function(self, cmd: _Command, final: Any) -> None:
        if len(cmd.args) > 1 or final is not _NO_FINAL:
            arg = cmd.args[0]
            raise self.error(arg, f"can't give argument to non-function {self.tmpl.source[arg.pos : arg.end]}")

    def command(self, dot: Any, cmd: _Command, final: Any) -> Any:
        first = cmd.args[0]
        if isinstance(first, _FieldRef):
            return self.field_chain(dot, dot, first, first.idents, cmd.args, final)
        if isinstance(first, _Chain):
            receiver = self.arg(dot, first.node)
            return self.field_chain(dot, receiver, first, first.idents, cmd.args, final)
        if isinstance(first, _FuncRef):
            return self.call(dot, first, cmd.args[1:], final)
        if isinstance(first, _VarRef):
            value = self.var_value(first, first.name)
            if not first.idents:
                self.not_a_function(cmd, final)
                return value
            return self.field_chain(dot, value, first, first.idents, cmd.args, final)
        self.not_a_function(cmd, final)
        if isinstance(first, _Pipe):
            return self.pipeline(dot, first)
        if isinstance(first, _Const):
            return first.value
        if isinstance(first, _DotRef):
            return dot
        raise self.error(first, "nil is not a command")

    def arg(self, dot: Any, node: _Node) -> Any:
        """Evaluate one argument (Go's evalArg for an interface{} or reflect.Value parameter)."""
        if isinstance(node, _DotRef):
            return dot
        if isinstance(node, _NilLit):
            return None
        if isinstance(node, _Const):
            return node.value
        if isinstance(node, _FieldRef):
            return self.field_chain(dot, dot, node, node.idents, [node], _NO_FINAL)
        if isinstance(node, _VarRef):
            value = self.var_value(node, node.name)
            if node.idents:
                value = self.field_chain(dot, value, node, node.idents, [node], _NO_FINAL)
            return value
        if isinstance(node, _Pipe):
            return self.pipeline(dot, node)
        if isinstance(node, _FuncRef):
            return self.call(dot, node, [], _NO_FINAL)
        if isinstance(node, _Chain):
            receiver = self.arg(dot, node.node)
            return self.field_chain(dot, receiver, node, node.idents, [node], _NO_FINAL)
        raise self.error(node, "can't handle argument")  # pragma: no cover - the parser allows no other

    def field_chain(
        self, dot: Any, receiver: Any, node: _Node, idents: list[str], args: list[_Node], final: Any
    ) -> Any:
        for ident in idents[:-1]:
            receiver = self.field(node, ident, False, receiver)
        has_args = len(args) > 1 or final is not _NO_FINAL
        return self.field(node, idents[-1], has_args, receiver)

    def field(self, node: _Node, name: str, has_args: bool, receiver: Any) -> Any:
        if receiver is MISSING:
            return MISSING  # missingkey=invalid: a field of an invalid value is invalid too
        if receiver is None:
            raise self.error(node, f"nil pointer evaluating interface {{}}.{name}")
        if isinstance(receiver, _Payload):
            if name not in _PAYLOAD_ZERO:
                raise self.error(node, f"can't evaluate field {name} in type types.MessagePayload")
            if has_args:
                raise self.error(node, f"{name} has arguments but cannot be invoked as function")
            return receiver.fields[name]
        if isinstance(receiver, Mapping):
            if has_args:
                raise self.error(node, f"{name} is not a method but has arguments")
            return _from_data(receiver[name]) if name in receiver else MISSING
        raise self.error(node, f"can't evaluate field {name} in type {_go_type(receiver)}")

    def call(self, dot: Any, fn: _FuncRef, args: list[_Node], final: Any) -> Any:
        name = fn.name
        impl, least, most = _BUILTINS[name]
        count = len(args) + (final is not _NO_FINAL)
        if count < least or (most is not None and count > most):
            want = f"at least {least}" if most is None else str(most)
            raise self.error(fn, f"wrong number of args for {name}: want {want} got {count}")
        if name in ("and", "or"):
            # Go evaluates and/or lazily, stopping at the first argument that decides the result.
            value: Any = MISSING
            for node in args:
                value = self.arg(dot, node)
                if _truth(value) == (name == "or"):
                    return value
            return final if final is not _NO_FINAL else value
        if name in self.helpers:
            return self.helpers[name]
        values = [self.arg(dot, node) for node in args]
        if final is not _NO_FINAL:
            values.append(final)
        if name == "printf" and not isinstance(values[0], str):
            raise self.error(fn, f"wrong type for value; expected string; got {_go_type(values[0])}")
        try:
            return impl(*values)
        except _FuncError as exc:
            raise self.error(fn, f"error calling {name}: {exc}") from None


class GoTemplate:
    """One parsed template. Parse once, render many times; rendering keeps no state on the object."""

    __slots__ = ("_nodes", "name", "source")

    def __init__(self, source: str, name: str = "") -> None:
        self.source = source
        self.name = name
        try:
            self._nodes = _Parser(source, name, _FUNC_NAMES).parse()
        except RecursionError:
            raise _syntax_error(source, name, "template nested too deeply", 0) from None

    def render(self, data: Mapping[str, Any], *, base_url: str, current_year: int | None = None) -> str:
        """Execute against Coder's payload shape; `base_url` and `current_year` back the helper funcs."""
        year = current_year if current_year is not None else datetime.now(UTC).year
        fields: dict[str, Any] = {k: zero() for k, zero in _PAYLOAD_ZERO.items()}
        fields.update(data)
        labels = fields.get("Labels")
        fields["Labels"] = _StringMap(labels) if isinstance(labels, Mapping) else _StringMap()
        if fields.get("Data") is None:
            fields["Data"] = {}
        root = _Payload(fields)
        state = _Exec(self, {"base_url": base_url, "current_year": str(year)})
        state.vars.append(["$", root])
        try:
            state.walk(root, self._nodes)
        except RecursionError:
            raise TemplateRenderError(f"template: {self.name}: data nested too deeply") from None
        return "".join(state.out)


@functools.lru_cache(maxsize=512)
def _compiled(source: str) -> GoTemplate:
    return GoTemplate(source, "text")


def render(source: str, data: Mapping[str, Any], *, base_url: str, current_year: int | None = None) -> str:
    """Render a title or body template as Coder's `render.GoTemplate` does, caching the parsed form."""
    return _compiled(source).render(data, base_url=base_url, current_year=current_year)


def render_actions(
    actions_json: str, data: Mapping[str, Any], *, base_url: str, current_year: int | None = None
) -> list[dict[str, str]]:
    """Render a template's actions (`[{"url": ..., "label": ...}]` jsonb text) into `[{"label", "url"}]`.

    Coder runs the whole jsonb text through the template engine and decodes the result. Rendering each
    decoded string instead gives the same output for every payload Coder accepts, and a label containing
    a quote cannot break the JSON.
    """
    try:
        actions = json.loads(actions_json)
    except ValueError as exc:
        raise TemplateRenderError(f"template actions are not valid JSON: {exc}") from None
    if not isinstance(actions, list):
        raise TemplateRenderError("template actions must be a JSON array")
    out: list[dict[str, str]] = []
    for action in actions:
        if not isinstance(action, dict):
            raise TemplateRenderError("each template action must be a JSON object")
        url, label = action.get("url", ""), action.get("label", "")
        if not isinstance(url, str) or not isinstance(label, str):
            raise TemplateRenderError("template action url and label must be strings")
        out.append(
            {
                "label": render(label, data, base_url=base_url, current_year=current_year),
                "url": render(url, data, base_url=base_url, current_year=current_year),
            }
        )
    return out
