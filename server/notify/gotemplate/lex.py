"""The lexer: template text to tokens (Go's text/template/parse/lex.go)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from server.notify.gotemplate.errors import TemplateSyntaxError

_SPACE = " \t\r\n"
_KEYWORDS = frozenset({"if", "else", "end", "range", "with", "define", "template", "block", "break", "continue"})
_NUMBER_RE = re.compile(
    r"[+-]?(?:0[xX][0-9a-fA-F_]*(?:\.[0-9a-fA-F_]*)?(?:[pP][+-]?[0-9_]+)?"
    r"|0[oO][0-7_]*|0[bB][01_]*"
    r"|[0-9_]*(?:\.[0-9_]*)?(?:[eE][+-]?[0-9_]+)?)i?"
)


@dataclass(frozen=True, slots=True)
class Tok:
    """One token: its kind, text and offset in the source."""

    kind: str  # text ldelim rdelim space field var ident keyword bool nil dot number string char
    # lparen rparen pipe declare assign charconst eof
    val: str
    pos: int


def _alnum(c: str) -> bool:
    return c == "_" or c.isalpha() or c.isdecimal()


class Lexer:
    """Template text to tokens, as Go's lexer cuts it (text, delimiters with trim markers, action tokens)."""

    def __init__(self, src: str, name: str) -> None:
        self.src = src
        self.name = name
        self.toks: list[Tok] = []

    def error(self, msg: str, pos: int) -> TemplateSyntaxError:
        return syntax_error(self.src, self.name, msg, pos)

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

    def run(self) -> list[Tok]:
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
                self.toks.append(Tok("text", text, pos))
            if start < 0:
                self.toks.append(Tok("eof", "", n))
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
            self.toks.append(Tok("ldelim", "{{", start))
            pos, trim_next = self.inside_action(p)

    def inside_action(self, p: int) -> tuple[int, bool]:
        s, n = self.src, len(self.src)
        depth = 0
        while True:
            width = self.at_right_delim(p)
            if width:
                if depth:
                    raise self.error("unclosed left paren", p)
                self.toks.append(Tok("rdelim", "}}", p))
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
                    self.toks.append(Tok("space", s[p:q], p))
                p = q
            elif c == "=":
                self.toks.append(Tok("assign", "=", p))
                p += 1
            elif c == ":":
                if not s.startswith(":=", p):
                    raise self.error("expected :=", p)
                self.toks.append(Tok("declare", ":=", p))
                p += 2
            elif c == "|":
                self.toks.append(Tok("pipe", "|", p))
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
                self.toks.append(Tok("string", s[p : q + 1], p))
                p = q + 1
            elif c == "`":
                q = s.find("`", p + 1)
                if q < 0:
                    raise self.error("unterminated raw quoted string", p)
                self.toks.append(Tok("string", s[p : q + 1], p))
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
                self.toks.append(Tok("charconst", s[p : q + 1], p))
                p = q + 1
            elif c == "$" or (c == "." and not (p + 1 < n and s[p + 1].isdigit())):
                q = p + 1
                while q < n and _alnum(s[q]):
                    q += 1
                if not self.at_terminator(q):
                    raise self.error(f"bad character {go_quote(s[q])}", q)
                if c == "$":
                    self.toks.append(Tok("var", s[p:q], p))
                else:
                    self.toks.append(Tok("field" if q > p + 1 else "dot", s[p:q], p))
                p = q
            elif c in "+-." or c.isdigit():
                m = _NUMBER_RE.match(s, p)
                q = m.end() if m else p
                if q == p or (q < n and _alnum(s[q])):
                    raise self.error(f"bad number syntax: {go_quote(s[p : max(q, p + 1)])}", p)
                self.toks.append(Tok("number", s[p:q], p))
                p = q
            elif _alnum(c):
                q = p
                while q < n and _alnum(s[q]):
                    q += 1
                if not self.at_terminator(q):
                    raise self.error(f"bad character {go_quote(s[q])}", q)
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
                self.toks.append(Tok(kind, word, p))
                p = q
            elif c == "(":
                depth += 1
                self.toks.append(Tok("lparen", c, p))
                p += 1
            elif c == ")":
                depth -= 1
                if depth < 0:
                    raise self.error("unexpected right paren", p)
                self.toks.append(Tok("rparen", c, p))
                p += 1
            elif c.isascii() and c.isprintable():
                self.toks.append(Tok("char", c, p))
                p += 1
            else:
                raise self.error(f"unrecognized character in action: {go_quote(c)}", p)


def go_quote(text: str) -> str:
    """Go's %q, near enough for error messages."""
    return json.dumps(text, ensure_ascii=False)


def syntax_error(src: str, name: str, msg: str, pos: int) -> TemplateSyntaxError:
    """A TemplateSyntaxError at offset `pos` of `src`, with its line and column."""
    line = src.count("\n", 0, pos) + 1
    column = pos - (src.rfind("\n", 0, pos) + 1) + 1
    return TemplateSyntaxError(msg, name=name, line=line, column=column, offset=pos)
