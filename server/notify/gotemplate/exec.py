"""Execution: walking the tree against the payload (Go's text/template/exec.go)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from server.notify.gotemplate.errors import TemplateRenderError
from server.notify.gotemplate.funcs import BUILTINS, FuncError, is_nil
from server.notify.gotemplate.lex import go_quote
from server.notify.gotemplate.parse import (
    Action,
    Break,
    Chain,
    Command,
    Const,
    Continue,
    Control,
    DotRef,
    FieldRef,
    FuncRef,
    NilLit,
    Node,
    Pipe,
    Text,
    VarRef,
)
from server.notify.gotemplate.values import (
    MISSING,
    NO_FINAL,
    PAYLOAD_ZERO,
    Payload,
    format_value,
    from_data,
    go_type,
    is_int,
    is_true,
)


class _BreakSignal(Exception):
    pass


class _ContinueSignal(Exception):
    pass


@dataclass(slots=True)
class Exec:
    """One execution of a template: the output so far and the variable stack."""

    source: str  # the template's text and name, for error messages
    name: str
    helpers: dict[str, str]
    out: list[str] = field(default_factory=list)
    vars: list[list[Any]] = field(default_factory=list)  # [name, value] pairs, innermost last

    def error(self, node: Node, msg: str) -> TemplateRenderError:
        src = self.source
        line = src.count("\n", 0, node.pos) + 1
        column = node.pos - (src.rfind("\n", 0, node.pos) + 1) + 1
        context = src[node.pos : node.end]
        name = self.name
        return TemplateRenderError(
            f"template: {name}:{line}:{column}: executing {go_quote(name)} at <{context}>: {msg}"
        )

    # walking -------------------------------------------------------------------------------------

    def walk(self, dot: Any, nodes: list[Node]) -> None:
        for node in nodes:
            if isinstance(node, Text):
                self.out.append(node.text)
            elif isinstance(node, Action):
                value = self.pipeline(dot, node.pipe)
                if not node.pipe.decl:
                    self.out.append(format_value(value))
            elif isinstance(node, Control):
                if node.kind == "range":
                    self.walk_range(dot, node)
                else:
                    self.walk_if_or_with(dot, node)
            elif isinstance(node, Break):
                raise _BreakSignal
            elif isinstance(node, Continue):
                raise _ContinueSignal

    def walk_if_or_with(self, dot: Any, node: Control) -> None:
        mark = len(self.vars)
        try:
            value = self.pipeline(dot, node.pipe)
            if is_true(value):
                self.walk(value if node.kind == "with" else dot, node.body)
            elif node.else_body is not None:
                self.walk(dot, node.else_body)
        finally:
            del self.vars[mark:]

    def walk_range(self, dot: Any, node: Control) -> None:
        mark = len(self.vars)
        try:
            value = self.pipeline(dot, node.pipe)
            inner = len(self.vars)
            decl = node.pipe.decl
            items: list[tuple[Any, Any]]
            if isinstance(value, list | tuple):
                items = [(i, from_data(v)) for i, v in enumerate(value)]
            elif isinstance(value, Mapping):
                items = [(k, from_data(value[k])) for k in sorted(value, key=str)]
            elif is_int(value):
                if len(decl) > 1:
                    raise self.error(node.pipe, f"can't use {value} to iterate over more than one variable")
                items = [(i, i) for i in range(value)]
            elif is_nil(value):
                items = []
            else:
                raise self.error(node.pipe, f"range can't iterate over {format_value(value)}")
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

    def pipeline(self, dot: Any, pipe: Pipe) -> Any:
        value = NO_FINAL
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

    def set_var(self, node: Node, name: str, value: Any) -> None:
        for pair in reversed(self.vars):
            if pair[0] == name:
                pair[1] = value
                return
        raise self.error(node, f"undefined variable: {name}")

    def var_value(self, node: Node, name: str) -> Any:
        for pair in reversed(self.vars):
            if pair[0] == name:
                return pair[1]
        raise self.error(node, f"undefined variable: {name}")

    def not_a_function(self, cmd: Command, final: Any) -> None:
        if len(cmd.args) > 1 or final is not NO_FINAL:
            arg = cmd.args[0]
            raise self.error(arg, f"can't give argument to non-function {self.source[arg.pos : arg.end]}")

    def command(self, dot: Any, cmd: Command, final: Any) -> Any:
        first = cmd.args[0]
        if isinstance(first, FieldRef):
            return self.field_chain(dot, dot, first, first.idents, cmd.args, final)
        if isinstance(first, Chain):
            receiver = self.arg(dot, first.node)
            return self.field_chain(dot, receiver, first, first.idents, cmd.args, final)
        if isinstance(first, FuncRef):
            return self.call(dot, first, cmd.args[1:], final)
        if isinstance(first, VarRef):
            value = self.var_value(first, first.name)
            if not first.idents:
                self.not_a_function(cmd, final)
                return value
            return self.field_chain(dot, value, first, first.idents, cmd.args, final)
        self.not_a_function(cmd, final)
        if isinstance(first, Pipe):
            return self.pipeline(dot, first)
        if isinstance(first, Const):
            return first.value
        if isinstance(first, DotRef):
            return dot
        raise self.error(first, "nil is not a command")

    def arg(self, dot: Any, node: Node) -> Any:
        """Evaluate one argument (Go's evalArg for an interface{} or reflect.Value parameter)."""
        if isinstance(node, DotRef):
            return dot
        if isinstance(node, NilLit):
            return None
        if isinstance(node, Const):
            return node.value
        if isinstance(node, FieldRef):
            return self.field_chain(dot, dot, node, node.idents, [node], NO_FINAL)
        if isinstance(node, VarRef):
            value = self.var_value(node, node.name)
            if node.idents:
                value = self.field_chain(dot, value, node, node.idents, [node], NO_FINAL)
            return value
        if isinstance(node, Pipe):
            return self.pipeline(dot, node)
        if isinstance(node, FuncRef):
            return self.call(dot, node, [], NO_FINAL)
        if isinstance(node, Chain):
            receiver = self.arg(dot, node.node)
            return self.field_chain(dot, receiver, node, node.idents, [node], NO_FINAL)
        raise self.error(node, "can't handle argument")  # pragma: no cover - the parser allows no other

    def field_chain(self, dot: Any, receiver: Any, node: Node, idents: list[str], args: list[Node], final: Any) -> Any:
        for ident in idents[:-1]:
            receiver = self.field(node, ident, False, receiver)
        has_args = len(args) > 1 or final is not NO_FINAL
        return self.field(node, idents[-1], has_args, receiver)

    def field(self, node: Node, name: str, has_args: bool, receiver: Any) -> Any:
        if receiver is MISSING:
            return MISSING  # missingkey=invalid: a field of an invalid value is invalid too
        if receiver is None:
            raise self.error(node, f"nil pointer evaluating interface {{}}.{name}")
        if isinstance(receiver, Payload):
            if name not in PAYLOAD_ZERO:
                raise self.error(node, f"can't evaluate field {name} in type types.MessagePayload")
            if has_args:
                raise self.error(node, f"{name} has arguments but cannot be invoked as function")
            return receiver.fields[name]
        if isinstance(receiver, Mapping):
            if has_args:
                raise self.error(node, f"{name} is not a method but has arguments")
            return from_data(receiver[name]) if name in receiver else MISSING
        raise self.error(node, f"can't evaluate field {name} in type {go_type(receiver)}")

    def call(self, dot: Any, fn: FuncRef, args: list[Node], final: Any) -> Any:
        name = fn.name
        impl, least, most = BUILTINS[name]
        count = len(args) + (final is not NO_FINAL)
        if count < least or (most is not None and count > most):
            want = f"at least {least}" if most is None else str(most)
            raise self.error(fn, f"wrong number of args for {name}: want {want} got {count}")
        if name in ("and", "or"):
            # Go evaluates and/or lazily, stopping at the first argument that decides the result.
            value: Any = MISSING
            for node in args:
                value = self.arg(dot, node)
                if is_true(value) == (name == "or"):
                    return value
            return final if final is not NO_FINAL else value
        if name in self.helpers:
            return self.helpers[name]
        values = [self.arg(dot, node) for node in args]
        if final is not NO_FINAL:
            values.append(final)
        if name == "printf" and not isinstance(values[0], str):
            raise self.error(fn, f"wrong type for value; expected string; got {go_type(values[0])}")
        try:
            return impl(*values)
        except FuncError as exc:
            raise self.error(fn, f"error calling {name}: {exc}") from None
