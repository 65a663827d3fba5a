"""The syntax tree and the parser: tokens to nodes (Go's text/template/parse/node.go and parse.go)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from server.notify.gotemplate.errors import TemplateSyntaxError
from server.notify.gotemplate.lex import Lexer, Tok, go_quote, syntax_error


@dataclass(slots=True)
class Node:
    """A node of the syntax tree: its span in the source, for error messages."""

    pos: int
    end: int


@dataclass(slots=True)
class Text(Node):
    """Literal text between actions."""

    text: str


@dataclass(slots=True)
class Pipe(Node):
    """A pipeline: commands joined by `|`, with the variables it declares (`:=`) or assigns (`=`)."""

    decl: list[str]
    is_assign: bool
    cmds: list[Command]


@dataclass(slots=True)
class Command(Node):
    """One stage of a pipeline: a function or value with its arguments."""

    args: list[Node]


@dataclass(slots=True)
class Action(Node):
    """`{{pipeline}}`: evaluate and print."""

    pipe: Pipe


@dataclass(slots=True)
class Control(Node):
    """`if`, `with` or `range`, with its body and `else` branch."""

    kind: str  # "if", "with" or "range"
    pipe: Pipe
    body: list[Node]
    else_body: list[Node] | None


@dataclass(slots=True)
class Break(Node):
    """`{{break}}` inside a range."""


@dataclass(slots=True)
class Continue(Node):
    """`{{continue}}` inside a range."""


@dataclass(slots=True)
class FieldRef(Node):
    """`.A.B`: fields of dot."""

    idents: list[str]


@dataclass(slots=True)
class VarRef(Node):
    """`$x.A.B`: a variable and fields of it."""

    name: str
    idents: list[str]


@dataclass(slots=True)
class Chain(Node):
    """`(pipeline).A.B`: fields of a parenthesised value."""

    node: Node
    idents: list[str]


@dataclass(slots=True)
class FuncRef(Node):
    """A function name."""

    name: str


@dataclass(slots=True)
class DotRef(Node):
    """`.` itself."""


@dataclass(slots=True)
class NilLit(Node):
    """`nil`."""


@dataclass(slots=True)
class Const(Node):
    """A boolean, number or string literal."""

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


class Parser:
    """Tokens to the syntax tree, checking what Go's parser checks (variables in scope, known functions)."""

    def __init__(self, src: str, name: str, funcs: frozenset[str]) -> None:
        self.src = src
        self.name = name
        self.funcs = funcs
        self.toks = Lexer(src, name).run()
        self.i = 0
        self.vars: list[str] = ["$"]
        self.range_depth = 0

    # token helpers -------------------------------------------------------------------------------

    def error(self, msg: str, pos: int) -> TemplateSyntaxError:
        return syntax_error(self.src, self.name, msg, pos)

    def next(self) -> Tok:
        tok = self.toks[self.i]
        self.i += 1
        return tok

    def peek(self) -> Tok:
        return self.toks[self.i]

    def next_non_space(self) -> Tok:
        tok = self.next()
        while tok.kind == "space":
            tok = self.next()
        return tok

    def peek_non_space(self) -> Tok:
        j = self.i
        while self.toks[j].kind == "space":
            j += 1
        return self.toks[j]

    def expect_rdelim(self, context: str) -> Tok:
        tok = self.next_non_space()
        if tok.kind != "rdelim":
            raise self.unexpected(tok, context)
        return tok

    def unexpected(self, tok: Tok, context: str) -> TemplateSyntaxError:
        if tok.kind == "eof":
            return self.error("unexpected EOF", tok.pos)
        shown = "}}" if tok.kind == "rdelim" else tok.val
        return self.error(f"unexpected {go_quote(shown)} in {context}", tok.pos)

    # structure -----------------------------------------------------------------------------------

    def parse(self) -> list[Node]:
        nodes, term, tok = self.item_list()
        if term != "eof":
            raise self.error(f"unexpected {{{{{term}}}}}", tok.pos)
        return nodes

    def item_list(self) -> tuple[list[Node], str, Tok]:
        """Items up to `{{end}}`, `{{else}}` or EOF; returns them, which one ended the list, and its token."""
        nodes: list[Node] = []
        while True:
            tok = self.next()
            if tok.kind == "text":
                nodes.append(Text(tok.pos, tok.pos + len(tok.val), tok.val))
            elif tok.kind == "eof":
                return nodes, "eof", tok
            elif tok.kind == "ldelim":
                word = self.peek_non_space()
                if word.kind != "keyword":
                    pipe = self.pipeline("command", "rdelim")
                    nodes.append(Action(tok.pos, pipe.end, pipe))
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
                    cls = Break if word.val == "break" else Continue
                    nodes.append(cls(tok.pos, word.pos + len(word.val)))
                else:
                    raise self.error(f"{{{{{word.val}}}}} is not supported", word.pos)
            else:
                raise self.unexpected(tok, "input")

    def control(self, word: Tok) -> Control:
        """`if`, `with` or `range` (keyword already read) through its `{{end}}`."""
        kind = word.val
        mark = len(self.vars)
        pipe = self.pipeline(kind, "rdelim")
        if kind == "range":
            self.range_depth += 1
        body, term, term_tok = self.item_list()
        if kind == "range":
            self.range_depth -= 1
        else_body: list[Node] | None = None
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
        return Control(word.pos, term_tok.pos, kind, pipe, body, else_body)

    def pipeline(self, context: str, end: str) -> Pipe:
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
        cmds: list[Command] = []
        while True:
            tok = self.next_non_space()
            if tok.kind == end:
                if not cmds:
                    raise self.error(f"missing value for {context}", tok.pos)
                for stage, cmd in enumerate(cmds[1:], start=2):
                    first = cmd.args[0]
                    if isinstance(first, Const | DotRef | NilLit):
                        raise self.error(f"non executable command in pipeline stage {stage}", first.pos)
                return Pipe(start, tok.pos, decl, is_assign, cmds)
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

    def command(self) -> Command:
        start = self.peek_non_space().pos
        args: list[Node] = []
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
        return Command(start, args[-1].end, args)

    def operand(self) -> Node | None:
        node = self.term()
        if node is None or self.peek().kind != "field":
            return node
        idents: list[str] = []
        while self.peek().kind == "field":
            tok = self.next()
            idents.append(tok.val[1:])
            end = tok.pos + len(tok.val)
        if isinstance(node, FieldRef):
            return FieldRef(node.pos, end, node.idents + idents)
        if isinstance(node, VarRef):
            return VarRef(node.pos, end, node.name, node.idents + idents)
        if isinstance(node, Const | NilLit | DotRef):
            raise self.error(f"unexpected . after term {go_quote(self.src[node.pos : node.end])}", node.end)
        return Chain(node.pos, end, node, idents)

    def term(self) -> Node | None:
        tok = self.next_non_space()
        end = tok.pos + len(tok.val)
        kind = tok.kind
        if kind == "ident":
            if tok.val not in self.funcs:
                raise self.error(f"function {go_quote(tok.val)} not defined", tok.pos)
            return FuncRef(tok.pos, end, tok.val)
        if kind == "dot":
            return DotRef(tok.pos, end)
        if kind == "nil":
            return NilLit(tok.pos, end)
        if kind == "var":
            name, *rest = tok.val.split(".")
            if name not in self.vars:
                raise self.error(f"undefined variable {go_quote(name)}", tok.pos)
            return VarRef(tok.pos, end, name, rest)
        if kind == "field":
            return FieldRef(tok.pos, end, [tok.val[1:]])
        if kind == "bool":
            return Const(tok.pos, end, tok.val == "true", "bool")
        if kind in ("number", "charconst"):
            try:
                return Const(tok.pos, end, _parse_number(tok.val), "number")
            except ValueError as exc:
                msg = str(exc) if "overflows" in str(exc) or "complex" in str(exc) else None
                raise self.error(msg or f"illegal number syntax: {go_quote(tok.val)}", tok.pos) from None
        if kind == "string":
            try:
                return Const(tok.pos, end, _unquote(tok.val), "string")
            except (ValueError, IndexError):
                raise self.error(f"invalid string literal {tok.val}", tok.pos) from None
        if kind == "lparen":
            pipe = self.pipeline("parenthesized pipeline", "rparen")
            pipe.pos, pipe.end = tok.pos, pipe.end + 1
            return pipe
        self.i -= 1
        return None
