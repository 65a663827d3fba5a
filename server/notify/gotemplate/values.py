"""Go's values as the engine sees them: the missing value, the payload struct and its zero fields, Go's
formatting (`fmt`'s %v) and truth."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from server.notify.gotemplate.errors import TemplateRenderError

NO_VALUE = "<no value>"


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
NO_FINAL: Any = object()  # "no value piped in from the previous command"


class StringMap(dict[str, Any]):
    """`map[string]string` (the payload's Labels): indexing a missing key gives "" rather than nil."""


@dataclass(frozen=True, slots=True)
class Payload:
    """The root value, Coder's `types.MessagePayload` struct."""

    fields: Mapping[str, Any]


# Exported fields of types.MessagePayload and the zero value each has when the caller leaves it out.
PAYLOAD_ZERO: dict[str, Callable[[], Any]] = {
    "Version": str,
    "NotificationName": str,
    "NotificationTemplateID": str,
    "UserID": str,
    "UserEmail": str,
    "UserName": str,
    "UserUsername": str,
    "Actions": list,
    "Labels": StringMap,
    "Data": dict,
    "Targets": list,
}


def is_int(v: Any) -> bool:
    """An int that is not a bool."""
    return isinstance(v, int) and not isinstance(v, bool)


def from_data(v: Any) -> Any:
    """A value read out of the payload. JSON numbers are float64 in Go once the payload is decoded."""
    if is_int(v):
        try:
            return float(v)
        except OverflowError as exc:
            raise TemplateRenderError(f"number {v} does not fit a float64") from exc
    return v


def go_type(v: Any) -> str:
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
    if isinstance(v, StringMap):
        return "map[string]string"
    if isinstance(v, Mapping):
        return "map[string]interface {}"
    if isinstance(v, Payload):
        return "types.MessagePayload"
    if isinstance(v, list | tuple):
        return "[]interface {}"
    return type(v).__name__


def go_float(f: float) -> str:
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


def format_value(v: Any, nested: bool = False) -> str:
    """`fmt.Sprint` of one value."""
    if v is MISSING:
        return NO_VALUE if not nested else "<nil>"
    if v is None:
        return "<nil>"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        # Inside a container an int came from the payload JSON, so Go holds it as a float64.
        return go_float(float(v)) if nested else str(v)
    if isinstance(v, float):
        return go_float(v)
    if isinstance(v, str):
        return v
    if isinstance(v, Mapping):
        items = sorted(v.items(), key=lambda kv: str(kv[0]))
        return "map[" + " ".join(f"{format_value(k, True)}:{format_value(x, True)}" for k, x in items) + "]"
    if isinstance(v, list | tuple):
        return "[" + " ".join(format_value(x, True) for x in v) + "]"
    if isinstance(v, Payload):
        return "{" + " ".join(format_value(v.fields.get(k, MISSING), True) for k in PAYLOAD_ZERO) + "}"
    return str(v)


def is_true(v: Any) -> bool:
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
