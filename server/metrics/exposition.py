"""The Prometheus text format (0.0.4) as Coder's Go client writes it.

prometheus_client's own writer appends `_total` to every counter and adds `_created` series. Coder's
notification counters are named without the suffix (`coderd_notifications_dispatched_count`), and a
dashboard built for Coder queries those exact names, so this writer keeps a counter's name as declared:
with `_total` unless it is one of `exact_counters`, and without `_created` series.
"""

from __future__ import annotations

import math
from collections.abc import Collection
from decimal import Decimal

from prometheus_client.registry import Collector
from prometheus_client.samples import Sample

CONTENT_TYPE = b"text/plain; version=0.0.4; charset=utf-8"

_TYPES = {"counter": "counter", "gauge": "gauge", "histogram": "histogram", "summary": "summary"}


def go_float(value: float) -> str:
    """A number as Go's client prints it (strconv 'g', shortest): `1`, `0.005`, `1e-05`, `1e+06`, `+Inf`."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if value == 0:
        return "0"
    shortest = Decimal(repr(value)).normalize()  # the shortest digits that round-trip, as Go's
    sign, digits, exponent = shortest.as_tuple()
    assert isinstance(exponent, int)
    scientific = len(digits) + exponent - 1
    if -4 <= scientific < 6:
        return format(shortest, "f")
    mantissa = "".join(map(str, digits))
    if len(mantissa) > 1:
        mantissa = mantissa[0] + "." + mantissa[1:]
    return f"{'-' if sign else ''}{mantissa}e{'-' if scientific < 0 else '+'}{abs(scientific):02d}"


def _escape_help(text: str) -> str:
    return text.replace("\\", r"\\").replace("\n", r"\n")


def _escape_value(text: str) -> str:
    return text.replace("\\", r"\\").replace("\n", r"\n").replace('"', r"\"")


def _label_order(item: tuple[str, str]) -> tuple[bool, str]:
    return (item[0] in ("le", "quantile"), item[0])  # Go's client writes the bucket label last


def _label(key: str, value: str) -> str:
    if key in ("le", "quantile"):
        value = go_float(float(value))  # prometheus_client writes bucket bounds Python's way ("1.0")
    return f'{key}="{_escape_value(value)}"'


def _line(name: str, sample: Sample) -> str:
    if sample.labels:
        labels = ",".join(_label(k, v) for k, v in sorted(sample.labels.items(), key=_label_order))
        return f"{name}{{{labels}}} {go_float(sample.value)}\n"
    return f"{name} {go_float(sample.value)}\n"


def render(registry: Collector, exact_counters: Collection[str] = ()) -> bytes:
    """Every family of `registry` in the text format, counters named as declared."""
    out: list[str] = []
    for family in registry.collect():
        kind = family.type
        name = family.name
        if kind == "counter":
            exposed = name if name in exact_counters else name + "_total"
        elif kind == "info":
            exposed, kind = name + "_info", "gauge"
        else:
            exposed = name
        out.append(f"# HELP {exposed} {_escape_help(family.documentation)}\n")
        out.append(f"# TYPE {exposed} {_TYPES.get(kind, 'untyped')}\n")
        for sample in family.samples:
            if sample.name.endswith("_created"):
                continue  # an OpenMetrics-only series; Go's client has none
            sample_name = exposed if kind == "counter" else sample.name
            out.append(_line(sample_name, sample))
    return "".join(out).encode()
